import type { Kysely, Selectable } from 'kysely';
import type { Logger } from 'pino';
import type { CreateSubscriptionRequest, CreateSubscriptionResponse, Subscription } from '../../src/protocol';
import type { Clock } from '../clock';
import { cardProviderAvailable, type ServerConfig } from '../config';
import { ApiError } from '../errors';
import type { NotificationStore, PendingNotification } from '../notifications/notification-store';
import type { PaymentProviders } from '../providers/payment-providers';
import type { DatabaseHandle } from '../store/connect';
import type { CheckoutsTable, Database } from '../store/schema';
import type { HostedUrls } from './hosted-urls';
import type { Ledger } from './ledger';
import type { PaymentLinks } from './payment-links';
import type { SubscriptionLifecycle } from './subscription-lifecycle';
import type { SubscriptionRow } from '../store/schema';
import { newId } from './tokens';
import { isUniqueViolation, retryOnUniqueViolation, writeTransaction } from './write-transaction';
import { CHECKOUT_LIFETIME_MS, reopenIfExpired } from './checkouts';
import { replayed, requestHash } from './idempotency';

/** How long a hosted checkout link works; replaying the request's idempotency key reopens it. */

type Trx = Kysely<Database>;

/** The reader's side of subscriptions: list, subscribe (wallet at once, card through the hosted checkout), cancel. */
export class SubscriptionService {
  constructor(
    private readonly database: DatabaseHandle,
    private readonly config: ServerConfig,
    private readonly clock: Clock,
    private readonly lifecycle: SubscriptionLifecycle,
    private readonly ledger: Ledger,
    private readonly notifications: NotificationStore,
    private readonly urls: HostedUrls,
    private readonly links: PaymentLinks,
    private readonly providers: PaymentProviders,
    private readonly logger: Logger,
  ) {}

  async list(customerId: string): Promise<Subscription[]> {
    const { db } = this.database;
    const rows = await db.selectFrom('subscriptions').selectAll().where('customer_id', '=', customerId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(100).execute();
    return this.lifecycle.toDtos(db, rows, this.clock.now());
  }

  async create(customerId: string | null, request: CreateSubscriptionRequest, origin: string | undefined): Promise<CreateSubscriptionResponse> {
    const plan = this.config.plans.get(request.plan);
    if (!plan) throw new ApiError(404, 'unknown_plan', `There is no plan "${request.plan}" in the catalog.`);
    if (!customerId) throw new ApiError(401, 'sign_in_required', 'Sign in to subscribe.', { signInUrl: this.urls.page('sign-in', origin) });
    if (!plan.methods.includes(request.method)) throw new ApiError(400, 'payment_method_not_allowed', `The plan "${plan.id}" cannot be paid by ${request.method}; use ${plan.methods.join(' or ')}.`);
    if (request.method === 'card' && !cardProviderAvailable(this.config, plan.provider)) throw new ApiError(400, 'payment_method_unavailable', 'Card payments are not available on this backend.');
    if (request.method === 'card') this.providers.requireCurrency(plan.provider, plan.currency);
    const returnUrl = this.#returnUrl(request.returnUrl);
    const hash = requestHash(['subscription', request.plan, request.method, returnUrl]);
    const now = this.clock.now();
    const result = await retryOnUniqueViolation(() => writeTransaction(this.database, async (trx) => {
      // Like a purchase, a wallet subscription first locks the wallet: one customer's wallet payments queue.
      if (request.method === 'wallet') await this.ledger.lockWallet(trx, customerId, plan.currency);
      const stored = await trx.selectFrom('checkouts').selectAll().where('customer_id', '=', customerId).where('idempotency_key', '=', request.idempotencyKey).executeTakeFirst();
      const previous = replayed(stored, hash, 'subscription', stored?.kind === 'subscription');
      if (previous) {
        return { response: await this.#replay(trx, previous, now), written: [] };
      }
      const live = await this.lifecycle.liveFor(trx, customerId, plan.id);
      if (live) throw this.#exists(live);
      const checkout: Selectable<CheckoutsTable> = {
        id: newId('chk'), customer_id: customerId, idempotency_key: request.idempotencyKey, request_hash: hash, kind: 'subscription', method: request.method,
        plan: plan.id, product: null, title: plan.title, price: plan.price, currency: plan.currency, validity: null,
        origin: this.urls.isMerchantOrigin(origin) ? origin : null, return_url: returnUrl, status: 'open', subscription_id: null, payment_intent_id: null,
        expires_at: now.getTime() + CHECKOUT_LIFETIME_MS, created_at: now.getTime(), completed_at: null, provider: request.method === 'card' ? plan.provider : 'wallet',
      };
      if (request.method === 'card') {
        await trx.insertInto('checkouts').values(checkout).execute();
        return { response: this.#checkoutRequired(checkout), written: [] };
      }
      // Wallet: charged now, in this transaction; too little balance changes nothing and says how much is missing.
      await this.lifecycle.supersedeIncomplete(trx, customerId, plan.id, now);
      let sub = await this.lifecycle.insert(trx, { customerId, plan, method: 'wallet', cardTokenId: null, now });
      const pending: PendingNotification[] = [];
      if (sub.trial_end !== null) {
        pending.push(...(await this.lifecycle.startTrial(trx, sub, now)));
      } else {
        const collected = await this.lifecycle.collect(trx, sub, { offSession: false, now });
        if (collected.result !== 'succeeded') {
          const wallet = await trx.selectFrom('ledger_accounts').select('balance').where('customer_id', '=', customerId).where('kind', '=', 'wallet').executeTakeFirstOrThrow();
          const missing = plan.price - Number(wallet.balance);
          throw new ApiError(402, 'insufficient_funds', 'Your wallet balance is too low for this subscription. Top up to continue.', {
            missing, topUpUrl: this.urls.page('top-up', origin, { amount: String(missing), currency: plan.currency }),
          });
        }
        pending.push(...collected.pending);
        await this.lifecycle.recordCharge(trx, sub, { period: 1, status: 'succeeded', paymentIntent: null, transactionId: collected.transactionId, now });
        const paid = await this.lifecycle.periodPaid(trx, sub, 1, { now, paymentIntent: null, renewal: false });
        sub = paid.sub;
        pending.push(...paid.pending);
      }
      await trx.insertInto('checkouts').values({ ...checkout, status: 'completed', subscription_id: sub.id, completed_at: now.getTime() }).execute();
      const [dto] = await this.lifecycle.toDtos(trx, [sub], now);
      return { response: { status: dto!.status, subscription: dto! }, written: await this.notifications.append(trx, pending, now) };
    })).catch((error) => {
      // Two requests racing for the same plan: the one-live-subscription index decides.
      if (!(error instanceof ApiError) && isUniqueViolation(error)) throw new ApiError(409, 'subscription_exists', 'You already subscribe to this plan.');
      throw error;
    });
    this.notifications.publish(result.written);
    return result.response;
  }

  /**
   * Cancel at period end: access lasts until the end of the paid period, then the subscription
   * expires. A subscription whose paid period is already over (past due) ends now; an incomplete
   * one can then never be activated.
   */
  async cancel(customerId: string, id: string): Promise<Subscription> {
    await this.#cancelAtProvider(customerId, id);
    const now = this.clock.now();
    const at = now.getTime();
    const result = await writeTransaction(this.database, async (trx) => {
      let sub = await this.lifecycle.lock(trx, id);
      if (!sub || sub.customer_id !== customerId) throw new ApiError(404, 'subscription_not_found', 'There is no such subscription on this account.');
      let pending: PendingNotification[] = [];
      if (sub.status === 'active' || sub.status === 'past_due') {
        await trx.updateTable('subscriptions').set({ cancel_at_period_end: 1, canceled_at: at, updated_at: at }).where('id', '=', sub.id).execute();
        sub = { ...sub, cancel_at_period_end: 1, canceled_at: at, updated_at: at };
        if (sub.status === 'past_due' || this.#paidUntil(sub) <= at) {
          ({ sub, pending } = await this.lifecycle.end(trx, sub, 'expired', now, 'subscription_canceled'));
        } else {
          await trx.updateTable('subscriptions').set({ status: 'canceled' }).where('id', '=', sub.id).execute();
          await trx.updateTable('billing_charges').set({ status: 'canceled', processed_at: at }).where('subscription_id', '=', sub.id).where('status', '=', 'scheduled').execute();
          sub = { ...sub, status: 'canceled' };
        }
      } else if (sub.status === 'incomplete') {
        ({ sub, pending } = await this.lifecycle.end(trx, sub, 'incomplete_expired', now, 'subscription_canceled'));
      }
      const [dto] = await this.lifecycle.toDtos(trx, [sub], now);
      return { dto: dto!, written: await this.notifications.append(trx, pending, now) };
    });
    this.notifications.publish(result.written);
    return result.dto;
  }

  /**
   * A card subscription is canceled at its provider first (the sandbox's is billed here, so it
   * agrees at once). Where only the buyer can cancel it, on the provider's page (Verotel), nothing
   * changes here: the answer names that page, and the provider's cancel callback cancels it here.
   * A provider no longer configured cannot be asked. Wallet subscriptions have no provider.
   */
  async #cancelAtProvider(customerId: string, id: string): Promise<void> {
    const sub = await this.database.db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!sub || sub.customer_id !== customerId || sub.method !== 'card' || (sub.status !== 'active' && sub.status !== 'past_due')) return;
    const cancellation = await this.providers.get(sub.provider ?? 'sandbox')?.cancelSubscription(sub).catch((error: unknown) => {
      // Not reached, refused or answered nonsense: nothing changed anywhere, so the reader can try again.
      this.logger.warn({ err: error, subscription: sub.id, provider: sub.provider }, 'provider could not cancel a subscription');
      throw new ApiError(502, 'provider_unavailable', 'The payment provider could not cancel this subscription right now. Nothing was changed; try again in a moment.');
    });
    if (cancellation?.kind === 'redirect') {
      throw new ApiError(409, 'cancel_at_provider', 'This subscription is billed by a payment provider: cancel it on the provider\'s page.', { cancelUrl: cancellation.url });
    }
  }

  /** The end of the last paid period (or of the trial). */
  #paidUntil(sub: SubscriptionRow): number {
    return Number(sub.access_until ?? 0);
  }

  async #replay(trx: Trx, checkout: Selectable<CheckoutsTable>, now: Date): Promise<CreateSubscriptionResponse> {
    if (checkout.status === 'open') return this.#checkoutRequired(await reopenIfExpired(trx, checkout, now));
    const sub = await trx.selectFrom('subscriptions').selectAll().where('id', '=', checkout.subscription_id ?? '').executeTakeFirstOrThrow();
    const [dto] = await this.lifecycle.toDtos(trx, [sub], now);
    return { status: dto!.status, subscription: dto! };
  }

  #checkoutRequired(checkout: Pick<Selectable<CheckoutsTable>, 'id' | 'expires_at'>): CreateSubscriptionResponse {
    return { status: 'requires_payment_method', checkoutUrl: this.links.checkoutUrl(checkout.id), expiresAt: new Date(Number(checkout.expires_at)).toISOString() };
  }

  #exists(live: SubscriptionRow): ApiError {
    const until = live.access_until === null ? '' : ` It runs until ${new Date(Number(live.access_until)).toISOString().slice(0, 10)}.`;
    return new ApiError(409, 'subscription_exists', `You already subscribe to this plan.${until}`);
  }

  #returnUrl(value: string | undefined): string | null {
    if (value === undefined) return null;
    const url = this.urls.returnUrl(value);
    if (!url) throw new ApiError(400, 'invalid_return_url', 'returnUrl must be an http(s) URL on an allowed merchant origin, or a path on this backend.');
    return url;
  }
}
