import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { writeTransaction } from '../../server/domain/write-transaction';
import { InProcessNotificationBus } from '../../server/notifications/notification-bus';
import { NotificationStore, type PendingNotification } from '../../server/notifications/notification-store';
import { migrate } from '../../server/store/connect';
import { databases, openTestDatabase, type TestDatabase } from './harness';

const at = new Date('2026-12-01T10:00:00.000Z');
const note = (customerId: string, n: number): PendingNotification => ({ customerId, type: 'wallet.balance.changed', resource: { n } });

/** The order a socket relies on: a customer's ids ascend as they become visible, each naming the one before. */
for (const { name, url } of databases) {
  describe(`notification order on ${name}`, { skip: name === 'postgres' && !url ? 'DATABASE_URL is not set to a PostgreSQL URL' : false }, () => {
    let database: TestDatabase;
    let store: NotificationStore;
    before(async () => {
      database = await openTestDatabase(name);
      await migrate(database);
      await database.db.insertInto('customers').values(['cus_a', 'cus_b', 'cus_c'].map((id) => ({ id, email: `${id}@test.invalid`, password_hash: 'none', created_at: 0 }))).execute();
      store = new NotificationStore(database.db, database.dialect, new InProcessNotificationBus());
    });
    after(() => database?.drop());

    test('each notification names its customer\'s notification before it; a rolled-back one is no one\'s', async () => {
      const [a1, b2, a3] = await writeTransaction(database, (trx) => store.append(trx, [note('cus_a', 1), note('cus_b', 2), note('cus_a', 3)], at));
      const [b4] = await writeTransaction(database, (trx) => store.append(trx, [note('cus_b', 4)], at));
      assert.deepEqual([a1, b2, a3, b4].map((w) => w!.previousId), [0, 0, a1!.notification.id, b2!.notification.id]);
      await assert.rejects(writeTransaction(database, async (trx) => {
        await store.append(trx, [note('cus_b', 5)], at);
        throw new Error('rolled back');
      }), /rolled back/);
      const [b6] = await writeTransaction(database, (trx) => store.append(trx, [note('cus_b', 6)], at));
      assert.equal(b6!.previousId, b4!.notification.id);
    });

    test('a writer appending for a customer waits for another\'s uncommitted append, so no later id is visible first', { skip: name === 'sqlite' && 'SQLite runs one writer at a time' }, async () => {
      let appended!: () => void;
      const firstAppended = new Promise<void>((resolve) => (appended = resolve));
      let commit!: () => void;
      const firstMayCommit = new Promise<void>((resolve) => (commit = resolve));
      const first = writeTransaction(database, async (trx) => {
        const written = await store.append(trx, [note('cus_c', 7)], at);
        appended();
        await firstMayCommit;
        return written;
      });
      await firstAppended;
      // The two writers share no locked row (as a card payment and a purchase do not): only append orders them.
      const second = writeTransaction(database, (trx) => store.append(trx, [note('cus_c', 8)], at));
      let settled = false;
      const blocked = async () => {
        while (!settled) {
          const { rows } = await sql<{ waiting: number }>`select count(*)::int as waiting from pg_locks where not granted`.execute(database.db);
          if (rows[0]!.waiting > 0) return 'waiting';
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return 'stopped';
      };
      const outcome = await Promise.race([second.then(() => 'committed'), blocked()]);
      settled = true;
      const visible = (await store.listAfter('cus_c', 0)).map((n) => n.id);
      commit();
      const [[w7], [w8]] = await Promise.all([first, second]);
      assert.equal(outcome, 'waiting', `the second append committed first: a reader saw ids ${visible} without ${w7!.notification.id}`);
      assert.deepEqual(visible, []);
      assert.ok(w8!.notification.id > w7!.notification.id);
      assert.equal(w8!.previousId, w7!.notification.id);
    });
  });
}
