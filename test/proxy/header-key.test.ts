// Header object keys: headerKey lower-cases like toLowerCase, and hands V8 a key it recognises,
// so the request parser gets optimised even when every request carries the same single field.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { headerKey } from '../../src/proxy/http-syntax.ts';

test('headerKey is toLowerCase for any name, well-known or not', async () => {
  for (const n of ['Host', 'host', 'HOST', 'User-Agent', 'user-agent', 'X-Request-ID', 'TE', 'WWW-Authenticate', 'X-Custom-Thing', 'x', '']) {
    assert.equal(headerKey(n), n.toLowerCase());
  }
  const fc = (await import('fast-check')).default;
  fc.assert(fc.property(fc.string({ maxLength: 30 }), (n) => headerKey(n) === n.toLowerCase()), { numRuns: 2000 });
});

// V8's optimisation status bits (src/runtime/runtime.h, OptimizationStatus): 1 << 6 is
// kTurboFanned (1 << 4 any optimised tier, 1 << 15 baseline code, where the parser stayed
// before). Read through --allow-natives-syntax in a child, so this process's own JIT state
// does not matter.
const CHILD = `
import { parseRequestHead } from ${JSON.stringify(new URL('../../src/proxy/request-head.ts', import.meta.url).href)};
const head = Buffer.from('GET /r/00000/bench HTTP/1.1\\r\\nHost: 127.0.0.1:19000', 'latin1');
let n = 0;
for (let i = 0; i < 300000; i++) {
  // A fresh string per request, as the server slices it from the socket's bytes.
  const r = parseRequestHead(head.latin1Slice(0, head.length), 100);
  if ('method' in r) n++;
}
process.stdout.write(JSON.stringify({ n, status: %GetOptimizationStatus(parseRequestHead) }));
`;

test('a client that sends only Host still gets an optimised request parser (no inline cache churn on header keys)', () => {
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', CHILD], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const { n, status } = JSON.parse(r.stdout) as { n: number; status: number };
  assert.equal(n, 300000);
  assert.ok((status & (1 << 6)) !== 0, `parseRequestHead not optimised by TurboFan (V8 status bits ${status.toString(2)})`);
});
