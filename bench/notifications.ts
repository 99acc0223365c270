/**
 * Notification benchmark (issue 6 §4): one server instance (child process, SQLite temp file),
 * N authenticated WebSockets from this process, one `payment.card.requires.action` per customer
 * written and published through NotificationStore.append + publish (the card flow's path).
 * Reports delivery latency, server memory per idle socket and lost messages.
 *
 *   npm run bench:notifications           # BENCH_SOCKETS=5000 by default
 */
import { execSync } from 'node:child_process';
import { cpus } from 'node:os';
import WebSocket from 'ws';
import { BenchChild } from './lib/child';
import { mergeLatest } from './lib/results';
import { printTable, round, summarize, wallMs } from './lib/stats';

const WANTED = Math.max(1, Number(process.env.BENCH_SOCKETS ?? 5000));
const TARGETS = { p99Ms: 50, bytesPerIdleSocket: 20 * 1024, lost: 0 };
const OPEN_PARALLEL = 200;
const OPEN_TIMEOUT_MS = 30_000;
const DELIVERY_TIMEOUT_MS = 10_000;
const notes: string[] = [];

// Each side (this process: clients; the server process: accepted sockets) needs one descriptor per
// socket plus some for the database, stdio and Node itself. Both inherit this shell's limit.
function fileLimit(): number {
  try {
    const out = execSync('ulimit -n', { shell: '/bin/sh', encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Infinity : Number(out);
  } catch {
    return Infinity;
  }
}
const limit = fileLimit();
const SOCKETS = Math.min(WANTED, Number.isFinite(limit) ? limit - 256 : WANTED);
if (SOCKETS < WANTED) {
  notes.push(`ulimit -n is ${limit}: scaled down from ${WANTED} to ${SOCKETS} sockets. Raise it (ulimit -n ${WANTED + 1024}) in the shell that runs the benchmark for the full run.`);
  console.log(`NOTE: ${notes.at(-1)}`);
}
if (SOCKETS < 1) throw new Error(`ulimit -n is ${limit}: too low to open any socket`);

console.log(`Notification benchmark: ${cpus().length} cores, Node ${process.version}, ${SOCKETS} WebSockets on 127.0.0.1, file limit ${limit}`);

type Memory = NodeJS.MemoryUsage & { gc: boolean };
const child = new BenchChild('notifications-server');
const clients: WebSocket[] = [];
let failed = false;
try {
  const { url } = await child.call<{ url: string }>('start', { db: 'sqlite' });
  const readers = await child.call<Array<{ customerId: string; token: string }>>('seedReaders', { count: SOCKETS }, 120_000);
  // The two processes' clocks (performance.timeOrigin + now()) may differ by a fraction of a
  // millisecond: estimate the server's offset from the IPC round trip with the smallest delay.
  let offset = 0;
  let bestRtt = Infinity;
  for (let i = 0; i < 50; i++) {
    const t0 = wallMs();
    const server = await child.call<number>('now');
    const t1 = wallMs();
    if (t1 - t0 < bestRtt) [bestRtt, offset] = [t1 - t0, server - (t0 + t1) / 2];
  }
  console.log(`- server clock offset ${offset.toFixed(3)} ms (±${(bestRtt / 2).toFixed(3)} ms, corrected)`);
  const before = await child.call<Memory>('memory');
  if (!before.gc) notes.push('global.gc is not exposed in the server process: memory numbers include garbage');

  // customerId → [notification id, received at]
  const received = new Map<string, Array<{ id: number; at: number }>>();
  let unexpectedCloses = 0;
  const wsUrl = url.replace(/^http/, 'ws');
  const openedAt = performance.now();
  const open = (reader: { customerId: string; token: string }) =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`${wsUrl}/v1/notifications?token=${encodeURIComponent(reader.token)}`, { perMessageDeflate: false });
      clients.push(ws);
      ws.on('message', (data) => {
        const at = wallMs();
        const { id } = JSON.parse(String(data)) as { id: number };
        let list = received.get(reader.customerId);
        if (!list) received.set(reader.customerId, (list = []));
        list.push({ id, at });
      });
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.on('close', (code) => {
        if (code !== 1005 && code !== 1000 && code !== 1006) unexpectedCloses++;
      });
    });
  for (let i = 0; i < readers.length; i += OPEN_PARALLEL) {
    await Promise.all(readers.slice(i, i + OPEN_PARALLEL).map(open));
  }
  // A socket counts once the server has authenticated it and subscribed it to the bus.
  const deadline = performance.now() + OPEN_TIMEOUT_MS;
  let subscribed = 0;
  while ((subscribed = await child.call<number>('subscriptions')) < SOCKETS && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const openSeconds = (performance.now() - openedAt) / 1000;
  console.log(`- ${SOCKETS} sockets open and subscribed in ${openSeconds.toFixed(1)} s (${subscribed} subscribed)`);
  if (subscribed < SOCKETS) notes.push(`only ${subscribed} of ${SOCKETS} sockets were subscribed after ${OPEN_TIMEOUT_MS / 1000} s`);

  // Idle for a moment (handshake buffers released), then measure after GC.
  await new Promise((r) => setTimeout(r, 1000));
  const after = await child.call<Memory>('memory');
  const heapPerSocket = (after.heapUsed - before.heapUsed) / SOCKETS;
  const rssPerSocket = (after.rss - before.rss) / SOCKETS;
  const externalPerSocket = (after.external - before.external) / SOCKETS;
  console.log(`- server memory per idle socket: heap ${(heapPerSocket / 1024).toFixed(1)} kB, external ${(externalPerSocket / 1024).toFixed(1)} kB, RSS ${(rssPerSocket / 1024).toFixed(1)} kB`);

  console.log(`- emitting one payment.card.requires.action per customer (${SOCKETS} transactions, append + publish)`);
  const emitStarted = performance.now();
  const sent = await child.call<Array<[string, number, number, number]>>('emit', {}, 120_000);
  const emitSeconds = (performance.now() - emitStarted) / 1000;
  const byCustomer = new Map(sent.map(([customerId, id, emitAt, publishedAt]) => [customerId, { id, emitAt, publishedAt }]));
  const done = () => [...byCustomer].every(([customerId, { id }]) => received.get(customerId)?.some((m) => m.id === id));
  const waitUntil = performance.now() + DELIVERY_TIMEOUT_MS;
  while (!done() && performance.now() < waitUntil) await new Promise((r) => setTimeout(r, 20));

  const fromEmit: number[] = [];
  const fromPublish: number[] = [];
  let lost = 0;
  let duplicates = 0;
  for (const [customerId, { id, emitAt, publishedAt }] of byCustomer) {
    const got = (received.get(customerId) ?? []).filter((m) => m.id === id);
    if (!got.length) lost++;
    else {
      fromEmit.push(got[0]!.at - (emitAt - offset));
      fromPublish.push(got[0]!.at - (publishedAt - offset));
    }
    if (got.length > 1) duplicates += got.length - 1;
  }
  const foreign = [...received.values()].flat().length - (sent.length - lost) - duplicates;
  const e = summarize(fromEmit);
  const p = summarize(fromPublish);
  console.log(`- ${sent.length} emitted in ${emitSeconds.toFixed(2)} s (${Math.round(sent.length / emitSeconds)}/s); delivered ${fromEmit.length}, lost ${lost}, duplicates ${duplicates}, other messages ${foreign}, unexpected closes ${unexpectedCloses}`);

  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const ms = (v: number) => round(v, 2).toFixed(2);
  console.log('');
  printTable(['measure', 'value', 'target'], [
    ['sockets', SOCKETS, WANTED === 5000 && SOCKETS === 5000 ? '5000' : `5000 (scaled: ${SOCKETS})`],
    ['latency p50, emit → client (ms)', ms(e.p50), ''],
    ['latency p99, emit → client (ms)', ms(e.p99), `≤ ${TARGETS.p99Ms}: ${verdict(e.p99 <= TARGETS.p99Ms)}`],
    ['latency max, emit → client (ms)', ms(e.max), ''],
    ['latency p50, publish → client (ms)', ms(p.p50), ''],
    ['latency p99, publish → client (ms)', ms(p.p99), ''],
    ['latency max, publish → client (ms)', ms(p.max), ''],
    ['emit rate (notifications/s)', Math.round(sent.length / emitSeconds), ''],
    ['heap per idle socket (kB)', (heapPerSocket / 1024).toFixed(1), ''],
    ['external per idle socket (kB)', (externalPerSocket / 1024).toFixed(1), ''],
    ['RSS per idle socket (kB)', (rssPerSocket / 1024).toFixed(1), `≤ ${TARGETS.bytesPerIdleSocket / 1024}: ${verdict(rssPerSocket <= TARGETS.bytesPerIdleSocket)}`],
    ['lost messages', lost, `${TARGETS.lost}: ${verdict(lost === 0)}`],
    ['duplicate messages', duplicates, '0'],
  ]);
  console.log('\n"emit" starts before the notification\'s transaction (append), "publish" is after commit and bus.publish;');
  console.log('all notifications are emitted back to back (a burst), so later ones queue behind earlier ones.');
  console.log(`Latencies compare performance.timeOrigin + now() across the two processes, corrected by the measured offset (±${(bestRtt / 2).toFixed(2)} ms).`);
  for (const note of notes) console.log(`Note: ${note}`);
  if (lost || duplicates || subscribed < SOCKETS) failed = true;

  mergeLatest('notifications', {
    measuredAt: new Date().toISOString(),
    cores: cpus().length,
    node: process.version,
    fileLimit: Number.isFinite(limit) ? limit : 'unlimited',
    sockets: SOCKETS,
    requestedSockets: WANTED,
    openSeconds: round(openSeconds, 2),
    targets: TARGETS,
    latencyFromEmitMs: { p50: round(e.p50, 3), p99: round(e.p99, 3), max: round(e.max, 3), mean: round(e.mean, 3) },
    latencyFromPublishMs: { p50: round(p.p50, 3), p99: round(p.p99, 3), max: round(p.max, 3), mean: round(p.mean, 3) },
    emitPerSecond: round(sent.length / emitSeconds, 1),
    memoryPerIdleSocketBytes: { heap: Math.round(heapPerSocket), external: Math.round(externalPerSocket), rss: Math.round(rssPerSocket) },
    serverMemoryBytes: { before: { heapUsed: before.heapUsed, rss: before.rss }, after: { heapUsed: after.heapUsed, rss: after.rss } },
    clockOffsetMs: { offset: round(offset, 3), uncertainty: round(bestRtt / 2, 3) },
    delivered: fromEmit.length,
    lost,
    duplicates,
    notes,
  });
} finally {
  for (const ws of clients) ws.terminate();
  await child.stop();
}
if (failed) {
  console.error('\nLost or duplicated messages, or sockets that never subscribed: see above.');
  process.exitCode = 1;
}
