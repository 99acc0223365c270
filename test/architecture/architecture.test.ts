import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { cycles, importGraph } from './import-graph';

const ROOT = resolve(import.meta.dirname, '../..');
const MAX_LINES = 400;


describe('the layout of src/ and server/', () => {
  const graph = importGraph(ROOT, ['src', 'server']);

  test('no import cycle (type-only imports count)', () => {
    assert.deepEqual(cycles(graph), []);
  });

  test(`no source file over ${MAX_LINES} lines`, () => {
    const long = [...graph.lines].filter(([, lines]) => lines > MAX_LINES).map(([file]) => file);
    assert.deepEqual(long, []);
  });

  test('src/services imports nothing from lit (plain TypeScript services)', () => {
    const lit = [...graph.edges].filter(([file, { packages }]) => file.startsWith('src/services/') && packages.some((p) => p === 'lit' || p.startsWith('lit/') || p.startsWith('@lit/')));
    assert.deepEqual(lit.map(([file]) => file), []);
  });

  test('the browser code imports nothing from server/, and src/protocol nothing from the rest of src/', () => {
    const fromServer = [...graph.edges].filter(([file, { files }]) => file.startsWith('src/') && files.some((target) => target.startsWith('server/')));
    assert.deepEqual(fromServer.map(([file]) => file), []);
    const protocolUp = [...graph.edges].filter(([file, { files }]) => file.startsWith('src/protocol/') && files.some((target) => !target.startsWith('src/protocol/')));
    assert.deepEqual(protocolUp.map(([file]) => file), []);
  });

  test('the graph reader sees the imports it checks (a parser that saw none would pass everything)', () => {
    const journey = graph.edges.get('src/services/purchase-journey.ts');
    assert.ok(journey?.files.includes('src/services/hosted-journey.ts'));
    assert.ok(graph.edges.get('src/components/paywall-button.ts')?.packages.includes('lit'));
    assert.ok(graph.edges.size > 150);
    const edges = (pairs: Record<string, string[]>) => new Map(Object.entries(pairs).map(([file, files]) => [file, { files, packages: [] }]));
    assert.deepEqual(cycles({ edges: edges({ a: ['b'], b: ['c'], c: ['a'], d: ['d'], e: ['a'] }), lines: new Map() }), ['a ↔ b ↔ c', 'd']);
  });
});
