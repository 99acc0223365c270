/** The reader has no access to a product (checked, expired or revoked). */
export class PaywallDeniedEvent extends Event {
  constructor(
    readonly product: string,
    readonly reason: 'no-access' | 'expired' | 'revoked' | 'signed-out',
  ) {
    super('paywall-denied', { bubbles: true, composed: true });
  }
}

declare global {
  interface HTMLElementEventMap {
    'paywall-denied': PaywallDeniedEvent;
  }
}
