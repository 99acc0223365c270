import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { migrate } from '../../server/store/connect';
import { PreparedQueriesByLength, PreparedQuery } from '../../server/store/prepared-query';
import { writeTransaction } from '../../server/domain/write-transaction';
import { InProcessNotificationBus } from '../../server/notifications/notification-bus';
import { NotificationStore, type PendingNotification } from '../../server/notifications/notification-store';
import { databases, openTestDatabase, type TestDatabase } from './harness';

/** Queries built once and run with values by name, on both databases. */
for (const { name, url } of databases) {
  describe(`prepared queries on ${name}`, { skip: name === 'postgres' && !url ? 'DATABASE_URL is not set to a PostgreSQL URL' : false }, () => {
    let database: TestDatabase;
    before(async () => {
      database = await openTestDatabase(name);
      await migrate(database);
      await database.db.insertInto('customers').values(['cus_a', 'cus_b'].map((id) => ({ id, email: `${id}@test.invalid`, password_hash: 'none', created_at: 0 }))).execute();
    });
    after(() => database?.drop());

    test('values go in by name, a name used twice gets its value twice, and fixed values stay', async () => {
      const byEmail = new PreparedQuery<{ email: string; createdAt: number }, { id: string }>(database.db, (db, param) => db
        .selectFrom('customers')
        .select('id')
        .where((eb) => eb.or([eb('email', '=', param('email')), eb('id', '=', 'cus_b')]))
        .where('created_at', '<=', param('createdAt'))
        .where('created_at', '>=', param('createdAt'))
        .orderBy('id'));
      assert.deepEqual(await byEmail.rows(database.db, { email: 'cus_a@test.invalid', createdAt: 0 }), [{ id: 'cus_a' }, { id: 'cus_b' }]);
      assert.deepEqual(await byEmail.rows(database.db, { email: 'nobody@test.invalid', createdAt: 0 }), [{ id: 'cus_b' }]);
      assert.equal(await byEmail.first(database.db, { email: 'cus_a@test.invalid', createdAt: 1 }), undefined);
    });

    test('a missing value is refused before the query runs', async () => {
      const byId = new PreparedQuery<{ id: string }, { id: string }>(database.db, (db, param) => db.selectFrom('customers').select('id').where('id', '=', param('id')));
      await assert.rejects(byId.rows(database.db, {} as { id: string }), /No value for query parameter "id"/);
    });

    test('a list value fills one query per length, item by item; a list too short is refused', async () => {
      const byIds = new PreparedQueriesByLength<{ ids: string[] }, { id: string }>(database.db, (db, param, length) => db
        .selectFrom('customers')
        .select('id')
        .where('id', 'in', Array.from({ length }, (_, i) => param.at('ids', i)))
        .orderBy('id'));
      assert.deepEqual(await byIds.of(2).rows(database.db, { ids: ['cus_b', 'cus_a'] }), [{ id: 'cus_a' }, { id: 'cus_b' }]);
      assert.deepEqual(await byIds.of(1).rows(database.db, { ids: ['cus_b'] }), [{ id: 'cus_b' }]);
      assert.equal(byIds.of(2), byIds.of(2));
      await assert.rejects(byIds.of(2).rows(database.db, { ids: ['cus_a'] }), /No value for query parameter "ids\[1\]"/);
    });

    test('notifications of one change, more than one insert holds, keep their order and get ascending ids', async () => {
      const store = new NotificationStore(database.db, database.dialect, new InProcessNotificationBus());
      const pending: PendingNotification[] = Array.from({ length: 19 }, (_, i) => ({ customerId: i % 2 ? 'cus_a' : 'cus_b', type: 'wallet.balance.changed', resource: { n: i } }));
      const at = new Date('2026-12-01T10:00:00.000Z');
      const written = await writeTransaction(database, (trx) => store.append(trx, pending, at));
      assert.deepEqual(written.map((w) => [w.customerId, w.notification.resource]), pending.map((p) => [p.customerId, p.resource]));
      const ids = written.map((w) => w.notification.id);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
      assert.equal(new Set(ids).size, ids.length);
      assert.deepEqual(await store.listAfter('cus_a', 0), written.filter((w) => w.customerId === 'cus_a').map((w) => w.notification));
      assert.ok(written.every((w) => w.notification.createdAt === at.toISOString()));
    });
  });
}
