// Answers plugins give themselves. Codes are stable: clients, dashboards and tests key on them.
import type { PluginAnswer } from '../types.ts';

export function answer(status: number, code: string, message: string, headers?: Readonly<Record<string, string | readonly string[]>>): PluginAnswer {
  return headers === undefined ? { status, code, message } : { status, code, message, headers };
}

/**
 * A misconfigured or unavailable plugin: authentication and every other plugin fail closed,
 * a route never serves traffic without the filters it asked for.
 */
export const CONFIG_INVALID = answer(500, 'PLUGIN_CONFIG_INVALID', 'a plugin of this route is misconfigured');
