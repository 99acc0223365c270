import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import pino from 'pino';
import { writeTransaction } from '../../server/domain/write-transaction';
import { startServer } from '../../server/server';
import { OFFER_SECRET, openTestDatabase, reopenTestDatabase, testConfig, testConfigFile, type TestDatabase } from './harness';

const ROOT = resolve(import.meta.dirname, '../..');
/** `PRAGMA synchronous = FULL`: every commit waits until the disk has it. */
const FULL = 2;
const synchronousOf = async (db: Kysely<any>) => (await sql<{ synchronous: number }>`pragma synchronous`.execute(db)).rows[0]?.synchronous;

/** The SQLite store reuses prepared statements and lets concurrent write transactions share a commit. */
describe('SQLite store', () => {
  let database: TestDatabase;
  let db: Kysely<any>;
  before(async () => {
    database = await openTestDatabase('sqlite');
    db = database.db as Kysely<any>;
    await sql`create table notes (id integer primary key, body text not null)`.execute(db);
  });
  after(() => database?.drop());

  test('a reused statement sees the schema as a migration leaves it', async () => {
    await db.insertInto('notes').values({ id: 1, body: 'first' }).execute();
    const read = () => db.selectFrom('notes').selectAll().where('id', '=', 1).execute();
    assert.deepEqual(await read(), [{ id: 1, body: 'first' }]);
    await sql`alter table notes add column tag text not null default 'none'`.execute(db);
    assert.deepEqual(await read(), [{ id: 1, body: 'first', tag: 'none' }]);
    await sql`drop table notes`.execute(db);
    await assert.rejects(read(), /no such table/);
    await sql`create table notes (id integer primary key, body text not null)`.execute(db);
    await db.insertInto('notes').values([{ id: 1, body: 'again' }, { id: 2, body: 'b' }, { id: 3, body: 'c' }]).execute();
    assert.deepEqual(await read(), [{ id: 1, body: 'again' }]);
  });

  test('concurrent write transactions: each is all or nothing, and committed when it resolves', async () => {
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => writeTransaction(database, async (trx) => {
      await (trx as Kysely<any>).insertInto('notes').values({ id: 100 + i, body: 'batched' }).execute();
      // Every third one fails after writing: its row must not survive, the others' must.
      if (i % 3 === 0) throw new Error(`refused ${i}`);
      await (trx as Kysely<any>).insertInto('notes').values({ id: 200 + i, body: 'batched' }).execute();
      return i;
    })));
    const kept = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as Error).message] : []));
    assert.deepEqual(kept, Array.from({ length: 20 }, (_, i) => i).filter((i) => i % 3 !== 0));
    assert.deepEqual(refused, [0, 3, 6, 9, 12, 15, 18].map((i) => `refused ${i}`));
    // Another connection, as another process would have, sees exactly the committed ones.
    const reader = await reopenTestDatabase(database);
    try {
      const ids = (await (reader.db as Kysely<any>).selectFrom('notes').select('id').where('body', '=', 'batched').orderBy('id').execute()).map((r) => r.id);
      assert.deepEqual(ids, [...kept.map((i) => 100 + i), ...kept.map((i) => 200 + i)]);
    } finally {
      await reader.close();
    }
  });

  test('a unique violation inside one write transaction leaves the others of its batch intact', async () => {
    const outcomes = await Promise.allSettled([1, 2, 2, 3].map((n) => writeTransaction(database, (trx) => (trx as Kysely<any>).insertInto('notes').values({ id: 300 + n, body: 'unique' }).execute())));
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual((await db.selectFrom('notes').select('id').where('body', '=', 'unique').orderBy('id').execute()).map((r) => r.id), [301, 302, 303]);
  });

  test('every connection the server, a second instance and the billing tick open answers only once a commit is on disk (synchronous = FULL)', async () => {
    assert.equal(await synchronousOf(db), FULL);
    const second = await reopenTestDatabase(database);
    try {
      assert.equal(await synchronousOf(second.db as Kysely<any>), FULL);
    } finally {
      await second.close();
    }
    const sqlitePath = join(mkdtempSync(join(tmpdir(), 'paywall-db-')), 'own.sqlite');
    const server = await startServer({ config: testConfig({ database: { sqlitePath } }), port: 0, logger: pino({ level: 'silent' }), billingRunner: false });
    try {
      assert.equal(await synchronousOf(server.services.database.db as Kysely<any>), FULL);
    } finally {
      await server.close();
    }
    const configPath = join(mkdtempSync(join(tmpdir(), 'paywall-cron-')), 'paywall.config.json');
    writeFileSync(configPath, JSON.stringify(testConfigFile({ catalog: { products: [] }, database: { sqlitePath } })));
    const { stderr } = await promisify(execFile)(process.execPath, ['--require', join(ROOT, 'test/server/report-sqlite-synchronous.cjs'), '--import', 'tsx', 'server/cli/billing-tick.ts', '--config', configPath], {
      cwd: ROOT,
      env: { ...process.env, PAYWALL_OFFER_SECRET: OFFER_SECRET, DATABASE_URL: '' },
    });
    assert.deepEqual(stderr.match(/sqlite synchronous \d+/g), [`sqlite synchronous ${FULL}`]);
  });
});
