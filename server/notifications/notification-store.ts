import { CompiledQuery, type Kysely, type Selectable } from 'kysely';
import type { Notification, NotificationType } from '../../src/protocol';
import type { Dialect } from '../store/schema';
import { PreparedQueriesByLength } from '../store/prepared-query';
import type { Database, NotificationsTable } from '../store/schema';
import type { NotificationBus, PublishedNotification } from './notification-bus';

export interface PendingNotification {
  customerId: string;
  type: NotificationType;
  resource: Record<string, unknown>;
}

export interface WrittenNotification extends PublishedNotification {
  customerId: string;
}

function toNotification(row: Selectable<NotificationsTable>): Notification {
  return { id: Number(row.id), type: row.type as NotificationType, createdAt: new Date(Number(row.created_at)).toISOString(), resource: JSON.parse(row.resource) };
}

const ROWS_PER_INSERT = 8;

/**
 * A transaction-scoped advisory lock per customer, keyed by a hash of its id (customers that share
 * a key only wait for each other), taken in key order so that two writers cannot deadlock; 1314
 * keeps these keys apart from other advisory locks on the database.
 */
const LOCK_CUSTOMERS = 'select pg_advisory_xact_lock(1314, key) from (select distinct hashtext(customer_id) as key from unnest($1::text[]) as customer_id order by key) as keys';

/**
 * Notifications are written in the same transaction as the change they report, and published after
 * commit. Ids come from one sequence when rows are inserted, and transactions commit in any order,
 * so a customer's notifications are inserted by one transaction at a time: on PostgreSQL under a
 * lock on the customer held until commit, on SQLite by its single writer. A customer's ids then
 * ascend in the order they become visible (a read never sees one without every earlier one), and
 * each notification knows the id before it ({@link PublishedNotification.previousId}).
 */
export class NotificationStore {
  /** One insert for a change's notifications (a few), by their number up to {@link ROWS_PER_INSERT}. */
  readonly #insert: PreparedQueriesByLength<{ customerIds: string[]; types: string[]; resources: string[]; createdAt: number }, { id: number }>;
  /** Each customer's newest notification id, by the number of customers (also read by every access check that reads the database). */
  readonly #latest: PreparedQueriesByLength<{ customerIds: string[] }, { customer_id: string; id: number }>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly bus: NotificationBus,
  ) {
    this.#insert = new PreparedQueriesByLength(db, (db, param, length) => db
      .insertInto('notifications')
      .values(Array.from({ length }, (_, i) => ({ customer_id: param.at('customerIds', i), type: param.at('types', i), created_at: param('createdAt'), resource: param.at('resources', i) })))
      .returning('id'));
    this.#latest = new PreparedQueriesByLength(db, (db, param, length) => db
      .selectFrom('notifications')
      .select((eb) => ['customer_id', eb.fn.max('id').as('id')])
      .where('customer_id', 'in', Array.from({ length }, (_, i) => param.at('customerIds', i)))
      .groupBy('customer_id'));
  }

  /**
   * The id of the customer's newest notification, 0 if none: a state read after it reflects every
   * notification up to it, since a customer's ids become visible in order.
   */
  async latestId(customerId: string): Promise<number> {
    const [row] = await this.#latest.of(1).rows(this.db, { customerIds: [customerId] });
    return Number(row?.id ?? 0);
  }

  /**
   * Call it last in the writer's transaction: on PostgreSQL the customers stay locked until the
   * commit, and a lock taken after this one could deadlock with a writer waiting for it.
   */
  async append(trx: Kysely<Database>, pending: PendingNotification[], at: Date): Promise<WrittenNotification[]> {
    if (!pending.length) return [];
    const customerIds = [...new Set(pending.map((row) => row.customerId))];
    if (this.dialect === 'postgres') await trx.executeQuery(CompiledQuery.raw(LOCK_CUSTOMERS, [customerIds]));
    // A statement after the lock: its snapshot holds what the lock's previous holder committed.
    const latest = new Map((await this.#latest.of(customerIds.length).rows(trx, { customerIds })).map((row) => [row.customer_id, Number(row.id)]));
    const createdAt = at.toISOString();
    const written: WrittenNotification[] = [];
    for (let start = 0; start < pending.length; start += ROWS_PER_INSERT) {
      const rows = pending.slice(start, start + ROWS_PER_INSERT);
      const resources = rows.map((row) => JSON.stringify(row.resource));
      const values = { customerIds: rows.map((row) => row.customerId), types: rows.map((row) => row.type), resources, createdAt: at.getTime() };
      // Ids grow in insertion order; RETURNING promises no order of its own.
      const ids = (await this.#insert.of(rows.length).rows(trx, values)).map((row) => Number(row.id)).sort((a, b) => a - b);
      rows.forEach(({ customerId, type }, i) => {
        const id = ids[i]!;
        written.push({ customerId, previousId: latest.get(customerId) ?? 0, notification: { id, type, createdAt, resource: JSON.parse(resources[i]!) } });
        latest.set(customerId, id);
      });
    }
    return written;
  }

  publish(written: WrittenNotification[]): void {
    for (const { customerId, notification, previousId } of written) this.bus.publish(customerId, { notification, previousId });
  }

  async listAfter(customerId: string, afterId: number, limit = 500): Promise<Notification[]> {
    const rows = await this.db
      .selectFrom('notifications')
      .selectAll()
      .where('customer_id', '=', customerId)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toNotification);
  }
}
