import fastJsonPatch, { type Operation } from 'fast-json-patch';
import type { KubeObject } from '../../kube/object';
import type { AdmissionAttributes, AdmissionDispatcher, AdmissionOutcome } from '../contracts';
import { admissionRequestFields, buildAdmissionReview, verifyAdmissionResponse } from './admission-review';
import {
  type AdmissionFailure,
  deniedByWebhook,
  dryRunUnsupported,
  failedCallingWebhook,
  internalError,
} from './admission-status';
import { evaluateMatchConditions } from './match-conditions';
import { matchesNamespaceSelector, matchesObjectSelector } from './object-matcher';
import { matchesRules } from './rule-matcher';
import { createWebhookCaller, type WebhookCaller, type WebhookCredentials } from './webhook-caller';
import { cachedWebhookLister, type Webhook } from './webhook-configuration';
import type { WebhookFaultSource } from './webhook-faults';

export interface AdmissionDispatcherOptions {
  /**
   * Credentials for a webhook URL. kube-apiserver reads them from the kubeconfig named in its
   * --admission-control-config-file; the server wires this from the equivalent file.
   */
  credentialsFor?: (url: string) => WebhookCredentials | undefined;
  /** Faults injected in front of webhook targets (see createWebhookFaultInjector). */
  faults?: WebhookFaultSource;
  /** Replaces the HTTP transport (tests, or a server that counts webhook calls). */
  caller?: WebhookCaller;
  /** Reports configurations the dispatcher had to skip. */
  onWarning?: (message: string) => void;
  /**
   * A webhook that could not be called under failurePolicy Ignore, so the request went on without it: kube-apiserver
   * logs "Failed calling webhook, failing open" and counts apiserver_admission_webhook_fail_open_count. What the webhook
   * would have learnt (tmc's status report, its admission of a write) is then only there for a safety net to find.
   */
  onFailOpen?: (failure: WebhookFailOpen) => void;
}

/** One webhook call that failed open, and the request it was for. */
export interface WebhookFailOpen {
  webhook: string;
  reason: string;
  operation: AdmissionAttributes['operation'];
  resource: string;
  subResource?: string;
  namespace?: string;
  name: string;
}

/** The dispatcher plus `close()` for its keep-alive connections. */
export interface ClosableAdmissionDispatcher extends AdmissionDispatcher {
  close(): void;
}

type Invocation = { kind: 'skip' } | { kind: 'call' } | { kind: 'call-failed'; reason: string } | AdmissionFailure;

// kube-apiserver never sends its own webhook configurations through webhooks, so a broken webhook cannot
// lock the cluster out of removing it.
const EXEMPT_RESOURCES = new Set([
  'mutatingwebhookconfigurations',
  'validatingwebhookconfigurations',
  'validatingadmissionpolicies',
  'validatingadmissionpolicybindings',
  'mutatingadmissionpolicies',
  'mutatingadmissionpolicybindings',
]);

/**
 * Calls the Mutating then Validating webhooks stored in the request's cluster, as kube-apiserver's
 * MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins do.
 */
export function createAdmissionDispatcher(options: AdmissionDispatcherOptions = {}): ClosableAdmissionDispatcher {
  const caller = options.caller ?? createWebhookCaller();
  const listWebhooks = cachedWebhookLister(options.onWarning);

  function shouldCall(webhook: Webhook, attrs: AdmissionAttributes, object: KubeObject | undefined): Invocation {
    if (!matchesRules(webhook.rules, attrs)) return { kind: 'skip' };
    const namespaceMatch = matchesNamespaceSelector(webhook, attrs);
    if (namespaceMatch !== true) return namespaceMatch === false ? { kind: 'skip' } : namespaceMatch;
    if (!matchesObjectSelector(webhook, object, attrs.oldObject)) return { kind: 'skip' };
    if (webhook.matchConditions.length === 0) return { kind: 'call' };
    // After the selectors, as the dispatchers evaluate them, on the object as earlier mutating webhooks left it.
    const matched = evaluateMatchConditions(webhook.matchConditions, {
      object,
      oldObject: attrs.oldObject,
      request: admissionRequestFields(attrs, ''),
    });
    if ('error' in matched)
      return { kind: 'call-failed', reason: `failed to evaluate match condition: ${matched.error}` };
    return matched.matches ? { kind: 'call' } : { kind: 'skip' };
  }

  /** A webhook that could not be called: skipped under failurePolicy Ignore, the request's answer under Fail. */
  function callFailed(webhook: Webhook, reason: string, attrs: AdmissionAttributes): AdmissionFailure | undefined {
    if (webhook.failurePolicy !== 'Ignore') return failedCallingWebhook(webhook.name, reason);
    options.onFailOpen?.({
      webhook: webhook.name,
      reason,
      operation: attrs.operation,
      resource: attrs.gvr.resource,
      ...(attrs.subResource ? { subResource: attrs.subResource } : {}),
      ...(attrs.namespace ? { namespace: attrs.namespace } : {}),
      name: attrs.name,
    });
    return undefined;
  }

  /** One call; a failure here is already the request's answer unless failurePolicy says Ignore. */
  async function invoke(
    webhook: Webhook,
    attrs: AdmissionAttributes,
    object: KubeObject | undefined,
  ): Promise<
    | { result: 'allowed'; patch?: Operation[]; warnings: string[] }
    | { result: 'call-failed'; reason: string }
    | AdmissionFailure
  > {
    if (attrs.dryRun) {
      if (webhook.sideEffects === undefined) return { result: 'call-failed', reason: 'Webhook SideEffects is nil' };
      if (webhook.sideEffects !== 'None' && webhook.sideEffects !== 'NoneOnDryRun')
        return dryRunUnsupported(webhook.name);
    }
    const url = webhook.url ?? serviceUrl(webhook);
    if (!webhook.url) {
      // There is no service network behind the simulator: a service reference cannot be reached.
      return {
        result: 'call-failed',
        reason: `failed to call webhook: Post "${url}?timeout=${webhook.timeoutSeconds}s": service "${webhook.service?.name ?? ''}" not found`,
      };
    }
    const review = buildAdmissionReview(attrs, object);
    const answer = await caller.call({
      url,
      body: review,
      timeoutSeconds: webhook.timeoutSeconds,
      caBundle: webhook.caBundle,
      credentials: options.credentialsFor?.(url),
      fault: options.faults?.faultFor(url, webhook.name),
    });
    if (!answer.ok) return { result: 'call-failed', reason: answer.reason };
    const verified = verifyAdmissionResponse(answer.body, review.request.uid, webhook.type === 'mutating');
    if (!verified.ok) return { result: 'call-failed', reason: verified.reason };
    const response = verified.response;
    if (!response.allowed) return deniedByWebhook(webhook.name, response.status);
    if (!response.patch) return { result: 'allowed', warnings: response.warnings };
    if (response.patchType !== 'JSONPatch')
      return { result: 'call-failed', reason: `unsupported patch type "${response.patchType ?? ''}"` };
    const patch = decodePatch(response.patch);
    if (!patch)
      return {
        result: 'call-failed',
        reason: 'received undecodable patch in webhook response: not a base64 JSON patch array',
      };
    return { result: 'allowed', patch, warnings: response.warnings };
  }

  async function runMutating(
    attrs: AdmissionAttributes,
    warnings: string[],
  ): Promise<{ object: KubeObject | undefined } | AdmissionFailure> {
    const webhooks = listWebhooks(attrs.store, 'mutating');
    let object = attrs.object;
    // Reinvocation (reinvocationPolicy IfNeeded): a webhook invoked before some later webhook changed the object
    // is called once more, in a second round, so it sees the final object.
    const invokedIfNeeded = new Set<number>();
    const reinvoke = new Set<number>();
    for (let round = 0; round < 2; round++) {
      for (let index = 0; index < webhooks.length; index++) {
        const webhook = webhooks[index];
        if (round === 1 && !reinvoke.has(index)) continue;
        const invocation = shouldCall(webhook, attrs, object);
        if ('allowed' in invocation) return invocation;
        if (invocation.kind === 'skip') continue;
        const outcome =
          invocation.kind === 'call-failed'
            ? { result: 'call-failed' as const, reason: invocation.reason }
            : await invoke(webhook, attrs, object);
        if ('allowed' in outcome) return outcome;
        if (outcome.result === 'call-failed') {
          const failure = callFailed(webhook, outcome.reason, attrs);
          if (failure) return failure;
          continue;
        }
        warnings.push(...outcome.warnings);
        if (outcome.patch && outcome.patch.length > 0) {
          if (!object)
            return internalError(
              `admission webhook "${webhook.name}" attempted to modify the object, which is not supported for this operation`,
            );
          let patched: KubeObject;
          try {
            patched = fastJsonPatch.applyPatch(object, outcome.patch, true, false).newDocument;
          } catch (error) {
            return internalError(error instanceof Error ? error.message : String(error));
          }
          if (round === 0 && JSON.stringify(patched) !== JSON.stringify(object)) {
            for (const earlier of invokedIfNeeded) reinvoke.add(earlier);
          }
          object = patched;
        }
        if (round === 0 && webhook.reinvocationPolicy === 'IfNeeded') invokedIfNeeded.add(index);
      }
      if (reinvoke.size === 0) break;
    }
    return { object };
  }

  async function runValidating(
    attrs: AdmissionAttributes,
    object: KubeObject | undefined,
    warnings: string[],
  ): Promise<AdmissionFailure | undefined> {
    const webhooks = listWebhooks(attrs.store, 'validating');
    const calls: Array<Promise<AdmissionFailure | undefined>> = [];
    for (const webhook of webhooks) {
      const invocation = shouldCall(webhook, attrs, object);
      if ('allowed' in invocation) return invocation;
      if (invocation.kind === 'skip') continue;
      if (invocation.kind === 'call-failed') {
        calls.push(Promise.resolve(callFailed(webhook, invocation.reason, attrs)));
        continue;
      }
      calls.push(
        invoke(webhook, attrs, object).then((outcome) => {
          if ('allowed' in outcome) return outcome;
          if (outcome.result === 'call-failed') return callFailed(webhook, outcome.reason, attrs);
          warnings.push(...outcome.warnings);
          return undefined;
        }),
      );
    }
    // kube-apiserver runs these in parallel and answers with the first error to arrive; the first in webhook
    // order is answered here so the outcome does not depend on timing.
    const failures = await Promise.all(calls);
    return failures.find((failure) => failure !== undefined);
  }

  return {
    async admit(attrs: AdmissionAttributes): Promise<AdmissionOutcome> {
      if (attrs.gvr.group === 'admissionregistration.k8s.io' && EXEMPT_RESOURCES.has(attrs.gvr.resource)) {
        return { allowed: true, object: attrs.object };
      }
      const warnings: string[] = [];
      const mutated = await runMutating(attrs, warnings);
      if ('allowed' in mutated) return mutated;
      const denied = await runValidating(attrs, mutated.object, warnings);
      if (denied) return denied;
      return { allowed: true, object: mutated.object, ...(warnings.length > 0 ? { warnings } : {}) };
    },
    close: (): void => caller.close(),
  };
}

function serviceUrl(webhook: Webhook): string {
  const service = webhook.service;
  if (!service) return '';
  const port = service.port === 443 ? '' : `:${service.port}`;
  return `https://${service.name}.${service.namespace}.svc${port}${service.path ?? ''}`;
}

function decodePatch(encoded: string): Operation[] | undefined {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
    const validation = Array.isArray(decoded) ? fastJsonPatch.validate(decoded as Operation[]) : 'not an array';
    return validation === undefined ? (decoded as Operation[]) : undefined;
  } catch {
    return undefined;
  }
}
