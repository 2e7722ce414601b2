/**
 * Responses the proxy makes itself. Codes are stable (clients, dashboards and tests key on
 * them) and the body never echoes request data, so an error page cannot reflect an injection.
 * gRPC clients cannot read JSON error pages, so they get a Trailers-Only response with
 * grpc-status instead (gRPC over HTTP/2 spec, "Responses").
 */
import { randomBytes } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';

export type ErrorCode =
  | 'BAD_REQUEST'
  | 'HEADERS_TOO_LARGE'
  | 'NO_ROUTE'
  | 'MISDIRECTED'
  | 'NO_BACKEND'
  | 'PLUGIN_UNAVAILABLE'
  | 'INTERNAL'
  | 'UPSTREAM_CONNECT'
  | 'UPSTREAM_RESET'
  | 'NO_ENDPOINTS'
  | 'TIMEOUT'
  | 'CLIENT_TIMEOUT';

/** Status and message per proxy-made error; invalid backends bring their own status and code. */
const KNOWN: Readonly<Record<ErrorCode, readonly [number, string]>> = {
  BAD_REQUEST: [400, 'bad request'],
  HEADERS_TOO_LARGE: [431, 'request headers too large'],
  NO_ROUTE: [404, 'no route matched the request'],
  MISDIRECTED: [421, 'the request host does not belong to the TLS connection'],
  NO_BACKEND: [500, 'the route has no backends'],
  PLUGIN_UNAVAILABLE: [500, 'a plugin filter of the route is unavailable'],
  INTERNAL: [500, 'internal proxy error'],
  UPSTREAM_CONNECT: [502, 'could not connect to the upstream'],
  UPSTREAM_RESET: [502, 'the upstream connection failed'],
  NO_ENDPOINTS: [503, 'the backend has no ready endpoints'],
  TIMEOUT: [504, 'the upstream did not answer in time'],
  CLIENT_TIMEOUT: [408, 'the request was not received in time'],
};

export function statusOf(code: ErrorCode): number {
  return KNOWN[code][0];
}

export function messageOf(code: ErrorCode): string {
  return KNOWN[code][1];
}

// Request ids: a per-process random prefix and a counter; unique without a syscall per request.
const idPrefix = randomBytes(6).toString('hex');
let idCounter = 0;
export function newRequestId(): string {
  idCounter = (idCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${idPrefix}-${idCounter.toString(36)}`;
}

/**
 * HTTP status of a proxy-made error → gRPC status code, as Envoy maps its local replies: the
 * gRPC "HTTP to gRPC Status Code Mapping" table (400 INTERNAL, 401 UNAUTHENTICATED,
 * 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429/502/503 UNAVAILABLE) plus the statuses a proxy
 * makes that the table leaves to UNKNOWN: 500 INTERNAL and 504 DEADLINE_EXCEEDED (what the
 * client's own deadline would report), 408 DEADLINE_EXCEEDED, 431 RESOURCE_EXHAUSTED (grpc-js
 * reports oversized metadata the same way), 421 UNAVAILABLE (a fresh connection succeeds).
 *
 * 429 is UNAVAILABLE, not RESOURCE_EXHAUSTED: it is the table's mapping and Envoy's default
 * (its rate-limit filters switch to RESOURCE_EXHAUSTED only when configured), and gRPC retry
 * policies retry UNAVAILABLE, which is right for a limit that resets within its window.
 */
export function grpcStatusOf(status: number): number {
  switch (status) {
    case 400: return 13; // INTERNAL
    case 401: return 16; // UNAUTHENTICATED
    case 403: return 7; // PERMISSION_DENIED
    case 404: return 12; // UNIMPLEMENTED
    case 408: case 504: return 4; // DEADLINE_EXCEEDED
    case 431: return 8; // RESOURCE_EXHAUSTED
    case 500: return 13; // INTERNAL
    case 421: case 429: case 502: case 503: return 14; // UNAVAILABLE
    default: return 2; // UNKNOWN
  }
}

/**
 * A gRPC request: content-type `application/grpc`, alone or with a `+format` (`+proto`,
 * `+json`) or parameters (gRPC over HTTP/2 spec, "Content-Type"). `application/grpc-web` is a
 * different protocol and does not match.
 */
export function isGrpcContentType(ct: string | undefined): boolean {
  if (ct === undefined || !ct.startsWith('application/grpc')) return false;
  if (ct.length === 16) return true;
  const next = ct.charCodeAt(16);
  return next === 43 /* + */ || next === 59 /* ; */;
}

/**
 * grpc-message value: UTF-8 bytes outside printable ASCII (0x20-0x7E) and `%` itself are
 * percent-encoded (gRPC over HTTP/2 spec, "Percent-Encoded"); everything else stays readable.
 */
export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    if (byte < 0x20 || byte > 0x7e || byte === 0x25) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return out;
}

/**
 * The headers of a gRPC Trailers-Only answer (gRPC over HTTP/2 spec, "Responses"): HTTP 200,
 * the gRPC content type, and grpc-status/grpc-message in the one HEADERS frame.
 */
export function grpcErrorHeaders(status: number, code: string, message: string, requestId: string): Record<string, string> {
  return {
    'content-type': 'application/grpc',
    'grpc-status': String(grpcStatusOf(status)),
    'grpc-message': encodeGrpcMessage(`${code}: ${message}`),
    'x-request-id': requestId,
  };
}

export function errorBody(code: string, message: string, requestId: string): string {
  return JSON.stringify({ error: { code, message, requestId } });
}

export interface EventSource {
  once(event: string, listener: (...args: never[]) => void): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
}

/** What the proxy uses of http.ServerResponse and of the HTTP/2 response (h2-stream.ts). */
export interface AnyResponse {
  readonly headersSent: boolean;
  readonly writableFinished: boolean;
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders | string[]): unknown;
  write(chunk: Buffer): boolean;
  end(): unknown;
  end(chunk: string | Buffer): unknown;
  addTrailers(headers: OutgoingHttpHeaders): void;
  destroy(error?: Error): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
  /** Where 'close' and 'drain' are emitted, when not on the response itself (HTTP/2 core stream). */
  readonly events?: EventSource;
  /**
   * Send the response head and end the response in the same frame (HTTP/2 HEADERS with
   * END_STREAM): a gRPC Trailers-Only answer. Without it, writeHead and end are used.
   */
  respondAndEnd?(statusCode: number, headers: OutgoingHttpHeaders): void;
  /**
   * After the head went out: end the response with these trailers, when the response was started
   * with trailers announced (HTTP/2). False when it cannot.
   */
  endWithTrailers?(trailers: OutgoingHttpHeaders): boolean;
}

/**
 * Answer with a proxy-made error. When headers already went out (the upstream failed mid-body)
 * the only honest signal left is to reset the stream.
 */
export function sendError(
  res: AnyResponse,
  status: number,
  code: string,
  message: string,
  requestId: string,
  grpc: boolean,
  extraHeaders?: Record<string, string>,
): void {
  if (res.headersSent) {
    // A gRPC call whose response started (a stream, its deadline passed) still ends with a
    // status its client can read, when the trailers are still to come.
    if (grpc && res.endWithTrailers !== undefined) {
      const h = grpcErrorHeaders(status, code, message, requestId);
      if (res.endWithTrailers({ 'grpc-status': h['grpc-status'], 'grpc-message': h['grpc-message'] })) return;
    }
    res.destroy();
    return;
  }
  if (grpc) {
    // Extra headers first: grpc-status and grpc-message must be the proxy's own.
    const h: Record<string, string> = { ...extraHeaders, ...grpcErrorHeaders(status, code, message, requestId) };
    if (res.respondAndEnd !== undefined) {
      res.respondAndEnd(200, h);
    } else {
      res.writeHead(200, h);
      res.end();
    }
    return;
  }
  const body = errorBody(code, message, requestId);
  const h: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-request-id': requestId,
    ...extraHeaders,
  };
  res.writeHead(status, h);
  res.end(body);
}

export function sendKnownError(
  res: AnyResponse,
  code: ErrorCode,
  requestId: string,
  grpc: boolean,
  extraHeaders?: Record<string, string>,
): void {
  const [status, message] = KNOWN[code];
  sendError(res, status, code, message, requestId, grpc, extraHeaders);
}

/** A complete raw HTTP/1.1 error response, for sockets that never became a request (parse errors). */
export function rawErrorResponse(code: ErrorCode, requestId: string): string {
  const [status, message] = KNOWN[code];
  const body = errorBody(code, message, requestId);
  return (
    `HTTP/1.1 ${status} ${reasonOf(status)}\r\ncontent-type: application/json; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\nx-request-id: ${requestId}\r\n\r\n${body}`
  );
}

function reasonOf(status: number): string {
  switch (status) {
    case 400: return 'Bad Request';
    case 408: return 'Request Timeout';
    case 404: return 'Not Found';
    case 421: return 'Misdirected Request';
    case 417: return 'Expectation Failed';
    case 431: return 'Request Header Fields Too Large';
    case 500: return 'Internal Server Error';
    case 502: return 'Bad Gateway';
    case 503: return 'Service Unavailable';
    case 501: return 'Not Implemented';
    case 504: return 'Gateway Timeout';
    case 505: return 'HTTP Version Not Supported';
    default: return 'Error';
  }
}

/** A complete raw HTTP/1.1 response with the stable JSON error body (for upgraded sockets). */
export function rawError(status: number, code: string, message: string, requestId: string): string {
  const body = errorBody(code, message, requestId);
  return (
    `HTTP/1.1 ${status} ${reasonOf(status)}\r\ncontent-type: application/json; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\nx-request-id: ${requestId}\r\n\r\n${body}`
  );
}
