/** A problem with one document of a configuration file. */
export interface ConfigError {
  /** Stable code: CONFIG_READ, CONFIG_YAML, CONFIG_KIND, CONFIG_SCHEMA, CONFIG_DUPLICATE. */
  readonly code: 'CONFIG_READ' | 'CONFIG_YAML' | 'CONFIG_KIND' | 'CONFIG_SCHEMA' | 'CONFIG_DUPLICATE';
  readonly file: string;
  /** Zero-based index of the YAML document in the file, when the error is about one. */
  readonly document?: number;
  /** Field path in Kubernetes style (`spec.rules[0].backendRefs[1].port`). */
  readonly field?: string;
  readonly message: string;
}

export function formatConfigError(e: ConfigError): string {
  const where = [e.file, e.document === undefined ? undefined : `document ${e.document}`, e.field]
    .filter((part) => part !== undefined)
    .join(': ');
  return `${where}: ${e.message}`;
}
