import type { Kysely, Selectable } from 'kysely';
import type { Notification, NotificationType } from '../../src/protocol';
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

/** Notifications are written in the same transaction as the change they report, and published after commit. */
export class NotificationStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly bus: NotificationBus,
  ) {}

  async append(trx: Kysely<Database>, pending: PendingNotification[], at: Date): Promise<Array<{ customerId: string; notification: Notification }>> {
    const written = [];
    for (const { customerId, type, resource } of pending) {
      const row = await trx
        .insertInto('notifications')
        .values({ customer_id: customerId, type, created_at: at.getTime(), resource: JSON.stringify(resource) })
        .returningAll()
        .executeTakeFirstOrThrow();
      written.push({ customerId, notification: toNotification(row) });
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
