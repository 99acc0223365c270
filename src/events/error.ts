/** Something failed; `code` is the backend's error code or one of the kit's own. */
export class PaywallErrorEvent extends Event {
  constructor(
    readonly code: string,
    readonly message: string,
    readonly product?: string,
  ) {
    super('paywall-error', { bubbles: true, composed: true });
  }
}

declare global {
  interface HTMLElementEventMap {
    'paywall-error': PaywallErrorEvent;
  }
}
