/**
 * Plugins: extension filters attached to routes as ExtensionRef filters or GEP-713 policies
 * (rate limiting, key/basic/JWT/OIDC authentication, IP rules, transforms). Each plugin is
 * `{ kind, validate(config) -> result, create(config, ctx) -> hooks }`.
 *
 * Must not: do I/O or read the clock in validate (the translator calls it), create per-request
 * state in create, let an authentication problem pass traffic (fail closed), or log a
 * credential. Imports only ir (types) and its own modules.
 */
export type { Plugin, PluginHooks, PluginRequest, PluginAnswer, HookResult, ValidateResult, ValidateContext, ResolvedConsumer, ResolvedCredential, FieldProblem, ResponseHook, PluginLogger } from './types.ts';
export { createPluginRuntime, type PluginRuntime, type PluginRuntimeOptions } from './runtime.ts';
export { BUILTIN_PLUGINS } from './registry.ts';
export { pluginValidators, type PluginValidators } from './validators.ts';
export { hashPassword } from './basic-auth/password-hash.ts';
export { redactPluginConfig } from './redact.ts';
