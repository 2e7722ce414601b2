import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RoutingTable } from '../../src/ir/index.ts';

test('a routing table is plain JSON data', () => {
  const table: RoutingTable = { version: '0', listeners: [], backends: [] };
  assert.deepEqual(JSON.parse(JSON.stringify(table)), table);
});
