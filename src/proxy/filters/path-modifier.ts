/**
 * Path rewriting shared by RequestRedirect and URLRewrite (Gateway API HTTPPathModifier).
 * ReplacePrefixMatch works on segment boundaries: prefix `/foo` with value `/xyz` turns
 * `/foo/bar` into `/xyz/bar` and `/foo` into `/xyz`; value `/` turns `/foo/bar` into `/bar`.
 */
import type { PathModifier } from '../../ir/index.ts';
import { normalisePath } from '../path-normalise.ts';

export function applyPathModifier(path: string, m: PathModifier): string {
  let out: string;
  if (m.type === 'ReplaceFullPath') {
    out = m.value;
  } else {
    const prefix = m.prefix.length > 1 && m.prefix.endsWith('/') ? m.prefix.slice(0, -1) : m.prefix;
    if (prefix !== '/') {
      if (!path.startsWith(prefix)) return path;
      const next = path.charCodeAt(prefix.length);
      if (path.length > prefix.length && next !== 47) return path;
    }
    const rest = prefix === '/' ? path : path.slice(prefix.length);
    const value = m.value;
    if (value.endsWith('/') && rest.startsWith('/')) out = value + rest.slice(1);
    else out = value + rest;
    if (out === '') out = '/';
    else if (out.charCodeAt(0) !== 47) out = '/' + out;
  }
  // Keep the one canonical form even after a rewrite (a value may contain `//` or `..`).
  return normalisePath(out) ?? out;
}
