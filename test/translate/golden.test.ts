// Golden tests: every testdata/<subject>-<scenario>.in.yaml is translated and compared with
// <subject>-<scenario>.out.yaml. UPDATE_GOLDEN=1 rewrites the outputs and deletes orphans.
// The .out.yaml diff is the behaviour spec a reviewer reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { translate } from '../../src/translate/index.ts';
import { OPTIONS, parseResources, renderGolden } from './harness.ts';

const dir = join(import.meta.dirname, 'testdata');
const update = process.env.UPDATE_GOLDEN === '1';
const inputs = readdirSync(dir).filter((f) => f.endsWith('.in.yaml')).sort();

test('golden cases exist and are named <subject>-<scenario>', () => {
  assert.ok(inputs.length >= 45, `only ${inputs.length} golden cases`);
  for (const f of inputs) assert.match(f, /^[a-z0-9]+(-[a-z0-9]+)+\.in\.yaml$/);
});

for (const file of inputs) {
  const name = file.slice(0, -'.in.yaml'.length);
  test(`golden: ${name}`, () => {
    const resources = parseResources(readFileSync(join(dir, file), 'utf8'));
    const actual = renderGolden(translate(resources, OPTIONS));
    const outPath = join(dir, `${name}.out.yaml`);
    if (update) {
      writeFileSync(outPath, actual);
      return;
    }
    assert.ok(existsSync(outPath), `${name}.out.yaml is missing; run npm run golden:update`);
    assert.equal(actual, readFileSync(outPath, 'utf8'));
  });
}

if (update) {
  test('golden: delete orphan outputs', () => {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.out.yaml'))) {
      if (!inputs.includes(f.replace(/\.out\.yaml$/, '.in.yaml'))) unlinkSync(join(dir, f));
    }
  });
}
