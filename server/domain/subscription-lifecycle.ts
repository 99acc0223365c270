import type { Kysely } from 'kysely';
import type { CardSummary, Subscription, SubscriptionStatus } from '../../src/protocol';
import type { CatalogPlan } from '../config';
import type { PendingNotification } from '../notifications/notification-store';
import type { Database, Dialect, IntentRow, SubscriptionRow } from '../store/schema';
import { addDays, periodEnd, periodStart, type Period } from './billing-dates';
import type { EntitlementStore } from './entitlements';
import { InsufficientFundsError, type Ledger } from './ledger';
import type { Email, EmailOutbox } from './outbox';
import type { PaymentLinks } from './payment-links';
import { sandboxCharge } from '../providers/sandbox/sandbox-cards';
import { newId } from './tokens';

type Trx = Kysely<Database>;

/** Three attempts in all: the scheduled charge and two retries. */
export const MAX_ATTEMPTS = 3;
/** How long a reader has to pass 3-D Secure for a payment they started (InPlayer: 24 h). */
export const AUTHENTICATION_WINDOW_MS = 24 * 3600 * 1000;
/** Statuses that hold the plan: a second subscription to the same plan is refused while one of them exists. */
export const LIVE_STATUSES = ['active', 'past_due', 'canceled'] as const satisfies readonly SubscriptionStatus[];

export type Collected =
  | { result: 'succeeded'; transactionId: number; pending: PendingNotification[] }
  | { result: 'requires_action' }
  | { result: 'declined'; code: string; message: string };

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const periodOf = (row: Pick<SubscriptionRow, 'period_length' | 'period_unit'>): Period => ({ length: Number(row.period_length), unit: row.period_unit });
export const productsOf = (row: Pick<SubscriptionRow, 'products'>): string[] => JSON.parse(row.products) as string[];

/**
 * The state changes every part of billing shares — the API, the hosted checkout and 3-D Secure
 * pages and the billing clock: inserting a subscription, paying a period, scheduling the next
 * charge, granting and revoking the plan's access, ending a subscription. Every method runs
 * inside the caller's write transaction and returns the notifications to append.
 */
export class SubscriptionLifecycle {
  constructor(
    private readonly dialect: Dialect,
    private readonly ledger: Ledger,
    private readonly entitlements: EntitlementStore,
    private readonly outbox: EmailOutbox,
    private readonly links: PaymentLinks,
  ) {}

  /** Reads a subscription and, on PostgreSQL, locks it: every change to a subscription locks it first, so they queue. */
  async lock(trx: Trx, id: string): Promise<SubscriptionRow | undefined> {
    return trx.selectFrom('subscriptions').selectAll().where('id', '=', id).$if(this.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirst();
  }

  async liveFor(trx: Trx, customerId: string, plan: string): Promise<SubscriptionRow | undefined> {
    return trx.selectFrom('subscriptions').selectAll().where('customer_id', '=', customerId).where('plan', '=', plan).where('status', 'in', LIVE_STATUSES).executeTakeFirst();
  }

  /** A new subscription to a plan replaces an abandoned incomplete one, so both can never be activated. */
  async supersedeIncomplete(trx: Trx, customerId: string, plan: string, now: Date): Promise<void> {
    const stale = await trx.selectFrom('subscriptions').select('id').where('customer_id', '=', customerId).where('plan', '=', plan).where('status', '=', 'incomplete').execute();
    for (const { id } of stale) {
      const row = await this.lock(trx, id);
      if (row?.status === 'incomplete') await this.end(trx, row, 'incomplete_expired', now, 'superseded');
    }
  }

  async insert(trx: Trx, input: { customerId: string; plan: CatalogPlan; method: 'wallet' | 'card'; cardTokenId: string | null; now: Date; provider?: { name: string; subscriptionId: string } }): Promise<SubscriptionRow> {
    const { plan, now } = input;
    const at = now.getTime();
    const trialEnd = plan.trialDays ? addDays(at, plan.trialDays) : null;
    const row: SubscriptionRow = {
      id: newId('sub'), customer_id: input.customerId, plan: plan.id, title: plan.title,
      // A trial starts active; a paid start stays incomplete until the first payment succeeds.
      status: trialEnd ? 'active' : 'incomplete',
      method: input.method, card_token_id: input.cardTokenId, price: plan.price, currency: plan.currency,
      period_length: plan.periodLength, period_unit: plan.periodUnit, products: JSON.stringify(plan.products),
      anchor_at: trialEnd, current_period: 0, trial_end: trialEnd, access_until: trialEnd,
      cancel_at_period_end: 0, canceled_at: null, ended_at: null, incomplete_expires_at: null, created_at: at, updated_at: at,
      provider: input.provider?.name ?? null, provider_subscription_id: input.provider?.subscriptionId ?? null,
    };
    await trx.insertInto('subscriptions').values(row).execute();
    return row;
  }

  /** A trial started: access until its end, and the first charge when it ends. */
  async startTrial(trx: Trx, sub: SubscriptionRow, now: Date): Promise<PendingNotification[]> {
    const trialEnd = Number(sub.trial_end);
    await this.schedule(trx, sub, 1, 1, trialEnd, now);
    const pending = await this.grantAccess(trx, sub, trialEnd, now);
    return [this.#success(sub, { periodEndAt: trialEnd, amount: 0, paymentIntent: null, renewal: false }), ...pending];
  }

  /**
   * Period `n` is paid: the subscription is active until its end, leftover retries for it are
   * dropped, the charge for period n + 1 is scheduled for the moment period n ends, and the
   * plan's products are granted until then. The first paid period anchors the calendar.
   */
  async periodPaid(trx: Trx, sub: SubscriptionRow, n: number, { now, paymentIntent, renewal }: { now: Date; paymentIntent: string | null; renewal: boolean }): Promise<{ sub: SubscriptionRow; pending: PendingNotification[] }> {
    const anchor = sub.anchor_at === null ? now.getTime() : Number(sub.anchor_at);
    const end = periodEnd(anchor, n, periodOf(sub));
    const changes = { status: 'active' as const, anchor_at: anchor, current_period: n, access_until: end, incomplete_expires_at: null, updated_at: now.getTime() };
    await trx.updateTable('subscriptions').set(changes).where('id', '=', sub.id).execute();
    const updated = { ...sub, ...changes };
    await trx.updateTable('billing_charges').set({ status: 'canceled', processed_at: now.getTime() }).where('subscription_id', '=', sub.id).where('period', '=', n).where('status', '=', 'scheduled').execute();
    await this.schedule(trx, updated, n + 1, 1, end, now);
    const pending = await this.grantAccess(trx, updated, end, now);
    return { sub: updated, pending: [this.#success(updated, { periodEndAt: end, amount: Number(sub.price), paymentIntent, renewal }), ...pending] };
  }

  /** Inserts the charge of (period, attempt) unless it exists: the unique key makes it once. A provider bills its own subscriptions. */
  async schedule(trx: Trx, sub: SubscriptionRow, period: number, attempt: number, dueAt: number, now: Date): Promise<void> {
    if (sub.provider !== null) return;
    await trx.insertInto('billing_charges').values({
      id: newId('ch'), subscription_id: sub.id, period, attempt, status: 'scheduled', due_at: dueAt, amount: Number(sub.price), currency: sub.currency,
      lease_owner: null, lease_until: null, payment_intent_id: null, transaction_id: null, failure_code: null, failure_message: null, created_at: now.getTime(), processed_at: null,
    }).onConflict((oc) => oc.columns(['subscription_id', 'period', 'attempt']).doNothing()).execute();
  }

  /** A charge made outside the clock (the first payment at checkout), recorded with its outcome. */
  async recordCharge(trx: Trx, sub: SubscriptionRow, input: { period: number; status: 'succeeded' | 'requires_action'; paymentIntent: string | null; transactionId: number | null; now: Date }): Promise<string> {
    const id = newId('ch');
    await trx.insertInto('billing_charges').values({
      id, subscription_id: sub.id, period: input.period, attempt: 1, status: input.status, due_at: input.now.getTime(), amount: Number(sub.price), currency: sub.currency,
      lease_owner: null, lease_until: null, payment_intent_id: input.paymentIntent, transaction_id: input.transactionId, failure_code: null, failure_message: null,
      created_at: input.now.getTime(), processed_at: input.now.getTime(),
    }).execute();
    return id;
  }

  /**
   * Takes one period's price: from the wallet, or from the card on file through the sandbox
   * processor. `authenticated` is a card payment the reader has just approved on the 3-D Secure page.
   */
  async collect(trx: Trx, sub: SubscriptionRow, { offSession, authenticated = false, now }: { offSession: boolean; authenticated?: boolean; now: Date }): Promise<Collected> {
    const amount = Number(sub.price);
    if (sub.method === 'wallet') {
      try {
        await this.ledger.lockWallet(trx, sub.customer_id, sub.currency);
        const { transactionId, wallet } = await this.ledger.post(trx, { kind: 'subscription', customerId: sub.customer_id, currency: sub.currency, amount, from: 'wallet', to: 'revenue', reference: sub.id, at: now });
        return { result: 'succeeded', transactionId, pending: [{ customerId: sub.customer_id, type: 'wallet.balance.changed', resource: { ...wallet, delta: -amount, reason: 'subscription' } }] };
      } catch (error) {
        if (error instanceof InsufficientFundsError) return { result: 'declined', code: 'insufficient_funds', message: 'The wallet balance is too low for this subscription. Top up to keep it.' };
        throw error;
      }
    }
    const token = await trx.selectFrom('card_tokens').selectAll().where('id', '=', sub.card_token_id ?? '').executeTakeFirstOrThrow();
    const outcome = sandboxCharge(token, { offSession, authenticated, now });
    if (outcome.result !== 'succeeded') return outcome;
    const transactionId = await this.chargeCard(trx, { customerId: sub.customer_id, cardTokenId: token.id, last4: token.last4, amount, currency: sub.currency, kind: 'subscription', reference: sub.id, now });
    return { result: 'succeeded', transactionId, pending: [] };
  }

  /** Books a card payment: the processor's clearing account pays revenue; the card has one more successful payment. */
  async chargeCard(trx: Trx, input: { customerId: string; cardTokenId: string; last4: string; amount: number; currency: string; kind: 'subscription' | 'card_payment'; reference: string; now: Date }): Promise<number> {
    const { transactionId } = await this.ledger.post(trx, {
      kind: input.kind, customerId: input.customerId, currency: input.currency, amount: input.amount,
      from: 'card_clearing', to: 'revenue', reference: `${input.reference} card ${input.last4}`, at: input.now,
    });
    await trx.updateTable('card_tokens').set((eb) => ({ paid_count: eb('paid_count', '+', 1) })).where('id', '=', input.cardTokenId).execute();
    return transactionId;
  }

  /** A card payment the reader must approve on the hosted 3-D Secure page. */
  async createIntent(trx: Trx, input: Omit<IntentRow, 'id' | 'status' | 'transaction_id' | 'entitlement_expires_at' | 'failure_code' | 'failure_message' | 'created_at' | 'updated_at'> & { status: IntentRow['status']; now: Date; transactionId?: number | null }): Promise<IntentRow> {
    const { now, transactionId, ...fields } = input;
    const row: IntentRow = { ...fields, id: newId('pi'), transaction_id: transactionId ?? null, entitlement_expires_at: null, failure_code: null, failure_message: null, created_at: now.getTime(), updated_at: now.getTime() };
    await trx.insertInto('payment_intents').values(row).execute();
    return row;
  }

  /** The renewal payment of `sub` still waiting for the reader's 3-D Secure, if any. */
  async openIntent(trx: Trx, subscriptionId: string, now: Date): Promise<IntentRow | undefined> {
    return trx.selectFrom('payment_intents').selectAll().where('subscription_id', '=', subscriptionId).where('status', '=', 'requires_action').where('expires_at', '>', now.getTime()).executeTakeFirst();
  }

  /**
   * Ends a subscription: no more charges, pending 3-D Secure payments canceled, and (unless it
   * never gave access) the plan's access revoked with `access.revoked`.
   */
  async end(trx: Trx, sub: SubscriptionRow, status: 'failed' | 'expired' | 'incomplete_expired', now: Date, reason: string): Promise<{ sub: SubscriptionRow; pending: PendingNotification[] }> {
    const at = now.getTime();
    await trx.updateTable('subscriptions').set({ status, ended_at: at, updated_at: at, incomplete_expires_at: null }).where('id', '=', sub.id).execute();
    await trx.updateTable('billing_charges').set({ status: 'canceled', processed_at: at }).where('subscription_id', '=', sub.id).where('status', '=', 'scheduled').execute();
    // A payment that waited for 3-D Secure and never got it is a failed attempt.
    await trx.updateTable('billing_charges').set({ status: 'failed', failure_code: 'authentication_expired', failure_message: 'The payment was never confirmed with the bank.', processed_at: at })
      .where('subscription_id', '=', sub.id).where('status', '=', 'requires_action').execute();
    await trx.updateTable('payment_intents').set({ status: 'canceled', updated_at: at }).where('subscription_id', '=', sub.id).where('status', 'in', ['requires_action', 'requires_confirmation']).execute();
    const ended = { ...sub, status, ended_at: at, updated_at: at, incomplete_expires_at: null };
    const pending = sub.status === 'incomplete' ? [] : await this.revokeAccess(trx, ended, now, reason);
    return { sub: ended, pending };
  }

  /**
   * Grants the plan's products until `until` (never shortening access the reader holds for
   * longer, e.g. from a purchase) and records it as the subscription's access.
   */
  async grantAccess(trx: Trx, sub: SubscriptionRow, until: number, now: Date): Promise<PendingNotification[]> {
    await trx.updateTable('subscriptions').set({ access_until: until }).where('id', '=', sub.id).execute();
    sub.access_until = until;
    const pending: PendingNotification[] = [];
    for (const product of productsOf(sub)) {
      const held = await this.entitlements.current(trx, sub.customer_id, product);
      if (held !== null && held >= until) continue;
      await this.entitlements.grant(trx, sub.customer_id, product, now.getTime(), until);
      pending.push({ customerId: sub.customer_id, type: 'access.granted', resource: { product, expiresAt: new Date(until).toISOString() } });
    }
    return pending;
  }

  /**
   * Takes back the access this subscription gave: a product keeps access someone else granted
   * for longer (a purchase, another live subscription to a plan with the same product).
   */
  async revokeAccess(trx: Trx, sub: SubscriptionRow, now: Date, reason: string): Promise<PendingNotification[]> {
    const at = now.getTime();
    const grantedUntil = sub.access_until === null ? null : Number(sub.access_until);
    if (grantedUntil === null) return [];
    const others = await trx.selectFrom('subscriptions').select(['products', 'access_until'])
      .where('customer_id', '=', sub.customer_id).where('id', '<>', sub.id).where('status', 'in', LIVE_STATUSES).where('access_until', '>', at).execute();
    const pending: PendingNotification[] = [];
    for (const product of productsOf(sub)) {
      const row = await trx.selectFrom('entitlements').select('expires_at').where('customer_id', '=', sub.customer_id).where('product', '=', product).executeTakeFirst();
      if (!row || Number(row.expires_at) > grantedUntil) continue;
      const coveredUntil = Math.max(0, ...others.filter((o) => productsOf(o).includes(product)).map((o) => Number(o.access_until)));
      const expiresAt = coveredUntil > at ? coveredUntil : Math.min(Number(row.expires_at), at);
      await this.entitlements.setExpiry(trx, sub.customer_id, product, expiresAt);
      pending.push(expiresAt > at
        ? { customerId: sub.customer_id, type: 'access.granted', resource: { product, expiresAt: new Date(expiresAt).toISOString() } }
        : { customerId: sub.customer_id, type: 'access.revoked', resource: { product, reason } });
    }
    return pending;
  }

  failedNotification(sub: SubscriptionRow, input: { reason: string; message: string; paymentIntent: string | null }): PendingNotification {
    return { customerId: sub.customer_id, type: 'subscribe.failed', resource: { code: 422, reason: input.reason, message: input.message, subscription: sub.id, plan: sub.plan, payment_intent: input.paymentIntent } };
  }

  async email(trx: Trx, customerId: string, kind: Email['kind'], subject: string, text: string, link: string | null, now: Date): Promise<void> {
    await this.outbox.write(trx, { customerId, kind, subject, text, link }, now);
  }

  #success(sub: SubscriptionRow, input: { periodEndAt: number; amount: number; paymentIntent: string | null; renewal: boolean }): PendingNotification {
    return {
      customerId: sub.customer_id, type: 'subscribe.success',
      resource: {
        status: 'success', code: 200, subscription: sub.id, plan: sub.plan, method: sub.method, amount: input.amount, currency: sub.currency,
        payment_intent: input.paymentIntent, renewal: input.renewal, currentPeriodEnd: new Date(input.periodEndAt).toISOString(),
      },
    };
  }

  /** The status a reader sees: an incomplete past its 24 h or a canceled past its period is shown as what it has become. */
  displayStatus(row: SubscriptionRow, now: Date): SubscriptionStatus {
    const at = now.getTime();
    if (row.status === 'incomplete' && row.incomplete_expires_at !== null && Number(row.incomplete_expires_at) <= at) return 'incomplete_expired';
    if (row.status === 'canceled' && row.access_until !== null && Number(row.access_until) <= at) return 'expired';
    return row.status;
  }

  async toDtos(db: Trx, rows: SubscriptionRow[], now: Date): Promise<Subscription[]> {
    if (!rows.length) return [];
    const ids = rows.map((r) => r.id);
    const tokenIds = rows.map((r) => r.card_token_id).filter((id): id is string => id !== null);
    const cards = new Map<string, CardSummary>();
    if (tokenIds.length) {
      for (const t of await db.selectFrom('card_tokens').select(['id', 'brand', 'last4']).where('id', 'in', tokenIds).execute()) cards.set(t.id, { brand: t.brand, last4: t.last4 });
    }
    const next = new Map<string, number>();
    for (const c of await db.selectFrom('billing_charges').select(['subscription_id', 'due_at']).where('subscription_id', 'in', ids).where('status', '=', 'scheduled').execute()) {
      const due = Number(c.due_at);
      if (!next.has(c.subscription_id) || due < next.get(c.subscription_id)!) next.set(c.subscription_id, due);
    }
    const open = new Map<string, IntentRow>();
    for (const i of await db.selectFrom('payment_intents').selectAll().where('subscription_id', 'in', ids).where('status', '=', 'requires_action').where('expires_at', '>', now.getTime()).execute()) {
      if (i.subscription_id) open.set(i.subscription_id, i);
    }
    return rows.map((row) => {
      const status = this.displayStatus(row, now);
      const period = periodOf(row);
      const n = Number(row.current_period);
      const anchor = row.anchor_at === null ? null : Number(row.anchor_at);
      const renewing = status === 'active' || status === 'past_due';
      const intent = renewing || status === 'incomplete' ? open.get(row.id) : undefined;
      return {
        id: row.id, plan: row.plan, title: row.title, status, method: row.method,
        card: row.card_token_id ? cards.get(row.card_token_id) ?? null : null,
        ...(row.provider ? { provider: row.provider } : {}),
        price: Number(row.price), currency: row.currency, periodLength: period.length, periodUnit: period.unit,
        currentPeriodStart: anchor === null ? null : iso(n === 0 ? Number(row.created_at) : periodStart(anchor, n, period)),
        currentPeriodEnd: anchor === null ? null : iso(periodEnd(anchor, n, period)),
        trialEndsAt: iso(row.trial_end === null ? null : Number(row.trial_end)),
        nextBillingAt: renewing ? iso(next.get(row.id) ?? null) : null,
        cancelAtPeriodEnd: Number(row.cancel_at_period_end) === 1,
        canceledAt: iso(row.canceled_at === null ? null : Number(row.canceled_at)),
        endedAt: iso(row.ended_at === null ? null : Number(row.ended_at)),
        createdAt: new Date(Number(row.created_at)).toISOString(),
        pendingAction: intent ? { paymentIntent: intent.id, redirectToUrl: this.links.authenticationUrl(intent.id), expiresAt: new Date(Number(intent.expires_at)).toISOString() } : null,
      };
    });
  }
}
