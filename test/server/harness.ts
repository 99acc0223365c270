import { after, before, describe } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { ManualClock } from '../../server/clock';
import { resolveConfig, type ServerConfig } from '../../server/config';
import { startServer, type RunningServer } from '../../server/server';
import { connectDatabase, type DatabaseHandle } from '../../server/store/connect';
import { randomUUID } from 'node:crypto';

export const MERCHANT = 'http://merchant.test';
export const OFFER_SECRET = 'test-offer-secret-0123456789abcdef0123456789';

/** The demo catalog's shape, with content files from the repository's content/ folder. */
export function testConfigFile(overrides: Record<string, unknown> = {}) {
  return {
    merchantOrigins: [MERCHANT],
    startCredit: { amount: 500, currency: 'EUR' },
    catalog: {
      products: [
        { id: 'article-42', title: 'Night trains', price: 49, currency: 'EUR', validity: 3600, content: 'content/article-42.html' },
        { id: 'article-43', title: 'The bakery', price: 99, currency: 'EUR', validity: 3600, content: 'content/article-43.html' },
        { id: 'big-report', title: 'Report', price: 10_000, currency: 'EUR', validity: 86_400 },
      ],
      plans: [
        { id: 'gold-monthly', title: 'Gold monthly', price: 499, currency: 'EUR', periodUnit: 'month', products: ['article-42', 'article-43'] },
        { id: 'gold-yearly', title: 'Gold yearly', price: 4900, currency: 'EUR', periodUnit: 'year', products: ['article-42', 'article-43'] },
        { id: 'trial-weekly', title: 'Weekly with trial', price: 199, currency: 'EUR', periodUnit: 'week', trialDays: 14, products: ['article-43'] },
        { id: 'wallet-only', title: 'Wallet only', price: 99, currency: 'EUR', periodLength: 3, periodUnit: 'day', products: ['big-report'], methods: ['wallet'] },
      ],
    },
    ...overrides,
  };
}

/** `env` adds environment variables (provider secrets) to the offer secret every test server has. */
export function testConfig(overrides: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): ServerConfig {
  return resolveConfig(testConfigFile(overrides), {
    baseDir: resolve(import.meta.dirname, '../..'),
    env: { PAYWALL_OFFER_SECRET: OFFER_SECRET, ...env },
    dataDir: mkdtempSync(join(tmpdir(), 'paywall-data-')),
    listenUrl: 'http://127.0.0.1:0',
  });
}

/** Which databases the store-level suites run on: SQLite always, PostgreSQL when DATABASE_URL names one. */
export const databases: Array<{ name: 'sqlite' | 'postgres'; url: string | undefined }> = [
  { name: 'sqlite', url: undefined },
  { name: 'postgres', url: process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : undefined },
];

/** Where a test database lives, so a second server or a CLI process can open the same one. */
export type TestDatabaseLocation = { sqlitePath: string } | { databaseUrl: string; schema: string };

export type TestDatabase = DatabaseHandle & { location: TestDatabaseLocation; drop(): Promise<void> };

export async function openTestDatabase(name: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  if (name === 'sqlite') {
    const sqlitePath = join(mkdtempSync(join(tmpdir(), 'paywall-db-')), 'test.sqlite');
    const handle = await connectDatabase({ sqlitePath });
    return { ...handle, location: { sqlitePath }, drop: handle.close };
  }
  const schema = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const databaseUrl = process.env.DATABASE_URL!;
  const handle = await connectDatabase({ databaseUrl, pgSchema: schema, poolSize: 20 });
  return {
    ...handle,
    location: { databaseUrl, schema },
    async drop() {
      const { sql } = await import('kysely');
      await sql.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).execute(handle.db);
      await handle.close();
    },
  };
}

/** A second connection to the same database, as another server instance would hold; closing it leaves the data. */
export async function reopenTestDatabase(database: TestDatabase): Promise<TestDatabase> {
  const { location } = database;
  const handle = 'sqlitePath' in location
    ? await connectDatabase({ sqlitePath: location.sqlitePath })
    : await connectDatabase({ databaseUrl: location.databaseUrl, pgSchema: location.schema, poolSize: 20 });
  return { ...handle, location, drop: handle.close };
}

export interface TestServer extends RunningServer {
  clock: ManualClock;
  config: ServerConfig;
  database: TestDatabase;
  /** fetch against the server with JSON in and out; `token` becomes a bearer header. */
  api(path: string, init?: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  signUp(email?: string, password?: string): Promise<{ token: string; customerId: string }>;
}

/** `logger` replaces the default silent logger, e.g. to capture log lines in memory. */
/**
 * `sameDatabaseAs` starts a second instance on another connection to that server's database.
 * The billing clock's interval runner is off unless `billingRunner` is set; tests call `services.billing.tick()`.
 */
export async function startTestServer(options: { db?: 'sqlite' | 'postgres'; config?: Record<string, unknown>; env?: NodeJS.ProcessEnv; clock?: ManualClock; logger?: Logger; billingRunner?: boolean; sameDatabaseAs?: TestServer } = {}): Promise<TestServer> {
  const clock = options.clock ?? new ManualClock('2026-03-01T10:00:00.000Z');
  const base = testConfig(options.config, options.env);
  const database = options.sameDatabaseAs ? await reopenTestDatabase(options.sameDatabaseAs.database) : await openTestDatabase(options.db ?? 'sqlite');
  const running = await startServer({ config: base, port: 0, host: '127.0.0.1', clock, database, logger: options.logger ?? pino({ level: 'silent' }), billingRunner: options.billingRunner ?? false }).catch(async (error) => {
    await database.drop();
    throw error;
  });
  // The port is known only now; the hosted-page links must point at it.
  const config = Object.assign(base, { publicBaseUrl: running.url, ownOrigin: running.url });
  const api: TestServer['api'] = async (path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.body !== undefined) headers['content-type'] ??= 'application/json';
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    const response = await fetch(running.url + path, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    });
    const text = await response.text();
    let body: unknown = text;
    if (response.headers.get('content-type')?.includes('json')) body = JSON.parse(text);
    return { status: response.status, body, headers: response.headers };
  };
  let counter = 0;
  return {
    ...running,
    clock,
    config,
    database,
    api,
    async close() {
      await running.close();
      await database.drop();
    },
    async signUp(email = `reader${++counter}-${randomUUID().slice(0, 8)}@example.com`, password = 'correct horse battery') {
      const { status, body } = await api('/v1/accounts', { body: { email, password } });
      if (status !== 201) throw new Error(`sign-up failed: ${status} ${JSON.stringify(body)}`);
      return { token: body.token, customerId: body.customer.id };
    },
  };
}

export const idempotencyKey = () => `test_${randomUUID().replace(/-/g, '')}`;

/**
 * A suite per database with two instances on that one database and one clock, as behind a load
 * balancer; `instances()` gives them inside the tests.
 */
export function describeOnTwoInstances(title: string, suite: (instances: () => { server: TestServer; other: TestServer }) => void): void {
  for (const database of databases) {
    describe(`${title} on ${database.name}`, { skip: database.name === 'postgres' && !database.url ? 'DATABASE_URL is not set to a PostgreSQL URL' : false }, () => {
      let server: TestServer;
      let other: TestServer;
      before(async () => {
        server = await startTestServer({ db: database.name });
        other = await startTestServer({ sameDatabaseAs: server, clock: server.clock });
      });
      after(async () => {
        await other?.close();
        await server?.close();
      });
      suite(() => ({ server, other }));
    });
  }
}
