import jsyaml from 'js-yaml';
import type { ConfigError } from './config-error.ts';

/** One YAML document of a file: its position, and its value or its syntax error. */
export interface DocumentText {
  /** Zero-based index of the document in its file, as an editor counts `---` separators. */
  readonly index: number;
  /** Zero-based line of the file where the document's text starts. */
  readonly line: number;
  readonly text: string;
}

// A line that is only a document marker (optionally followed by a comment). YAML forbids `---`
// at the start of a line inside a document's content, so splitting on it is exact.
const MARKER = /^---[ \t]*(?:#.*)?$/;
// Streams using directives, document-end markers or content on the marker line are rare in
// Kubernetes YAML; they are parsed whole rather than split.
const UNSPLITTABLE = /^(?:%|\.\.\.(?:\s|$)|---[ \t]+[^\s#])/m;

/**
 * Splits a multi-document YAML stream into the text of each document, so that each can be
 * parsed (and cached) on its own: editing one route in a file of 10,000 reparses one document.
 * Returns undefined for streams that cannot be split safely.
 */
export function splitDocuments(text: string): DocumentText[] | undefined {
  if (UNSPLITTABLE.test(text)) return undefined;
  const lines = text.split('\n');
  const docs: DocumentText[] = [];
  let start = 0;
  let sawMarker = false;
  const push = (end: number): void => {
    const body = lines.slice(start, end).join('\n');
    // Text before the first marker is a document only if it holds more than comments.
    if (!sawMarker && docs.length === 0 && isBlank(body)) return;
    docs.push({ index: docs.length, line: start, text: body });
  };
  for (let i = 0; i < lines.length; i++) {
    if (!MARKER.test(lines[i] ?? '')) continue;
    if (i > 0 || sawMarker) push(i);
    sawMarker = true;
    start = i + 1;
  }
  push(lines.length);
  return docs;
}

function isBlank(text: string): boolean {
  return text.split('\n').every((l) => /^\s*(#.*)?$/.test(l));
}

export type ParsedValue = { readonly values: readonly unknown[] } | { readonly error: string };

/**
 * Parses one document's text. A kubectl-style `List` yields its items, so each is validated on
 * its own; an empty document yields nothing.
 */
export function parseDocumentText(doc: DocumentText): ParsedValue {
  let value: unknown;
  try {
    value = jsyaml.load(doc.text);
  } catch (err) {
    return { error: yamlMessage(err, doc.line) };
  }
  return { values: flatten(value) };
}

/** Parses a whole stream that could not be split; errors are reported against document 0. */
export function parseWholeStream(file: string, text: string): { docs: { index: number; values: readonly unknown[] }[]; errors: ConfigError[] } {
  try {
    const docs = jsyaml.loadAll(text).map((value, index) => ({ index, values: flatten(value) }));
    return { docs, errors: [] };
  } catch (err) {
    return { docs: [], errors: [{ code: 'CONFIG_YAML', file, document: 0, message: yamlMessage(err, 0) }] };
  }
}

function flatten(value: unknown): readonly unknown[] {
  if (value === null || value === undefined) return [];
  if (isObject(value) && value.kind === 'List' && Array.isArray(value.items)) return value.items;
  return [value];
}

function yamlMessage(err: unknown, lineOffset: number): string {
  if (err instanceof jsyaml.YAMLException) {
    const mark = err.mark as { line?: number; column?: number } | undefined;
    const where = mark?.line === undefined ? '' : ` (line ${lineOffset + mark.line + 1}, column ${(mark.column ?? 0) + 1})`;
    return `invalid YAML: ${err.reason}${where}`;
  }
  return `invalid YAML: ${err instanceof Error ? err.message : String(err)}`;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
