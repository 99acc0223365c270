import * as z from 'zod/mini';
import { decodeOfferToken, ProductId, type PaymentIntent, type PaymentMethod, type PaymentRequest, type PaymentResponse, type PurchaseRequest, type PurchaseResponse } from '../protocol';
import { BackendError, toBackendError } from './backend-error';
import type { AccessState, EntitlementStore } from './entitlement-store';
import { acceptSession, newIdempotencyKey, type HostedJourney, type HostedJourneys, type JourneyOptions } from './hosted-journey';
import { intentError, type ScaFlow } from './sca-flow';
import type { WalletStore } from './wallet-store';

export type { PurchaseStep } from './hosted-journey';

export interface PurchaseTarget {
  product?: string;
  /** A merchant-signed offer token; when both are given, the offer is what is bought. */
  offer?: string;
  /** Display price in minor units; the server refuses (`price_mismatch`) when it differs. */
  price?: number;
  currency?: string;
}

export interface PurchaseOptions extends JourneyOptions {
  /** `card`: a one-off card payment on the hosted checkout page; default the wallet. */
  method?: PaymentMethod;
}

export interface PurchaseJourneyDeps {
  journeys: HostedJourneys;
  entitlements: EntitlementStore;
  wallet: WalletStore;
  /** Confirms card payments once per page after 3-D Secure. */
  sca?: ScaFlow;
}

/** The product a target buys: its `product`, or the one named inside its (unverified here) offer. */
export function productOf(target: PurchaseTarget): string {
  if (target.offer) {
    const offer = decodeOfferToken(target.offer);
    if (!offer) throw new BackendError('configuration_error', 'The offer is not a readable signed offer.');
    return offer.payload.product;
  }
  if (target.product && z.safeParse(ProductId, target.product).success) return target.product;
  throw new BackendError('configuration_error', target.product ? `"${target.product}" is not a valid product id.` : 'Say what to buy: a product or an offer.');
}

function purchaseRequest(target: PurchaseTarget, idempotencyKey: string): PurchaseRequest {
  const extras = { ...(target.price !== undefined && { price: target.price }), ...(target.currency !== undefined && { currency: target.currency }), idempotencyKey };
  return target.offer ? { offer: target.offer, ...extras } : { product: target.product!, ...extras };
}

/** Where the hosted checkout sends the reader back when it cannot post to an opener: this page, without its fragment. */
export function returnUrl(): { returnUrl?: string } {
  if (typeof location === 'undefined' || !/^https?:$/.test(location.protocol)) return {};
  const here = new URL(location.href);
  here.hash = '';
  return { returnUrl: here.href };
}

function grantFresh(state: AccessState | undefined): state is AccessState {
  return !!state?.granted && (state.expiresAt === null || Date.parse(state.expiresAt) > Date.now());
}

/**
 * Buys access, from the reader's click to the granted state: one click when signed in with
 * enough balance; otherwise through the hosted sign-in and top-up windows, or, when the browser
 * blocks the popup, a same-tab redirect that `resumePending()` completes on return. With
 * `method: 'card'`, a one-off card payment on the hosted checkout page (3-D Secure in the same
 * window). Every journey has one idempotency key, kept across windows, retries after a top-up and
 * the redirect, so the server charges it at most once.
 */
export class PurchaseJourney {
  readonly #journeys: HostedJourneys;
  readonly #entitlements: EntitlementStore;
  readonly #wallet: WalletStore;
  readonly #sca: ScaFlow | undefined;
  #resumed: Promise<AccessState | null> | null = null;

  constructor(deps: PurchaseJourneyDeps) {
    this.#journeys = deps.journeys;
    this.#entitlements = deps.entitlements;
    this.#wallet = deps.wallet;
    this.#sca = deps.sca;
  }

  /**
   * Buys `target`. Call it synchronously inside the reader's click: when a hosted window will
   * surely be needed (signed out; paying by card; or the known balance is below the known price)
   * it is opened before anything is awaited, so the browser lets it open.
   */
  purchase(target: PurchaseTarget, options: PurchaseOptions = {}): Promise<AccessState> {
    let product: string;
    try {
      product = productOf(target);
    } catch (error) {
      return Promise.reject(error);
    }
    const held = this.#entitlements.get(product);
    if (grantFresh(held)) return Promise.resolve(held);
    const running = this.#journeys.join<AccessState>(product);
    if (running) return running;

    // Synchronous from here to the first await: the placeholder must open inside the click.
    const journey = this.#journeys.begin(product, target, newIdempotencyKey(), options);
    const signedIn = this.#journeys.session.signedIn;
    journey.progress('checking');
    if (options.method === 'card') {
      if (signedIn) journey.openWindow('paying');
      else journey.openFirst('signing-in', journey.signInUrl());
      return this.#journeys.run(journey, () => this.#payByCard(journey));
    }
    const wallet = this.#wallet.wallet;
    const short = wallet !== null && target.price !== undefined && (target.currency === undefined || target.currency === wallet.currency) && wallet.balance < target.price;
    // The window's first page is known without asking the server, so nothing is sent before it.
    if (!signedIn) journey.openFirst('signing-in', journey.signInUrl());
    else if (short) journey.openFirst('topping-up', this.#journeys.client.hostedUrl('top-up', { amount: String(target.price! - wallet.balance), currency: wallet.currency }));
    return this.#journeys.run(journey, () => this.#payFromWallet(journey));
  }

  /**
   * Completes a purchase (or sign-in, or top-up) that left the page through a same-tab redirect:
   * reads `#paywall-type=…&paywall-token=…`, removes it from the address bar, stores the token and
   * buys with the same idempotency key. Null when nothing of this backend was pending.
   */
  resumePending(options: PurchaseOptions = {}): Promise<AccessState | null> {
    this.#resumed ??= this.#resume(options);
    return this.#resumed;
  }

  async #resume(options: PurchaseOptions): Promise<AccessState | null> {
    const returned = this.#journeys.pending.takeReturn();
    if (!returned) return null;
    const { record, message } = returned;
    acceptSession(this.#journeys.session, message, record.step);
    const { target, idempotencyKey } = record;
    if (!target || !idempotencyKey) {
      if (record.step === 'topping-up') await this.#wallet.refresh(options.signal).catch(() => null);
      return null;
    }
    const product = productOf(target);
    const running = this.#journeys.join<AccessState>(product);
    if (running) return running;
    const journey = this.#journeys.begin(product, target, idempotencyKey, options);
    journey.progress('checking');
    return this.#journeys.run(journey, () => this.#payFromWallet(journey));
  }

  async #payFromWallet(journey: HostedJourney): Promise<AccessState> {
    const { target, idempotencyKey, signal } = journey;
    await journey.startFirst();
    for (let round = 0; ; round++) {
      journey.progress('working');
      let response: PurchaseResponse;
      try {
        response = await this.#journeys.client.purchase(purchaseRequest(target!, idempotencyKey!), signal);
      } catch (error) {
        const failure = toBackendError(error, signal);
        if (await journey.recover(failure, round)) continue;
        throw failure;
      }
      this.#wallet.set(response.wallet);
      return this.#granted(journey, response.entitlement);
    }
  }

  async #payByCard(journey: HostedJourney): Promise<AccessState> {
    const { target, idempotencyKey, signal } = journey;
    const client = this.#journeys.client;
    await journey.startFirst();
    for (let round = 0; ; round++) {
      journey.progress('working');
      let response: PaymentResponse;
      try {
        response = await client.payment({ ...(purchaseRequest(target!, idempotencyKey!) as PaymentRequest), ...returnUrl() }, signal);
      } catch (error) {
        const failure = toBackendError(error, signal);
        if (await journey.recover(failure, round)) continue;
        throw failure;
      }
      if (response.status === 'granted') return this.#granted(journey, response.entitlement);
      let intent: PaymentIntent;
      if (response.status === 'requires_payment_method' || response.status === 'requires_action') {
        const url = response.status === 'requires_payment_method' ? response.checkoutUrl : response.paymentIntent.redirectToUrl;
        if (!url) throw new BackendError('invalid_response', 'The payment service sent no payment page.');
        const message = await journey.step('paying', client.paymentPageUrl(url));
        if (message.type === 'payment-failed') throw new BackendError(message.code ?? 'card_declined', message.message ?? 'The payment failed.');
        if (message.type === 'payment-succeeded' && !message.paymentIntent) {
          const [grant] = (await client.access([journey.key], { signal })).access;
          if (!grant?.granted) throw new BackendError('invalid_response', 'The checkout reported a payment that granted nothing.');
          return this.#granted(journey, { product: grant.product, expiresAt: grant.expiresAt! });
        }
        if (!message.paymentIntent) throw new BackendError('invalid_response', `The checkout reported "${message.type}" without a payment.`);
        intent = message.type === 'payment-intent' ? await this.#confirm(message.paymentIntent) : await client.paymentIntent(message.paymentIntent, signal);
      } else if (response.status === 'requires_confirmation') {
        intent = await this.#confirm(response.paymentIntent.id);
      } else {
        intent = response.paymentIntent;
      }
      if (intent.status === 'succeeded' && intent.entitlement) return this.#granted(journey, intent.entitlement);
      throw intentError(intent);
    }
  }

  #confirm(id: string): Promise<PaymentIntent> {
    return this.#sca ? this.#sca.confirm(id) : this.#journeys.client.confirmPaymentIntent(id);
  }

  #granted(journey: HostedJourney, entitlement: { product: string; expiresAt: string | null }): AccessState {
    this.#entitlements.apply({ product: entitlement.product, granted: true, expiresAt: entitlement.expiresAt }, 'purchase');
    journey.progress('granted');
    return this.#entitlements.get(entitlement.product) ?? { product: entitlement.product, granted: true, expiresAt: entitlement.expiresAt, source: 'purchase' };
  }
}
