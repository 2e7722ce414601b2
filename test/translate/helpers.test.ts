// Table-driven tests for the translator's pure helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../../src/translate/duration.ts';
import { compareHostnameSpecificity, covers, intersectHostname, isValidHostname, routeHostnamesOnListener } from '../../src/translate/hostnames.ts';
import { selectorMatches } from '../../src/translate/label-selector.ts';
import { compareRoutes, type PlacedRoute } from '../../src/translate/precedence.ts';
import { mergeConditions } from '../../src/status/index.ts';
import type { RouteMatch } from '../../src/ir/index.ts';

test('parseDuration: Gateway API Duration (GEP-2257)', () => {
  const cases: [unknown, number | undefined][] = [
    ['10s', 10_000], ['500ms', 500], ['1h2m', 3_720_000], ['1h1m1s1ms', 3_661_001], ['0s', 0], ['99999ms', 99_999],
    ['1m30s', 90_000], ['2h', 7_200_000],
    ['1.5s', undefined], ['', undefined], ['10', undefined], ['-1s', undefined], ['1d', undefined], ['1us', undefined],
    ['100000s', undefined], ['1h1m1s1ms1h', undefined], [' 1s', undefined], [10, undefined], [null, undefined],
  ];
  for (const [input, want] of cases) assert.equal(parseDuration(input), want, `parseDuration(${JSON.stringify(input)})`);
});

test('intersectHostname: listener × route hostname', () => {
  const cases: [string, string, string | undefined][] = [
    ['*', 'foo.example.com', 'foo.example.com'],
    ['*', '*.example.com', '*.example.com'],
    ['foo.example.com', 'foo.example.com', 'foo.example.com'],
    ['foo.example.com', 'bar.example.com', undefined],
    ['*.example.com', 'foo.example.com', 'foo.example.com'],
    ['*.example.com', 'a.b.example.com', 'a.b.example.com'],
    ['*.example.com', 'example.com', undefined],
    ['*.example.com', '*.example.com', '*.example.com'],
    ['*.example.com', '*.com', '*.example.com'],
    ['*.example.com', '*.foo.example.com', '*.foo.example.com'],
    ['foo.example.com', '*.example.com', 'foo.example.com'],
    ['example.com', '*.example.com', undefined],
    ['*.example.com', '*.example.org', undefined],
    ['*.example.com', 'fooexample.com', undefined],
  ];
  for (const [l, r, want] of cases) assert.equal(intersectHostname(l, r), want, `${l} ∩ ${r}`);
});

test('covers: pattern covers every name of h', () => {
  assert.equal(covers('*', '*'), true);
  assert.equal(covers('*.a.com', '*'), false);
  assert.equal(covers('*.a.com', '*.b.a.com'), true);
  assert.equal(covers('*.b.a.com', '*.a.com'), false);
});

test('routeHostnamesOnListener: no route hostnames take the listener hostname', () => {
  assert.deepEqual(routeHostnamesOnListener('*.example.com', []), ['*.example.com']);
  assert.deepEqual(routeHostnamesOnListener('*', []), ['*']);
  assert.deepEqual(routeHostnamesOnListener('*.example.com', ['b.example.com', 'a.example.com', 'x.org', 'a.example.com']), ['a.example.com', 'b.example.com']);
});

test('compareHostnameSpecificity: exact, then longer wildcards, then *', () => {
  const sorted = ['*', '*.com', 'b.com', '*.a.example.com', 'a.com', '*.example.com'].sort(compareHostnameSpecificity);
  assert.deepEqual(sorted, ['a.com', 'b.com', '*.a.example.com', '*.example.com', '*.com', '*']);
});

test('isValidHostname', () => {
  for (const h of ['example.com', '*.example.com', 'a-b.c', 'localhost']) assert.equal(isValidHostname(h), true, h);
  for (const h of ['', '1.2.3.4', '-a.com', 'a..com', 'foo.*.com', 'a_b.com', 'Example.com']) assert.equal(isValidHostname(h), false, h);
});

test('selectorMatches: matchLabels and matchExpressions', () => {
  const labels = { env: 'prod', tier: 'web' };
  const cases: [unknown, boolean][] = [
    [{}, true],
    [{ matchLabels: { env: 'prod' } }, true],
    [{ matchLabels: { env: 'dev' } }, false],
    [{ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'staging'] }] }, true],
    [{ matchExpressions: [{ key: 'env', operator: 'In', values: [] }] }, false],
    [{ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'Bogus' }] }, false],
    [{ matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
    [undefined, false],
    ['garbage', false],
  ];
  for (const [selector, want] of cases) assert.equal(selectorMatches(selector, labels), want, JSON.stringify(selector));
});

function placed(match: Partial<RouteMatch>, origin: Partial<PlacedRoute['origin']> = {}, id = 'r'): PlacedRoute {
  return {
    route: { id, match: { path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [], ...match }, filters: [], backendRefs: [] },
    origin: { creationTimestamp: '', namespace: 'ns', name: 'n', kind: 'HTTPRoute', rule: 0, match: 0, ...origin },
  };
}

test('compareRoutes: Gateway API precedence, each criterion deciding a tie of the previous ones', () => {
  const h = { type: 'Exact' as const, name: 'a', value: '1' };
  const cases: [string, PlacedRoute, PlacedRoute][] = [
    ['Exact before PathPrefix', placed({ path: { type: 'Exact', value: '/a' } }), placed({ path: { type: 'PathPrefix', value: '/a/long' } })],
    ['PathPrefix before RegularExpression', placed({ path: { type: 'PathPrefix', value: '/' } }), placed({ path: { type: 'RegularExpression', value: '/a/very/long/.*' } })],
    ['longer prefix first', placed({ path: { type: 'PathPrefix', value: '/ab' } }), placed({ path: { type: 'PathPrefix', value: '/a' } })],
    ['method first', placed({ method: 'GET' }), placed({ headers: [h, h] })],
    ['more headers first', placed({ headers: [h, h] }), placed({ headers: [h], queryParams: [h, h, h] })],
    ['more query params first', placed({ queryParams: [h] }), placed({})],
    ['older route first', placed({}, { creationTimestamp: '2020-01-01T00:00:00Z', name: 'z' }), placed({}, { creationTimestamp: '2021-01-01T00:00:00Z', name: 'a' })],
    ['namespace first', placed({}, { namespace: 'a', name: 'z' }), placed({}, { namespace: 'b', name: 'a' })],
    ['name next', placed({}, { name: 'a' }), placed({}, { name: 'b' })],
    ['rule index', placed({}, { rule: 0, match: 5 }), placed({}, { rule: 1, match: 0 })],
    ['match index', placed({}, { match: 0 }), placed({}, { match: 1 })],
  ];
  for (const [why, first, second] of cases) {
    assert.ok(compareRoutes(first, second) < 0, why);
    assert.ok(compareRoutes(second, first) > 0, `${why} (reversed)`);
  }
  assert.equal(compareRoutes(placed({}), placed({})), 0);
});

test('mergeConditions: defaults first, last of each type wins, order of first appearance', () => {
  const c = (type: string, status: 'True' | 'False', reason: string) => ({ type, status, reason, message: reason });
  assert.deepEqual(
    mergeConditions([c('Accepted', 'True', 'Accepted'), c('ResolvedRefs', 'True', 'ResolvedRefs'), c('ResolvedRefs', 'False', 'BackendNotFound'), c('Accepted', 'False', 'NoMatchingParent'), c('PartiallyInvalid', 'True', 'UnsupportedValue')], 4),
    [
      { ...c('Accepted', 'False', 'NoMatchingParent'), observedGeneration: 4 },
      { ...c('ResolvedRefs', 'False', 'BackendNotFound'), observedGeneration: 4 },
      { ...c('PartiallyInvalid', 'True', 'UnsupportedValue'), observedGeneration: 4 },
    ]);
  assert.deepEqual(mergeConditions([c('Accepted', 'True', 'Accepted')]), [c('Accepted', 'True', 'Accepted')]);
});
