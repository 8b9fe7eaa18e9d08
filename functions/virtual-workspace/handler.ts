import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { buildVirtualWorkspaceDeps, makeSyncerApiHandler } from '../../lib/runtime/virtual-workspace';
import { wrapHandler } from '../../lib/runtime/wrap-handler';

/** The virtual workspace's syncer view (HTTP API, payload 2.0): `/syncers/{workspace}/{cluster}/…` (lib/vw). */
export const handler = wrapHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(
  'virtual-workspace',
  () => ({ handle: makeSyncerApiHandler(buildVirtualWorkspaceDeps()) }),
  { deadline: false },
);
