import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../clock';
import type { ServerConfig } from '../config';
import type { EntitlementStore } from './entitlements';
import type { Ledger } from './ledger';
import { LIVE_STATUSES, productsOf, type SubscriptionLifecycle } from './subscription-lifecycle';
import type { CheckoutRow, SubscriptionRow } from '../store/schema';
import { writeTransaction } from './write-transaction';
import type { NotificationStore, PendingNotification } from '../notifications/notification-store';
import type { DatabaseHandle } from '../store/connect';
import type { Database, ProviderSalesTable } from '../store/schema';
import type { ProviderEvent } from '../providers/payment-provider';
import type { CheckoutProviderName } from '../providers/provider-config';
import type { ProviderTokens } from '../providers/provider-tokens';

type Trx = Kysely<Database>;
type SaleRow = Selectable<ProviderSalesTable>;

const updated = (sub: SubscriptionRow, status: 'canceled' | 'active', reason: string): PendingNotification => ({
  customerId: sub.customer_id, type: 'subscribe.updated',
  resource: { subscription: sub.id, plan: sub.plan, status, reason, accessUntil: sub.access_until === null ? null : new Date(Number(sub.access_until)).toISOString() },
});

/** An event that names something we do not know or that contradicts what was sold: nothing is applied. */
export class ProviderEventRejected extends Error {
  constructor(readonly code: 'unknown_checkout' | 'unknown_sale' | 'amount_mismatch', detail: string) {
    super(detail);
    this.name = 'ProviderEventRejected';
  }
}

export interface AppliedEvents {
  applied: number;
  duplicates: number;
}

/**
 * Turns normalized provider events into the same ledger postings, entitlements, subscription
 * states and notifications as sandbox payments. Each event is applied at most once: its
 * (provider, eventId) row is written in the transaction that applies it, so a replayed or
 * concurrent duplicate finds the row and changes nothing.
 */
export class ProviderEventProcessor {
  constructor(
    private readonly database: DatabaseHandle,
    private readonly config: ServerConfig,
    private readonly clock: Clock,
    private readonly ledger: Ledger,
    private readonly entitlements: EntitlementStore,
    private readonly lifecycle: SubscriptionLifecycle,
    private readonly notifications: NotificationStore,
    private readonly tokens: ProviderTokens,
  ) {}

  async apply(provider: CheckoutProviderName, events: ProviderEvent[]): Promise<AppliedEvents> {
    const now = this.clock.now();
    const result = await writeTransaction(this.database, async (trx) => {
      let applied = 0;
      let duplicates = 0;
      const pending: PendingNotification[] = [];
      for (const event of events) {
        const claimed = await trx.insertInto('provider_events')
          .values({ provider, event_id: event.eventId, type: event.kind, sale_id: event.saleId, processed_at: now.getTime() })
          .onConflict((oc) => oc.columns(['provider', 'event_id']).doNothing())
          .executeTakeFirst();
        if (Number(claimed.numInsertedOrUpdatedRows ?? 0n) === 0) {
          duplicates += 1;
          continue;
        }
        pending.push(...(await this.#applyOne(trx, provider, event, now)));
        applied += 1;
      }
      return { applied, duplicates, written: await this.notifications.append(trx, pending, now) };
    });
    this.notifications.publish(result.written);
    return { applied: result.applied, duplicates: result.duplicates };
  }

  async #applyOne(trx: Trx, provider: CheckoutProviderName, event: ProviderEvent, now: Date): Promise<PendingNotification[]> {
    switch (event.kind) {
      case 'paid':
        return this.#paid(trx, provider, event, now);
      case 'subscription.renewed': {
        const sale = await this.#saleOf(trx, provider, event.saleId);
        return this.#renewed(trx, provider, sale, event.saleId, event.amount, event.currency, now);
      }
      case 'refunded':
      case 'charged_back':
        return this.#reversed(trx, provider, await this.#saleOf(trx, provider, event.saleId), event.kind, event.reason, now);
      default:
        return this.#subscriptionChanged(trx, await this.#saleOf(trx, provider, event.saleId), event.kind, event.reason, now);
    }
  }

  async #paid(trx: Trx, provider: CheckoutProviderName, event: Extract<ProviderEvent, { kind: 'paid' }>, now: Date): Promise<PendingNotification[]> {
    // Locked: two sales of one checkout arriving at once must not both find it unpaid.
    const checkout = await trx.selectFrom('checkouts').selectAll().where('id', '=', event.checkoutId).$if(this.database.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirst();
    if (!checkout || checkout.provider !== provider) throw new ProviderEventRejected('unknown_checkout', `${provider} reported a payment for checkout ${event.checkoutId}, which it did not start`);
    if (event.amount !== Number(checkout.price) || event.currency !== checkout.currency) {
      throw new ProviderEventRejected('amount_mismatch', `${provider} reported ${event.amount} ${event.currency} for checkout ${checkout.id}, which costs ${checkout.price} ${checkout.currency}`);
    }
    if (event.oneClickToken) await this.tokens.store(trx, { customerId: checkout.customer_id, provider, kind: 'one_click' }, event.oneClickToken, now);
    const earlier = await trx.selectFrom('provider_sales').select('sale_id').where('checkout_id', '=', checkout.id).execute();
    // The same sale reported under another event id: it is booked already.
    if (earlier.some((sale) => sale.sale_id === event.saleId)) return [];
    const at = now.getTime();
    await this.ledger.post(trx, { kind: 'provider_payment', customerId: checkout.customer_id, currency: event.currency, amount: event.amount, from: 'provider_clearing', to: 'revenue', reference: `${provider} ${event.saleId}`, at: now });
    const sale: SaleRow = {
      provider, sale_id: event.saleId, checkout_id: checkout.id, customer_id: checkout.customer_id, kind: checkout.kind, product: checkout.product, subscription_id: null,
      amount: event.amount, currency: event.currency, status: 'paid', created_at: at, updated_at: at,
    };
    if (earlier.length) {
      // The reader paid this checkout a second time (renewals come as their own event). Rejecting
      // would leave money taken at the provider off our books and its later refund unknown here:
      // the sale is booked as its own, so its refund or chargeback reverses exactly it, but it buys
      // nothing more than the first sale already granted; the merchant refunds it.
      await trx.insertInto('provider_sales').values(sale).execute();
      return [];
    }
    const { pending, subscriptionId } = checkout.kind === 'subscription' ? await this.#subscribed(trx, provider, checkout, event.saleId, now) : { pending: await this.#purchased(trx, provider, checkout, event.saleId, now), subscriptionId: null };
    await trx.insertInto('provider_sales').values({ ...sale, subscription_id: subscriptionId }).execute();
    await trx.updateTable('checkouts').set({ status: 'completed', completed_at: at, subscription_id: subscriptionId }).where('id', '=', checkout.id).execute();
    return pending;
  }

  async #purchased(trx: Trx, provider: CheckoutProviderName, checkout: CheckoutRow, saleId: string, now: Date): Promise<PendingNotification[]> {
    const product = checkout.product!;
    const expiresAt = await this.entitlements.grantFor(trx, checkout.customer_id, product, Number(checkout.validity ?? 0), now);
    const until = new Date(expiresAt).toISOString();
    return [
      { customerId: checkout.customer_id, type: 'payment.card.success', resource: { status: 'success', code: 200, provider, sale: saleId, product, amount: Number(checkout.price), currency: checkout.currency, expiresAt: until } },
      { customerId: checkout.customer_id, type: 'access.granted', resource: { product, expiresAt: until } },
    ];
  }

  async #subscribed(trx: Trx, provider: CheckoutProviderName, checkout: CheckoutRow, saleId: string, now: Date): Promise<{ pending: PendingNotification[]; subscriptionId: string | null }> {
    const plan = this.config.plans.get(checkout.plan ?? '');
    // Paid at the provider for a plan that is gone, or while another subscription to it started: the money is booked, the merchant refunds.
    if (!plan || (await this.lifecycle.liveFor(trx, checkout.customer_id, plan.id))) return { pending: [], subscriptionId: null };
    await this.lifecycle.supersedeIncomplete(trx, checkout.customer_id, plan.id, now);
    const sub = await this.lifecycle.insert(trx, { customerId: checkout.customer_id, plan, method: 'card', cardTokenId: null, now, provider: { name: provider, subscriptionId: saleId } });
    const paid = await this.lifecycle.periodPaid(trx, sub, 1, { now, paymentIntent: null, renewal: false });
    return { pending: paid.pending, subscriptionId: sub.id };
  }

  async #renewed(trx: Trx, provider: CheckoutProviderName, sale: SaleRow, paymentId: string, amount: number, currency: string, now: Date): Promise<PendingNotification[]> {
    await this.ledger.post(trx, { kind: 'provider_payment', customerId: sale.customer_id, currency, amount, from: 'provider_clearing', to: 'revenue', reference: `${provider} ${paymentId} renews ${sale.sale_id}`, at: now });
    const sub = sale.subscription_id ? await this.lifecycle.lock(trx, sale.subscription_id) : undefined;
    if (!sub || !(LIVE_STATUSES as readonly string[]).includes(sub.status)) return [];
    return (await this.lifecycle.periodPaid(trx, sub, Number(sub.current_period) + 1, { now, paymentIntent: null, renewal: true })).pending;
  }

  async #reversed(trx: Trx, provider: CheckoutProviderName, sale: SaleRow, kind: 'refunded' | 'charged_back', reason: string, now: Date): Promise<PendingNotification[]> {
    if (sale.status !== 'paid') return [];
    await this.ledger.post(trx, {
      kind: kind === 'refunded' ? 'provider_refund' : 'chargeback', customerId: sale.customer_id, currency: sale.currency, amount: Number(sale.amount),
      from: 'revenue', to: 'provider_clearing', reference: `${provider} ${sale.sale_id} ${reason}`, at: now,
    });
    await trx.updateTable('provider_sales').set({ status: kind, updated_at: now.getTime() }).where('provider', '=', provider).where('sale_id', '=', sale.sale_id).execute();
    if (sale.kind === 'subscription') {
      const sub = sale.subscription_id ? await this.lifecycle.lock(trx, sale.subscription_id) : undefined;
      if (!sub || !(LIVE_STATUSES as readonly string[]).includes(sub.status)) return [];
      return (await this.lifecycle.end(trx, sub, 'expired', now, kind)).pending;
    }
    // A checkout paid twice: the access stays while one of its sales is still paid.
    const stillPaid = await trx.selectFrom('provider_sales').select('sale_id').where('checkout_id', '=', sale.checkout_id).where('status', '=', 'paid').executeTakeFirst();
    if (stillPaid) return [];
    return this.#revokeProduct(trx, sale.customer_id, sale.product!, kind, now);
  }

  /** Takes back a refunded purchase; a live subscription that includes the product keeps it readable. */
  async #revokeProduct(trx: Trx, customerId: string, product: string, reason: string, now: Date): Promise<PendingNotification[]> {
    const at = now.getTime();
    const held = await this.entitlements.current(trx, customerId, product);
    if (held === null) return [];
    const subs = await trx.selectFrom('subscriptions').select(['products', 'access_until']).where('customer_id', '=', customerId).where('status', 'in', LIVE_STATUSES).where('access_until', '>', at).execute();
    const covered = Math.max(0, ...subs.filter((s) => productsOf(s).includes(product)).map((s) => Number(s.access_until)));
    if (covered >= held) return [];
    const expiresAt = Math.max(covered, at);
    await this.entitlements.setExpiry(trx, customerId, product, expiresAt);
    return [covered > at
      ? { customerId, type: 'access.granted', resource: { product, expiresAt: new Date(covered).toISOString() } }
      : { customerId, type: 'access.revoked', resource: { product, reason } }];
  }

  async #subscriptionChanged(trx: Trx, sale: SaleRow, kind: 'subscription.canceled' | 'subscription.uncanceled' | 'subscription.expired' | 'subscription.failed', reason: string, now: Date): Promise<PendingNotification[]> {
    const sub = sale.subscription_id ? await this.lifecycle.lock(trx, sale.subscription_id) : undefined;
    if (!sub) return [];
    const at = now.getTime();
    switch (kind) {
      case 'subscription.canceled':
        // Canceled at the provider: access lasts until the end of the paid period.
        if (sub.status !== 'active' && sub.status !== 'past_due') return [];
        await trx.updateTable('subscriptions').set({ status: 'canceled', cancel_at_period_end: 1, canceled_at: at, updated_at: at }).where('id', '=', sub.id).execute();
        return [updated(sub, 'canceled', reason)];
      case 'subscription.uncanceled':
        if (sub.status !== 'canceled' || Number(sub.access_until ?? 0) <= at) return [];
        await trx.updateTable('subscriptions').set({ status: 'active', cancel_at_period_end: 0, canceled_at: null, updated_at: at }).where('id', '=', sub.id).execute();
        return [updated(sub, 'active', reason)];
      case 'subscription.expired':
        return this.#end(trx, sub, 'expired', reason, now);
      case 'subscription.failed': {
        const ended = await this.#end(trx, sub, 'failed', reason, now);
        return ended.length ? [this.lifecycle.failedNotification(sub, { reason, message: 'The renewal payment failed at the payment provider; the subscription has stopped.', paymentIntent: null }), ...ended] : [];
      }
    }
  }

  async #end(trx: Trx, sub: SubscriptionRow, status: 'expired' | 'failed', reason: string, now: Date): Promise<PendingNotification[]> {
    if (!(LIVE_STATUSES as readonly string[]).includes(sub.status)) return [];
    return (await this.lifecycle.end(trx, sub, status, now, reason)).pending;
  }

  async #saleOf(trx: Trx, provider: CheckoutProviderName, saleId: string): Promise<SaleRow> {
    const sale = await trx.selectFrom('provider_sales').selectAll().where('provider', '=', provider).where('sale_id', '=', saleId).executeTakeFirst();
    if (!sale) throw new ProviderEventRejected('unknown_sale', `${provider} reported an event for sale ${saleId}, which was never paid here`);
    return sale;
  }
}
