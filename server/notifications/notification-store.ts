import type { Kysely, Selectable } from 'kysely';
import type { Notification, NotificationType } from '../../src/protocol';
import { PreparedQuery } from '../store/prepared-query';
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
  /** One insert for a change's notifications (a few), built once per count of rows up to {@link ROWS_PER_INSERT}. */
  readonly #inserts = new Map<number, PreparedQuery<Record<string, unknown>, { id: number }>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly bus: NotificationBus,
  ) {}

  async append(trx: Kysely<Database>, pending: PendingNotification[], at: Date): Promise<Array<{ customerId: string; notification: Notification }>> {
    const createdAt = at.toISOString();
    const written: Array<{ customerId: string; notification: Notification }> = [];
    for (let start = 0; start < pending.length; start += ROWS_PER_INSERT) {
      const rows = pending.slice(start, start + ROWS_PER_INSERT);
      const values: Record<string, unknown> = { createdAt: at.getTime() };
      const resources = rows.map(({ customerId, type, resource }, i) => {
        const text = JSON.stringify(resource);
        Object.assign(values, { [`customerId${i}`]: customerId, [`type${i}`]: type, [`resource${i}`]: text });
        return text;
      });
      // Ids grow in insertion order; RETURNING promises no order of its own.
      const ids = (await this.#insert(rows.length).rows(trx, values)).map((row) => Number(row.id)).sort((a, b) => a - b);
      rows.forEach(({ customerId, type }, i) => written.push({ customerId, notification: { id: ids[i]!, type, createdAt, resource: JSON.parse(resources[i]!) } }));
    }
    return written;
  }

  #insert(count: number): PreparedQuery<Record<string, unknown>, { id: number }> {
    let insert = this.#inserts.get(count);
    if (!insert) {
      insert = new PreparedQuery(this.db, (db, param) => db
        .insertInto('notifications')
        .values(Array.from({ length: count }, (_, i) => ({ customer_id: param(`customerId${i}`) as string, type: param(`type${i}`) as string, created_at: param('createdAt') as number, resource: param(`resource${i}`) as string })))
        .returning('id'));
      this.#inserts.set(count, insert);
    }
    return insert;
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
