// The plugin runtime the proxy holds: compiles IR plugin filters into hooks once per table
// compile and keeps the state that must outlive one table (counters, Redis connections, key
// caches). compile() never throws: a plugin that is unknown or fails to create answers 500.
import type { PluginFilter } from '../ir/index.ts';
import { CONFIG_INVALID } from './core/answers.ts';
import type { CreateContext, Plugin, PluginHooks, PluginLogger } from './types.ts';

export interface PluginRuntimeOptions {
  /** Registered plugins; default: every built-in plugin (see registry.ts). */
  readonly plugins: readonly Plugin[];
  readonly logger?: PluginLogger;
  /** Clock for windows and token times; default Date.now. */
  readonly now?: () => number;
}

export interface PluginRuntime {
  /** Hooks for one IR plugin filter; a failing filter fails closed. */
  compile(filter: PluginFilter): PluginHooks;
  /** Brackets one table compile; shared state unused by the last two compiles is released. */
  beginCompile(): void;
  endCompile(): void;
  close(): void;
}

const FAIL_CLOSED: PluginHooks = { onRequest: () => CONFIG_INVALID };
const silent: PluginLogger = { warn() {}, error() {}, debug() {} };

interface SharedEntry { value: unknown; dispose: ((v: never) => void) | undefined; usedIn: number }

export function createPluginRuntime(options: PluginRuntimeOptions): PluginRuntime {
  const byKind = new Map(options.plugins.map((p) => [p.kind, p]));
  const logger = options.logger ?? silent;
  const now = options.now ?? Date.now;
  const shared = new Map<string, SharedEntry>();
  let generation = 0;

  function compileOne(kind: string, id: string, config: unknown): PluginHooks {
    const plugin = byKind.get(kind);
    if (plugin === undefined) {
      logger.error({ plugin: id, kind }, 'plugin kind is not registered; its routes fail closed');
      return FAIL_CLOSED;
    }
    const ctx: CreateContext = {
      id, logger, now,
      shared<T>(key: string, make: () => T, dispose?: (value: T) => void): T {
        let e = shared.get(key);
        if (e === undefined) {
          e = { value: make(), dispose: dispose as ((v: never) => void) | undefined, usedIn: generation };
          shared.set(key, e);
        }
        e.usedIn = generation;
        return e.value as T;
      },
      compile: compileOne,
    };
    try {
      return plugin.create(config, ctx);
    } catch (err) {
      logger.error({ plugin: id, kind, err: err instanceof Error ? err.message : String(err) }, 'plugin failed to start; its routes fail closed');
      return FAIL_CLOSED;
    }
  }

  function release(keep: (e: SharedEntry) => boolean): void {
    for (const [k, e] of shared) {
      if (keep(e)) continue;
      shared.delete(k);
      try {
        e.dispose?.(e.value as never);
      } catch {
        // Releasing state must not break a table apply.
      }
    }
  }

  return {
    compile: (f) => compileOne(f.kind, f.id, f.config),
    beginCompile() {
      generation++;
    },
    endCompile() {
      // Keep what the previous table used too: requests that started on it may still run.
      release((e) => e.usedIn >= generation - 1);
    },
    close() {
      release(() => false);
    },
  };
}
