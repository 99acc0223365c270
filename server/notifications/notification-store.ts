import type { Kysely, Selectable } from 'kysely';
import type { Notification, NotificationType } from '../../src/protocol';
import { PreparedQueriesByLength, PreparedQuery } from '../store/prepared-query';
import type { Database, NotificationsTable } from '../store/schema';
import type { NotificationBus } from './notification-bus';

export interface PendingNotification {
  customerId: string;
  type: NotificationType;
  resource: Record<string, unknown>;
}

function toNotification(row: Selectable<NotificationsTable>): Notification {
  return { id: Number(row.id), type: row.type as NotificationType, createdAt: new Date(Number(row.created_at)).toISOString(), resource: JSON.parse(row.resource) };
}

const ROWS_PER_INSERT = 8;

/** Notifications are written in the same transaction as the change they report, and published after commit. */
export class NotificationStore {
  /** One insert for a change's notifications (a few), by their number up to {@link ROWS_PER_INSERT}. */
  readonly #insert: PreparedQueriesByLength<{ customerIds: string[]; types: string[]; resources: string[]; createdAt: number }, { id: number }>;
  /** Read by every access check that reads the database. */
  readonly #latest: PreparedQuery<{ customerId: string }, { id: number | null }>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly bus: NotificationBus,
  ) {
    this.#insert = new PreparedQueriesByLength(db, (db, param, length) => db
      .insertInto('notifications')
      .values(Array.from({ length }, (_, i) => ({ customer_id: param.at('customerIds', i), type: param.at('types', i), created_at: param('createdAt'), resource: param.at('resources', i) })))
      .returning('id'));
    this.#latest = new PreparedQuery(db, (db, param) => db.selectFrom('notifications').select((eb) => eb.fn.max('id').as('id')).where('customer_id', '=', param('customerId')));
  }

  /** The id of the customer's newest notification, 0 if none: what a state read now already reflects. */
  async latestId(customerId: string): Promise<number> {
    return Number((await this.#latest.first(this.db, { customerId }))?.id ?? 0);
  }

  async append(trx: Kysely<Database>, pending: PendingNotification[], at: Date): Promise<Array<{ customerId: string; notification: Notification }>> {
    const createdAt = at.toISOString();
    const written: Array<{ customerId: string; notification: Notification }> = [];
    for (let start = 0; start < pending.length; start += ROWS_PER_INSERT) {
      const rows = pending.slice(start, start + ROWS_PER_INSERT);
      const resources = rows.map((row) => JSON.stringify(row.resource));
      const values = { customerIds: rows.map((row) => row.customerId), types: rows.map((row) => row.type), resources, createdAt: at.getTime() };
      // Ids grow in insertion order; RETURNING promises no order of its own.
      const ids = (await this.#insert.of(rows.length).rows(trx, values)).map((row) => Number(row.id)).sort((a, b) => a - b);
      rows.forEach(({ customerId, type }, i) => written.push({ customerId, notification: { id: ids[i]!, type, createdAt, resource: JSON.parse(resources[i]!) } }));
    }
    return written;
  }

  publish(written: Array<{ customerId: string; notification: Notification }>): void {
    for (const { customerId, notification } of written) this.bus.publish(customerId, notification);
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
