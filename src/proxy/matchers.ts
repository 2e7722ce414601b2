/**
 * Request matchers, compiled once per table. User regexes run on re2js (RE2 semantics, linear
 * time), so no pattern can block the event loop; Gateway API regex matches are full-string.
 */
import { RE2JS } from 're2js';
import type { IncomingHttpHeaders } from 'node:http';
import type { KeyValueMatch } from '../ir/index.ts';

export type StringPredicate = (value: string) => boolean;

/** RE2 compile check for the translator: the error message, or undefined when the pattern compiles. */
export function validateRegex(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Full-string RE2 predicate. Throws on an invalid pattern (callers compile at apply time). */
export function compileRegex(pattern: string): StringPredicate {
  const re = RE2JS.compile(pattern);
  return (value) => re.matches(value);
}

export interface CompiledKeyValue {
  readonly name: string;
  readonly test: StringPredicate;
}

export function compileKeyValue(m: KeyValueMatch, lowerName: boolean): CompiledKeyValue {
  const name = lowerName ? m.name.toLowerCase() : m.name;
  if (m.type === 'RegularExpression') return { name, test: compileRegex(m.value) };
  const expected = m.value;
  return { name, test: (v) => v === expected };
}

/** Header value as matched: repeated fields are joined with ',' (RFC 9110 5.3). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * Query parameters of a raw query string; the first occurrence of a name wins (Gateway API:
 * "only the first value is matched"). Built lazily, only for routes that match on the query.
 */
export function parseQuery(query: string): Map<string, string> {
  const out = new Map<string, string>();
  if (query === '') return out;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = safeDecode(eq === -1 ? part : part.slice(0, eq));
    const v = eq === -1 ? '' : safeDecode(part.slice(eq + 1));
    if (k !== undefined && v !== undefined && !out.has(k)) out.set(k, v);
  }
  return out;
}

function safeDecode(s: string): string | undefined {
  if (s.indexOf('%') === -1 && s.indexOf('+') === -1) return s;
  try {
    return decodeURIComponent(s.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}
