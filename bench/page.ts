import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { CHROMIUM_ARGS, ROOT, startDemoServer } from '../test/e2e/demo-harness';

/**
 * Page benchmark (issue 6 §2). Headless Chromium loads a page with 200 `<paywall-button>` +
 * `<paywall-content>` pairs from the real server (real paywall.config.json, temporary SQLite), for a
 * signed-in reader entitled to story-001…story-100, and a baseline page with the same DOM rendered
 * by 200 plain lit elements from one fetch. Each page is loaded RUNS times (fresh browser context,
 * i.e. cold cache, every time; one unreported warm-up load each first), alternating kit and
 * baseline; medians are reported.
 *
 * Both HTML documents are answered by the browser itself (CDP Fetch, for the document URL only, so
 * no other request is intercepted): the kit page at `<server>/__bench/kit.html` (same origin as the
 * backend, like the demo), the baseline at `<static server>/__bench/baseline.html`. Everything else
 * goes over loopback HTTP: the kit from the real server's `/kit/`, the baseline's module and its
 * one JSON from a tiny node:http server.
 */

const RUNS = 9;
const STORIES = 200;
const ENTITLED = 100;
const PASSWORD = 'correct horse battery';
const TARGET_RATIO = 1.5;

const fixture = (name: string) => readFileSync(join(ROOT, 'bench/fixtures', name), 'utf8');
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const pad3 = (n: number) => String(n).padStart(3, '0');
const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot' }[c]};`);

// ---- the pages -------------------------------------------------------------------------------

interface Story {
  id: string;
  title: string;
  price: number;
  currency: string;
}
const catalog = JSON.parse(readFileSync(join(ROOT, 'paywall.config.json'), 'utf8')) as { catalog: { products: Story[] } };
const stories = catalog.catalog.products.filter((p) => /^story-\d{3}$/.test(p.id)).slice(0, STORIES);
if (stories.length !== STORIES) throw new Error(`paywall.config.json has ${stories.length} stories, the benchmark needs ${STORIES}`);

/** The markup an editor would write for each story (as demo/many.html writes it), with the element names of `prefix`. */
function pageHtml(template: string, prefix: 'paywall' | 'plain'): string {
  const items = stories.map(
    (s) =>
      `      <li class="box"><h2>${escapeHtml(s.title)}</h2><${prefix}-content product="${s.id}"><p slot="teaser">A very short story, one of two hundred on this page.</p>` +
      `<${prefix}-button slot="locked" product="${s.id}" price="${s.price}" currency="${s.currency}">Read<span class="visually-hidden"> ${escapeHtml(s.title)}</span></${prefix}-button></${prefix}-content></li>`,
  );
  return template.replace('/*STYLE*/', fixture('page.css')).replace('<!--STORIES-->', items.join('\n'));
}

// ---- setup: build, server, reader --------------------------------------------------------------

// Always from the current source: a dist/ left by an earlier build would measure another kit.
await build({ root: ROOT, configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
const baselineDir = join(ROOT, 'bench/results/page-baseline');
await build({
  root: ROOT,
  configFile: false,
  logLevel: 'warn',
  publicDir: false,
  build: {
    target: 'es2022',
    outDir: baselineDir,
    emptyOutDir: true,
    sourcemap: false,
    lib: { entry: join(ROOT, 'bench/fixtures/baseline.ts'), formats: ['es'], fileName: () => 'baseline.js' },
    rolldownOptions: { output: { minify: true } },
  },
});

const demo = await startDemoServer({ dataDirPrefix: 'paywall-bench-page-', billingRunner: false });
const backend = demo.server.url;

async function api<T>(method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(backend + path, {
    method,
    headers: { ...(body ? { 'Content-Type': 'application/json' } : {}), ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T;
}

const { token } = await api<{ token: string }>('POST', '/v1/accounts', { email: `bench-${randomUUID().slice(0, 8)}@example.com`, password: PASSWORD });
const entitled = stories.slice(0, ENTITLED);
const cost = entitled.reduce((sum, s) => sum + s.price, 0);
await api('POST', '/v1/top-ups', { amount: cost, currency: entitled[0]!.currency, card: { number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' }, idempotencyKey: `bench-top-up-${randomUUID()}` }, token, { Origin: backend });
for (const story of entitled) await api('POST', '/v1/purchases', { product: story.id, idempotencyKey: `bench-${story.id}-${randomUUID()}` }, token);

// The baseline's one fetch: the same answers the kit gets, precomputed from the real server.
const { access } = await api<{ access: Array<{ product: string; granted: boolean; expiresAt: string | null }> }>('POST', '/v1/access', { products: stories.map((s) => s.id) }, token);
const grantedIds = access.filter((a) => a.granted).map((a) => a.product);
if (grantedIds.length !== ENTITLED) throw new Error(`the reader is entitled to ${grantedIds.length} stories, expected ${ENTITLED}`);
const content: Record<string, string> = {};
for (const id of grantedIds) content[id] = await api<string>('GET', `/v1/content/${id}`, undefined, token);
const baselineData = JSON.stringify({ access, content });

const statics = new Map<string, { type: string; body: string | Buffer }>([
  ['/baseline.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(join(baselineDir, 'baseline.js')) }],
  ['/data.json', { type: 'application/json', body: baselineData }],
]);
const staticServer: Server = createServer((req, res) => {
  const file = statics.get(new URL(req.url ?? '/', 'http://x').pathname);
  if (!file) return void res.writeHead(404).end();
  res.writeHead(200, { 'Content-Type': file.type, 'Content-Length': Buffer.byteLength(file.body), 'Cache-Control': 'no-cache' }).end(file.body);
});
await new Promise<void>((resolve) => staticServer.listen(0, '127.0.0.1', resolve));
const staticUrl = `http://127.0.0.1:${(staticServer.address() as AddressInfo).port}`;

const pages = {
  kit: { url: `${backend}/__bench/kit.html`, html: pageHtml(fixture('kit.html'), 'paywall'), backendOrigin: backend },
  baseline: { url: `${staticUrl}/__bench/baseline.html`, html: pageHtml(fixture('baseline.html'), 'plain'), backendOrigin: staticUrl },
} as const;
type Kind = keyof typeof pages;

// ---- one page load -----------------------------------------------------------------------------

interface Load {
  timeToReveal: number;
  scriptMs: number;
  layoutMs: number;
  taskMs: number;
  cls: number;
  shifts: number;
  requests: Record<string, number>;
  /** Products whose paid fragment reached the page: in access answers, or by content requests. */
  contentProducts: string[];
  /** Of those, the ones an access answer brought along. */
  fragmentsInAccessAnswers: number;
  maxContentInFlight: number;
  webSockets: number;
  errors: string[];
  shiftSources: string[];
  /** Milliseconds from navigation start (resource timing). */
  phases: Record<string, number>;
}

interface BenchWindow {
  __bench: { cls: number; shifts: number; unlocked: number; revealedAt: number | null; shiftSources: string[] };
}

/** Registered before any page script: the session, the layout-shift observer and the reveal clock. */
function initScript({ sessionKey, token, origin, expected }: { sessionKey: string; token: string; origin: string; expected: number }) {
  if (token && location.origin === origin) localStorage.setItem(sessionKey, token);
  const bench = ((window as unknown as BenchWindow).__bench = { cls: 0, shifts: 0, unlocked: 0, revealedAt: null as number | null, shiftSources: [] as string[] });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as Array<PerformanceEntry & { value: number; hadRecentInput: boolean; sources?: Array<{ node: Node | null }> }>) {
      if (entry.hadRecentInput) continue;
      bench.cls += entry.value;
      bench.shifts++;
      // (No named helper functions in here: tsx would wrap them in a __name() the page does not have.)
      const sources = (entry.sources ?? []).map((source) => {
        const el = source.node instanceof Element ? source.node : (source.node?.parentElement ?? null);
        const owner = el?.closest('[product]');
        return el ? `${el.localName}${el.className ? '.' + el.className : ''}${owner ? ` in ${owner.localName}[product=${owner.getAttribute('product')}]` : ''}` : '?';
      });
      bench.shiftSources.push(`${Math.round(entry.startTime)} ms, ${entry.value.toFixed(4)}: ${sources.join(', ') || 'no source'}`);
    }
  }).observe({ type: 'layout-shift', buffered: true });
  const seen = new Set<Element>();
  new MutationObserver((records) => {
    const now = performance.now();
    for (const record of records) {
      const el = record.target as Element;
      if (!el.localName.endsWith('-content') || el.getAttribute('state') !== 'unlocked' || seen.has(el)) continue;
      seen.add(el);
      bench.unlocked = seen.size;
      if (seen.size === expected && bench.revealedAt === null) bench.revealedAt = now;
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['state'] });
}

async function load(browser: Browser, kind: Kind): Promise<Load> {
  const target = pages[kind];
  const context: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    await context.addInitScript(initScript, { sessionKey: `paywall-kit:session:${backend}`, token, origin: backend, expected: ENTITLED });
    const page: Page = await context.newPage();
    const requests: Record<string, number> = {};
    const contentProducts: string[] = [];
    let fragmentsInAccessAnswers = 0;
    const answers: Array<Promise<void>> = [];
    let inFlight = 0;
    let maxContentInFlight = 0;
    let webSockets = 0;
    const errors: string[] = [];
    // GET /v1/content/<product> for one product, POST /v1/content { products } for several at once.
    const isContent = (url: URL) => url.pathname === '/v1/content' || url.pathname.startsWith('/v1/content/');
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.origin !== target.backendOrigin || url.pathname.startsWith('/__bench/')) return;
      const key = url.pathname.startsWith('/kit/') ? `${request.method()} /kit/* (the kit's files)` : url.pathname.startsWith('/v1/content/') ? 'GET /v1/content/:product' : `${request.method()} ${url.pathname}`;
      requests[key] = (requests[key] ?? 0) + 1;
      if (isContent(url)) {
        if (url.pathname === '/v1/content') contentProducts.push(...((request.postDataJSON() as { products: string[] }).products));
        else contentProducts.push(decodeURIComponent(url.pathname.slice('/v1/content/'.length)));
        maxContentInFlight = Math.max(maxContentInFlight, ++inFlight);
      }
    });
    const done = (request: { url(): string }) => {
      if (isContent(new URL(request.url()))) inFlight--;
    };
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (url.origin !== target.backendOrigin || url.pathname !== '/v1/access') return;
      answers.push(response.json().then((body: { content?: Array<{ product: string }> }) => {
        const brought = (body.content ?? []).map((f) => f.product);
        fragmentsInAccessAnswers += brought.length;
        contentProducts.push(...brought);
      }, () => undefined));
    });
    page.on('requestfinished', done);
    page.on('requestfailed', done);
    page.on('websocket', () => void webSockets++);
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });

    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    // Only the document is answered here; every other request goes to the network untouched.
    await cdp.send('Fetch.enable', { patterns: [{ urlPattern: target.url, requestStage: 'Response' }] });
    cdp.on('Fetch.requestPaused', (event) => {
      void cdp.send('Fetch.fulfillRequest', {
        requestId: event.requestId,
        responseCode: 200,
        responseHeaders: [{ name: 'Content-Type', value: 'text/html; charset=utf-8' }],
        body: Buffer.from(target.html).toString('base64'),
      });
    });

    await page.goto(target.url, { waitUntil: 'commit' });
    await page.waitForFunction(() => (window as unknown as BenchWindow).__bench.revealedAt !== null, undefined, { timeout: 30_000, polling: 50 }).catch(async (error: Error) => {
      const unlocked = await page.evaluate(() => (window as unknown as BenchWindow).__bench.unlocked).catch(() => -1);
      throw new Error(`${kind}: only ${unlocked} of ${ENTITLED} contents unlocked (${error.message}); page errors: ${errors.join(' | ') || 'none'}`);
    });
    const { metrics } = await cdp.send('Performance.getMetrics');
    const metric = (name: string) => (metrics.find((m) => m.name === name)?.value ?? 0) * 1000;
    // Let late requests, sockets and layout shifts arrive before counting them.
    await page.waitForTimeout(500);
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await Promise.all(answers);
    const bench = await page.evaluate(() => (window as unknown as BenchWindow).__bench);
    const phases = await page.evaluate(() => {
      const entries = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map((e) => ({ path: new URL(e.name).pathname, start: e.startTime, end: e.responseEnd }));
      const script = entries.find((e) => /\/(kit\/paywall-kit|baseline)\.js$/.test(e.path));
      const data = entries.find((e) => /^\/(v1\/access|data\.json)$/.test(e.path));
      const content = entries.filter((e) => e.path === '/v1/content' || e.path.startsWith('/v1/content/'));
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      return {
        domContentLoaded: Math.round(nav?.domContentLoadedEventEnd ?? NaN),
        scriptLoaded: Math.round(script?.end ?? NaN),
        dataRequestStart: Math.round(data?.start ?? NaN),
        dataResponseEnd: Math.round(data?.end ?? NaN),
        firstContentStart: Math.round(content.length ? Math.min(...content.map((e) => e.start)) : NaN),
        lastContentEnd: Math.round(content.length ? Math.max(...content.map((e) => e.end)) : NaN),
      };
    });
    return {
      timeToReveal: bench.revealedAt!,
      scriptMs: metric('ScriptDuration'),
      layoutMs: metric('LayoutDuration'),
      taskMs: metric('TaskDuration'),
      cls: bench.cls,
      shifts: bench.shifts,
      requests,
      contentProducts,
      fragmentsInAccessAnswers,
      maxContentInFlight,
      webSockets,
      errors,
      shiftSources: bench.shiftSources,
      phases,
    };
  } finally {
    await context.close();
  }
}

// ---- the runs ----------------------------------------------------------------------------------

// A document answered through CDP has no IP address, so Chromium's Local Network Access checks treat
// it as public and block its WebSocket to loopback (ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS);
// the demo pages served by the server itself are not affected. The check is off for this benchmark.
const browser = await chromium.launch({ executablePath: '/usr/lib/chromium/chromium', args: [...CHROMIUM_ARGS, '--disable-features=LocalNetworkAccessChecks'] });
const loads: Record<Kind, Load[]> = { kit: [], baseline: [] };
try {
  await load(browser, 'kit');
  await load(browser, 'baseline');
  for (let i = 0; i < RUNS; i++) for (const kind of ['kit', 'baseline'] as const) loads[kind].push(await load(browser, kind));
} finally {
  await browser.close();
  await new Promise((resolve) => staticServer.close(resolve));
  await demo.close();
}

function summarize(kind: Kind) {
  const runs = loads[kind];
  const m = (pick: (l: Load) => number) => median(runs.map(pick));
  return {
    timeToRevealMs: m((l) => l.timeToReveal),
    scriptMs: m((l) => l.scriptMs),
    layoutMs: m((l) => l.layoutMs),
    taskMs: m((l) => l.taskMs),
    cls: Math.max(...runs.map((l) => l.cls)),
    layoutShifts: Math.max(...runs.map((l) => l.shifts)),
    requests: runs[0]!.requests,
    requestsStableAcrossRuns: runs.every((l) => JSON.stringify(Object.entries(l.requests).sort()) === JSON.stringify(Object.entries(runs[0]!.requests).sort())),
    maxContentInFlight: Math.max(...runs.map((l) => l.maxContentInFlight)),
    webSockets: Math.max(...runs.map((l) => l.webSockets)),
    errors: [...new Set(runs.flatMap((l) => l.errors))],
    phasesMs: Object.fromEntries(Object.keys(runs[0]!.phases).map((k) => [k, median(runs.map((l) => l.phases[k]!))])),
    shiftSourcesOfLastRun: runs.at(-1)!.shiftSources,
    runs: runs.map(({ timeToReveal, scriptMs, cls }) => ({ timeToRevealMs: timeToReveal, scriptMs, cls })),
  };
}
const kit = summarize('kit');
const baseline = summarize('baseline');
const ratios = { timeToReveal: kit.timeToRevealMs / baseline.timeToRevealMs, scriptTime: kit.scriptMs / baseline.scriptMs };

const granted = new Set(grantedIds);
const contentRequests = (l: Load) => (l.requests['POST /v1/content'] ?? 0) + (l.requests['GET /v1/content/:product'] ?? 0);
const kitLoads = loads.kit;
const checks = {
  oneAccessRequest: kitLoads.every((l) => l.requests['POST /v1/access'] === 1),
  contentOnlyForEntitled: kitLoads.every((l) => l.contentProducts.length === ENTITLED && new Set(l.contentProducts).size === ENTITLED && l.contentProducts.every((p) => granted.has(p))),
  oneWebSocket: kitLoads.every((l) => l.webSockets === 1),
  /**
   * The access answer brings the granted parts' fragments along; what it does not bring (a grant
   * from elsewhere) is loaded in batches: the loads of one task go in one POST /v1/content, and loads
   * that come while it is on its way wait for it, so there is never more than one in flight.
   */
  contentBatched: kitLoads.every((l) => l.maxContentInFlight <= 1 && contentRequests(l) <= ENTITLED / 10),
  noOtherBackendRequests: kitLoads.every((l) => Object.keys(l.requests).every((k) => k === 'POST /v1/access' || k === 'POST /v1/content' || k === 'GET /v1/content/:product' || k.includes('/kit/*'))),
  clsZero: kit.cls === 0,
  timeToRevealRatio: ratios.timeToReveal <= TARGET_RATIO,
  scriptTimeRatio: ratios.scriptTime <= TARGET_RATIO,
  noPageErrors: kit.errors.length === 0,
};

// ---- report ------------------------------------------------------------------------------------

const ms = (n: number) => `${n.toFixed(1)} ms`;
const ok = (pass: boolean) => (pass ? 'ok' : 'MISSED');
const rows: Array<[string, string, string, string]> = [
  ['time to all 100 revealed (median)', ms(kit.timeToRevealMs), ms(baseline.timeToRevealMs), `${ratios.timeToReveal.toFixed(2)}× (≤ ${TARGET_RATIO}) ${ok(checks.timeToRevealRatio)}`],
  ['main-thread script time (median)', ms(kit.scriptMs), ms(baseline.scriptMs), `${ratios.scriptTime.toFixed(2)}× (≤ ${TARGET_RATIO}) ${ok(checks.scriptTimeRatio)}`],
  ['layout time (median)', ms(kit.layoutMs), ms(baseline.layoutMs), `${(kit.layoutMs / baseline.layoutMs).toFixed(2)}×`],
  ['CLS (worst run)', kit.cls.toFixed(4), baseline.cls.toFixed(4), `target 0 ${ok(checks.clsZero)}`],
  ['layout shift entries (worst run)', String(kit.layoutShifts), String(baseline.layoutShifts), ''],
  ['WebSockets', String(kit.webSockets), String(baseline.webSockets), `must be 1 ${ok(checks.oneWebSocket)}`],
  ['max parallel content requests', String(kit.maxContentInFlight), '-', ''],
  ['fragments in the access answer (all runs)', kitLoads.map((l) => l.fragmentsInAccessAnswers).join(', '), '-', `only the ${ENTITLED} entitled reach the page: ${ok(checks.contentOnlyForEntitled)}`],
  ['content requests per load (all runs)', kitLoads.map(contentRequests).join(', '), '-', `batched, ≤ ${ENTITLED / 10}: ${ok(checks.contentBatched)}`],
];
const kinds = [...new Set([...Object.keys(kit.requests), ...Object.keys(baseline.requests)])].sort();
for (const k of kinds) {
  const note = k === 'POST /v1/access' ? `must be 1 ${ok(checks.oneAccessRequest)}` : k === 'POST /v1/content' || k === 'GET /v1/content/:product' ? `only the ${ENTITLED} entitled ${ok(checks.contentOnlyForEntitled)}` : '';
  rows.push([`requests: ${k}`, String(kit.requests[k] ?? 0), String(baseline.requests[k] ?? 0), note]);
}
const header: [string, string, string, string] = ['page benchmark (200 pairs, 100 entitled)', 'kit', 'baseline', 'kit / baseline, target'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => r.map((c, i) => (i === 0 || i === 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}`);
const phaseNames = Object.keys(kit.phasesMs);
console.log(`\nwhere the time goes (median ms from navigation start; "data" is POST /v1/access for the kit, /data.json for the baseline):`);
for (const name of phaseNames) console.log(`  ${name.padEnd(18)} kit ${String(kit.phasesMs[name]).padStart(6)}   baseline ${String(baseline.phasesMs[name]).padStart(6)}`);
console.log('layout shifts of the last kit load (time, value: moved nodes):');
for (const s of kit.shiftSourcesOfLastRun) console.log(`  ${s}`);
console.log('layout shifts of the last baseline load:');
for (const s of baseline.shiftSourcesOfLastRun) console.log(`  ${s}`);
console.log(`\n${RUNS} loads each (after one warm-up each), fresh browser context per load; medians, CLS and counts the worst run.`);
if (!kit.requestsStableAcrossRuns) console.log('note: the kit did not send the same requests on every load:', kitLoads.map((l) => l.requests));
if (kit.errors.length) console.log('kit page errors:', kit.errors);
if (baseline.errors.length) console.log('baseline page errors:', baseline.errors);
const missed = Object.entries(checks).filter(([, pass]) => !pass).map(([name]) => name);
console.log(missed.length ? `missed: ${missed.join(', ')}` : 'all page targets met');

mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
const latestPath = join(ROOT, 'bench/results/latest.json');
let latest: Record<string, unknown> = {};
try {
  latest = JSON.parse(readFileSync(latestPath, 'utf8'));
} catch {
  // First run.
}
const page = {
  measuredAt: new Date().toISOString(),
  runs: RUNS,
  stories: STORIES,
  entitled: ENTITLED,
  kit,
  baseline,
  ratios,
  targets: { ratio: TARGET_RATIO, cls: 0, accessRequests: 1, webSockets: 1 },
  checks,
};
writeFileSync(latestPath, JSON.stringify({ ...latest, page }, null, 2));
