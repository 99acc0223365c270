export type HostedWindowState = 'opened' | 'completed' | 'closed' | 'blocked';

/** A hosted window (sign-in, top-up…) changed state. `blocked` means the redirect fallback is used. */
export class PaywallWindowEvent extends Event {
  constructor(
    readonly state: HostedWindowState,
    readonly product?: string,
  ) {
    super('paywall-window', { bubbles: true, composed: true });
  }
}

declare global {
  interface HTMLElementEventMap {
    'paywall-window': PaywallWindowEvent;
  }
}
