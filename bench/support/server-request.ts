import { IncomingMessage } from 'node:http';
import { z } from 'zod';

/**
 * The message of Node's `http.server.request.start` and `http.server.response.finish` diagnostics channels, which the
 * benchmark's counters subscribe to. They see every request of every server in the process (kcp, the clusters,
 * ingress, dynalite, fauxqs), so the schema is built once here and the port is read the cheap way.
 */
export const ServerRequestMessage = z.object({ request: z.instanceof(IncomingMessage) });

/**
 * The port the request arrived on, which tells the servers apart. The socket's local port rather than
 * `server.address()`: net.Socket caches its sockname, so a keep-alive connection asks the OS once, where
 * `server.address()` asks on every call (0.6 s of a 100×3 run's main thread when both counters did).
 */
export function portOf(request: IncomingMessage): number | undefined {
  return request.socket.localPort;
}
