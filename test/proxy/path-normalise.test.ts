/** The canonical path normaliser: table of rules plus fast-check properties. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { normalisePath } from '../../src/proxy/path-normalise.ts';

const cases: [string, string | undefined][] = [
  ['/', '/'],
  ['/a/b', '/a/b'],
  ['/a/b/', '/a/b/'],
  ['//a///b//', '/a/b/'],
  ['/a/./b', '/a/b'],
  ['/a/../b', '/b'],
  ['/../../a', '/a'],
  ['/a/..', '/'],
  ['/a/.', '/a/'],
  ['/%61%62c', '/abc'], // unreserved decoded
  ['/%7e%2D%2e%5f', '/~-._'],
  ['/%2e%2e/admin', '/admin'], // encoded dot segments resolve after decoding
  ['/public/%2E%2E/admin', '/admin'],
  ['/a%2fb', '/a%2Fb'], // encoded slash stays encoded, hex upper-cased, not a separator
  ['/a%2F..%2Fb', '/a%2F..%2Fb'],
  ['/a%5cb', '/a%5Cb'],
  ['/a\\b', '/a%5Cb'],
  ['/caf\u00e9', '/caf%E9'],
  ['/\u20ac', '/%E2%82%AC'],
  ['/a%20b', '/a%20b'],
  ['/a:b@c!$&\'()*+,;=', '/a:b@c!$&\'()*+,;='],
  ['/a%zz', undefined],
  ['/a%4', undefined],
  ['/a%00b', undefined],
  ['/a\u0000b', undefined],
  ['/a b', undefined],
  ['/a#b', undefined],
  ['a/b', undefined],
  ['', undefined],
  ['*', undefined],
];

test('normaliser rules', () => {
  for (const [input, want] of cases) assert.equal(normalisePath(input), want, JSON.stringify(input));
});

test('already-canonical paths are returned as the same string (no allocation on the hot path)', () => {
  const p = '/api/v1/users/42';
  assert.equal(normalisePath(p), p);
});

const pathChars = fc.constantFrom('a', 'Z', '0', '-', '.', '_', '~', '/', '/', '%', '2', 'e', 'F', 'f', '5', 'C', ':', '@', '!', ' ', '\\', '\u00e9', '\u20ac', '?', '#', '"', '{');
const arbPath = fc.array(pathChars, { maxLength: 40 }).map((cs) => '/' + cs.join(''));

test('property: idempotent', () => {
  fc.assert(
    fc.property(arbPath, (p) => {
      const once = normalisePath(p);
      if (once !== undefined) assert.equal(normalisePath(once), once);
    }),
    { numRuns: 20_000 },
  );
});

test('property: output is canonical (starts with /, no empty, . or .. segments, only safe chars)', () => {
  fc.assert(
    fc.property(arbPath, (p) => {
      const n = normalisePath(p);
      if (n === undefined) return;
      assert.equal(n[0], '/');
      const segs = n.slice(1).split('/');
      segs.forEach((s, i) => {
        if (i < segs.length - 1) assert.notEqual(s, '');
        assert.notEqual(s, '.');
        assert.notEqual(s, '..');
      });
      assert.match(n, /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/);
      // Every escape left is well formed and names a reserved or non-ASCII byte.
      for (const m of n.matchAll(/%(..)/g)) {
        assert.match(m[1]!, /^[0-9A-F]{2}$/);
        assert.ok(!/[A-Za-z0-9\-._~]/.test(String.fromCharCode(parseInt(m[1]!, 16))));
      }
    }),
    { numRuns: 20_000 },
  );
});

test('property: decoding unreserved escapes does not change the result', () => {
  const unreserved = fc.constantFrom('a', 'B', '7', '-', '_', '~');
  fc.assert(
    fc.property(fc.array(fc.tuple(unreserved, fc.boolean()), { maxLength: 20 }), (parts) => {
      const plain = '/' + parts.map(([c]) => c).join('');
      const encoded = '/' + parts.map(([c, enc]) => (enc ? '%' + c.charCodeAt(0).toString(16) : c)).join('');
      assert.equal(normalisePath(encoded), normalisePath(plain));
    }),
  );
});
