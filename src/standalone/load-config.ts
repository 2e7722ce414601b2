import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { emptyResources } from '../translate/resources.ts';
import type { Resources } from '../translate/resources.ts';
import type { ConfigError } from './config-error.ts';
import { parseDocumentText, parseWholeStream, splitDocuments } from './parse-documents.ts';
import { createResourceBuilder } from './to-resources.ts';
import type { LocatedObject } from './to-resources.ts';
import { validateDocument } from './validate-document.ts';
import type { KindInfo } from './validate-document.ts';

export type { ConfigError } from './config-error.ts';

export interface LoadedConfig {
  /** Every file read, in load order. */
  readonly files: readonly string[];
  /** The objects of a configuration without errors (sorted); empty when there are errors. */
  readonly resources: Resources;
  /** Every problem found; a configuration with errors must not replace a good one. */
  readonly errors: readonly ConfigError[];
  /**
   * Files that had objects and are empty now, read as their previous content (see
   * LoadOptions.acceptEmptied). Empty unless such a file was held back.
   */
  readonly emptied: readonly string[];
}

export interface LoadOptions {
  /**
   * A writer that rewrites a file in place truncates it first: for a moment it is an empty,
   * valid file, and applying it would drop its routes. A file that had objects and is empty
   * now is read as before (and listed in `emptied`) unless this is set; the caller reloads with
   * it once the file has stayed empty for a while.
   */
  readonly acceptEmptied?: boolean;
}

export interface ConfigLoader {
  /**
   * Reads the configuration again. Unchanged files and unchanged documents are not parsed or
   * validated again, and yield the very same objects as before, so later stages can skip work
   * by identity.
   */
  load(options?: LoadOptions): Promise<LoadedConfig>;
}

const YAML_FILE = /\.(ya?ml|json)$/i;

/** What one document yields, independent of where it is. */
interface DocResult {
  readonly objects: readonly { readonly info: KindInfo; readonly object: Record<string, unknown> }[];
  readonly errors: readonly Omit<ConfigError, 'file' | 'document'>[];
}

/** A file as last read: its stat stamp, its documents by text, and what they yielded. */
interface FileEntry {
  readonly stamp: string;
  readonly docs: ReadonlyMap<string, DocResult>;
  readonly located: readonly LocatedObject[];
  readonly errors: readonly ConfigError[];
}

/** Reads a configuration once (see createConfigLoader for repeated reads). */
export async function loadConfig(path: string): Promise<LoadedConfig> {
  return createConfigLoader(path).load();
}

/**
 * A loader for a YAML file, or every `.yaml`/`.yml`/`.json` file under a folder (recursively, in
 * path order). Every error is collected, not just the first, so a user fixes a broken edit in
 * one pass.
 */
export function createConfigLoader(path: string): ConfigLoader {
  let files = new Map<string, FileEntry>();
  const builder = createResourceBuilder();
  return {
    // Synchronous file system calls, on purpose: a reload stats every file, and under request
    // load each awaited call would wait a whole turn of the event loop (milliseconds each, so
    // tens of milliseconds for a folder of files) while a stat takes microseconds.
    async load(options = {}) {
      let paths: string[];
      try {
        paths = listFiles(path);
      } catch (err) {
        return failed([], [{ code: 'CONFIG_READ', file: path, message: errorMessage(err) }]);
      }
      if (paths.length === 0) {
        return failed([], [{ code: 'CONFIG_READ', file: path, message: 'no .yaml, .yml or .json files found' }]);
      }
      const nextFiles = new Map<string, FileEntry>();
      const errors: ConfigError[] = [];
      const emptied: string[] = [];
      const located: (readonly LocatedObject[])[] = [];
      for (const file of paths) {
        const shown = relative(process.cwd(), file) || file;
        let entry: FileEntry;
        try {
          const info = statSync(file);
          const stamp = `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
          const previous = files.get(file);
          if (previous !== undefined && info.size === 0 && previous.located.length > 0 && options.acceptEmptied !== true) {
            emptied.push(shown);
            entry = previous;
          } else {
            entry = previous?.stamp === stamp ? previous : readFileEntry(shown, stamp, readFileSync(file, 'utf8'), previous?.docs);
          }
        } catch (err) {
          errors.push({ code: 'CONFIG_READ', file: shown, message: errorMessage(err) });
          continue;
        }
        nextFiles.set(file, entry);
        errors.push(...entry.errors);
        located.push(entry.located);
      }
      files = nextFiles;
      const built = builder.build(located);
      errors.push(...built.errors);
      if (errors.length > 0) return failed(paths, errors, emptied);
      return { files: paths, resources: built.resources, errors: [], emptied };
    },
  };
}

/** Parses and validates a file's documents, reusing the results of documents whose text did not change. */
function readFileEntry(file: string, stamp: string, text: string, previous: ReadonlyMap<string, DocResult> | undefined): FileEntry {
  const docs = new Map<string, DocResult>();
  const located: LocatedObject[] = [];
  const errors: ConfigError[] = [];
  const add = (index: number, result: DocResult): void => {
    for (const e of result.errors) errors.push({ ...e, file, document: index });
    for (const o of result.objects) located.push({ file, document: index, info: o.info, object: o.object });
  };
  const split = splitDocuments(text);
  if (split === undefined) {
    const whole = parseWholeStream(file, text);
    errors.push(...whole.errors);
    for (const d of whole.docs) add(d.index, validateValues(d.values));
    return { stamp, docs, located, errors };
  }
  for (const doc of split) {
    let result = docs.get(doc.text) ?? previous?.get(doc.text);
    if (result === undefined) {
      const parsed = parseDocumentText(doc);
      result = 'error' in parsed ? { objects: [], errors: [{ code: 'CONFIG_YAML', message: parsed.error }] } : validateValues(parsed.values);
    }
    docs.set(doc.text, result);
    add(doc.index, result);
  }
  return { stamp, docs, located, errors };
}

function validateValues(values: readonly unknown[]): DocResult {
  const objects: DocResult['objects'][number][] = [];
  const errors: Omit<ConfigError, 'file' | 'document'>[] = [];
  for (const value of values) {
    const result = validateDocument(value);
    if (result.ok) {
      objects.push({ info: result.info, object: result.object });
      continue;
    }
    for (const e of result.errors) {
      errors.push({ code: e.kind === 'kind' ? 'CONFIG_KIND' : 'CONFIG_SCHEMA', message: e.message, ...(e.field === undefined ? {} : { field: e.field }) });
    }
  }
  return { objects, errors };
}

function failed(files: readonly string[], errors: readonly ConfigError[], emptied: readonly string[] = []): LoadedConfig {
  return { files, resources: emptyResources(), errors, emptied };
}

function listFiles(path: string): string[] {
  const info = statSync(path);
  if (!info.isDirectory()) return [path];
  const entries = readdirSync(path, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && YAML_FILE.test(e.name) && !e.name.startsWith('.'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return 'code' in err && typeof err.code === 'string' ? `${err.code}: ${err.message}` : err.message;
  return String(err);
}

