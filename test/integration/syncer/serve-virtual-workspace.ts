import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compileRoute, fromLambdaResult, toApiGatewayEvent } from '../../../lib/local/api-gateway';
import { ROUTES } from '../../../lib/runtime/resources';
import type { makeSyncerApiHandler } from '../../../lib/vw/syncer-api';

/** The virtual-workspace function behind a real HTTP server, as the local stack's API serves it. */
export async function serveVirtualWorkspace(
  handler: ReturnType<typeof makeSyncerApiHandler>,
): Promise<{ server: Server; url: string }> {
  const routes = ROUTES.filter((r) => r.target === 'virtual-workspace').map(compileRoute);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = req.method ?? 'GET';
      const path = (req.url ?? '/').split('?')[0];
      let params: Record<string, string> | undefined;
      const compiled = routes.find((r) => r.route.method === method && (params = r.match(path)) !== undefined);
      if (!compiled || !params) {
        res.writeHead(404).end();
        return;
      }
      const event = toApiGatewayEvent(
        {
          method,
          url: req.url ?? '/',
          rawHeaders: req.rawHeaders,
          body: Buffer.concat(chunks),
          sourceIp: '127.0.0.1',
          host: 'localhost',
        },
        compiled,
        params,
      );
      void handler(event).then((result) => {
        const response = fromLambdaResult(result);
        res.writeHead(response.statusCode, response.headers).end(response.body);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
