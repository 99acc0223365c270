import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm run bench`: size, page, server and notifications benchmarks in sequence (each an npm script
 * that merges its section into bench/results/latest.json), then one summary table of that file,
 * written back with the machine it was measured on. A script that does not exist yet is skipped with
 * a message; a benchmark that fails (budget or target missed) does not stop the others, but the run
 * exits non-zero.
 */

const ROOT = join(import.meta.dirname, '..');
const LATEST = join(ROOT, 'bench/results/latest.json');
const STEPS = [
  ['size', 'size'],
  ['page', 'bench:page'],
  ['server', 'bench:server'],
  ['notifications', 'bench:notifications'],
] as const;

const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const status: Record<string, string> = {};
for (const [section, script] of STEPS) {
  if (!scripts[script]) {
    console.log(`\n=== ${script}: skipped, package.json has no "${script}" script yet`);
    status[section] = 'missing';
    continue;
  }
  console.log(`\n=== npm run ${script}`);
  const started = Date.now();
  const result = spawnSync(npm, ['run', '--silent', script], { cwd: ROOT, stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  status[section] = result.status === 0 ? 'ok' : result.error ? `failed to start: ${result.error.message}` : `exit ${result.status ?? result.signal}`;
  console.log(`=== ${script}: ${status[section]} (${seconds} s)`);
}

let latest: Record<string, unknown> = {};
try {
  latest = JSON.parse(readFileSync(LATEST, 'utf8'));
} catch {
  console.log(`\n${LATEST} could not be read: no benchmark wrote results.`);
}

// ---- summary -----------------------------------------------------------------------------------

type Row = [string, string, string];
const rows: Row[] = [];
const kB = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
const num = (value: unknown) => (typeof value === 'number' ? value : NaN);
const get = (value: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), value);

const size = latest.size;
if (size) {
  for (const name of ['kit', 'core']) {
    const gzip = num(get(size, name, 'gzip'));
    const budget = num(get(size, name, 'budget'));
    if (!Number.isNaN(gzip)) rows.push([`size: ${name} (gzip -9)`, kB(gzip), `≤ ${kB(budget)} ${gzip <= budget ? 'ok' : 'MISSED'}`]);
  }
}
const page = latest.page;
if (page) {
  const ratio = (key: string) => num(get(page, 'ratios', key));
  const target = num(get(page, 'targets', 'ratio'));
  rows.push([
    'page: time to 100 revealed',
    `${num(get(page, 'kit', 'timeToRevealMs')).toFixed(0)} ms vs ${num(get(page, 'baseline', 'timeToRevealMs')).toFixed(0)} ms = ${ratio('timeToReveal').toFixed(2)}×`,
    `≤ ${target}× ${ratio('timeToReveal') <= target ? 'ok' : 'MISSED'}`,
  ]);
  rows.push([
    'page: main-thread script time',
    `${num(get(page, 'kit', 'scriptMs')).toFixed(0)} ms vs ${num(get(page, 'baseline', 'scriptMs')).toFixed(0)} ms = ${ratio('scriptTime').toFixed(2)}×`,
    `≤ ${target}× ${ratio('scriptTime') <= target ? 'ok' : 'MISSED'}`,
  ]);
  const cls = num(get(page, 'kit', 'cls'));
  rows.push(['page: CLS', cls.toFixed(4), `0 ${cls === 0 ? 'ok' : 'MISSED'}`]);
  const access = num(get(page, 'kit', 'requests', 'POST /v1/access'));
  // Content arrives batched (POST /v1/content) or, for a single product, by GET.
  const requests = (get(page, 'kit', 'requests') ?? {}) as Record<string, number>;
  const content = Object.entries(requests).filter(([name]) => name.includes('/v1/content')).reduce((sum, [, count]) => sum + count, 0);
  const sockets = num(get(page, 'kit', 'webSockets'));
  const contentOk = get(page, 'checks', 'contentOnlyForEntitled') && get(page, 'checks', 'contentBatched');
  rows.push(['page: access requests', String(access), `1 ${get(page, 'checks', 'oneAccessRequest') ? 'ok' : 'MISSED'}`]);
  rows.push([`page: content requests (${num(get(page, 'entitled'))} entitled)`, String(content), `batched, only the entitled ${contentOk ? 'ok' : 'MISSED'}`]);
  rows.push(['page: WebSockets', String(sockets), `1 ${sockets === 1 ? 'ok' : 'MISSED'}`]);
}
const server = latest.server;
if (server) {
  const accessTarget = num(get(server, 'targets', 'accessRatio'));
  const purchaseTarget = num(get(server, 'targets', 'sqlitePurchasesPerSecond'));
  rows.push(['server: baseline node:http', `${num(get(server, 'baseline', 'rps')).toFixed(0)} req/s`, '']);
  for (const db of ['sqlite', 'postgres']) {
    for (const scenario of ['access', 'purchases', 'content']) {
      const result = get(server, db, scenario);
      if (!result) continue;
      const rps = num(get(result, 'rps'));
      const ratio = num(get(result, 'ratioToBaseline'));
      const verdict = scenario === 'access' ? `≥ ${accessTarget}× ${ratio >= accessTarget ? 'ok' : 'MISSED'}`
        : scenario === 'purchases' && db === 'sqlite' ? `≥ ${purchaseTarget}/s ${rps >= purchaseTarget ? 'ok' : 'MISSED'}` : '';
      rows.push([`server: ${db} ${scenario}`, `${rps.toFixed(0)} req/s = ${ratio.toFixed(2)}×, p50 ${num(get(result, 'p50Ms')).toFixed(1)} ms, p99 ${num(get(result, 'p99Ms')).toFixed(1)} ms`, verdict]);
    }
    const audit = get(server, db, 'ledgerAudit', 'problems');
    if (Array.isArray(audit)) rows.push([`server: ${db} ledger after purchases`, audit.length ? `${audit.length} problems` : 'balanced', audit.length ? 'MISSED' : 'ok']);
  }
}
const notifications = latest.notifications;
if (notifications) {
  const latency = (key: string) => num(get(notifications, 'latencyFromEmitMs', key));
  const p99Target = num(get(notifications, 'targets', 'p99Ms'));
  const memoryTarget = num(get(notifications, 'targets', 'bytesPerIdleSocket'));
  const perSocket = num(get(notifications, 'memoryPerIdleSocketBytes', 'rss'));
  const lost = num(get(notifications, 'lost'));
  const duplicates = num(get(notifications, 'duplicates'));
  rows.push([`notifications: ${num(get(notifications, 'sockets'))} sockets, delivery`, `p50 ${latency('p50').toFixed(2)} ms, p99 ${latency('p99').toFixed(2)} ms, max ${latency('max').toFixed(2)} ms`, `p99 ≤ ${p99Target} ms ${latency('p99') <= p99Target ? 'ok' : 'MISSED'}`]);
  rows.push(['notifications: lost / duplicated', `${lost} / ${duplicates}`, `0 ${lost === 0 && duplicates === 0 ? 'ok' : 'MISSED'}`]);
  rows.push(['notifications: memory per idle socket', `${kB(perSocket)} RSS`, `≤ ${kB(memoryTarget)} ${perSocket <= memoryTarget ? 'ok' : 'MISSED'}`]);
}
for (const [section, state] of Object.entries(status)) if (state !== 'ok') rows.push([`${section} benchmark`, state, state === 'missing' ? 'not run' : 'see its output']);

const cores = availableParallelism();
const header: Row = ['benchmark', 'result', 'target'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: Row) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(`\nSummary (${cores} cores, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.versions.node})`);
console.log(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}`);

writeFileSync(
  LATEST,
  JSON.stringify({ ...latest, machine: { cores, cpu: cpus()[0]?.model ?? null, memoryBytes: totalmem(), node: process.versions.node, platform: `${process.platform} ${process.arch}`, measuredAt: new Date().toISOString() }, benchRun: status }, null, 2),
);
if (Object.values(status).some((s) => s !== 'ok' && s !== 'missing')) process.exitCode = 1;
