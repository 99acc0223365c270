import type { Kysely } from 'kysely';
import type { OutboxEmail } from '../../src/protocol';
import type { Database } from '../store/schema';

export interface Email {
  customerId: string;
  kind: 'payment_action_required' | 'renewal_action_required' | 'renewal_failed' | 'subscription_failed';
  subject: string;
  text: string;
  link?: string | null;
}

/**
 * The email outbox: an email is written in the same transaction as the change it reports, so it
 * is sent exactly when that change commits. The sandbox provider sends nothing and shows the
 * outbox at `GET /v1/sandbox/outbox`; a mail provider would deliver from this table.
 */
export class EmailOutbox {
  constructor(private readonly db: Kysely<Database>) {}

  async write(trx: Kysely<Database>, email: Email, at: Date): Promise<void> {
    const customer = await trx.selectFrom('customers').select('email').where('id', '=', email.customerId).executeTakeFirstOrThrow();
    await trx.insertInto('outbox_emails').values({
      customer_id: email.customerId, to_email: customer.email, kind: email.kind, subject: email.subject,
      body: email.text, link: email.link ?? null, created_at: at.getTime(),
    }).execute();
  }

  async list(customerId: string, limit = 100): Promise<OutboxEmail[]> {
    const rows = await this.db.selectFrom('outbox_emails').selectAll().where('customer_id', '=', customerId).orderBy('id', 'desc').limit(limit).execute();
    return rows.reverse().map((row) => ({
      id: Number(row.id), to: row.to_email, kind: row.kind, subject: row.subject, text: row.body, link: row.link,
      createdAt: new Date(Number(row.created_at)).toISOString(),
    }));
  }
}
