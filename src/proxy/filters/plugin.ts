/**
 * Plugin (ExtensionRef) filters. The plugin registry is not wired into the proxy yet, so every
 * plugin filter compiles to a step that fails closed (500): a route that asked for an
 * authentication plugin must never be served without it.
 */
import type { PluginFilter } from '../../ir/index.ts';

export interface CompiledPlugin {
  readonly id: string;
  readonly kind: string;
  /** False: the plugin is unknown to this proxy and the request answers 500. */
  readonly available: false;
}

export function compilePlugin(p: PluginFilter): CompiledPlugin {
  return { id: p.id, kind: p.kind, available: false };
}
