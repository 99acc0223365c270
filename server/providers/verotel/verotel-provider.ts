import type { CatalogPlan } from '../../config';
import type { SubscriptionRow } from '../../store/schema';
import {
  CallbackRejected, type CallbackVerdict, type CheckoutStart, type PaymentProvider, type ProviderCallback, type ProviderCancellation,
  type ProviderDeps, type ProviderEvent, type ProviderReply,
} from '../payment-provider';
import { brandBaseUrl } from './brands';
import { FLEXPAY_CURRENCIES } from './flexpay-currencies';
import { fromDecimalAmount, toDecimalAmount } from '../decimal-amount';
import { signedUrl, validSignature } from './flexpay-signature';
import { parseSaleStatus, type SaleStatus } from './flexpay-status';

const OK: ProviderReply = { status: 200, body: 'OK' };
const INVALID_SIGNATURE: ProviderReply = { status: 500, body: 'ERROR - Invalid signature!' };
/** Keys our own return URL carries (see the hosted return page); Verotel appends its signed data after them. */
const RETURN_PAGE_KEYS = ['checkout', 'result', 'lang'];
const MAX_DESCRIPTION = 100;
const STATUS_TIMEOUT_MS = 10_000;
const DAY_MS = 86_400_000;

/** At most 100 characters (code points, so a name is never cut inside a character). */
const clip = (text: string) => Array.from(text).slice(0, MAX_DESCRIPTION).join('');

/** A plan's billing period as ISO-8601 (weeks as days, the form Verotel's examples use). */
function isoPeriod(plan: Pick<CatalogPlan, 'periodLength' | 'periodUnit'>): string {
  switch (plan.periodUnit) {
    case 'day': return `P${plan.periodLength}D`;
    case 'week': return `P${plan.periodLength * 7}D`;
    case 'month': return `P${plan.periodLength}M`;
    case 'year': return `P${plan.periodLength}Y`;
  }
}

/**
 * Verotel FlexPay, protocol version 4: signed `startorder` URLs for purchases and recurring
 * subscriptions, postbacks (and the signed success redirect) verified over all their parameters
 * and mapped to normalized events, each first payment cross-checked with `/salestatus`, one-click
 * tokens sent back on the customer's next purchase.
 */
export class VerotelProvider implements PaymentProvider {
  readonly name = 'verotel' as const;
  /** The official Woo plugin's answer: anything but `OK` makes Verotel retry, or refund a card sale. */
  readonly errorReply: ProviderReply = { status: 500, body: 'ERROR' };
  /** A one-click token buys on the reader's card: it is stored sealed, never in the callback audit. */
  readonly secretParams = ['oneClickToken'];
  readonly #settings: NonNullable<ProviderDeps['config']['providers']['verotel']>;
  readonly #base: string;

  constructor(private readonly deps: ProviderDeps) {
    const settings = deps.config.providers.verotel;
    if (!settings) throw new Error('Verotel is not configured');
    this.#settings = settings;
    this.#base = settings.baseUrl ?? brandBaseUrl(settings.merchantId);
  }

  accepts(currency: string): boolean {
    return FLEXPAY_CURRENCIES.has(currency);
  }

  async startCheckout({ checkout, plan, customer, successUrl, declineUrl }: CheckoutStart): Promise<string> {
    // Unreachable through the API, which asks accepts() before writing the checkout.
    if (!this.accepts(checkout.currency)) throw new Error(`Verotel does not take ${checkout.currency}`);
    const common = {
      priceAmount: toDecimalAmount(Number(checkout.price)), priceCurrency: checkout.currency, referenceID: checkout.id,
      successURL: successUrl, declineURL: declineUrl, email: customer.email,
    };
    if (checkout.kind === 'subscription') {
      if (!plan) throw new Error(`Subscription checkout ${checkout.id} has no plan`);
      return this.#url('/startorder', { ...common, type: 'subscription', subscriptionType: 'recurring', period: isoPeriod(plan), name: clip(plan.title) });
    }
    // The token stays stored once sent: if the reader abandons this page the next attempt is still
    // one click; Verotel hands a fresh token with every OK postback and that one replaces it.
    const token = await this.deps.tokens.read(this.deps.database.db, { customerId: customer.id, provider: this.name, kind: 'one_click' });
    return this.#url('/startorder', { ...common, type: 'purchase', description: clip(checkout.title), ...(token ? { paymentMethod: 'CC', oneClickToken: token } : {}) });
  }

  async handleCallback(callback: ProviderCallback): Promise<CallbackVerdict> {
    return { events: await this.#verifiedEvents(callback.params), reply: OK };
  }

  /** The success redirect carries the postback's data, signed the same way: the same events, so whichever arrives second is a duplicate. */
  async handleReturn(callback: ProviderCallback): Promise<CallbackVerdict | null> {
    const params = new Map(callback.params);
    const checkoutId = params.get('checkout');
    for (const key of RETURN_PAGE_KEYS) params.delete(key);
    if (!params.has('signature')) return null;
    const events = await this.#verifiedEvents(params);
    if (events.some((event) => event.kind === 'paid' && event.checkoutId !== checkoutId)) {
      throw new CallbackRejected(this.errorReply, `the signed return names another checkout than ${checkoutId}`);
    }
    return { events, reply: OK };
  }

  async #saleStatus(saleId: string): Promise<SaleStatus> {
    const unknown: SaleStatus = { saleId, state: 'unknown' };
    try {
      const response = await fetch(this.#url('/salestatus', { saleID: saleId }), { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) });
      if (!response.ok) {
        this.deps.logger.warn({ provider: this.name, sale: saleId, status: response.status }, 'salestatus request failed');
        return unknown;
      }
      return parseSaleStatus(saleId, await response.text());
    } catch (error) {
      this.deps.logger.warn({ provider: this.name, sale: saleId, err: error }, 'salestatus request failed');
      return unknown;
    }
  }

  /** FlexPay lets only the buyer cancel, on Verotel's own page; its cancel postback then cancels here. */
  async cancelSubscription(subscription: SubscriptionRow): Promise<ProviderCancellation> {
    if (!subscription.provider_subscription_id) throw new Error(`Subscription ${subscription.id} has no Verotel sale`);
    return { kind: 'redirect', url: this.#url('/cancel-subscription', { saleID: subscription.provider_subscription_id }) };
  }

  #url(path: string, params: Record<string, string | undefined>): string {
    return signedUrl(this.#base, path, this.#settings.signatureKey, this.#settings.shopId, params);
  }

  async #verifiedEvents(params: ReadonlyMap<string, string>): Promise<ProviderEvent[]> {
    const { signatureKey, shopId, verifyStatus } = this.#settings;
    if (!validSignature(signatureKey, shopId, params)) throw new CallbackRejected(INVALID_SIGNATURE, 'the signature does not match the data');
    const shop = params.get('shopID');
    if (shop !== undefined && shop !== shopId) throw new CallbackRejected(this.errorReply, `data for shop ${shop}, not ${shopId}`);
    const events = this.#events(params);
    if (verifyStatus) {
      for (const event of events) {
        if (event.kind !== 'paid') continue;
        const status = await this.#saleStatus(event.saleId);
        const sameAmount = status.amount === undefined || (status.amount === event.amount && status.currency === event.currency);
        if (status.state !== 'approved' || !sameAmount) {
          throw new CallbackRejected(this.errorReply, `salestatus of sale ${event.saleId} is ${status.state}${sameAmount ? '' : ` for ${status.amount} ${status.currency}`}, not approved for ${event.amount} ${event.currency}`);
        }
      }
    }
    return events;
  }

  /** What verified data means. No `event` is a purchase; upgrade, downgrade and extend are not sold here and change nothing. */
  #events(params: ReadonlyMap<string, string>): ProviderEvent[] {
    const required = (name: string) => {
      const value = params.get(name);
      if (!value) throw new CallbackRejected(this.errorReply, `signed data without ${name}`);
      return value;
    };
    const saleId = required('saleID');
    const event = params.get('event') || null;
    const transaction = params.get('transactionID') ?? '';
    const eventId = `postback:${saleId}:${event ?? 'purchase'}:${transaction}`;
    const money = () => {
      const currency = params.get('priceCurrency') ?? params.get('currency') ?? '';
      const amount = fromDecimalAmount(params.get('priceAmount') ?? params.get('amount') ?? '');
      if (amount === null || !FLEXPAY_CURRENCIES.has(currency)) throw new CallbackRejected(this.errorReply, `signed data without a valid priceAmount and priceCurrency`);
      return { amount, currency };
    };
    // A cancel can follow an uncancel of the same sale, and neither carries a transaction id: the signature tells them apart (a replay repeats it).
    const toggleId = `${eventId}${transaction ? '' : required('signature').toLowerCase()}`;
    switch (event) {
      case null:
      case 'initial': {
        const token = params.get('oneClickToken');
        return [{ kind: 'paid', eventId, saleId, checkoutId: required('referenceID'), ...money(), ...(token ? { oneClickToken: token } : {}) }];
      }
      case 'rebill':
        return [{ kind: 'subscription.renewed', eventId, saleId, ...money() }];
      case 'cancel':
        return [{ kind: 'subscription.canceled', eventId: toggleId, saleId, reason: `canceled_by_${params.get('cancelledBy') || 'user'}` }];
      case 'uncancel':
        return [{ kind: 'subscription.uncanceled', eventId: toggleId, saleId, reason: `uncanceled_by_${params.get('uncancelledBy') || 'user'}` }];
      case 'expiry':
        return [{ kind: 'subscription.expired', eventId, saleId, reason: 'subscription_expired' }];
      case 'credit':
        return [{ kind: 'refunded', eventId: `postback:${saleId}:credit:${transaction || required('parentID')}`, saleId, reason: `credit of transaction ${params.get('parentID') ?? transaction}` }];
      case 'chargeback':
        return [{ kind: 'charged_back', eventId, saleId, reason: 'chargeback' }];
      default:
        return [];
    }
  }
}
