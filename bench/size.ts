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

/** Minified bytes per package (or src/ folder), to see which dependency grows. */
function contributors(chunk: Rollup.OutputChunk): Array<[string, number]> {
  const sizes = new Map<string, number>();
  for (const [id, info] of Object.entries(chunk.modules)) {
    const path = id.replace(/\\/g, '/');
    const pkg = path.includes('/node_modules/')
      ? path.split('/node_modules/').pop()!.split('/').slice(0, path.split('/node_modules/').pop()!.startsWith('@') ? 2 : 1).join('/')
      : path.replace(/^.*?\/(src\/[^/]+).*$/, '$1');
    sizes.set(pkg, (sizes.get(pkg) ?? 0) + info.renderedLength);
  }
  return [...sizes].sort((a, b) => b[1] - a[1]);
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
  console.log('  top contributors (minified bytes):');
  for (const [pkg, bytes] of contributors(main).slice(0, 10)) console.log(`    ${pkg.padEnd(28)} ${kB(bytes)}`);
  results[name] = { entry, minified: Buffer.byteLength(main.code), gzip: size, budget, lazy: lazy.map((c) => ({ file: c.fileName, gzip: gzip(c.code) })), contributors: Object.fromEntries(contributors(main)) };
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
