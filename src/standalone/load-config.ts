import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { emptyResources, sortResources } from '../translate/resources.ts';
import type { Resources } from '../translate/resources.ts';
import type { ConfigError } from './config-error.ts';
import { parseDocuments } from './parse-documents.ts';
import { toResources } from './to-resources.ts';
import type { LocatedObject } from './to-resources.ts';
import { validateDocument } from './validate-document.ts';

export type { ConfigError } from './config-error.ts';

export interface LoadedConfig {
  /** Every file read, relative to the working directory, in load order. */
  readonly files: readonly string[];
  /** The objects of a configuration without errors (sorted); empty when there are errors. */
  readonly resources: Resources;
  /** Every problem found; a configuration with errors must not replace a good one. */
  readonly errors: readonly ConfigError[];
}

const YAML_FILE = /\.(ya?ml|json)$/i;

/**
 * Reads a YAML file, or every `.yaml`/`.yml`/`.json` file under a folder (recursively, in
 * path order), validates every document and returns the Resources. All errors are collected,
 * not just the first, so a user fixes a broken edit in one pass.
 */
export async function loadConfig(path: string): Promise<LoadedConfig> {
  let files: string[];
  try {
    files = await listFiles(path);
  } catch (err) {
    return failed([], [{ code: 'CONFIG_READ', file: path, message: errorMessage(err) }]);
  }
  if (files.length === 0) {
    return failed([], [{ code: 'CONFIG_READ', file: path, message: 'no .yaml, .yml or .json files found' }]);
  }
  const errors: ConfigError[] = [];
  const objects: LocatedObject[] = [];
  for (const file of files) {
    const shown = relative(process.cwd(), file) || file;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      errors.push({ code: 'CONFIG_READ', file: shown, message: errorMessage(err) });
      continue;
    }
    const parsed = parseDocuments(shown, text);
    errors.push(...parsed.errors);
    for (const doc of parsed.docs) {
      const result = validateDocument(doc.value);
      if (!result.ok) {
        for (const e of result.errors) {
          errors.push({
            code: e.kind === 'kind' ? 'CONFIG_KIND' : 'CONFIG_SCHEMA',
            file: shown, document: doc.index, message: e.message,
            ...(e.field === undefined ? {} : { field: e.field }),
          });
        }
        continue;
      }
      objects.push({ file: shown, document: doc.index, info: result.info, object: result.object });
    }
  }
  const built = toResources(objects);
  errors.push(...built.errors);
  if (errors.length > 0) return failed(files, errors);
  return { files, resources: sortResources(built.resources), errors: [] };
}

function failed(files: readonly string[], errors: readonly ConfigError[]): LoadedConfig {
  return { files, resources: emptyResources(), errors };
}

async function listFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && YAML_FILE.test(e.name) && !e.name.startsWith('.'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return 'code' in err && typeof err.code === 'string' ? `${err.code}: ${err.message}` : err.message;
  return String(err);
}
