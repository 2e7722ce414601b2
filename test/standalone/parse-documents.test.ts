import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitDocuments } from '../../src/standalone/parse-documents.ts';

const cases: { name: string; text: string; want: [number, number, string][] | undefined }[] = [
  { name: 'one document, no marker', text: 'a: 1\n', want: [[0, 0, 'a: 1\n']] },
  { name: 'leading marker starts document 0', text: '---\na: 1\n---\nb: 2', want: [[0, 1, 'a: 1'], [1, 3, 'b: 2']] },
  { name: 'comments before the first marker are not a document', text: '# header\n\n---\na: 1', want: [[0, 3, 'a: 1']] },
  { name: 'content before the first marker is document 0', text: 'a: 1\n---\nb: 2', want: [[0, 0, 'a: 1'], [1, 2, 'b: 2']] },
  { name: 'marker with a comment', text: 'a: 1\n--- # next\nb: 2', want: [[0, 0, 'a: 1'], [1, 2, 'b: 2']] },
  { name: 'empty documents keep their index', text: 'a: 1\n---\n---\nb: 2\n---\n', want: [[0, 0, 'a: 1'], [1, 2, ''], [2, 3, 'b: 2'], [3, 5, '']] },
  { name: 'indented --- inside a block scalar is content', text: 'a: |\n  ---\n  x\n', want: [[0, 0, 'a: |\n  ---\n  x\n']] },
  { name: 'directives are not split', text: '%YAML 1.2\n---\na: 1', want: undefined },
  { name: 'document end markers are not split', text: 'a: 1\n...\n---\nb: 2', want: undefined },
  { name: 'content on the marker line is not split', text: '--- !!map\na: 1', want: undefined },
];

for (const c of cases) {
  test(`splitDocuments: ${c.name}`, () => {
    const got = splitDocuments(c.text);
    assert.deepEqual(got?.map((d) => [d.index, d.line, d.text]), c.want);
  });
}
