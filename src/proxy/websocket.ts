/**
 * WebSocket (HTTP/1.1 `Upgrade: websocket`) proxying. The request is routed and filtered like
 * any other; then a TCP connection to the chosen endpoint carries the request head, and the two
 * sockets are piped both ways. The backend's 101 answer (and any refusal) reaches the client
 * as the backend sent it. Idle tunnels are closed after `idleTimeoutMs`.
 */
import { connect, type Socket } from 'node:net';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { BindingState } from './binding-state.ts';
import type { H1Request } from './h1-server.ts';
import { messageOf, newRequestId, rawError, statusOf, type ErrorCode } from './errors.ts';
import { RequestState } from './request-state.ts';

export function isWebSocketUpgrade(req: { readonly headers: IncomingHttpHeaders }): boolean {
  const u = req.headers.upgrade;
  return typeof u === 'string' && u.toLowerCase() === 'websocket';
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  if (socket.writable) socket.end(rawError(status, code, message, newRequestId()));
  else socket.destroy();
}

function refuseKnown(socket: Duplex, code: ErrorCode): void {
  refuse(socket, statusOf(code), code, messageOf(code));
}

export function handleUpgrade(b: BindingState, req: IncomingMessage | H1Request, socket: Duplex, head: Buffer): void {
  socket.on('error', () => socket.destroy());
  const st = new RequestState(b, req);
  const code = st.resolve();
  if (code !== undefined) return refuseKnown(socket, code);
  const route = st.route!;
  let stop = st.runFilters(route.filters);
  const ref = stop === undefined ? route.picker?.pick() : undefined;
  if (stop === undefined && ref?.kind === 'backend' && ref.filters.length > 0) stop = st.runFilters(ref.filters);
  if (stop !== undefined) {
    if (stop.kind === 'redirect') {
      socket.end(`HTTP/1.1 ${stop.status} Redirect\r\nlocation: ${stop.location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
    } else if (stop.kind === 'plugin') {
      if (stop.answer === undefined) refuse(socket, 500, 'PLUGIN_UNAVAILABLE', `plugin filter ${stop.id} is not available`);
      else refuse(socket, stop.answer.status, stop.answer.code, stop.answer.message);
    } else if (stop.kind === 'pluginWait') {
      // Upgrades take only synchronous plugin decisions; an asynchronous one fails closed.
      void stop.promise.catch(() => undefined);
      refuse(socket, 500, 'PLUGIN_UNAVAILABLE', `plugin filter ${stop.id} cannot decide synchronously on an upgrade`);
    } else {
      refuseKnown(socket, 'BAD_REQUEST');
    }
    return;
  }
  if (ref === undefined) return refuseKnown(socket, 'NO_BACKEND');
  if (ref.kind === 'invalid') return refuse(socket, ref.status, ref.code, 'the backend of this route share is not valid');
  if (ref.backend === undefined) return refuse(socket, 500, 'BACKEND_NOT_FOUND', 'the backend is not in the routing table');
  const ep = ref.backend.endpoints.pick();
  if (ep === undefined) return refuseKnown(socket, 'NO_ENDPOINTS');

  let lines = `${req.method ?? 'GET'} ${st.upTarget} HTTP/1.1\r\n`;
  for (const name in st.upHeaders) {
    const v = st.upHeaders[name]!;
    if (Array.isArray(v)) for (const x of v) lines += `${name}: ${x}\r\n`;
    else lines += `${name}: ${v}\r\n`;
  }
  lines += 'connection: Upgrade\r\nupgrade: websocket\r\n\r\n';

  const upstream: Socket = connect({ host: ep.address, port: ep.port });
  let connected = false;
  upstream.setNoDelay(true);
  upstream.once('connect', () => {
    connected = true;
    upstream.write(lines);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on('error', (err) => {
    if (!connected) {
      b.logger.debug({ route: route.id, err: err.message }, 'websocket upstream connect failed');
      refuseKnown(socket, 'UPSTREAM_CONNECT');
    } else {
      socket.destroy();
    }
  });
  upstream.on('close', () => socket.destroy());
  socket.on('close', () => upstream.destroy());
  const idle = b.limits.idleTimeoutMs;
  if (idle > 0) {
    upstream.setTimeout(idle, () => upstream.destroy());
    (socket as Socket).setTimeout?.(idle, () => socket.destroy());
  }
}
