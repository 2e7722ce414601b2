/**
 * TLS termination state of one HTTPS socket: a SecureContext per Gateway listener (its
 * certificates, spec order, the first as default) plus the socket's default context (the
 * first Gateway listener's). Contexts are rebuilt on apply without re-binding the socket, and
 * cached by content so an unchanged certificate is not re-parsed on every apply.
 */
import { createHash } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Certificate, Listener } from '../ir/index.ts';

export interface TlsState {
  readonly byListener: ReadonlyMap<string, SecureContext>;
  readonly fallback: SecureContext | undefined;
  readonly errors: readonly { readonly listenerId: string; readonly message: string }[];
}

export class SecureContextCache {
  #cache = new Map<string, SecureContext>();
  #used = new Set<string>();

  /** Mark the start of an apply: contexts not used by it are dropped at `sweep`. */
  begin(): void {
    this.#used = new Set();
  }

  get(certs: readonly Certificate[]): SecureContext {
    const h = createHash('sha256');
    for (const c of certs) h.update(c.certPem).update('\0').update(c.keyPem).update('\0');
    const key = h.digest('hex');
    this.#used.add(key);
    let ctx = this.#cache.get(key);
    if (ctx === undefined) {
      ctx = createSecureContext({
        cert: certs.map((c) => c.certPem),
        key: certs.map((c) => c.keyPem),
        minVersion: 'TLSv1.2',
      });
      this.#cache.set(key, ctx);
    }
    return ctx;
  }

  sweep(): void {
    for (const k of this.#cache.keys()) if (!this.#used.has(k)) this.#cache.delete(k);
  }
}

export function buildTlsState(l: Listener, cache: SecureContextCache): TlsState {
  const byListener = new Map<string, SecureContext>();
  const errors: { listenerId: string; message: string }[] = [];
  let fallback: SecureContext | undefined;
  for (const gl of l.gatewayListeners) {
    if (gl.certificates.length === 0) {
      errors.push({ listenerId: gl.id, message: 'no certificate' });
      continue;
    }
    let ctx: SecureContext | undefined;
    try {
      ctx = cache.get(gl.certificates);
    } catch (err) {
      // One bad extra certificate must not take the listener's first (default) one down.
      try {
        ctx = cache.get(gl.certificates.slice(0, 1));
        errors.push({ listenerId: gl.id, message: `extra certificate rejected: ${(err as Error).message}` });
      } catch (err2) {
        errors.push({ listenerId: gl.id, message: (err2 as Error).message });
      }
    }
    if (ctx !== undefined) {
      byListener.set(gl.id, ctx);
      fallback ??= ctx;
    }
  }
  return { byListener, fallback, errors };
}
