/**
 * Incremental compile (src/proxy/compile-table.ts, route-index.ts): a table compiled against
 * the previous one must route exactly like a table compiled from scratch, must reuse what did
 * not change, and must leave the previous table (which requests in flight may hold) as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Backend, Route, RouteMatch } from '../../src/ir/index.ts';
import { compileTable, RANK_GAP } from '../../src/proxy/compile-table.ts';
import type { CompiledTable, CompiledVirtualHost } from '../../src/proxy/router.ts';
import { UpstreamPools } from '../../src/proxy/upstream.ts';
import { DEFAULT_LIMITS } from '../../src/proxy/limits.ts';
import { silentLogger } from '../../src/proxy/logger.ts';
import { backend, listener, match, ref, route, table, vhost } from './helpers.ts';

const pools = new UpstreamPools(DEFAULT_LIMITS, silentLogger);
const segs = ['a', 'b', 'c', 'v1'];
const arbPath = fc.array(fc.constantFrom(...segs), { minLength: 0, maxLength: 3 }).map((s) => '/' + s.join('/'));
const arbMatch: fc.Arbitrary<RouteMatch> = fc.record({
  path: fc.oneof(
    fc.record({ type: fc.constant('Exact' as const), value: arbPath }),
    fc.record({ type: fc.constant('PathPrefix' as const), value: arbPath }),
    fc.record({ type: fc.constant('RegularExpression' as const), value: fc.constantFrom('/a/.*', '/[ab]/c', '.*v1.*') }),
  ),
  headers: fc.array(fc.record({ type: fc.constant('Exact' as const), name: fc.constant('x-a'), value: fc.constantFrom('1', '2') }), { maxLength: 1 }),
  queryParams: fc.array(fc.record({ type: fc.constant('Exact' as const), name: fc.constant('q'), value: fc.constantFrom('1', '2') }), { maxLength: 1 }),
});
const arbRequest = fc.tuple(arbPath, fc.constantFrom('', '1', '2'), fc.constantFrom('', '1', '2'));
type Request = [string, string, string];

function onlyVhost(t: CompiledTable): CompiledVirtualHost {
  return [...t.listeners.values()][0]!.selectVirtualHost('x')!;
}

/** Route id and the backend object the route would send to. */
function lookup(vh: CompiledVirtualHost, [path, xa, q]: Request): [string | undefined, unknown] {
  const r = vh.match(path, 'GET', xa === '' ? {} : { 'x-a': xa }, q === '' ? '' : `q=${q}`);
  const pick = r?.picker?.pick();
  return [r?.id, pick?.kind === 'backend' ? pick.backend : undefined];
}

test('incremental compile routes exactly like a fresh compile, and leaves the previous table untouched (property)', () => {
  fc.assert(
    fc.property(
      fc.array(arbMatch, { minLength: 1, maxLength: 40 }),
      // Each step: which routes of the pool are in the table, in what order, and whether the
      // backend is replaced by a new IR object (same id, other port).
      fc.array(fc.record({ picks: fc.array(fc.nat(39), { maxLength: 40 }), keepOrder: fc.boolean(), newBackend: fc.boolean() }), { minLength: 2, maxLength: 8 }),
      fc.array(arbRequest, { minLength: 1, maxLength: 15 }),
      (matches, steps, requests) => {
        const pool: Route[] = matches.map((m, i) => route(`r${i}`, m, [ref('backend/b')]));
        let b: Backend = backend('backend/b', [10_001]);
        let prev: CompiledTable | undefined;
        let prevAnswers: [string | undefined, unknown][] = [];
        let port = 10_001;
        for (const step of steps) {
          const ids = [...new Set(step.picks.filter((i) => i < pool.length))];
          if (step.keepOrder) ids.sort((x, y) => x - y); // the translator's case: a stable order
          const routes = ids.map((i) => pool[i]!);
          if (step.newBackend) b = backend('backend/b', [++port]);
          const t = table([listener([vhost('*', routes)])], [b]);
          const incremental = compileTable(t, pools, silentLogger, undefined, prev);
          const scratch = compileTable(t, pools, silentLogger);
          const vi = onlyVhost(incremental);
          const vs = onlyVhost(scratch);
          for (let k = 1; k < vi.routes.length; k++) assert.ok(vi.routes[k - 1]!.rank < vi.routes[k]!.rank, 'ranks increase');
          assert.deepEqual(vi.routes.map((r) => r.id), vs.routes.map((r) => r.id));
          for (const req of requests) {
            const [id, be] = lookup(vi, req);
            assert.equal(id, lookup(vs, req)[0], `${JSON.stringify(req)}`);
            if (id !== undefined) assert.equal(be, incremental.backends.get('backend/b'), 'routes send to the current backend');
          }
          // The previous table answers as it did before this compile.
          if (prev !== undefined) {
            const vp = onlyVhost(prev);
            requests.forEach((req, k) => assert.deepEqual(lookup(vp, req), prevAnswers[k]));
          }
          prev = incremental;
          prevAnswers = requests.map((req) => lookup(vi, req));
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('adding one route to 10,000 reuses the other compiled routes and shares the untouched trie', () => {
  const b = backend('backend/b', [10_001]);
  const routes: Route[] = [];
  for (let i = 0; i < 10_000; i++) routes.push(route(`r${i}`, match(`/r/${String(i).padStart(5, '0')}`), [ref('backend/b')]));
  const first = compileTable(table([listener([vhost('*', routes)])], [b]), pools, silentLogger);
  const added = route('added', match('/added/x'), [ref('backend/b')]);
  const next = compileTable(table([listener([vhost('*', [...routes.slice(0, 5000), added, ...routes.slice(5000)])])], [b]), pools, silentLogger, undefined, first);
  const v1 = onlyVhost(first);
  const v2 = onlyVhost(next);
  assert.equal(v2.routes.length, 10_001);
  const before = new Set(v1.routes);
  let reused = 0;
  for (const r of v2.routes) if (before.has(r)) reused++;
  assert.equal(reused, 10_000);
  // The new route sits between its neighbours without renumbering them.
  const inserted = v2.routes[5000]!;
  assert.equal(inserted.id, 'added');
  assert.ok(inserted.rank > v2.routes[4999]!.rank && inserted.rank < v2.routes[5001]!.rank);
  assert.equal(v2.routes[4999]!.rank, 5000 * RANK_GAP);
  // Only the path to /added was copied: the /r subtree (10,000 children) is shared.
  assert.equal(v2.trie.children!.get('r'), v1.trie.children!.get('r'));
  assert.equal(v1.trie.children!.get('added'), undefined);
  assert.equal(v2.match('/added/x/y', 'GET', {}, '')?.id, 'added');
  assert.equal(v1.match('/added/x/y', 'GET', {}, ''), undefined);
  assert.equal(v2.match('/r/07000/z', 'GET', {}, '')?.id, 'r7000');
});

test('many inserts at one spot fall back to a fresh compile of that virtual host, with the same routing', () => {
  const b = backend('backend/b', [10_001]);
  const head = route('head', match('/h'), [ref('backend/b')]);
  const tail = route('tail', match('/t'), [ref('backend/b')]);
  let routes: Route[] = [head, tail];
  let prev = compileTable(table([listener([vhost('*', routes)])], [b]), pools, silentLogger);
  // Each new route goes right after `head`: the gap halves every time until it runs out.
  for (let i = 0; i < 80; i++) {
    routes = [head, route(`n${i}`, match(`/n/${i}`), [ref('backend/b')]), ...routes.slice(1)];
    prev = compileTable(table([listener([vhost('*', routes)])], [b]), pools, silentLogger, undefined, prev);
    const v = onlyVhost(prev);
    assert.deepEqual(v.routes.map((r) => r.id), routes.map((r) => r.id));
    for (let k = 1; k < v.routes.length; k++) assert.ok(v.routes[k - 1]!.rank < v.routes[k]!.rank);
  }
  assert.equal(onlyVhost(prev).match('/n/0', 'GET', {}, '')?.id, 'n0');
  assert.equal(onlyVhost(prev).match('/n/79', 'GET', {}, '')?.id, 'n79');
});

test('routes with plugin filters are compiled again on every table (their shared state is marked per compile)', () => {
  const b = backend('backend/b', [10_001]);
  const plugin = route('p', match('/p'), [ref('backend/b')], [{ type: 'Plugin', plugin: { id: 'x', kind: 'missing', config: {} } } as never]);
  const plain = route('q', match('/q'), [ref('backend/b')]);
  const first = compileTable(table([listener([vhost('*', [plugin, plain])])], [b]), pools, silentLogger);
  const next = compileTable(table([listener([vhost('*', [plugin, plain])])], [b]), pools, silentLogger, undefined, first);
  const [p1, q1] = onlyVhost(first).routes;
  const [p2, q2] = onlyVhost(next).routes;
  assert.equal(p2!.source, plugin);
  assert.notEqual(p2, p1);
  assert.equal(q2, q1);
});
