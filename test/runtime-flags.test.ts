// Every launcher of FluxGate passes the Node.js flags of src/runtime-flags.ts, and this Node.js
// accepts them (an unknown V8 flag would stop the process at start).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { RUNTIME_FLAGS } from '../src/runtime-flags.ts';

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const flags = RUNTIME_FLAGS.join(' ');

test('this Node.js starts with the runtime flags', () => {
  const r = spawnSync(process.execPath, [...RUNTIME_FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(RUNTIME_FLAGS.length > 0);
});

test('the fluxgate command, the npm scripts and the container pass the runtime flags', () => {
  assert.equal(read('bin/fluxgate.js').split('\n')[0], `#!/usr/bin/env -S node ${flags}`);
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
  for (const name of ['start', 'serve']) assert.ok(scripts[name]!.startsWith(`node ${flags} src/main.ts `), `npm script ${name}: ${scripts[name]!}`);
  const entry = /^ENTRYPOINT (\[.*\])$/m.exec(read('Dockerfile'));
  assert.ok(entry !== null, 'Dockerfile has an ENTRYPOINT');
  assert.deepEqual(JSON.parse(entry[1]!), ['node', ...RUNTIME_FLAGS, 'bin/fluxgate.js']);
});

test('the conformance runner and the benchmark start FluxGate with the runtime flags', () => {
  assert.match(read('conformance/run.ts'), /spawn\(process\.execPath, \[\.\.\.RUNTIME_FLAGS, join\(repo, 'src', 'main\.ts'\)/);
  assert.match(read('bench/run.ts'), /startFluxgate\(c, src, n, fluxgateFlags\)/);
});
