import { parseAllDocuments } from 'yaml';
import type { ConfigError } from './config-error.ts';

export interface ParsedDocument {
  readonly file: string;
  readonly index: number;
  readonly value: unknown;
}

/**
 * Splits multi-document YAML into values. Empty documents (a trailing `---`) are skipped but
 * keep their index, so reported indexes match what an editor shows.
 */
export function parseDocuments(file: string, text: string): { docs: ParsedDocument[]; errors: ConfigError[] } {
  const docs: ParsedDocument[] = [];
  const errors: ConfigError[] = [];
  parseAllDocuments(text, { prettyErrors: true }).forEach((doc, index) => {
    if ('errors' in doc && doc.errors.length > 0) {
      for (const err of doc.errors) {
        errors.push({ code: 'CONFIG_YAML', file, document: index, message: err.message.split('\n')[0] ?? err.message });
      }
      return;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    // A kubectl-style List carries its objects in items; flatten so each is validated alone.
    if (isObject(value) && value.kind === 'List' && Array.isArray(value.items)) {
      for (const item of value.items) docs.push({ file, index, value: item });
      return;
    }
    docs.push({ file, index, value });
  });
  return { docs, errors };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
