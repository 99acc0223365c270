import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { writeTransaction } from '../../server/domain/write-transaction';
import { openTestDatabase, reopenTestDatabase, type TestDatabase } from './harness';

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
});
