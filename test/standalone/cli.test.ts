import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('cli: usage errors exit 2 with the usage text', () => {
  const none = run();
  assert.equal(none.code, 2);
  assert.match(none.stdout, /fluxgate serve --config PATH/);
  const missing = run('serve');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--config PATH is required/);
  const unknown = run('serve', '--config', 'x', '--bogus');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown option '--bogus'/);
});

test('cli: an invalid configuration exits 1 naming file, document and field', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fluxgate-cli-'));
  try {
    await writeFile(join(dir, 'gw.yaml'), 'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: { name: gw }\nspec:\n  gatewayClassName: fluxgate\n  listeners: [{ name: http, protocol: HTTP, port: "x" }]\n');
    const r = run('serve', '--config', dir, '--admin-address', '');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /gw\.yaml: document 0: spec\.listeners\[0\]\.port: must be integer/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
