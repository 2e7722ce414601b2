/**
 * The lookup structures of one virtual host: an exact-path Map, a segment trie of PathPrefix
 * values and the list of regex routes, every candidate list sorted by rank (precedence).
 *
 * Persistent: `update` returns a new index that shares every part the change did not touch
 * (path copying in the trie, copy-on-write Maps and lists), so the previous table, which
 * requests in flight may still hold, never sees a change, and a change of k routes costs about
 * k paths instead of a rebuild of all of them.
 */
import type { CompiledRoute } from './router.ts';

export interface TrieNode {
  readonly children: ReadonlyMap<string, TrieNode> | undefined;
  /** Routes whose PathPrefix ends at this node, by rank. */
  readonly routes: readonly CompiledRoute[] | undefined;
}

interface MutableNode {
  children: Map<string, MutableNode> | undefined;
  routes: CompiledRoute[] | undefined;
}

export interface RouteIndex {
  readonly exact: ReadonlyMap<string, readonly CompiledRoute[]>;
  readonly trie: TrieNode;
  readonly regex: readonly CompiledRoute[];
  /** How many routes match on the query: a host without any never parses it. */
  readonly queryRoutes: number;
}

/** Path segments of a PathPrefix value as the trie stores them (empty segments skipped). */
function segments(value: string): string[] {
  return value.split('/').filter((s) => s !== '');
}

/** A fresh index; `routes` in rank order. */
export function buildRouteIndex(routes: readonly CompiledRoute[]): RouteIndex {
  const exact = new Map<string, CompiledRoute[]>();
  const trie: MutableNode = { children: undefined, routes: undefined };
  const regex: CompiledRoute[] = [];
  let queryRoutes = 0;
  // Insertion in rank order keeps every candidate list sorted.
  for (const r of routes) {
    if (r.query.length > 0) queryRoutes++;
    if (r.pathType === 'Exact') {
      const list = exact.get(r.pathValue);
      if (list === undefined) exact.set(r.pathValue, [r]);
      else list.push(r);
    } else if (r.pathType === 'PathPrefix') {
      let node = trie;
      for (const seg of segments(r.pathValue)) {
        node.children ??= new Map();
        let child = node.children.get(seg);
        if (child === undefined) {
          child = { children: undefined, routes: undefined };
          node.children.set(seg, child);
        }
        node = child;
      }
      (node.routes ??= []).push(r);
    } else if (r.pathRegex !== undefined) {
      regex.push(r);
    }
  }
  return { exact, trie, regex, queryRoutes };
}

const byRank = (a: CompiledRoute, b: CompiledRoute): number => a.rank - b.rank;

/** `list` without `removed`, plus `added`, by rank; undefined when nothing is left. */
function patchList(
  list: readonly CompiledRoute[] | undefined, removed: ReadonlySet<CompiledRoute>, added: readonly CompiledRoute[],
): CompiledRoute[] | undefined {
  const out = list === undefined ? [] : list.filter((r) => !removed.has(r));
  if (added.length > 0) {
    for (const r of added) out.push(r);
    out.sort(byRank);
  }
  return out.length === 0 ? undefined : out;
}

/** Groups routes by a key, keeping their order. */
function groupBy<K>(routes: readonly CompiledRoute[], key: (r: CompiledRoute) => K | undefined): Map<K, CompiledRoute[]> {
  const m = new Map<K, CompiledRoute[]>();
  for (const r of routes) {
    const k = key(r);
    if (k === undefined) continue;
    const list = m.get(k);
    if (list === undefined) m.set(k, [r]);
    else list.push(r);
  }
  return m;
}

const exactKey = (r: CompiledRoute): string | undefined => (r.pathType === 'Exact' ? r.pathValue : undefined);
const prefixKey = (r: CompiledRoute): string | undefined => (r.pathType === 'PathPrefix' ? r.pathValue : undefined);
const isRegex = (r: CompiledRoute): boolean => r.pathType === 'RegularExpression' && r.pathRegex !== undefined;

/**
 * The index with `removed` taken out and `added` put in (ranks of `added` must not collide with
 * the ranks of routes that stay). `this` is left untouched.
 */
export function updateRouteIndex(index: RouteIndex, removed: readonly CompiledRoute[], added: readonly CompiledRoute[]): RouteIndex {
  if (removed.length === 0 && added.length === 0) return index;
  const gone = new Set(removed);
  const changed = [...removed, ...added];
  let queryRoutes = index.queryRoutes;
  for (const r of removed) if (r.query.length > 0) queryRoutes--;
  for (const r of added) if (r.query.length > 0) queryRoutes++;

  let exact = index.exact;
  const exactAdded = groupBy(added, exactKey);
  const exactPaths = new Set(groupBy(changed, exactKey).keys());
  if (exactPaths.size > 0) {
    const next = new Map(index.exact);
    for (const path of exactPaths) {
      const list = patchList(index.exact.get(path), gone, exactAdded.get(path) ?? []);
      if (list === undefined) next.delete(path);
      else next.set(path, list);
    }
    exact = next;
  }

  let regex = index.regex;
  if (changed.some(isRegex)) regex = patchList(index.regex, gone, added.filter(isRegex)) ?? [];

  let trie = index.trie;
  const prefixAdded = groupBy(added, prefixKey);
  const prefixes = new Set(groupBy(changed, prefixKey).keys());
  if (prefixes.size > 0) {
    // Path copying: every node on a changed path is copied once (with its children Map), the
    // rest of the trie is shared with the previous index.
    const copies = new Set<MutableNode>();
    const copy = (n: TrieNode): MutableNode => {
      const c: MutableNode = { children: n.children === undefined ? undefined : new Map(n.children as Map<string, MutableNode>), routes: n.routes as CompiledRoute[] | undefined };
      copies.add(c);
      return c;
    };
    const root = copy(index.trie);
    for (const value of prefixes) {
      const path: [MutableNode, string][] = [];
      let node = root;
      for (const seg of segments(value)) {
        const child = node.children?.get(seg);
        let next: MutableNode;
        if (child === undefined) {
          next = { children: undefined, routes: undefined };
          copies.add(next);
        } else {
          next = copies.has(child) ? child : copy(child);
        }
        (node.children ??= new Map()).set(seg, next);
        path.push([node, seg]);
        node = next;
      }
      node.routes = patchList(node.routes, gone, prefixAdded.get(value) ?? []);
      // Prune nodes left with neither routes nor children, so churn does not grow the trie.
      for (let i = path.length - 1; i >= 0; i--) {
        if (node.routes !== undefined || (node.children !== undefined && node.children.size > 0)) break;
        const [parent, seg] = path[i]!;
        parent.children!.delete(seg);
        if (parent.children!.size === 0) parent.children = undefined;
        node = parent;
      }
    }
    trie = root;
  }
  return { exact, trie, regex, queryRoutes };
}
