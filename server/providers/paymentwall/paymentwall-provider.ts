import type { Logger } from 'pino';
import type { Clock } from '../../clock';
import type { ResolvedProviders } from '../../config';
import type { SubscriptionRow } from '../../store/schema';
import type { DatabaseHandle } from '../../store/connect';
import { CallbackRejected, type CallbackVerdict, type CheckoutStart, type PaymentProvider, type ProviderCallback, type ProviderCancellation, type ProviderEvent, type ProviderReply } from '../payment-provider';
import { API_TIMEOUT_MS, DeliveryConfirmation, type Delivery } from './delivery-confirmation';
import { IpAllowlist, PAYMENTWALL_PINGBACK_IPS } from './ip-allowlist';
import { pingbackParams, pingbackSignature, pingbackSignVersion, signatureMatches, widgetSignature, type SignedParams } from './paymentwall-signature';
import { hasTwoDecimals, toDecimalAmount } from '../decimal-amount';

type PaymentwallSettings = NonNullable<ResolvedProviders['paymentwall']>;

const WIDGET_BASE = 'https://api.paymentwall.com/api';
const API_BASE = 'https://api.paymentwall.com';
const REQUIRED = ['uid', 'goodsid', 'type', 'ref', 'sig'] as const;
const OK: ProviderReply = { status: 200, body: 'OK' };

/** Chargeback `reason` codes; 9 (cancelled order) and 10 (partially reversed) are refunds, the rest chargebacks. */
const REASONS: Record<string, string> = {
  1: 'chargeback', 2: 'credit card fraud', 3: 'other fraud', 4: 'bad data entry', 5: 'fake or proxy user', 6: 'rejected by advertiser',
  7: 'duplicate conversions', 8: 'goodwill credit taken back', 9: 'cancelled order', 10: 'partially reversed transaction',
};
const REFUND_REASONS = new Set(['9', '10']);

/**
 * Paymentwall digital goods: subscriptions (and one-off purchases) through its widget, pingbacks
 * verified by address and signature, Delivery Confirmation after each delivered payment, and
 * the ticket API.
 */
export class PaymentwallProvider implements PaymentProvider {
  readonly name = 'paymentwall' as const;
  /** A verified pingback we could not apply: anything but 200 `OK` makes Paymentwall resend it later. */
  readonly errorReply: ProviderReply = { status: 500, body: 'ERROR' };
  readonly #allowlist: IpAllowlist;
  readonly #delivery: DeliveryConfirmation | null;
  /** What Delivery Confirmation needs of a verdict, kept until the route says its events were applied. */
  readonly #deliveries = new WeakMap<CallbackVerdict, Delivery>();

  constructor(
    private readonly settings: PaymentwallSettings,
    private readonly clock: Clock,
    logger: Logger,
    private readonly database: DatabaseHandle,
  ) {
    this.#allowlist = new IpAllowlist(settings.ipAllowlist ?? PAYMENTWALL_PINGBACK_IPS);
    this.#delivery = settings.deliveryConfirmation
      ? new DeliveryConfirmation({ apiBaseUrl: this.#apiBase, secretKey: settings.secretKey, clock, logger, attempts: settings.deliveryAttempts, firstRetryMs: settings.deliveryRetryMs })
      : null;
  }

  get #apiBase() {
    return this.settings.apiBaseUrl ?? API_BASE;
  }

  #signed(params: SignedParams): URLSearchParams {
    const withVersion = { ...params, sign_version: this.settings.signVersion };
    const sign = widgetSignature(withVersion, this.settings.secretKey, this.settings.signVersion);
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries({ ...withVersion, sign })) {
      if (value !== null && value !== undefined) search.set(key, String(value));
    }
    return search;
  }

  /** The widget's `amount` is a decimal string with two decimals (see toDecimalAmount). */
  accepts(currency: string): boolean {
    return hasTwoDecimals(currency);
  }

  /**
   * ag_external_id is our checkout id: it comes back signed as the pingback's `goodsid` and names
   * exactly one checkout of one customer at one price (a plan id would not tell two checkouts of
   * the same reader apart, nor say what they were quoted).
   */
  async startCheckout({ checkout, plan, customer, successUrl, declineUrl, lang }: CheckoutStart): Promise<string> {
    const period = plan
      ? { ag_type: 'subscription', ag_period_length: plan.periodLength, ag_period_type: plan.periodUnit, ag_recurring: 1 }
      : { ag_type: 'fixed' };
    const search = this.#signed({
      key: this.settings.projectKey,
      uid: customer.id,
      widget: this.settings.widget,
      amount: toDecimalAmount(Number(checkout.price)),
      currencyCode: checkout.currency,
      ag_name: checkout.title,
      ag_external_id: checkout.id,
      ...period,
      success_url: successUrl,
      failure_url: declineUrl,
      ps: this.settings.ps,
      email: customer.email,
      lang,
      timestamp: Math.floor(this.clock.now().getTime() / 1000),
    });
    return `${this.settings.widgetBaseUrl ?? WIDGET_BASE}/subscription?${search}`;
  }

  /** Order of checks as in Paymentwall's libraries: parameters, then address, then signature. */
  async handleCallback(callback: ProviderCallback): Promise<CallbackVerdict> {
    const missing = REQUIRED.filter((name) => !callback.params.get(name));
    if (missing.length) throw new CallbackRejected({ status: 400, body: `Missing parameters: ${missing.join(', ')}` }, `missing ${missing.join(', ')}`);
    const address = callback.remoteAddress;
    if (!this.#allowlist.allows(address)) throw new CallbackRejected({ status: 403, body: 'IP address not allowed' }, `pingback from ${address ?? 'an unknown address'}`);
    const params = pingbackParams(callback.params);
    const version = pingbackSignVersion(params);
    if (version === null) throw new CallbackRejected({ status: 400, body: 'Unknown sign_version' }, `sign_version ${String(params.sign_version)}`);
    if (!signatureMatches(String(params.sig), pingbackSignature(params, this.settings.secretKey, version, 'goods'))) {
      throw new CallbackRejected({ status: 403, body: 'Invalid signature' }, `bad v${version} signature`);
    }
    const value = (name: string) => (typeof params[name] === 'string' ? params[name] : '');
    const [uid, checkoutId, type, ref] = [value('uid'), value('goodsid'), value('type'), value('ref')];
    const checkout = await this.database.db.selectFrom('checkouts').innerJoin('customers', 'customers.id', 'checkouts.customer_id')
      .select(['checkouts.id', 'checkouts.customer_id', 'checkouts.kind', 'checkouts.price', 'checkouts.currency', 'checkouts.title', 'checkouts.provider', 'customers.email'])
      .where('checkouts.id', '=', checkoutId).executeTakeFirst();
    // Signed, yet not ours: a goodsid of another project on the same key, or a uid that is not the checkout's customer.
    if (checkout && (checkout.provider !== this.name || checkout.customer_id !== uid)) {
      throw new CallbackRejected({ status: 400, body: 'goodsid and uid do not name one of our checkouts' }, `goodsid ${checkoutId} is not a Paymentwall checkout of ${uid}`);
    }
    const eventId = `${ref}_${type}`;
    const event = await this.#event(type, eventId, ref, checkoutId, value('reason'), checkout);
    const verdict: CallbackVerdict = { events: event ? [event] : [], reply: OK };
    if ((event?.kind === 'paid' || event?.kind === 'subscription.renewed') && checkout) {
      this.#deliveries.set(verdict, { paymentId: ref, checkoutId, isTest: value('is_test') === '1', email: checkout.email, description: checkout.title });
    }
    return verdict;
  }

  async #event(type: string, eventId: string, ref: string, checkoutId: string, reasonCode: string, checkout: { kind: 'payment' | 'subscription'; price: number; currency: string } | undefined): Promise<ProviderEvent | null> {
    switch (type) {
      case '0':
      case '1': {
        // A GOODS pingback carries no price. The amount is the one we quoted for this checkout in
        // the signed widget URL, and goodsid is covered by the pingback signature, so no received
        // value can change what the processor checks against the checkout.
        // A checkout we do not know has no price: the processor rejects the event as unknown_checkout.
        const money = { amount: checkout ? Number(checkout.price) : 0, currency: checkout?.currency ?? '' };
        // Paymentwall bills each period of a subscription as a new payment of the same checkout.
        const first = await this.#saleOf(checkoutId, ref);
        if (checkout?.kind === 'subscription' && first !== ref) return { kind: 'subscription.renewed', eventId, saleId: first, ...money };
        return { kind: 'paid', eventId, saleId: ref, checkoutId, ...money };
      }
      case '2': {
        // v1 signs neither `reason` nor `is_test`: a forged reason could only turn a signed reversal from refund into chargeback or back.
        const reason = `reason ${reasonCode || 'none'}${REASONS[reasonCode] ? ` (${REASONS[reasonCode]})` : ''}`;
        return { kind: REFUND_REASONS.has(reasonCode) ? 'refunded' : 'charged_back', eventId, saleId: await this.#saleOf(checkoutId, ref), reason };
      }
      case '12':
        return { kind: 'subscription.canceled', eventId, saleId: await this.#saleOf(checkoutId, ref), reason: 'canceled at Paymentwall' };
      case '13':
        return { kind: 'subscription.expired', eventId, saleId: await this.#saleOf(checkoutId, ref), reason: 'expired at Paymentwall' };
      case '14':
        return { kind: 'subscription.failed', eventId, saleId: await this.#saleOf(checkoutId, ref), reason: 'renewal payment failed at Paymentwall' };
      default:
        // Brick risk reviews (200-203) and anything newer: acknowledged, nothing to apply.
        return null;
    }
  }

  /** The sale a pingback changes: the one its ref names, else the checkout's first (renewals and cancellations name their own ref). */
  async #saleOf(checkoutId: string, ref: string): Promise<string> {
    const sales = await this.database.db.selectFrom('provider_sales').select('sale_id').where('provider', '=', this.name).where('checkout_id', '=', checkoutId).orderBy('created_at').execute();
    return sales.find((sale) => sale.sale_id === ref)?.sale_id ?? sales[0]?.sale_id ?? ref;
  }

  /** Delivery Confirmation for a delivered payment; the route fires it after applying and does not wait. */
  afterApplied(verdict: CallbackVerdict): void {
    const delivery = this.#deliveries.get(verdict);
    if (delivery && this.#delivery) void this.#delivery.confirm(delivery);
  }

  /** A recurring billing cancellation ticket for the subscription's first payment. */
  async cancelSubscription(subscription: SubscriptionRow): Promise<ProviderCancellation> {
    const ref = subscription.provider_subscription_id;
    if (!ref) throw new Error(`subscription ${subscription.id} has no Paymentwall reference`);
    const body = this.#signed({ key: this.settings.projectKey, ref, type: 2, message: `Subscription ${subscription.id} canceled by the reader` });
    const response = await fetch(`${this.#apiBase}/developers/api/ticket`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, signal: AbortSignal.timeout(API_TIMEOUT_MS) });
    const answer = await response.text();
    if (response.ok && /"result"\s*:\s*1\b/.test(answer)) return { kind: 'canceled' };
    throw new Error(`Paymentwall refused to cancel ${ref}: HTTP ${response.status} ${answer.slice(0, 200)}`);
  }
}
