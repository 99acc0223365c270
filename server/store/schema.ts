import type { Generated } from 'kysely';

/** Times are Unix epoch milliseconds; money is integer minor units. */
export interface CustomersTable {
  id: string;
  email: string;
  password_hash: string;
  created_at: number;
}

export interface SessionsTable {
  token_hash: string;
  customer_id: string;
  created_at: number;
  expires_at: number;
}

export interface SignInFailuresTable {
  id: Generated<number>;
  email: string;
  at: number;
}

/** A wallet per customer and one system account per purpose and currency. */
export interface LedgerAccountsTable {
  id: string;
  customer_id: string | null;
  kind: 'wallet' | 'system';
  currency: string;
  balance: number;
}

export interface LedgerTransactionsTable {
  id: Generated<number>;
  kind: 'start_credit' | 'top_up' | 'purchase' | 'refund';
  customer_id: string;
  reference: string | null;
  created_at: number;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  transaction_id: number;
  account_id: string;
  amount: number;
}

export interface EntitlementsTable {
  customer_id: string;
  product: string;
  granted_at: number;
  expires_at: number;
}

/** One row per idempotency key that led to a result; the key's replay answer. */
export interface PurchasesTable {
  id: string;
  customer_id: string;
  idempotency_key: string;
  request_hash: string;
  product: string;
  title: string;
  price: number;
  currency: string;
  charged: number;
  transaction_id: number | null;
  expires_at: number;
  created_at: number;
}

export interface TopUpsTable {
  id: string;
  customer_id: string;
  idempotency_key: string;
  request_hash: string;
  amount: number;
  currency: string;
  card_last4: string;
  transaction_id: number;
  created_at: number;
}

export interface NotificationsTable {
  id: Generated<number>;
  customer_id: string;
  type: string;
  created_at: number;
  resource: string;
}

export interface Database {
  customers: CustomersTable;
  sessions: SessionsTable;
  sign_in_failures: SignInFailuresTable;
  ledger_accounts: LedgerAccountsTable;
  ledger_transactions: LedgerTransactionsTable;
  ledger_entries: LedgerEntriesTable;
  entitlements: EntitlementsTable;
  purchases: PurchasesTable;
  top_ups: TopUpsTable;
  notifications: NotificationsTable;
}
