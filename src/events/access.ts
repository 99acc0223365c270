export type AccessEventSource = 'check' | 'purchase' | 'notification' | 'other-tab' | 'redirect';

/** Access to a product was confirmed by the backend. */
export class PaywallAccessEvent extends Event {
  constructor(
    readonly product: string,
    readonly expiresAt: string | null,
    readonly source: AccessEventSource,
  ) {
    super('paywall-access', { bubbles: true, composed: true });
  }
}

declare global {
  interface HTMLElementEventMap {
    'paywall-access': PaywallAccessEvent;
  }
}
