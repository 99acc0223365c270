import type { Subscription, SubscriptionStatus } from '../protocol';

/**
 * The reader's subscription became known or changed: started, canceled, renewed, failed.
 * `subscription` is null when the reader has none (anymore) among the element's plans.
 */
export class PaywallSubscriptionEvent extends Event {
  constructor(
    readonly status: SubscriptionStatus | null,
    readonly subscription: Subscription | null,
  ) {
    super('paywall-subscription', { bubbles: true, composed: true });
  }
}

declare global {
  interface HTMLElementEventMap {
    'paywall-subscription': PaywallSubscriptionEvent;
  }
}
