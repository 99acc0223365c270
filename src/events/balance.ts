/** The wallet balance is known or changed; `balance` is null when signed out. */
export class PaywallBalanceEvent extends Event {
  constructor(
    readonly balance: number | null,
    readonly currency: string | null,
  ) {
    super('paywall-balance', { bubbles: true, composed: true });
  }
}

declare global {
  interface HTMLElementEventMap {
    'paywall-balance': PaywallBalanceEvent;
  }
}
