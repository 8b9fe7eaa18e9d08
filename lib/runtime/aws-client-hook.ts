import type { MetadataBearer, MiddlewareStack } from '@smithy/types';

/**
 * A seam on every AWS client the composition roots build (lib/runtime/aws.ts, secrets-client.ts): the local stack
 * adds its IAM check through it (lib/local/iam.ts). Production installs no hook, so its clients carry no such
 * middleware. A module of its own so that a function using only Secrets Manager bundles no other client.
 */

/** The services tmc's functions call through those clients. */
export type AwsService = 'dynamodb' | 'sqs' | 'secretsmanager' | 'execute-api';

/** What a client hook may change: the client's middleware stack (the document client shares its client's). */
export type AwsClientHook = (
  client: { middlewareStack: MiddlewareStack<object, MetadataBearer> },
  service: AwsService,
) => void;

let clientHook: AwsClientHook | undefined;

/** Installs a hook called with every client built from now on, before its first send. */
export function useAwsClientHook(hook: AwsClientHook | undefined): void {
  clientHook = hook;
}

/** Called by the client factories right after building a client. */
export function applyAwsClientHook(
  client: { middlewareStack: MiddlewareStack<object, MetadataBearer> },
  service: AwsService,
): void {
  clientHook?.(client, service);
}
