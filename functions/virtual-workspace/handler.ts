import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  buildVirtualWorkspaceDeps,
  makeSyncerApiHandler,
  type SyncerApiHandler,
} from '../../lib/runtime/virtual-workspace';

/** The virtual workspace's syncer view (HTTP API, payload 2.0): `/syncers/{workspace}/{cluster}/…` (lib/vw). */
let inner: SyncerApiHandler | undefined;

async function virtualWorkspace(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  inner ??= makeSyncerApiHandler(buildVirtualWorkspaceDeps());
  return inner(event);
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler(virtualWorkspace);
