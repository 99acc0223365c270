import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build, type Rollup } from 'vite';

/** Budgets in gzip -9 bytes (issue 6); the lazily loaded sanitizer is reported, not counted. */
const BUDGETS = { kit: 20 * 1024, core: 12 * 1024 };

const gzip = (code: string | Uint8Array) => gzipSync(code, { level: 9 }).length;
const kB = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;

async function bundle(entry: string, outDir: string): Promise<Rollup.OutputChunk[]> {
  const result = (await build({
    configFile: 'vite.config.ts',
    logLevel: 'silent',
    build: { outDir, sourcemap: false, lib: { entry, formats: ['es'], fileName: () => 'bundle.js' } },
  })) as Rollup.RollupOutput | Rollup.RollupOutput[];
  const outputs = Array.isArray(result) ? result : [result];
  return outputs.flatMap((o) => o.output).filter((c): c is Rollup.OutputChunk => c.type === 'chunk');
}

/** The package (or src/ folder) a bundled module belongs to. */
function owner(id: string): string {
  const path = id.replace(/\\/g, '/').replace(/^\0/, '');
  if (/\/(src|bench)\//.test(path) && !path.includes('/node_modules/')) return path.replace(/^.*?\/((src|bench)\/[^/]+).*$/, '$1');
  // Packages, and the bundler's virtual helper modules (`\0@scope+name@version/...`).
  const inside = path.split('/node_modules/').pop()!.replace(/^(@[^/+]+)\+([^@/]+)@[^/]+/, '$1/$2');
  return inside.split('/').slice(0, inside.startsWith('@') ? 2 : 1).join('/');
}

/**
 * Per package: minified bytes, and what it adds to the gzip size (the bundle's modules gzipped
 * with and without it), which is what counts against a gzip budget.
 */
function contributors(chunk: Rollup.OutputChunk): Array<{ name: string; minified: number; gzip: number }> {
  const modules = Object.entries(chunk.modules).map(([id, info]) => ({ owner: owner(id), code: info.code ?? '', minified: info.renderedLength }));
  const packed = (keep: (m: (typeof modules)[number]) => boolean) => gzip(modules.filter(keep).map((m) => m.code).join('\n'));
  const all = packed(() => true);
  return [...new Set(modules.map((m) => m.owner))]
    .map((name) => ({
      name,
      minified: modules.filter((m) => m.owner === name).reduce((sum, m) => sum + m.minified, 0),
      gzip: all - packed((m) => m.owner !== name),
    }))
    .sort((a, b) => b.gzip - a.gzip);
}

const results: Record<string, unknown> = {};
let failed = false;
for (const [name, entry] of [['kit', 'src/index.ts'], ['core', 'bench/entries/core.ts']] as const) {
  const chunks = await bundle(entry, `bench/results/size-${name}`);
  const main = chunks.find((c) => c.isEntry)!;
  const lazy = [...new Map(chunks.filter((c) => !c.isEntry).map((c) => [c.fileName, c])).values()];
  const size = gzip(main.code);
  const budget = BUDGETS[name];
  const over = size > budget;
  failed ||= over;
  console.log(`\n${name} (${entry}): ${kB(Buffer.byteLength(main.code))} minified, ${kB(size)} gzip -9, budget ${kB(budget)} ${over ? 'OVER by ' + kB(size - budget) : 'ok'}`);
  for (const chunk of lazy) console.log(`  lazily loaded, not counted: ${chunk.fileName} ${kB(gzip(chunk.code))} gzip -9`);
  const parts = contributors(main);
  console.log(`  top contributors:${' '.repeat(13)}minified    adds to gzip`);
  for (const part of parts.slice(0, 12)) console.log(`    ${part.name.padEnd(28)} ${kB(part.minified).padStart(8)}    ${kB(part.gzip).padStart(8)}`);
  results[name] = { entry, minified: Buffer.byteLength(main.code), gzip: size, budget, lazy: lazy.map((c) => ({ file: c.fileName, gzip: gzip(c.code) })), contributors: Object.fromEntries(parts.map(({ name: n, ...sizes }) => [n, sizes])) };
}

mkdirSync('bench/results', { recursive: true });
let latest: Record<string, unknown> = {};
try {
  latest = JSON.parse(readFileSync('bench/results/latest.json', 'utf8'));
} catch {
  // First run.
}
writeFileSync('bench/results/latest.json', JSON.stringify({ ...latest, size: { measuredAt: new Date().toISOString(), ...results } }, null, 2));
if (failed) {
  console.error('\nSize budget exceeded.');
  process.exitCode = 1;
}
