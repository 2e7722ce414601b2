/**
 * Plugin filters (ExtensionRef filters and GEP-713 policies, resolved by the translator). With
 * a plugin runtime (ProxyOptions.plugins) each filter compiles once per table into hooks the
 * request path calls; without one, every plugin filter fails closed (500): a route that asked
 * for an authentication plugin must never be served without it.
 */
import type { PluginFilter } from '../../ir/index.ts';
import type { PluginHooks, PluginRuntime } from '../../plugins/index.ts';

export interface CompiledPlugin {
  readonly id: string;
  readonly kind: string;
  /** Undefined: no plugin runtime in this proxy, and the request answers 500. */
  readonly hooks: PluginHooks | undefined;
}

export function compilePlugin(p: PluginFilter, runtime: PluginRuntime | undefined): CompiledPlugin {
  return { id: p.id, kind: p.kind, hooks: runtime?.compile(p) };
}
