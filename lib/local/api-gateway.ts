import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { z } from 'zod';
import type { RouteDefinition } from '../runtime/resources';
import { LOCAL_ACCOUNT_ID } from './lambda-context';

/** API Gateway's payload limit for HTTP APIs: larger requests are answered 413 before any function runs. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export interface CompiledRoute {
  route: RouteDefinition;
  routeKey: string;
  match(path: string): Record<string, string> | undefined;
}

/**
 * Compiles `/webhooks/status/{cluster}` into a matcher; a `{name}` segment matches one path segment and a last
 * `{name+}` segment the rest of the path (greedy), as in API Gateway.
 */
export function compileRoute(route: RouteDefinition): CompiledRoute {
  const names: string[] = [];
  const pattern = route.path
    .split('/')
    .map((segment) => {
      const greedy = /^\{([A-Za-z0-9_]+)\+\}$/.exec(segment);
      if (greedy) {
        names.push(greedy[1]);
        return '(.+)';
      }
      const param = /^\{([A-Za-z0-9_]+)\}$/.exec(segment);
      if (param) {
        names.push(param[1]);
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  const regex = new RegExp(`^${pattern}$`);
  return {
    route,
    routeKey: `${route.method} ${route.path}`,
    match: (path: string): Record<string, string> | undefined => {
      const found = regex.exec(path);
      if (!found) return undefined;
      return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
    },
  };
}

// HTTP APIs pass these bodies as text; anything else arrives base64-encoded with isBase64Encoded true.
function isTextContent(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType === '') return true;
  const type = contentType.split(';')[0].trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript' ||
    type === 'application/x-www-form-urlencoded' ||
    type === 'application/yaml' ||
    type === 'application/x-yaml'
  );
}

export interface IncomingRequest {
  method: string;
  /** Path and query as received (`/webhooks/status/east?timeout=10s`). */
  url: string;
  /** Node's raw headers: alternating names and values. */
  rawHeaders: string[];
  body: Buffer;
  sourceIp: string;
  host: string;
}

function formatRequestTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** Builds the HTTP API payload format 2.0 event API Gateway would send for this request and route. */
export function toApiGatewayEvent(
  request: IncomingRequest,
  compiled: CompiledRoute,
  pathParameters: Record<string, string>,
): APIGatewayProxyEventV2 {
  const queryStart = request.url.indexOf('?');
  const rawPath = queryStart === -1 ? request.url : request.url.slice(0, queryStart);
  const rawQueryString = queryStart === -1 ? '' : request.url.slice(queryStart + 1);

  // Payload 2.0 joins repeated headers and query parameters with commas and moves cookies to their own array.
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i].toLowerCase();
    const value = request.rawHeaders[i + 1];
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((c) => c.trim())
          .filter((c) => c !== ''),
      );
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    query[key] = query[key] === undefined ? value : `${query[key]},${value}`;
  }

  const now = new Date();
  const requestId = randomUUID();
  const hasBody = request.body.length > 0;
  const binary = hasBody && !isTextContent(headers['content-type']);
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: compiled.routeKey,
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      domainName: request.host,
      domainPrefix: request.host.split('.')[0].split(':')[0],
      http: {
        method: request.method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: compiled.routeKey,
      stage: '$default',
      time: formatRequestTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: binary,
  };
  if (cookies.length > 0) event.cookies = cookies;
  if (Object.keys(query).length > 0) event.queryStringParameters = query;
  if (Object.keys(pathParameters).length > 0) event.pathParameters = pathParameters;
  if (hasBody) event.body = binary ? request.body.toString('base64') : request.body.toString('utf8');
  return event;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

const StructuredResultSchema = z.object({
  statusCode: z.number().int().min(100).max(599),
  headers: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  cookies: z.array(z.string()).optional(),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().optional(),
});

/**
 * Maps a function's result as API Gateway does for payload 2.0: a result with `statusCode` is used as given; any other
 * value (an object, a string) becomes a 200 JSON response whose body is the value itself.
 */
export function fromLambdaResult(result: unknown): HttpResponse {
  const structured = StructuredResultSchema.safeParse(result);
  if (structured.success) {
    const value: APIGatewayProxyStructuredResultV2 = structured.data;
    const headers = Object.fromEntries(
      Object.entries(value.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
    );
    const body =
      value.body === undefined ? Buffer.alloc(0) : Buffer.from(value.body, value.isBase64Encoded ? 'base64' : 'utf8');
    return { statusCode: value.statusCode ?? 200, headers, cookies: value.cookies ?? [], body };
  }
  const body = typeof result === 'string' ? result : result === undefined ? '' : JSON.stringify(result);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(body, 'utf8'),
  };
}

/** API Gateway's own error answers (no function involved). */
export function gatewayError(statusCode: number, message: string): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(JSON.stringify({ message })),
  };
}
