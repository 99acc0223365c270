import type { PaymentMethod, Subscription } from '../protocol';
import { BackendError, toBackendError } from './backend-error';
import type { EntitlementStore } from './entitlement-store';
import { newIdempotencyKey, type HostedJourney, type HostedJourneys, type JourneyOptions } from './hosted-journey';
import { returnUrl } from './purchase-journey';
import type { SubscriptionStore } from './subscription-store';
import type { WalletStore } from './wallet-store';

export interface SubscriptionJourneyDeps {
  journeys: HostedJourneys;
  entitlements: EntitlementStore;
  wallet: WalletStore;
  subscriptions: SubscriptionStore;
}

/**
 * Subscribes to a plan: from the wallet at once, or by card on the hosted checkout page (3-D
 * Secure in the same window); signed out, the hosted sign-in comes first in that window.
 */
export class SubscriptionJourney {
  readonly #journeys: HostedJourneys;
  readonly #entitlements: EntitlementStore;
  readonly #wallet: WalletStore;
  readonly #subscriptions: SubscriptionStore;

  constructor(deps: SubscriptionJourneyDeps) {
    this.#journeys = deps.journeys;
    this.#entitlements = deps.entitlements;
    this.#wallet = deps.wallet;
    this.#subscriptions = deps.subscriptions;
  }

  /**
   * Subscribes to `plan`. Call it synchronously inside the reader's click: signed out, or paying by
   * card, the hosted window opens at once (sign-in first, then the checkout and its 3-D Secure
   * step in the same window). From the wallet, a signed-in reader needs no window unless the
   * balance is short (then top-up, in a window opened later, which a browser may block).
   */
  subscribe(plan: string, method: PaymentMethod, options: JourneyOptions = {}): Promise<Subscription> {
    const key = `:subscribe:${plan}`;
    const running = this.#journeys.join<Subscription>(key);
    if (running) return running;
    const journey = this.#journeys.begin(key, null, newIdempotencyKey(), options);
    journey.progress('checking');
    const signedIn = this.#journeys.session.signedIn;
    if (!signedIn) journey.openFirst('signing-in', journey.signInUrl());
    else if (method === 'card') journey.openWindow('paying');
    return this.#journeys.run(journey, () => this.#run(journey, plan, method));
  }

  async #run(journey: HostedJourney, plan: string, method: PaymentMethod): Promise<Subscription> {
    const { idempotencyKey, signal } = journey;
    const client = this.#journeys.client;
    await journey.startFirst();
    for (let round = 0; ; round++) {
      journey.progress('working');
      let response;
      try {
        response = await client.createSubscription({ plan, method, idempotencyKey: idempotencyKey!, ...returnUrl() }, signal);
      } catch (error) {
        const failure = toBackendError(error, signal);
        if (await journey.recover(failure, round)) continue;
        throw failure;
      }
      if (response.status !== 'requires_payment_method') {
        this.#subscriptions.upsert(response.subscription);
        if (method === 'wallet') this.#wallet.refresh(signal).catch(() => null);
        this.#entitlements.refresh();
        journey.progress('granted');
        return response.subscription;
      }
      const message = await journey.step('paying', client.paymentPageUrl(response.checkoutUrl));
      if (message.type === 'payment-failed') throw new BackendError(message.code ?? 'authentication_failed', message.message ?? 'The payment was not authenticated.');
      if (message.type !== 'subscribed' || !message.subscription) throw new BackendError('invalid_response', `The checkout reported "${message.type}" instead of a subscription.`);
      const list = await this.#subscriptions.refresh();
      const subscription = list?.find((s) => s.id === message.subscription);
      if (!subscription) throw new BackendError('invalid_response', 'The checkout reported a subscription the payment service does not list.');
      this.#entitlements.refresh();
      journey.progress('granted');
      return subscription;
    }
  }
}
