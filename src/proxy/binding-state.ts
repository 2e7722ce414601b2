/**
 * What a request needs to know about the socket it arrived on. The listeners module owns one
 * per bound socket and swaps `listener` on apply; a request reads it once, at its start, so it
 * finishes on the table it started with.
 */
import type { ProxyLimits } from './limits.ts';
import type { ProxyLogger } from './logger.ts';
import type { CompiledListener } from './router.ts';
import type { TlsState } from './tls.ts';

export interface BindingState {
  /** The compiled listener of the table currently serving this socket. */
  listener: CompiledListener;
  readonly secure: boolean;
  /** The socket is being removed: answer with `connection: close` so clients move on. */
  closing: boolean;
  readonly limits: ProxyLimits;
  readonly logger: ProxyLogger;
  /** HTTPS sockets: the TLS state of the current table (client certificate validation). */
  readonly tls: TlsState | undefined;
}
