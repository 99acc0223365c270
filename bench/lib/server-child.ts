/**
 * Child process of the benchmarks: runs one reference server (or the bare node:http baseline)
 * and answers commands from the parent over IPC. Started by {@link BenchChild} with --expose-gc.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pino from 'pino';
import { resolveConfig, type ServerConfig } from '../../server/config';
import { createLogger, startServer, type RunningServer } from '../../server/server';
import { connectDatabase, type DatabaseHandle } from '../../server/store/connect';
import { InProcessNotificationBus, type NotificationBus, type NotificationListener, type PublishedNotification } from '../../server/notifications/notification-bus';
import { writeTransaction } from '../../server/domain/write-transaction';
import { newId, newSessionToken, sha256 } from '../../server/domain/tokens';
import { wallMs } from './stats';

import { BENCH_OFFER_SECRET } from './constants';

/** Counts live subscriptions, so the parent knows when every socket has been authenticated. */
class CountingBus implements NotificationBus {
  readonly inner = new InProcessNotificationBus();
  subscribed = 0;
  publish(customerId: string, published: PublishedNotification): void {
    this.inner.publish(customerId, published);
  }
  subscribe(customerId: string, listener: NotificationListener): () => void {
    this.subscribed++;
    const off = this.inner.subscribe(customerId, listener);
    return () => {
      this.subscribed--;
      off();
    };
  }
}

function benchConfig(dataDir: string): ServerConfig {
  return resolveConfig(
    {
      merchantOrigins: ['http://merchant.test'],
      startCredit: { amount: 0, currency: 'EUR' },
      billing: { tickSeconds: 0 },
      catalog: {
        products: [
          { id: 'article-42', title: 'Night trains', price: 49, currency: 'EUR', validity: 3600, content: 'content/article-42.html' },
          { id: 'article-43', title: 'The bakery', price: 99, currency: 'EUR', validity: 3600, content: 'content/article-43.html' },
        ],
      },
    },
    { baseDir: resolve(import.meta.dirname, '../..'), env: { PAYWALL_OFFER_SECRET: BENCH_OFFER_SECRET }, dataDir, listenUrl: 'http://127.0.0.1:0' },
  );
}

let running: RunningServer | null = null;
let database: DatabaseHandle | null = null;
let dropDatabase: (() => Promise<void>) | null = null;
let baseline: Server | null = null;
const bus = new CountingBus();
const tempDir = mkdtempSync(join(tmpdir(), 'paywall-bench-'));
let seeded: string[] = [];

const commands: Record<string, (args: any) => Promise<unknown> | unknown> = {
  async start({ db, databaseUrl, logLevel = 'info' }: { db: 'sqlite' | 'postgres'; databaseUrl?: string; logLevel?: string }) {
    if (db === 'postgres') {
      const schema = `bench_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
      const handle = await connectDatabase({ databaseUrl, pgSchema: schema });
      database = handle;
      dropDatabase = async () => {
        await sql.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).execute(handle.db);
        await handle.close();
      };
    } else {
      const handle = await connectDatabase({ sqlitePath: join(tempDir, 'bench.sqlite') });
      database = handle;
      dropDatabase = () => handle.close();
    }
    // Request logs are written as `npm start` writes them (info level), to /dev/null.
    const logger = createLogger(logLevel, pino.destination({ dest: '/dev/null', sync: false }));
    running = await startServer({ config: benchConfig(join(tempDir, 'data')), port: 0, host: '127.0.0.1', database, logger, bus, billingRunner: false });
    return { url: running.url, dialect: database.dialect };
  },

  /**
   * Customers and sessions written directly (password sign-up is scrypt, slow by design), with
   * the token hashing of server/domain/tokens.ts. With `topUp`, each gets a wallet credited through
   * the ledger (card_clearing → wallet), so the books stay balanced.
   */
  async seedReaders({ count, topUp = 0, entitle = [] }: { count: number; topUp?: number; entitle?: string[] }) {
    const { services } = running!;
    const now = Date.now();
    const readers: Array<{ customerId: string; token: string }> = [];
    for (let start = 0; start < count; start += 500) {
      const batch = Array.from({ length: Math.min(500, count - start) }, () => ({ customerId: newId('cus'), token: newSessionToken() }));
      await writeTransaction(database!, async (trx) => {
        await trx.insertInto('customers').values(batch.map((r) => ({ id: r.customerId, email: `${r.customerId}@bench.invalid`, password_hash: 'bench:no-password', created_at: now }))).execute();
        await trx.insertInto('sessions').values(batch.map((r) => ({ token_hash: sha256(r.token), customer_id: r.customerId, created_at: now, expires_at: now + 86_400_000 }))).execute();
        for (const r of batch) {
          if (topUp > 0) {
            await services.ledger.openWallet(trx, r.customerId, 'EUR');
            await services.ledger.post(trx, { kind: 'top_up', customerId: r.customerId, currency: 'EUR', amount: topUp, from: 'card_clearing', to: 'wallet', reference: 'bench', at: new Date(now) });
          }
          for (const product of entitle) await services.entitlements.grant(trx, r.customerId, product, now, now + 86_400_000);
        }
      });
      readers.push(...batch);
    }
    seeded.push(...readers.map((r) => r.customerId));
    return readers;
  },

  baseline({ bodyBytes }: { bodyBytes: number }) {
    // A JSON body of exactly `bodyBytes` bytes, computed once.
    const shell = JSON.stringify({ access: [], pad: '' });
    const body = Buffer.from(JSON.stringify({ access: [], pad: 'x'.repeat(Math.max(0, bodyBytes - shell.length)) }));
    baseline = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
      });
    });
    return new Promise((resolveUrl) => baseline!.listen(0, '127.0.0.1', () => resolveUrl({ url: `http://127.0.0.1:${(baseline!.address() as { port: number }).port}`, bodyBytes: body.length })));
  },

  cpu: () => process.cpuUsage(),

  now: () => wallMs(),

  async audit() {
    const { services } = running!;
    const problems = await services.ledger.audit(database!.db);
    const count = async (table: 'purchases' | 'ledger_transactions' | 'ledger_entries') =>
      Number((await database!.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    return { problems, purchases: await count('purchases'), transactions: await count('ledger_transactions'), entries: await count('ledger_entries') };
  },

  async memory() {
    for (let i = 0; i < 3; i++) {
      globalThis.gc?.();
      await new Promise((r) => setTimeout(r, 50));
    }
    return { ...process.memoryUsage(), gc: typeof globalThis.gc === 'function' };
  },

  subscriptions: () => bus.subscribed,

  /**
   * One `payment.card.requires.action` per seeded customer, each written in its own transaction
   * through NotificationStore.append and published after commit, as the card flow does.
   */
  async emit() {
    const { services } = running!;
    const sent: Array<[customerId: string, id: number, emitAt: number, publishedAt: number]> = [];
    for (const customerId of seeded) {
      const emitAt = wallMs();
      const paymentIntent = newId('pi');
      const written = await writeTransaction(database!, (trx) =>
        services.notifications.append(trx, [{
          customerId,
          type: 'payment.card.requires.action',
          resource: { redirect_to_url: `${running!.url}/hosted/3ds/${paymentIntent}`, payment_intent: paymentIntent, product: 'article-42', amount: 49, currency: 'EUR' },
        }], new Date()),
      );
      services.notifications.publish(written);
      sent.push([customerId, written[0]!.notification.id, emitAt, wallMs()]);
    }
    return sent;
  },

  async stop() {
    baseline?.closeAllConnections();
    await new Promise<void>((r) => (baseline ? baseline.close(() => r()) : r()));
    await running?.close();
    await dropDatabase?.();
    rmSync(tempDir, { recursive: true, force: true });
    setTimeout(() => process.exit(0), 50);
    return true;
  },
};

process.on('message', async ({ id, cmd, args }: { id: number; cmd: string; args: unknown }) => {
  try {
    const handler = commands[cmd];
    if (!handler) throw new Error(`unknown command ${cmd}`);
    process.send!({ id, result: await handler(args) });
  } catch (error) {
    process.send!({ id, error: (error as Error).stack ?? String(error) });
  }
});
// The parent went away: do not linger.
process.on('disconnect', () => {
  rmSync(tempDir, { recursive: true, force: true });
  process.exit(0);
});
