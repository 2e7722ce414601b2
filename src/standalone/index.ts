/**
 * Standalone ("DB-less") source: Gateway API YAML files in, Resources out, watched for edits.
 *
 * Must not: translate, touch the proxy, or talk to a Kubernetes API. A file that does not parse
 * or validate yields errors naming the file, the document index and the field path; the caller
 * decides to keep serving the last good configuration. Unchanged files and documents are not
 * parsed again and keep their object identity, so a reload of a large configuration costs what
 * changed, not what exists.
 */
export { createConfigLoader, loadConfig } from './load-config.ts';
export type { ConfigError, ConfigLoader, LoadedConfig } from './load-config.ts';
export { watchConfig } from './watch-config.ts';
export type { ConfigWatcher } from './watch-config.ts';
