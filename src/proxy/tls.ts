/**
 * TLS termination state of one HTTPS socket: a SecureContext per Gateway listener (its
 * certificates, spec order, the first as default) plus the socket's default context (the
 * first Gateway listener's). Contexts are rebuilt on apply without re-binding the socket, and
 * cached by content so an unchanged certificate is not re-parsed on every apply.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { Certificate, ClientValidation, Listener } from '../ir/index.ts';
import { parseCaBundle } from './client-verify.ts';

export interface TlsState {
  readonly byListener: ReadonlyMap<string, SecureContext>;
  readonly fallback: SecureContext | undefined;
  /** The Gateway listener whose context `fallback` is (clients without SNI or an unknown one). */
  readonly fallbackId: string | undefined;
  /**
   * Gateway listeners with client certificate validation, with their parsed CAs. Empty: the
   * socket asks no client for a certificate.
   */
  readonly validation: ReadonlyMap<string, ListenerValidation>;
  readonly errors: readonly { readonly listenerId: string; readonly message: string }[];
}

export interface ListenerValidation {
  readonly mode: ClientValidation['mode'];
  /** Trusted CAs (client-verify.ts checks chains against them after the handshake). */
  readonly cas: readonly X509Certificate[];
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
      ctx = createSecureContext(contextOptions(certs));
      this.#cache.set(key, ctx);
    }
    return ctx;
  }

  sweep(): void {
    for (const k of this.#cache.keys()) if (!this.#used.has(k)) this.#cache.delete(k);
  }
}

/**
 * Options of a listener's context. Client CAs are deliberately not in it (see client-verify.ts):
 * the handshake only collects a client's chain. The cost: the CertificateRequest names no CAs,
 * so a client with several certificates sends its first.
 */
export function contextOptions(certs: readonly Certificate[]): SecureContextOptions {
  return { cert: certs.map((c) => c.certPem), key: certs.map((c) => c.keyPem), minVersion: 'TLSv1.2' };
}

export function buildTlsState(l: Listener, cache: SecureContextCache): TlsState {
  const byListener = new Map<string, SecureContext>();
  const validation = new Map<string, ListenerValidation>();
  const errors: { listenerId: string; message: string }[] = [];
  let fallback: SecureContext | undefined;
  let fallbackId: string | undefined;
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
      if (gl.clientValidation !== undefined) validation.set(gl.id, { mode: gl.clientValidation.mode, cas: parseCaBundle(gl.clientValidation.caPem) });
      if (fallback === undefined) {
        fallback = ctx;
        fallbackId = gl.id;
      }
    }
  }
  return { byListener, fallback, fallbackId, validation, errors };
}
