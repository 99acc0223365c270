import type { Kysely, Selectable } from 'kysely';
import type { CardInput, PaymentRequest, PaymentResponse } from '../../src/protocol';
import type { Clock } from '../clock';
import { cardProviderAvailable, type CatalogPlan, type ServerConfig } from '../config';
import { ApiError } from '../errors';
import type { NotificationStore, PendingNotification } from '../notifications/notification-store';
import type { PaymentProviders } from '../providers/payment-providers';
import type { DatabaseHandle } from '../store/connect';
import type { CardTokensTable, CheckoutRow, Database, SubscriptionRow } from '../store/schema';
import type { EntitlementStore } from './entitlements';
import type { HostedUrls } from './hosted-urls';
import type { PaymentLinks } from './payment-links';
import type { PurchaseService } from './purchases';
import { toDecimalAmount } from '../providers/decimal-amount';
import { acceptSandboxCard, sandboxCharge } from '../providers/sandbox/sandbox-cards';
import { AUTHENTICATION_WINDOW_MS, type SubscriptionLifecycle } from './subscription-lifecycle';
import { CHECKOUT_LIFETIME_MS, reopenIfExpired } from './checkouts';
import { newId } from './tokens';
import { isUniqueViolation, retryOnUniqueViolation, writeTransaction } from './write-transaction';
import { checkDisplayPrice } from './display-price';
import { replayed, requestHash } from './idempotency';
import { AUTHENTICATION_FAILED, type PaymentIntentService } from './payment-intents';

type Trx = Kysely<Database>;
/** Why a hosted checkout link cannot be used; the page says so in the reader's language. */
export class CheckoutProblem extends Error {
  constructor(
    readonly reason: 'not_found' | 'expired' | 'subscription_exists' | 'plan_unavailable',
    readonly status: 404 | 409 | 410,
  ) {
    super(reason);
    this.name = 'CheckoutProblem';
  }
}

/** What the hosted checkout page shows once the card was taken (or when its link is opened again). */
export type CheckoutOutcome =
  | { kind: 'subscribed'; subscription: SubscriptionRow; paymentIntent: string | null }
  | { kind: 'paid'; product: string; title: string; expiresAt: number; paymentIntent: string | null }
  | { kind: 'requires_action'; paymentIntent: string }
  | { kind: 'authenticated'; paymentIntent: string }
  | { kind: 'failed'; paymentIntent: string | null; subscription: string | null; code: string; message: string };

export interface CheckoutView {
  checkout: CheckoutRow;
  plan: CatalogPlan | null;
}

/**
 * Card payments on the built-in sandbox processor: one-off purchases (`POST /v1/payments`) and the
 * hosted checkout page for them and for card subscriptions. What needs 3-D Secure goes on as a
 * payment intent (`PaymentIntentService`).
 */
export class CardPaymentService {
  constructor(
    private readonly database: DatabaseHandle,
    private readonly config: ServerConfig,
    private readonly clock: Clock,
    private readonly lifecycle: SubscriptionLifecycle,
    private readonly entitlements: EntitlementStore,
    private readonly notifications: NotificationStore,
    private readonly purchases: PurchaseService,
    private readonly urls: HostedUrls,
    private readonly links: PaymentLinks,
    private readonly providers: PaymentProviders,
    private readonly intents: PaymentIntentService,
  ) {}

  // -------------------------------------------------------------------------------------------
  // POST /v1/payments

  async createPayment(customerId: string | null, request: PaymentRequest, origin: string | undefined): Promise<PaymentResponse> {
    const item = this.purchases.resolve(request);
    if (!customerId) throw new ApiError(401, 'sign_in_required', 'Sign in to buy this.', { signInUrl: this.urls.page('sign-in', origin) });
    checkDisplayPrice(request, item);
    const provider = this.config.products.get(item.product)?.provider ?? this.config.cardProvider;
    if (!cardProviderAvailable(this.config, provider)) throw new ApiError(400, 'payment_method_unavailable', 'Card payments are not available on this backend.');
    if (item.price <= 0) throw new ApiError(400, 'payment_method_not_allowed', 'This item is free: get it with POST /v1/purchases.');
    this.providers.requireCurrency(provider, item.currency);
    let returnUrl: string | null = null;
    if (request.returnUrl !== undefined) {
      returnUrl = this.urls.returnUrl(request.returnUrl);
      if (!returnUrl) throw new ApiError(400, 'invalid_return_url', 'returnUrl must be an http(s) URL on an allowed merchant origin, or a path on this backend.');
    }
    const hash = requestHash(['payment', 'product' in request ? request.product : request.offer, request.price ?? null, request.currency ?? null, returnUrl]);
    const now = this.clock.now();
    return retryOnUniqueViolation(() => writeTransaction(this.database, async (trx) => {
      const stored = await trx.selectFrom('checkouts').selectAll().where('customer_id', '=', customerId).where('idempotency_key', '=', request.idempotencyKey).executeTakeFirst();
      const previous = replayed(stored, hash, 'payment', stored?.kind === 'payment');
      if (previous) return this.#replayPayment(trx, previous, now);
      const held = await this.entitlements.current(trx, customerId, item.product);
      if (held !== null) return { status: 'granted', entitlement: { product: item.product, expiresAt: new Date(held).toISOString() }, paymentIntent: null };
      const checkout: CheckoutRow = {
        id: newId('chk'), customer_id: customerId, idempotency_key: request.idempotencyKey, request_hash: hash, kind: 'payment', method: 'card',
        plan: null, product: item.product, title: item.title, price: item.price, currency: item.currency, validity: item.validity,
        origin: this.urls.isMerchantOrigin(origin) ? origin : null, return_url: returnUrl, status: 'open', subscription_id: null, payment_intent_id: null,
        expires_at: now.getTime() + CHECKOUT_LIFETIME_MS, created_at: now.getTime(), completed_at: null, provider,
      };
      await trx.insertInto('checkouts').values(checkout).execute();
      return this.#checkoutRequired(checkout);
    }));
  }

  async #replayPayment(trx: Trx, checkout: CheckoutRow, now: Date): Promise<PaymentResponse> {
    if (checkout.status === 'open') return this.#checkoutRequired(await reopenIfExpired(trx, checkout, now));
    const intent = checkout.payment_intent_id ? await trx.selectFrom('payment_intents').selectAll().where('id', '=', checkout.payment_intent_id).executeTakeFirst() : undefined;
    if (!intent) {
      // Completed without a charge: the reader already held access when the card was entered.
      const held = await this.entitlements.current(trx, checkout.customer_id, checkout.product!);
      return { status: 'granted', entitlement: { product: checkout.product!, expiresAt: new Date(held ?? now.getTime()).toISOString() }, paymentIntent: null };
    }
    const dto = await this.intents.dto(trx, intent, now);
    if (dto.status === 'succeeded') {
      return { status: 'granted', entitlement: dto.entitlement ?? { product: checkout.product!, expiresAt: new Date(Number(intent.entitlement_expires_at)).toISOString() }, paymentIntent: dto };
    }
    return { status: dto.status, paymentIntent: dto };
  }

  #checkoutRequired(checkout: Pick<CheckoutRow, 'id' | 'expires_at'>): PaymentResponse {
    return { status: 'requires_payment_method', checkoutUrl: this.links.checkoutUrl(checkout.id), expiresAt: new Date(Number(checkout.expires_at)).toISOString() };
  }

  // -------------------------------------------------------------------------------------------
  // The hosted checkout page

  /** The checkout behind a link, for rendering its form; the outcome instead once it was used. */
  async checkout(checkoutId: string): Promise<{ view: CheckoutView } | { outcome: CheckoutOutcome; checkout: CheckoutRow }> {
    const checkout = await this.database.db.selectFrom('checkouts').selectAll().where('id', '=', checkoutId).executeTakeFirst();
    if (!checkout || checkout.method !== 'card') throw new CheckoutProblem('not_found', 404);
    if (checkout.status === 'completed') return { outcome: await this.#outcomeOf(this.database.db, checkout), checkout };
    if (Number(checkout.expires_at) <= this.clock.now().getTime()) throw new CheckoutProblem('expired', 410);
    const plan = checkout.plan ? this.config.plans.get(checkout.plan) ?? null : null;
    if (checkout.kind === 'subscription' && !plan) throw new CheckoutProblem('plan_unavailable', 410);
    return { view: { checkout, plan } };
  }

  /**
   * Takes the card entered on the checkout page: a subscription starts (its trial, or its first
   * payment), a one-off payment is charged — or, when the card asks for 3-D Secure, a payment
   * intent is created, announced (`*.requires.action` and an email) and the page goes to the
   * hosted bank page. A declined card throws and writes nothing. A checkout is used at most once.
   */
  async submitCheckout(checkoutId: string, card: CardInput): Promise<{ outcome: CheckoutOutcome; checkout: CheckoutRow }> {
    const now = this.clock.now();
    const result = await writeTransaction(this.database, async (trx) => {
      const checkout = await trx.selectFrom('checkouts').selectAll().where('id', '=', checkoutId).$if(this.database.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirst();
      if (!checkout || checkout.method !== 'card') throw new CheckoutProblem('not_found', 404);
      if (checkout.status === 'completed') return { checkout, outcome: await this.#outcomeOf(trx, checkout), written: [] };
      if (Number(checkout.expires_at) <= now.getTime()) throw new CheckoutProblem('expired', 410);
      const accepted = acceptSandboxCard(card, now);
      const token: Selectable<CardTokensTable> = {
        id: newId('card'), customer_id: checkout.customer_id, brand: accepted.brand, last4: accepted.last4, exp_month: accepted.expMonth, exp_year: accepted.expYear,
        behaviour: accepted.behaviour, paid_count: 0, created_at: now.getTime(),
      };
      await trx.insertInto('card_tokens').values(token).execute();
      const { outcome, pending, subscriptionId, intentId } = checkout.kind === 'subscription'
        ? await this.#subscribe(trx, checkout, token, now)
        : await this.#pay(trx, checkout, token, now);
      await trx.updateTable('checkouts').set({ status: 'completed', completed_at: now.getTime(), subscription_id: subscriptionId, payment_intent_id: intentId }).where('id', '=', checkout.id).execute();
      return { checkout, outcome, written: await this.notifications.append(trx, pending, now) };
    }).catch((error) => {
      if (!(error instanceof ApiError) && isUniqueViolation(error)) throw new CheckoutProblem('subscription_exists', 409);
      throw error;
    });
    this.notifications.publish(result.written);
    return { outcome: result.outcome, checkout: result.checkout };
  }

  async #subscribe(trx: Trx, checkout: CheckoutRow, token: { id: string; last4: string }, now: Date) {
    const plan = this.config.plans.get(checkout.plan ?? '');
    if (!plan) throw new CheckoutProblem('plan_unavailable', 410);
    if (await this.lifecycle.liveFor(trx, checkout.customer_id, plan.id)) throw new CheckoutProblem('subscription_exists', 409);
    await this.lifecycle.supersedeIncomplete(trx, checkout.customer_id, plan.id, now);
    const sub = await this.lifecycle.insert(trx, { customerId: checkout.customer_id, plan, method: 'card', cardTokenId: token.id, now });
    if (sub.trial_end !== null) {
      // Nothing is charged during the trial; the first charge, when it ends, is off-session.
      const pending = await this.lifecycle.startTrial(trx, sub, now);
      return { outcome: { kind: 'subscribed', subscription: sub, paymentIntent: null } as CheckoutOutcome, pending, subscriptionId: sub.id, intentId: null };
    }
    const collected = await this.lifecycle.collect(trx, sub, { offSession: false, now });
    if (collected.result === 'declined') throw new ApiError(402, collected.code === 'insufficient_funds' ? 'insufficient_funds' : 'card_declined', collected.message);
    const intentFields = {
      customer_id: checkout.customer_id, kind: 'subscription' as const, amount: plan.price, currency: plan.currency, card_token_id: token.id, checkout_id: checkout.id,
      subscription_id: sub.id, charge_id: null, product: null, title: plan.title, validity: null, origin: checkout.origin, return_url: checkout.return_url,
      expires_at: now.getTime() + AUTHENTICATION_WINDOW_MS, now,
    };
    if (collected.result === 'succeeded') {
      const intent = await this.lifecycle.createIntent(trx, { ...intentFields, status: 'succeeded', transactionId: collected.transactionId });
      await this.lifecycle.recordCharge(trx, sub, { period: 1, status: 'succeeded', paymentIntent: intent.id, transactionId: collected.transactionId, now });
      const paid = await this.lifecycle.periodPaid(trx, sub, 1, { now, paymentIntent: intent.id, renewal: false });
      return { outcome: { kind: 'subscribed', subscription: paid.sub, paymentIntent: intent.id } as CheckoutOutcome, pending: paid.pending, subscriptionId: sub.id, intentId: intent.id };
    }
    // 3-D Secure: the subscription is incomplete for 24 h; approving on the bank page activates it, no confirm call.
    const intent = await this.lifecycle.createIntent(trx, { ...intentFields, status: 'requires_action' });
    const chargeId = await this.lifecycle.recordCharge(trx, sub, { period: 1, status: 'requires_action', paymentIntent: intent.id, transactionId: null, now });
    await trx.updateTable('payment_intents').set({ charge_id: chargeId }).where('id', '=', intent.id).execute();
    await trx.updateTable('subscriptions').set({ incomplete_expires_at: Number(intent.expires_at) }).where('id', '=', sub.id).execute();
    const url = this.links.authenticationUrl(intent.id);
    await this.lifecycle.email(trx, sub.customer_id, 'payment_action_required', `Confirm your subscription to ${plan.title}`,
      `Your bank asks you to confirm the first payment of ${money(plan.price, plan.currency)} for ${plan.title} (3-D Secure). Confirm it here within 24 hours: ${url}\nIf you do not, the subscription does not start and nothing is charged.`, url, now);
    const pending: PendingNotification[] = [{
      customerId: sub.customer_id, type: 'subscribe.requires.action',
      resource: { redirect_to_url: url, payment_intent: intent.id, subscription: sub.id, plan: plan.id, amount: plan.price, currency: plan.currency },
    }];
    return { outcome: { kind: 'requires_action', paymentIntent: intent.id } as CheckoutOutcome, pending, subscriptionId: sub.id, intentId: intent.id };
  }

  async #pay(trx: Trx, checkout: CheckoutRow, token: Selectable<CardTokensTable>, now: Date) {
    const product = checkout.product!;
    const held = await this.entitlements.current(trx, checkout.customer_id, product);
    if (held !== null) {
      // Bought meanwhile (another tab, the wallet): nothing to charge.
      return { outcome: { kind: 'paid', product, title: checkout.title, expiresAt: held, paymentIntent: null } as CheckoutOutcome, pending: [], subscriptionId: null, intentId: null };
    }
    const charge = sandboxCharge(token, { offSession: false, now });
    if (charge.result === 'declined') throw new ApiError(402, charge.code, charge.message);
    const intent = await this.lifecycle.createIntent(trx, {
      customer_id: checkout.customer_id, kind: 'payment', status: 'requires_action', amount: Number(checkout.price), currency: checkout.currency, card_token_id: token.id,
      checkout_id: checkout.id, subscription_id: null, charge_id: null, product, title: checkout.title, validity: checkout.validity === null ? null : Number(checkout.validity),
      origin: checkout.origin, return_url: checkout.return_url, expires_at: now.getTime() + AUTHENTICATION_WINDOW_MS, now,
    });
    if (charge.result === 'succeeded') {
      const { expiresAt, pending } = await this.intents.completePayment(trx, intent, token, now);
      return { outcome: { kind: 'paid', product, title: checkout.title, expiresAt, paymentIntent: intent.id } as CheckoutOutcome, pending, subscriptionId: null, intentId: intent.id };
    }
    const url = this.links.authenticationUrl(intent.id);
    await this.lifecycle.email(trx, checkout.customer_id, 'payment_action_required', `Confirm your payment for ${checkout.title}`,
      `Your bank asks you to confirm the payment of ${money(Number(checkout.price), checkout.currency)} for ${checkout.title} (3-D Secure). Confirm it here within 24 hours: ${url}\nNothing is charged until you do.`, url, now);
    const pending: PendingNotification[] = [{
      customerId: checkout.customer_id, type: 'payment.card.requires.action',
      resource: { redirect_to_url: url, payment_intent: intent.id, product, amount: Number(checkout.price), currency: checkout.currency },
    }];
    return { outcome: { kind: 'requires_action', paymentIntent: intent.id } as CheckoutOutcome, pending, subscriptionId: null, intentId: intent.id };
  }

  /** Charges a one-off payment and grants its product: the intent succeeds exactly once. */

  /** The outcome of a used checkout, from the state of what it created. */
  async #outcomeOf(db: Trx, checkout: CheckoutRow): Promise<CheckoutOutcome> {
    const intent = checkout.payment_intent_id ? await db.selectFrom('payment_intents').selectAll().where('id', '=', checkout.payment_intent_id).executeTakeFirst() : undefined;
    if (checkout.kind === 'subscription') {
      const sub = await db.selectFrom('subscriptions').selectAll().where('id', '=', checkout.subscription_id ?? '').executeTakeFirst();
      // Paid at a provider while another subscription to the plan had started: none was created.
      if (!sub) return { kind: 'failed', paymentIntent: null, subscription: null, code: 'subscription_exists', message: 'You already subscribe to this plan.' };
      if (intent?.status === 'requires_action' && sub.status === 'incomplete') return { kind: 'requires_action', paymentIntent: intent.id };
      if (sub.status === 'failed' || sub.status === 'incomplete_expired' || sub.status === 'incomplete') {
        return { kind: 'failed', paymentIntent: intent?.id ?? null, subscription: sub.id, code: intent?.failure_code ?? 'intent_expired', message: intent?.failure_message ?? AUTHENTICATION_FAILED };
      }
      return { kind: 'subscribed', subscription: sub, paymentIntent: intent?.id ?? null };
    }
    if (!intent) {
      const held = await this.entitlements.current(db, checkout.customer_id, checkout.product!);
      return { kind: 'paid', product: checkout.product!, title: checkout.title, expiresAt: held ?? Number(checkout.completed_at), paymentIntent: null };
    }
    switch (intent.status) {
      case 'succeeded':
        return { kind: 'paid', product: checkout.product!, title: checkout.title, expiresAt: Number(intent.entitlement_expires_at), paymentIntent: intent.id };
      case 'requires_action':
        return { kind: 'requires_action', paymentIntent: intent.id };
      case 'requires_confirmation':
        return { kind: 'authenticated', paymentIntent: intent.id };
      default:
        return { kind: 'failed', paymentIntent: intent.id, subscription: null, code: intent.failure_code ?? 'intent_expired', message: intent.failure_message ?? AUTHENTICATION_FAILED };
    }
  }

}

/** An amount for an email, e.g. "EUR 4.99" (formatted from the integer, no float); the hosted pages localize, emails stay plain. */
function money(minor: number, currency: string): string {
  return `${currency} ${toDecimalAmount(minor)}`;
}
