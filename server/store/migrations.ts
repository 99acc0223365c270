import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './schema';

/** Migrations in code, keyed by name in apply order; Kysely's Migrator locks so two instances cannot race. */
export function migrationsFor(dialect: Dialect): MigrationProvider {
  const serialId = dialect === 'postgres' ? 'bigserial' : 'integer';
  /** The column options of a serialId primary key. */
  const id = (c: any) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  const money = 'bigint';
  const initial: Migration = {
    async up(db: Kysely<any>) {
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
  const subscriptions: Migration = {
    async up(db: Kysely<any>) {
      await db.schema.createTable('checkouts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('idempotency_key', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('plan', 'text')
        .addColumn('product', 'text')
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('price', money, (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('validity', 'bigint')
        .addColumn('origin', 'text')
        .addColumn('return_url', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('subscription_id', 'text')
        .addColumn('payment_intent_id', 'text')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('completed_at', 'bigint')
        .addUniqueConstraint('checkouts_idempotency', ['customer_id', 'idempotency_key'])
        .execute();
      await db.schema.createTable('card_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('brand', 'text', (c) => c.notNull())
        .addColumn('last4', 'text', (c) => c.notNull())
        .addColumn('exp_month', 'integer', (c) => c.notNull())
        .addColumn('exp_year', 'integer', (c) => c.notNull())
        .addColumn('behaviour', 'text', (c) => c.notNull())
        .addColumn('paid_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createTable('subscriptions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('plan', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('card_token_id', 'text', (c) => c.references('card_tokens.id'))
        .addColumn('price', money, (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('period_length', 'integer', (c) => c.notNull())
        .addColumn('period_unit', 'text', (c) => c.notNull())
        .addColumn('products', 'text', (c) => c.notNull())
        .addColumn('anchor_at', 'bigint')
        .addColumn('current_period', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('trial_end', 'bigint')
        .addColumn('access_until', 'bigint')
        .addColumn('cancel_at_period_end', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('canceled_at', 'bigint')
        .addColumn('ended_at', 'bigint')
        .addColumn('incomplete_expires_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('subscriptions_customer').on('subscriptions').columns(['customer_id', 'created_at']).execute();
      await db.schema.createIndex('subscriptions_status').on('subscriptions').columns(['status', 'access_until']).execute();
      // One live subscription per customer and plan, decided by the database when two requests race.
      await sql`create unique index subscriptions_one_live_per_plan on subscriptions (customer_id, plan) where status in ('active', 'past_due', 'canceled')`.execute(db);
      await db.schema.createTable('payment_intents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('amount', money, (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('card_token_id', 'text', (c) => c.notNull().references('card_tokens.id'))
        .addColumn('checkout_id', 'text')
        .addColumn('subscription_id', 'text', (c) => c.references('subscriptions.id'))
        .addColumn('charge_id', 'text')
        .addColumn('product', 'text')
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('validity', 'bigint')
        .addColumn('origin', 'text')
        .addColumn('return_url', 'text')
        .addColumn('transaction_id', 'bigint', (c) => c.references('ledger_transactions.id'))
        .addColumn('entitlement_expires_at', 'bigint')
        .addColumn('failure_code', 'text')
        .addColumn('failure_message', 'text')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('payment_intents_open').on('payment_intents').columns(['status', 'expires_at']).execute();
      await db.schema.createIndex('payment_intents_subscription').on('payment_intents').columns(['subscription_id', 'status']).execute();
      await db.schema.createTable('billing_charges')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subscription_id', 'text', (c) => c.notNull().references('subscriptions.id'))
        .addColumn('period', 'integer', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('amount', money, (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('payment_intent_id', 'text')
        .addColumn('transaction_id', 'bigint', (c) => c.references('ledger_transactions.id'))
        .addColumn('failure_code', 'text')
        .addColumn('failure_message', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('processed_at', 'bigint')
        // The key that makes every charge happen at most once, however many ticks run.
        .addUniqueConstraint('billing_charges_once', ['subscription_id', 'period', 'attempt'])
        .execute();
      await db.schema.createIndex('billing_charges_due').on('billing_charges').columns(['status', 'due_at']).execute();
      await db.schema.createTable('outbox_emails')
        .addColumn('id', serialId, id)
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('to_email', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('link', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('outbox_emails_customer').on('outbox_emails').columns(['customer_id', 'id']).execute();
    },
  };
  const providers: Migration = {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('checkouts').addColumn('provider', 'text', (c) => c.notNull().defaultTo('sandbox')).execute();
      await db.schema.alterTable('subscriptions').addColumn('provider', 'text').execute();
      await db.schema.alterTable('subscriptions').addColumn('provider_subscription_id', 'text').execute();
      await db.schema.createTable('provider_callbacks')
        .addColumn('id', serialId, id)
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('query', 'text', (c) => c.notNull())
        .addColumn('body', 'text')
        .addColumn('remote_address', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('provider_callbacks_received').on('provider_callbacks').columns(['provider', 'received_at']).execute();
      await db.schema.createTable('provider_events')
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('sale_id', 'text', (c) => c.notNull())
        .addColumn('processed_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('provider_events_pk', ['provider', 'event_id'])
        .execute();
      await db.schema.createTable('provider_sales')
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('sale_id', 'text', (c) => c.notNull())
        .addColumn('checkout_id', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('product', 'text')
        .addColumn('subscription_id', 'text', (c) => c.references('subscriptions.id'))
        .addColumn('amount', money, (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('provider_sales_pk', ['provider', 'sale_id'])
        .execute();
      // One sale per checkout: a checkout paid twice at the provider still grants once.
      await db.schema.createIndex('provider_sales_checkout').on('provider_sales').column('checkout_id').unique().execute();
      await db.schema.createTable('customer_provider_tokens')
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('customer_provider_tokens_pk', ['customer_id', 'provider', 'kind'])
        .execute();
    },
  };
  /** Milkipay: payouts (idempotent on the merchant's transaction id) and the last known state of each wallet connection. */
  const payouts: Migration = {
    async up(db: Kysely<any>) {
      await db.schema.createTable('payouts')
        .addColumn('transaction_id', 'text', (c) => c.primaryKey())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('amount', money, (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('http_status', 'integer')
        .addColumn('response', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createTable('wallet_connections')
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id'))
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('error_code', 'text')
        .addColumn('error_message', 'text')
        .addColumn('provider_code', 'text')
        .addColumn('checked_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('wallet_connections_pk', ['customer_id', 'provider'])
        .execute();
    },
  };
  /** System accounts stop caching a balance (the ledger no longer moves it; their entries are the balance). */
  const systemBalances: Migration = {
    async up(db: Kysely<any>) {
      await db.updateTable('ledger_accounts').set({ balance: 0 }).where('kind', '=', 'system').execute();
    },
  };
  /** A checkout paid twice at the provider is two sales, each booked so its refund finds it (it still grants once). */
  const salesPerCheckout: Migration = {
    async up(db: Kysely<any>) {
      await db.schema.dropIndex('provider_sales_checkout').execute();
      await db.schema.createIndex('provider_sales_checkout').on('provider_sales').column('checkout_id').execute();
    },
  };
  return {
    getMigrations: async () => ({
      '0001_initial': initial, '0002_subscriptions': subscriptions, '0003_providers': providers, '0004_payouts': payouts, '0005_system_balances': systemBalances,
      '0006_sales_per_checkout': salesPerCheckout,
    }),
  };
}
