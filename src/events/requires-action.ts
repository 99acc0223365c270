/**
 * A card payment waits for 3-D Secure on the hosted bank page at `redirectToUrl`. Cancelable:
 * `preventDefault()` keeps `<sca-handler>` from opening the page, so the page can do it itself.
 */
export class PaywallRequiresActionEvent extends Event {
  constructor(
    readonly paymentIntent: string,
    readonly redirectToUrl: string,
  ) {
    super('paywall-requires-action', { bubbles: true, composed: true, cancelable: true });
  }
}

declare global {
  interface HTMLElementEventMap {
    'paywall-requires-action': PaywallRequiresActionEvent;
  }
}
