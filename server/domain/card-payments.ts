import type { Kysely, Selectable } from 'kysely';
import type { CardInput, PaymentIntent, PaymentRequest, PaymentResponse } from '../../src/protocol';
import type { Clock } from '../clock';
import { cardProviderAvailable, type CatalogPlan, type ServerConfig } from '../config';
import { ApiError } from '../errors';
import type { NotificationStore, PendingNotification } from '../notifications/notification-store';
import type { PaymentProviders } from '../providers/payment-providers';
import type { DatabaseHandle } from '../store/connect';
import type { CardTokensTable, CheckoutRow, Database, IntentRow, SubscriptionRow } from '../store/schema';
import type { EntitlementStore } from './entitlements';
import type { HostedUrls } from './hosted-urls';
import type { PaymentLinks } from './payment-links';
import type { PurchaseService } from './purchases';
import { acceptSandboxCard, sandboxCharge } from '../providers/sandbox/sandbox-cards';
import { AUTHENTICATION_WINDOW_MS, type SubscriptionLifecycle } from './subscription-lifecycle';
import { CHECKOUT_LIFETIME_MS, reopenIfExpired } from './checkouts';
import { newId } from './tokens';
import { isUniqueViolation, retryOnUniqueViolation, writeTransaction } from './write-transaction';
import { checkDisplayPrice } from './display-price';
import { replayed, requestHash } from './idempotency';

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

const AUTHENTICATION_FAILED = 'The payment was not confirmed with the bank (3-D Secure). Nothing was charged. Try again or use another card.';

/**
 * Card payments on the built-in sandbox processor: one-off purchases (`POST /v1/payments`), the
 * hosted checkout page for them and for card subscriptions, and payment intents with their
 * 3-D Secure step (`GET`, `confirm`, and the hosted bank page's approve or fail).
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
    const dto = await this.#intentDto(trx, intent, now);
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
      const { expiresAt, pending } = await this.#completePayment(trx, intent, token, now);
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
  async #completePayment(trx: Trx, intent: IntentRow, token: { id: string; last4: string }, now: Date): Promise<{ expiresAt: number; pending: PendingNotification[] }> {
    const product = intent.product!;
    const amount = Number(intent.amount);
    const transactionId = await this.lifecycle.chargeCard(trx, { customerId: intent.customer_id, cardTokenId: token.id, last4: token.last4, amount, currency: intent.currency, kind: 'card_payment', reference: product, now });
    const expiresAt = await this.entitlements.grantFor(trx, intent.customer_id, product, Number(intent.validity ?? 0), now);
    await trx.updateTable('payment_intents').set({ status: 'succeeded', transaction_id: transactionId, entitlement_expires_at: expiresAt, updated_at: now.getTime() }).where('id', '=', intent.id).execute();
    return {
      expiresAt,
      pending: [
        { customerId: intent.customer_id, type: 'payment.card.success', resource: { status: 'success', code: 200, payment_intent: intent.id, product, amount, currency: intent.currency, expiresAt: new Date(expiresAt).toISOString() } },
        { customerId: intent.customer_id, type: 'access.granted', resource: { product, expiresAt: new Date(expiresAt).toISOString() } },
      ],
    };
  }

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

  // -------------------------------------------------------------------------------------------
  // Payment intents

  async get(customerId: string, id: string): Promise<PaymentIntent> {
    const now = this.clock.now();
    const intent = await this.database.db.selectFrom('payment_intents').selectAll().where('id', '=', id).where('customer_id', '=', customerId).executeTakeFirst();
    if (!intent) throw notFound();
    return this.#intentDto(this.database.db, intent, now);
  }

  /**
   * Completes a one-off payment after 3-D Secure (the reader came back with `payment_intent`).
   * Idempotent: a second confirm returns the succeeded intent and charges nothing. Subscription
   * intents need no confirm (they activate on the bank page); confirming one just returns it.
   */
  async confirm(customerId: string, id: string): Promise<PaymentIntent> {
    const now = this.clock.now();
    const result = await writeTransaction(this.database, async (trx) => {
      const intent = await trx.selectFrom('payment_intents').selectAll().where('id', '=', id).where('customer_id', '=', customerId).$if(this.database.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirst();
      if (!intent) throw notFound();
      let current = intent;
      let pending: PendingNotification[] = [];
      let error: ApiError | null = null;
      if (intent.kind === 'payment') {
        if ((intent.status === 'requires_action' || intent.status === 'requires_confirmation') && Number(intent.expires_at) <= now.getTime()) {
          await trx.updateTable('payment_intents').set({ status: 'canceled', updated_at: now.getTime() }).where('id', '=', intent.id).execute();
          current = { ...intent, status: 'canceled' };
        }
        if (current.status === 'requires_confirmation') {
          const token = await trx.selectFrom('card_tokens').selectAll().where('id', '=', intent.card_token_id).executeTakeFirstOrThrow();
          const charge = sandboxCharge(token, { offSession: false, authenticated: true, now });
          if (charge.result === 'succeeded') {
            ({ pending } = await this.#completePayment(trx, intent, token, now));
          } else {
            const message = charge.result === 'declined' ? charge.message : AUTHENTICATION_FAILED;
            await trx.updateTable('payment_intents').set({ status: 'failed', failure_code: 'card_declined', failure_message: message, updated_at: now.getTime() }).where('id', '=', intent.id).execute();
            pending = [{ customerId, type: 'payment.card.failed', resource: { code: 422, reason: 'card_declined', message, payment_intent: intent.id, product: intent.product } }];
            error = new ApiError(402, 'card_declined', message);
          }
          current = (await trx.selectFrom('payment_intents').selectAll().where('id', '=', intent.id).executeTakeFirstOrThrow());
        } else if (current.status === 'requires_action') {
          error = new ApiError(402, 'authentication_required', 'Confirm the payment on the 3-D Secure page first.');
        } else if (current.status === 'failed') {
          error = new ApiError(402, 'authentication_failed', current.failure_message ?? AUTHENTICATION_FAILED);
        } else if (current.status === 'canceled') {
          error = new ApiError(410, 'intent_expired', 'This payment has expired. Nothing was charged; start the purchase again.');
        }
      }
      return { dto: await this.#intentDto(trx, current, now), error, written: await this.notifications.append(trx, pending, now) };
    });
    this.notifications.publish(result.written);
    if (result.error) throw result.error;
    return result.dto;
  }

  /** The intent behind a 3-D Secure link, when the link's signature is right. */
  async intentForPage(id: string, signature: string): Promise<IntentRow | null> {
    if (!this.links.verifyIntent(id, signature)) return null;
    return (await this.database.db.selectFrom('payment_intents').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
  }

  /**
   * The reader's answer on the hosted 3-D Secure page. Approve: a one-off payment waits for
   * its confirm call; a subscription's first payment is charged and the subscription activates;
   * an off-session renewal is charged and the subscription is active again. Fail: the payment
   * fails (`payment.card.failed` / `subscribe.failed`); a renewal keeps its remaining retries.
   * Answering a decided intent changes nothing; an expired one can no longer be approved.
   */
  async authenticate(id: string, answer: 'approve' | 'fail'): Promise<IntentRow> {
    const now = this.clock.now();
    const at = now.getTime();
    const result = await writeTransaction(this.database, async (trx) => {
      const first = await trx.selectFrom('payment_intents').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      // Lock order: the subscription, then the intent — the billing clock takes them in the same order.
      const sub = first.subscription_id ? await this.lifecycle.lock(trx, first.subscription_id) : undefined;
      const intent = await trx.selectFrom('payment_intents').selectAll().where('id', '=', id).$if(this.database.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirstOrThrow();
      if (intent.status !== 'requires_action') return { written: [] };
      let pending: PendingNotification[] = [];
      if (Number(intent.expires_at) <= at) {
        pending = await this.#expire(trx, intent, sub, now);
      } else if (intent.kind === 'payment') {
        if (answer === 'approve') {
          await trx.updateTable('payment_intents').set({ status: 'requires_confirmation', updated_at: at }).where('id', '=', intent.id).execute();
        } else {
          await this.#fail(trx, intent, now);
          pending = [{ customerId: intent.customer_id, type: 'payment.card.failed', resource: { code: 422, reason: 'authentication_failed', message: AUTHENTICATION_FAILED, payment_intent: intent.id, product: intent.product } }];
        }
      } else if (!sub) {
        await trx.updateTable('payment_intents').set({ status: 'canceled', updated_at: at }).where('id', '=', intent.id).execute();
      } else if (intent.kind === 'subscription') {
        pending = await this.#answerFirstPayment(trx, intent, sub, answer, now);
      } else {
        pending = await this.#answerRenewal(trx, intent, sub, answer, now);
      }
      return { written: await this.notifications.append(trx, pending, now) };
    });
    this.notifications.publish(result.written);
    return this.database.db.selectFrom('payment_intents').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  }

  async #answerFirstPayment(trx: Trx, intent: IntentRow, sub: SubscriptionRow, answer: 'approve' | 'fail', now: Date): Promise<PendingNotification[]> {
    if (sub.status !== 'incomplete') {
      await trx.updateTable('payment_intents').set({ status: 'canceled', updated_at: now.getTime() }).where('id', '=', intent.id).execute();
      return [];
    }
    if (answer === 'fail') {
      await this.#fail(trx, intent, now);
      const ended = await this.lifecycle.end(trx, sub, 'failed', now, 'authentication_failed');
      await trx.updateTable('billing_charges').set({ status: 'failed', failure_code: 'authentication_failed', failure_message: AUTHENTICATION_FAILED }).where('id', '=', intent.charge_id ?? '').execute();
      return [this.lifecycle.failedNotification(sub, { reason: 'authentication_failed', message: AUTHENTICATION_FAILED, paymentIntent: intent.id }), ...ended.pending];
    }
    if (await this.lifecycle.liveFor(trx, sub.customer_id, sub.plan)) {
      // Subscribed meanwhile in another window: this one never starts.
      await trx.updateTable('payment_intents').set({ status: 'canceled', updated_at: now.getTime() }).where('id', '=', intent.id).execute();
      return (await this.lifecycle.end(trx, sub, 'incomplete_expired', now, 'superseded')).pending;
    }
    const collected = await this.lifecycle.collect(trx, sub, { offSession: false, authenticated: true, now });
    if (collected.result !== 'succeeded') {
      const message = collected.result === 'declined' ? collected.message : AUTHENTICATION_FAILED;
      await this.#fail(trx, intent, now, 'card_declined', message);
      const ended = await this.lifecycle.end(trx, sub, 'failed', now, 'card_declined');
      return [this.lifecycle.failedNotification(sub, { reason: 'card_declined', message, paymentIntent: intent.id }), ...ended.pending];
    }
    await trx.updateTable('payment_intents').set({ status: 'succeeded', transaction_id: collected.transactionId, updated_at: now.getTime() }).where('id', '=', intent.id).execute();
    await trx.updateTable('billing_charges').set({ status: 'succeeded', transaction_id: collected.transactionId, processed_at: now.getTime() }).where('id', '=', intent.charge_id ?? '').execute();
    const paid = await this.lifecycle.periodPaid(trx, sub, 1, { now, paymentIntent: intent.id, renewal: false });
    return [...collected.pending, ...paid.pending];
  }

  async #answerRenewal(trx: Trx, intent: IntentRow, sub: SubscriptionRow, answer: 'approve' | 'fail', now: Date): Promise<PendingNotification[]> {
    const charge = await trx.selectFrom('billing_charges').selectAll().where('id', '=', intent.charge_id ?? '').executeTakeFirst();
    if (!charge || sub.status !== 'past_due' || Number(charge.period) !== Number(sub.current_period) + 1) {
      await trx.updateTable('payment_intents').set({ status: 'canceled', updated_at: now.getTime() }).where('id', '=', intent.id).execute();
      return [];
    }
    if (answer === 'fail') {
      // The next scheduled retry asks again; after the last one the subscription fails.
      await this.#fail(trx, intent, now);
      return [];
    }
    const collected = await this.lifecycle.collect(trx, sub, { offSession: false, authenticated: true, now });
    if (collected.result !== 'succeeded') {
      await this.#fail(trx, intent, now, 'card_declined', collected.result === 'declined' ? collected.message : AUTHENTICATION_FAILED);
      return [];
    }
    await trx.updateTable('payment_intents').set({ status: 'succeeded', transaction_id: collected.transactionId, updated_at: now.getTime() }).where('id', '=', intent.id).execute();
    await trx.updateTable('billing_charges').set({ status: 'succeeded', transaction_id: collected.transactionId, processed_at: now.getTime() }).where('id', '=', charge.id).execute();
    const paid = await this.lifecycle.periodPaid(trx, sub, Number(charge.period), { now, paymentIntent: intent.id, renewal: true });
    return [...collected.pending, ...paid.pending];
  }

  async #fail(trx: Trx, intent: IntentRow, now: Date, code = 'authentication_failed', message = AUTHENTICATION_FAILED): Promise<void> {
    await trx.updateTable('payment_intents').set({ status: 'failed', failure_code: code, failure_message: message, updated_at: now.getTime() }).where('id', '=', intent.id).execute();
  }

  /**
   * An intent whose 24 h (or whose renewal's retries) ran out: it is canceled, and a subscription
   * still waiting for it becomes `incomplete_expired`, never to be activated. Runs from the
   * billing clock and whenever an expired intent is touched.
   */
  async expire(id: string): Promise<boolean> {
    const now = this.clock.now();
    const result = await writeTransaction(this.database, async (trx) => {
      const first = await trx.selectFrom('payment_intents').select('subscription_id').where('id', '=', id).executeTakeFirst();
      if (!first) return { expired: false, written: [] };
      const sub = first.subscription_id ? await this.lifecycle.lock(trx, first.subscription_id) : undefined;
      const intent = await trx.selectFrom('payment_intents').selectAll().where('id', '=', id).$if(this.database.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirstOrThrow();
      if ((intent.status !== 'requires_action' && intent.status !== 'requires_confirmation') || Number(intent.expires_at) > now.getTime()) return { expired: false, written: [] };
      const pending = await this.#expire(trx, intent, sub, now);
      return { expired: true, written: await this.notifications.append(trx, pending, now) };
    });
    this.notifications.publish(result.written);
    return result.expired;
  }

  async #expire(trx: Trx, intent: IntentRow, sub: SubscriptionRow | undefined, now: Date): Promise<PendingNotification[]> {
    await trx.updateTable('payment_intents').set({ status: 'canceled', updated_at: now.getTime() }).where('id', '=', intent.id).execute();
    if (intent.kind === 'subscription' && sub?.status === 'incomplete') return (await this.lifecycle.end(trx, sub, 'incomplete_expired', now, 'authentication_expired')).pending;
    return [];
  }

  async #intentDto(db: Trx, intent: IntentRow, now: Date): Promise<PaymentIntent> {
    const card = await db.selectFrom('card_tokens').select(['brand', 'last4']).where('id', '=', intent.card_token_id).executeTakeFirst();
    const sub = intent.subscription_id ? await db.selectFrom('subscriptions').select(['plan']).where('id', '=', intent.subscription_id).executeTakeFirst() : undefined;
    // An intent past its time is shown as what it is about to become.
    const expired = (intent.status === 'requires_action' || intent.status === 'requires_confirmation') && Number(intent.expires_at) <= now.getTime();
    const status = expired ? 'canceled' : intent.status;
    return {
      id: intent.id, status, kind: intent.kind, amount: Number(intent.amount), currency: intent.currency,
      redirectToUrl: status === 'requires_action' ? this.links.authenticationUrl(intent.id) : null,
      product: intent.product, plan: sub?.plan ?? null, subscription: intent.subscription_id,
      entitlement: status === 'succeeded' && intent.product && intent.entitlement_expires_at !== null ? { product: intent.product, expiresAt: new Date(Number(intent.entitlement_expires_at)).toISOString() } : null,
      card: card ? { brand: card.brand, last4: card.last4 } : null,
      failure: intent.failure_code ? { code: intent.failure_code, message: intent.failure_message ?? '' } : null,
      expiresAt: new Date(Number(intent.expires_at)).toISOString(),
      createdAt: new Date(Number(intent.created_at)).toISOString(),
    };
  }

  /** A subscription an intent belongs to, for the pages that report on it. */
  async subscription(id: string): Promise<SubscriptionRow | undefined> {
    return this.database.db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
  }
}

function notFound(): ApiError {
  return new ApiError(404, 'intent_not_found', 'There is no such payment on this account.');
}

/** An amount for an email, e.g. "EUR 4.99"; the hosted pages localize, emails stay plain. */
export function money(minor: number, currency: string): string {
  return `${currency} ${(minor / 100).toFixed(2)}`;
}
