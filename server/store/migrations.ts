import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './connect';

/** Migrations in code, keyed by name in apply order; Kysely's Migrator locks so two instances cannot race. */
export function migrationsFor(dialect: Dialect): MigrationProvider {
  const serialId = dialect === 'postgres' ? 'bigserial' : 'integer';
  const money = 'bigint';
  const initial: Migration = {
    async up(db: Kysely<any>) {
      const id = (c: any) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
      await db.schema.createTable('customers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createTable('sessions')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createTable('sign_in_failures')
        .addColumn('id', serialId, id)
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sign_in_failures_email_at').on('sign_in_failures').columns(['email', 'at']).execute();
      await db.schema.createTable('ledger_accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.references('customers.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('balance', money, (c) => c.notNull().defaultTo(0))
        // The last line of defence against overdraft: the database itself refuses a negative wallet.
        .addCheckConstraint('wallet_never_negative', sql`kind <> 'wallet' OR balance >= 0`)
        .execute();
      await db.schema.createIndex('ledger_accounts_customer').on('ledger_accounts').columns(['customer_id', 'currency']).unique().execute();
      await db.schema.createTable('ledger_transactions')
        .addColumn('id', serialId, id)
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('reference', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createTable('ledger_entries')
        .addColumn('id', serialId, id)
        .addColumn('transaction_id', 'bigint', (c) => c.notNull().references('ledger_transactions.id'))
        .addColumn('account_id', 'text', (c) => c.notNull().references('ledger_accounts.id'))
        .addColumn('amount', money, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ledger_entries_account').on('ledger_entries').column('account_id').execute();
      await db.schema.createTable('entitlements')
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('product', 'text', (c) => c.notNull())
        .addColumn('granted_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('entitlements_pk', ['customer_id', 'product'])
        .execute();
      await db.schema.createTable('purchases')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('idempotency_key', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('product', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('price', money, (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('charged', money, (c) => c.notNull())
        .addColumn('transaction_id', 'bigint', (c) => c.references('ledger_transactions.id'))
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('purchases_idempotency', ['customer_id', 'idempotency_key'])
        .execute();
      await db.schema.createTable('top_ups')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('idempotency_key', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('amount', money, (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('card_last4', 'text', (c) => c.notNull())
        .addColumn('transaction_id', 'bigint', (c) => c.notNull().references('ledger_transactions.id'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('top_ups_idempotency', ['customer_id', 'idempotency_key'])
        .execute();
      await db.schema.createTable('notifications')
        .addColumn('id', serialId, id)
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('notifications_customer_id').on('notifications').columns(['customer_id', 'id']).execute();
    },
  };
  return { getMigrations: async () => ({ '0001_initial': initial }) };
}
