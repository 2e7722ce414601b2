/**
 * Compiles IR filters into the form the request path runs: header names lower-cased, CORS
 * origins split, mirror backends resolved to their compiled backend. Done once per table.
 */
import type { BackendFilter, Filter, RequestRedirect, UrlRewrite } from '../../ir/index.ts';
import { compileHeaderModifier, type CompiledHeaderModifier } from '../headers.ts';
import { compileCors, type CompiledCors } from './cors.ts';
import { compilePlugin, type CompiledPlugin } from './plugin.ts';
import type { PluginRuntime } from '../../plugins/index.ts';

/** Resolved elsewhere (router) to avoid a cycle: a backend as the request path needs it. */
export interface MirrorTarget<B> {
  readonly backend: B | undefined;
  readonly backendId: string;
  /** Probability in [0,1]. */
  readonly fraction: number;
}

export type CompiledFilter<B> =
  | { readonly type: 'RequestHeaderModifier'; readonly modifier: CompiledHeaderModifier }
  | { readonly type: 'ResponseHeaderModifier'; readonly modifier: CompiledHeaderModifier }
  | { readonly type: 'RequestRedirect'; readonly redirect: RequestRedirect }
  | { readonly type: 'URLRewrite'; readonly rewrite: UrlRewrite }
  | { readonly type: 'RequestMirror'; readonly mirror: MirrorTarget<B> }
  | { readonly type: 'CORS'; readonly cors: CompiledCors }
  | { readonly type: 'Plugin'; readonly plugin: CompiledPlugin };

export function compileFilter<B>(f: Filter | BackendFilter, resolve: (id: string) => B | undefined, plugins?: PluginRuntime): CompiledFilter<B> {
  switch (f.type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier':
      return { type: f.type, modifier: compileHeaderModifier(f.modifier) };
    case 'RequestRedirect':
      return { type: f.type, redirect: f.redirect };
    case 'URLRewrite':
      return { type: f.type, rewrite: f.rewrite };
    case 'RequestMirror': {
      const fr = f.mirror.fraction;
      const fraction = fr === undefined || !Number.isFinite(fr) ? 1 : Math.min(1, Math.max(0, fr));
      return { type: f.type, mirror: { backend: resolve(f.mirror.backendId), backendId: f.mirror.backendId, fraction } };
    }
    case 'CORS':
      return { type: f.type, cors: compileCors(f.cors) };
    case 'Plugin':
      return { type: f.type, plugin: compilePlugin(f.plugin, plugins) };
  }
}
