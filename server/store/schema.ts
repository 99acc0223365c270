import type { Generated, Selectable } from 'kysely';
import type { PaymentIntentKind, PaymentIntentStatus, PaymentMethod, PeriodUnit, SubscriptionStatus } from '../../src/protocol';

/** The databases the store runs on; the few queries that differ between them branch on it. */
export type Dialect = 'sqlite' | 'postgres';

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

/** A password check against the sign-in limit: recorded before the check, kept when the password was wrong, deleted when it was right. */
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
  /** A wallet's cached balance; 0 on a system account, whose balance is the sum of its entries. */
  balance: number;
}

export interface LedgerTransactionsTable {
  id: Generated<number>;
  kind: 'start_credit' | 'top_up' | 'purchase' | 'refund' | 'subscription' | 'card_payment' | 'provider_payment' | 'provider_refund' | 'chargeback';
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

/**
 * What a hosted checkout page is for: a card subscription or a one-off card payment. It is also
 * the idempotency record of POST /v1/subscriptions and POST /v1/payments (a wallet subscription
 * completes its checkout at once). The id is the capability in the checkout URL.
 */
export interface CheckoutsTable {
  id: string;
  customer_id: string;
  idempotency_key: string;
  request_hash: string;
  kind: 'subscription' | 'payment';
  method: PaymentMethod;
  plan: string | null;
  product: string | null;
  title: string;
  price: number;
  currency: string;
  /** Seconds of access a one-off payment buys. */
  validity: number | null;
  origin: string | null;
  return_url: string | null;
  status: 'open' | 'completed';
  subscription_id: string | null;
  payment_intent_id: string | null;
  expires_at: number;
  created_at: number;
  completed_at: number | null;
  /** Who takes the card (`sandbox`, `verotel`, `paymentwall`); `wallet` for a wallet subscription, which needs no page. */
  provider: string;
}

/**
 * A card as the sandbox processor keeps it: never the number or the security code, only what
 * shows (brand, last four, expiry) and how the test card behaves.
 */
export interface CardTokensTable {
  id: string;
  customer_id: string;
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  behaviour: 'plain' | 'sca_always' | 'sca_first' | 'decline_off_session';
  /** Successful payments so far; "SCA on the first payment only" reads it. */
  paid_count: number;
  created_at: number;
}

/** Price, period and products are copied from the plan when the subscription starts. */
export interface SubscriptionsTable {
  id: string;
  customer_id: string;
  plan: string;
  title: string;
  status: SubscriptionStatus;
  method: PaymentMethod;
  card_token_id: string | null;
  price: number;
  currency: string;
  period_length: number;
  period_unit: PeriodUnit;
  /** JSON array of product ids. */
  products: string;
  /** Start of the first paid period; period n ends at anchor + n periods (null until the first payment). */
  anchor_at: number | null;
  /** Last period paid for; 0 while in the trial or before the first payment. */
  current_period: number;
  trial_end: number | null;
  /** Access the subscription gives lasts until then (the paid period end, or the grace while retrying). */
  access_until: number | null;
  cancel_at_period_end: number;
  canceled_at: number | null;
  ended_at: number | null;
  incomplete_expires_at: number | null;
  created_at: number;
  updated_at: number;
  /** The provider that bills it (null: the billing clock charges the wallet or the sandbox card). */
  provider: string | null;
  /** The provider's id of the subscription (Verotel saleID, Paymentwall ref). */
  provider_subscription_id: string | null;
}

/** A card payment, with its 3-D Secure state. */
export interface PaymentIntentsTable {
  id: string;
  customer_id: string;
  kind: PaymentIntentKind;
  status: PaymentIntentStatus;
  amount: number;
  currency: string;
  card_token_id: string;
  checkout_id: string | null;
  subscription_id: string | null;
  charge_id: string | null;
  product: string | null;
  title: string;
  validity: number | null;
  origin: string | null;
  return_url: string | null;
  transaction_id: number | null;
  /** Access a one-off payment granted, once it succeeded. */
  entitlement_expires_at: number | null;
  failure_code: string | null;
  failure_message: string | null;
  expires_at: number;
  created_at: number;
  updated_at: number;
}

/**
 * One row per (subscription, period, attempt), unique: the billing clock can create and charge
 * each at most once. A tick claims a due row by writing `lease_owner` and `lease_until`; a lease
 * that has run out (its owner crashed) may be taken over.
 */
export interface BillingChargesTable {
  id: string;
  subscription_id: string;
  period: number;
  attempt: number;
  status: 'scheduled' | 'succeeded' | 'failed' | 'requires_action' | 'canceled';
  due_at: number;
  amount: number;
  currency: string;
  lease_owner: string | null;
  lease_until: number | null;
  payment_intent_id: string | null;
  transaction_id: number | null;
  failure_code: string | null;
  failure_message: string | null;
  created_at: number;
  processed_at: number | null;
}

/** Emails are written in the transaction of the change they report; the sandbox shows them. */
export interface OutboxEmailsTable {
  id: Generated<number>;
  customer_id: string;
  to_email: string;
  kind: string;
  subject: string;
  body: string;
  link: string | null;
  created_at: number;
}

/** Every callback a provider sent, as received, for audit; whether it was verified and what it did. */
export interface ProviderCallbacksTable {
  id: Generated<number>;
  provider: string;
  received_at: number;
  method: string;
  /** The query string (GET callbacks) and the raw body (POST), unparsed. */
  query: string;
  body: string | null;
  remote_address: string | null;
  outcome: 'applied' | 'duplicate' | 'rejected' | 'ignored';
  detail: string | null;
}

/** A normalized provider event, once: the key is the provider's own id for it, so a replay changes nothing. */
export interface ProviderEventsTable {
  provider: string;
  event_id: string;
  type: string;
  sale_id: string;
  processed_at: number;
}

/** A sale at a provider (a one-off purchase or a subscription) and what it paid for here. */
export interface ProviderSalesTable {
  provider: string;
  sale_id: string;
  checkout_id: string;
  customer_id: string;
  kind: 'payment' | 'subscription';
  product: string | null;
  subscription_id: string | null;
  amount: number;
  currency: string;
  status: 'paid' | 'refunded' | 'charged_back';
  created_at: number;
  updated_at: number;
}

/** A token a provider gave us for a customer (Verotel one-click, Milkipay processor token), sealed with SecretBox. */
export interface CustomerProviderTokensTable {
  customer_id: string;
  provider: string;
  kind: string;
  sealed: string;
  created_at: number;
  updated_at: number;
}

/**
 * A payout to a reader's wallet, keyed by the merchant's transaction id: `pending` while the
 * provider is asked, then the first answer (`succeeded` or `failed`) as sent, replayed for a retry.
 */
export interface PayoutsTable {
  transaction_id: string;
  provider: string;
  customer_id: string;
  amount: number;
  currency: string;
  request_hash: string;
  status: 'pending' | 'succeeded' | 'failed';
  http_status: number | null;
  /** The JSON body answered for this payout. */
  response: string | null;
  created_at: number;
  updated_at: number;
}

/** The last check of a reader's wallet connection (the token itself is in customer_provider_tokens). */
export interface WalletConnectionsTable {
  customer_id: string;
  provider: string;
  status: 'connected' | 'error';
  error_code: string | null;
  error_message: string | null;
  provider_code: string | null;
  checked_at: number;
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
  checkouts: CheckoutsTable;
  card_tokens: CardTokensTable;
  subscriptions: SubscriptionsTable;
  payment_intents: PaymentIntentsTable;
  billing_charges: BillingChargesTable;
  outbox_emails: OutboxEmailsTable;
  provider_callbacks: ProviderCallbacksTable;
  provider_events: ProviderEventsTable;
  provider_sales: ProviderSalesTable;
  customer_provider_tokens: CustomerProviderTokensTable;
  payouts: PayoutsTable;
  wallet_connections: WalletConnectionsTable;
}

/** Rows as read: what the domain and the provider adapters pass around. */
export type CheckoutRow = Selectable<CheckoutsTable>;
export type SubscriptionRow = Selectable<SubscriptionsTable>;
export type IntentRow = Selectable<PaymentIntentsTable>;
