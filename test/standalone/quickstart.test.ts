import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { runQuickstart } from '../../src/commands/quickstart.ts';

// The README promises that `npm start` shows a canary split, a header filter and a redirect.
test('quickstart: canary split, header filters and redirect work as the printed curl commands say', async (t) => {
  const originalWrite = process.stdout.write.bind(process.stdout);
  let printed = '';
  process.stdout.write = ((chunk: string | Uint8Array) => { printed += String(chunk); return true; }) as typeof process.stdout.write;
  process.env.LOG_LEVEL = 'silent';
  let quickstart;
  try {
    quickstart = await runQuickstart();
  } finally {
    process.stdout.write = originalWrite;
    delete process.env.LOG_LEVEL;
  }
  t.after(() => quickstart.close());
  assert.match(printed, /curl -si http:\/\/127\.0\.0\.1:8080\/old\/page/);

  const counts: Record<string, number> = {};
  for (let i = 0; i < 400; i++) {
    const res = await request('http://127.0.0.1:8080/');
    await res.body.dump();
    assert.equal(res.statusCode, 200);
    const b = String(res.headers['x-backend']);
    counts[b] = (counts[b] ?? 0) + 1;
  }
  const canary = (counts.canary ?? 0) / 400;
  assert.ok(canary > 0.04 && canary < 0.18, `canary share ${canary} should be near 0.10 (${JSON.stringify(counts)})`);

  const headers = await request('http://127.0.0.1:8080/headers');
  const echoed = (await headers.body.json()) as { headers: Record<string, string> };
  assert.equal(headers.headers['x-served-by'], 'fluxgate');
  assert.equal(echoed.headers['x-demo-request'], 'added-by-fluxgate');

  const redirect = await request('http://127.0.0.1:8080/old/page?q=1');
  await redirect.body.dump();
  assert.equal(redirect.statusCode, 301);
  assert.equal(redirect.headers.location, 'http://127.0.0.1:8080/new/page?q=1');
});
