/**
 * Server benchmark (issue 6 §3): the reference server on loopback, SQLite and PostgreSQL, against
 * a bare node:http server answering a precomputed JSON body of the access answer's size, measured
 * in the same run. The server runs in a child process; this process is the load generator.
 *
 *   npm run bench:server                  # BENCH_SECONDS=5 BENCH_CONNECTIONS=16 by default
 *   BENCH_ONLY=sqlite-purchases npm run bench:server   # only these <db>-<scenario>s (comma-separated), and the baseline
 */
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { signOffer } from '../server/domain/offers';
import { BenchChild } from './lib/child';
import { runLoad, type LoadRequest, type LoadResult } from './lib/load';
import { mergeLatest } from './lib/results';
import { BENCH_OFFER_SECRET } from './lib/constants';
import { printTable, round } from './lib/stats';

const SECONDS = Math.min(9, Math.max(1, Number(process.env.BENCH_SECONDS ?? 5)));
const WARMUP_MS = 1000;
const CONNECTIONS = Math.max(1, Number(process.env.BENCH_CONNECTIONS ?? 16));
const TARGETS = { accessRatio: 0.4, sqlitePurchasesPerSecond: 2000 };
const DEFAULT_PG = 'postgres://postgres@127.0.0.1:5432/test';
const ACCESS_PRODUCTS = Array.from({ length: 20 }, (_, i) => `bench-article-${String(i + 1).padStart(2, '0')}`);
const CONTENT_PRODUCT = 'article-42';
const runTag = Date.now().toString(36);
const SCENARIOS = ['access', 'purchases', 'content'] as const;
type Scenario = (typeof SCENARIOS)[number];
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((name) => name.trim())) : null;
const selected = (db: 'sqlite' | 'postgres', scenario: Scenario) => !only || only.has(`${db}-${scenario}`);

type Reader = { customerId: string; token: string };
type Measured = LoadResult & { serverCpu: number };

async function reachable(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

async function measure(child: BenchChild, url: string, request: (worker: number, seq: number) => LoadRequest): Promise<Measured> {
  let before: NodeJS.CpuUsage = { user: 0, system: 0 };
  let serverCpu = 0;
  let started = 0;
  const result = await runLoad({
    url, connections: CONNECTIONS, warmupMs: WARMUP_MS, durationMs: SECONDS * 1000, request,
    beforeMeasure: async () => {
      before = await child.call('cpu');
      started = performance.now();
    },
    afterMeasure: async () => {
      const after: NodeJS.CpuUsage = await child.call('cpu');
      serverCpu = ((after.user - before.user + after.system - before.system) / 1000 / (performance.now() - started)) * 100;
    },
  });
  if (result.errors) console.log(`  ! ${result.errors} unexpected answers, first: ${result.firstError}`);
  return { ...result, serverCpu };
}

const json = (token: string, body: unknown): Pick<LoadRequest, 'headers' | 'body'> => ({
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

const accessRequest = (readers: Reader[]) => (worker: number): LoadRequest => ({
  method: 'POST', path: '/v1/access', ...json(readers[worker % readers.length]!.token, { products: ACCESS_PRODUCTS }),
});

/** Each purchase buys a new product through a signed offer (price 1), so every one really charges. */
const purchaseRequest = (readers: Reader[]) => (worker: number, seq: number): LoadRequest => {
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  const offer = signOffer(BENCH_OFFER_SECRET, { product: `bench-${runTag}-${seq}`, title: 'Bench item', price: 1, currency: 'EUR', validity: 3600, expiresAt });
  return { method: 'POST', path: '/v1/purchases', ...json(readers[worker % readers.length]!.token, { offer, idempotencyKey: `bench_${runTag}_${seq}` }) };
};

const contentRequest = (readers: Reader[]) => (worker: number): LoadRequest => ({
  method: 'GET', path: `/v1/content/${CONTENT_PRODUCT}`, headers: { authorization: `Bearer ${readers[worker % readers.length]!.token}` },
});

async function startReference(db: 'sqlite' | 'postgres', databaseUrl?: string) {
  const child = new BenchChild(`server-${db}`);
  const { url } = await child.call<{ url: string }>('start', { db, ...(databaseUrl ? { databaseUrl } : {}) });
  // One reader per connection, each entitled to the 20 products and the content, with a wallet
  // large enough for every purchase the run can make.
  const readers = await child.call<Reader[]>('seedReaders', { count: CONNECTIONS, topUp: 100_000_000, entitle: [...ACCESS_PRODUCTS, CONTENT_PRODUCT] });
  return { child, url, readers };
}

async function scenarios(db: 'sqlite' | 'postgres', ref: { child: BenchChild; url: string; readers: Reader[] }) {
  const { child, url, readers } = ref;
  const result: { access?: Measured; purchases?: Measured; content?: Measured; audit?: { problems: string[]; purchases: number; transactions: number; entries: number } } = {};
  if (selected(db, 'access')) {
    console.log(`- ${db}: POST /v1/access (20 products)`);
    result.access = await measure(child, url, accessRequest(readers));
  }
  if (selected(db, 'purchases')) {
    console.log(`- ${db}: POST /v1/purchases (signed offers, unique idempotency keys)`);
    result.purchases = await measure(child, url, purchaseRequest(readers));
    const audit = await child.call<{ problems: string[]; purchases: number; transactions: number; entries: number }>('audit');
    console.log(`  ledger audit after ${audit.purchases} purchases (${audit.transactions} transactions, ${audit.entries} entries): ${JSON.stringify(audit.problems)}${audit.problems.length ? '  UNBALANCED' : '  balanced'}`);
    result.audit = audit;
  }
  if (selected(db, 'content')) {
    console.log(`- ${db}: GET /v1/content/${CONTENT_PRODUCT}`);
    result.content = await measure(child, url, contentRequest(readers));
  }
  return result;
}

console.log(`Server benchmark: ${cpus().length} cores, Node ${process.version}, ${CONNECTIONS} keep-alive connections, ${WARMUP_MS / 1000} s warm-up + ${SECONDS} s per scenario, loopback 127.0.0.1`);

const candidate = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : DEFAULT_PG;
const postgresSelected = SCENARIOS.some((scenario) => selected('postgres', scenario));
const pgProblem = postgresSelected ? await reachable(candidate) : null;
const notes: string[] = [];
if (pgProblem) notes.push(`PostgreSQL skipped: ${candidate.replace(/\/\/[^@]*@/, '//…@')} not reachable (${pgProblem})`);

const results: Record<string, any> = {};
let failed = false;
const sqlite = await startReference('sqlite');
let baseline: Measured & { bodyBytes: number };
try {
  // The baseline answers a body exactly as large as the reference server's access answer.
  const probe = await fetch(`${sqlite.url}/v1/access`, { method: 'POST', ...json(sqlite.readers[0]!.token, { products: ACCESS_PRODUCTS }) } as RequestInit);
  const accessBytes = Buffer.byteLength(await probe.text());
  if (probe.status !== 200) throw new Error(`access probe answered ${probe.status}`);
  const bare = new BenchChild('baseline');
  try {
    const { url, bodyBytes } = await bare.call<{ url: string; bodyBytes: number }>('baseline', { bodyBytes: accessBytes });
    console.log(`- baseline: bare node:http, precomputed ${bodyBytes}-byte JSON body (the access answer's size), same request as the access check`);
    baseline = { ...(await measure(bare, url, accessRequest(sqlite.readers))), bodyBytes };
  } finally {
    await bare.stop();
  }
  results.sqlite = await scenarios('sqlite', sqlite);
} finally {
  await sqlite.child.stop();
}
if (!postgresSelected) {
  results.postgres = { skipped: `BENCH_ONLY=${process.env.BENCH_ONLY}` };
} else if (!pgProblem) {
  const postgres = await startReference('postgres', candidate);
  try {
    results.postgres = await scenarios('postgres', postgres);
  } finally {
    await postgres.child.stop();
  }
} else {
  results.postgres = { skipped: notes[0] };
}

const ms = (v: number) => round(v, 2).toFixed(2);
/** Server CPU milliseconds per answered request: what the server itself spends, whatever the machine's load. */
const cpuPerRequest = (m: Measured) => (m.serverCpu / 100 / m.rps) * 1000;
const rows: Array<Array<string | number>> = [];
const row = (name: string, m: Measured, target: string) => {
  rows.push([name, Math.round(m.rps), ms(m.p50), ms(m.p99), round(m.rps / baseline.rps, 2).toFixed(2), m.errors, `${Math.round(m.serverCpu)}%`, cpuPerRequest(m).toFixed(3), `${Math.round(m.clientCpu)}%`, target]);
};
row('baseline node:http', baseline, '');
for (const db of ['sqlite', 'postgres'] as const) {
  const r = results[db];
  if (!r || r.skipped) continue;
  if (r.access) {
    const accessOk = r.access.rps / baseline.rps >= TARGETS.accessRatio;
    row(`${db} POST /v1/access`, r.access, `≥ ${TARGETS.accessRatio.toFixed(2)} of baseline: ${accessOk ? 'met' : 'MISSED'}`);
  }
  if (r.purchases) {
    const purchaseTarget = db === 'sqlite' ? `≥ ${TARGETS.sqlitePurchasesPerSecond}/s: ${r.purchases.rps >= TARGETS.sqlitePurchasesPerSecond ? 'met' : 'MISSED'}` : '';
    row(`${db} POST /v1/purchases`, r.purchases, `${purchaseTarget}${purchaseTarget ? '; ' : ''}ledger ${r.audit.problems.length ? 'UNBALANCED' : 'balanced'}`);
    if (r.audit.problems.length) failed = true;
  }
  if (r.content) row(`${db} GET /v1/content`, r.content, '');
  if (SCENARIOS.some((scenario) => r[scenario]?.errors)) failed = true;
}
console.log('');
printTable(['scenario', 'req/s', 'p50 ms', 'p99 ms', 'x baseline', 'errors', 'server CPU', 'CPU ms/req', 'client CPU', 'target'], rows);
for (const note of notes) console.log(`\nNote: ${note}`);
console.log('\nServer CPU is the server process (one event loop, so ~100% means it is saturated); client CPU is this load generator.');
console.log(`Load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores (above the core count, every rate here is the machine's, not the server's).`);

const pick = (m: Measured) => ({ rps: round(m.rps, 1), p50Ms: round(m.p50, 3), p99Ms: round(m.p99, 3), maxMs: round(m.max, 3), requests: m.requests, errors: m.errors, ratioToBaseline: round(m.rps / baseline.rps, 3), serverCpuPercent: round(m.serverCpu, 1), serverCpuMsPerRequest: round(cpuPerRequest(m), 4), clientCpuPercent: round(m.clientCpu, 1) });
const dbResult = (r: any) => (r.skipped ? r : { access: pick(r.access), purchases: pick(r.purchases), content: pick(r.content), ledgerAudit: { problems: r.audit.problems, purchases: r.audit.purchases, transactions: r.audit.transactions } });
// A partial run (BENCH_ONLY) is for comparing changes; latest.json keeps the last full run.
if (!only) mergeLatest('server', {
  measuredAt: new Date().toISOString(),
  cores: cpus().length,
  loadAverage: loadavg().map((l) => round(l, 2)),
  node: process.version,
  connections: CONNECTIONS,
  secondsPerScenario: SECONDS,
  targets: TARGETS,
  baseline: { ...pick(baseline), bodyBytes: baseline.bodyBytes },
  sqlite: dbResult(results.sqlite),
  postgres: dbResult(results.postgres),
});
if (failed) {
  console.error('\nErrors or an unbalanced ledger: see above.');
  process.exitCode = 1;
}
