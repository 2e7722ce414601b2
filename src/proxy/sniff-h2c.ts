/**
 * HTTP/1.1 and h2c (HTTP/2 prior knowledge, RFC 9113 3.3) on one plain socket: read until the
 * first bytes prove or rule out the HTTP/2 connection preface, then put them back (unshift) and
 * hand the socket to the right server. Most HTTP/1.1 requests are decided on the first byte.
 */
import type { Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export type SniffResult = 'h2c' | 'http1';

/**
 * Calls `done` once with the protocol, with the socket paused and the bytes read so far
 * unshifted. A socket that sends nothing within `timeoutMs` is destroyed (slowloris guard).
 */
export function sniffH2c(socket: Socket, timeoutMs: number, done: (result: SniffResult) => void): void {
  let buf: Buffer | undefined;
  const timer = timeoutMs > 0 ? setTimeout(() => socket.destroy(), timeoutMs) : undefined;
  const finish = (result: SniffResult): void => {
    if (timer !== undefined) clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('close', onClose);
    socket.pause();
    if (buf !== undefined) socket.unshift(buf);
    done(result);
  };
  const onData = (chunk: Buffer): void => {
    buf = buf === undefined ? chunk : Buffer.concat([buf, chunk]);
    const n = Math.min(buf.length, PREFACE.length);
    if (buf.compare(PREFACE, 0, n, 0, n) !== 0) return finish('http1');
    if (buf.length >= PREFACE.length) finish('h2c');
  };
  const onClose = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    socket.removeListener('data', onData);
  };
  socket.on('data', onData);
  socket.once('close', onClose);
}
