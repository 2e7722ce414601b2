/**
 * TLS termination state of one HTTPS socket: a SecureContext per Gateway listener (its
 * certificates, spec order, the first as default) plus the socket's default context (the
 * first Gateway listener's). Contexts are rebuilt on apply without re-binding the socket, and
 * cached by content so an unchanged certificate is not re-parsed on every apply.
 */
import { createHash } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { Certificate, ClientValidation, Listener } from '../ir/index.ts';

export interface TlsState {
  readonly byListener: ReadonlyMap<string, SecureContext>;
  readonly fallback: SecureContext | undefined;
  /** The Gateway listener whose context `fallback` is (clients without SNI or an unknown one). */
  readonly fallbackId: string | undefined;
  /**
   * Gateway listeners with client certificate validation (their contexts carry the CA). Empty:
   * the socket asks no client for a certificate.
   */
  readonly validation: ReadonlyMap<string, ClientValidation>;
  readonly errors: readonly { readonly listenerId: string; readonly message: string }[];
}

export class SecureContextCache {
  #cache = new Map<string, SecureContext>();
  #used = new Set<string>();

  /** Mark the start of an apply: contexts not used by it are dropped at `sweep`. */
  begin(): void {
    this.#used = new Set();
  }

  get(certs: readonly Certificate[], clientCa?: string): SecureContext {
    const h = createHash('sha256');
    for (const c of certs) h.update(c.certPem).update('\0').update(c.keyPem).update('\0');
    if (clientCa !== undefined) h.update('ca\0').update(clientCa);
    const key = h.digest('hex');
    this.#used.add(key);
    let ctx = this.#cache.get(key);
    if (ctx === undefined) {
      ctx = createSecureContext(contextOptions(certs, clientCa));
      this.#cache.set(key, ctx);
    }
    return ctx;
  }

  sweep(): void {
    for (const k of this.#cache.keys()) if (!this.#used.has(k)) this.#cache.delete(k);
  }
}

/**
 * Options of a listener's context. With a client CA, the CA (and only it, not the public
 * roots) verifies client certificates and its names go into the CertificateRequest, so clients
 * holding several certificates pick the right one.
 */
export function contextOptions(certs: readonly Certificate[], clientCa?: string): SecureContextOptions {
  return {
    cert: certs.map((c) => c.certPem),
    key: certs.map((c) => c.keyPem),
    minVersion: 'TLSv1.2',
    ...(clientCa === undefined ? {} : { ca: clientCa }),
  };
}

export function buildTlsState(l: Listener, cache: SecureContextCache): TlsState {
  const byListener = new Map<string, SecureContext>();
  const validation = new Map<string, ClientValidation>();
  const errors: { listenerId: string; message: string }[] = [];
  let fallback: SecureContext | undefined;
  let fallbackId: string | undefined;
  for (const gl of l.gatewayListeners) {
    if (gl.certificates.length === 0) {
      errors.push({ listenerId: gl.id, message: 'no certificate' });
      continue;
    }
    const ca = gl.clientValidation?.caPem;
    let ctx: SecureContext | undefined;
    try {
      ctx = cache.get(gl.certificates, ca);
    } catch (err) {
      // One bad extra certificate must not take the listener's first (default) one down.
      try {
        ctx = cache.get(gl.certificates.slice(0, 1), ca);
        errors.push({ listenerId: gl.id, message: `extra certificate rejected: ${(err as Error).message}` });
      } catch (err2) {
        errors.push({ listenerId: gl.id, message: (err2 as Error).message });
      }
    }
    if (ctx !== undefined) {
      byListener.set(gl.id, ctx);
      if (gl.clientValidation !== undefined) validation.set(gl.id, gl.clientValidation);
      if (fallback === undefined) {
        fallback = ctx;
        fallbackId = gl.id;
      }
    }
  }
  return { byListener, fallback, fallbackId, validation, errors };
}
