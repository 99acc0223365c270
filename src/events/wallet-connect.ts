import type { WalletConnection } from '../protocol';

/** A wallet connection became known or changed; `code` says why when `status` is `error`. */
export class PaywallWalletConnectEvent extends Event {
  constructor(
    readonly provider: string,
    readonly status: WalletConnection['status'],
    readonly code?: string,
  ) {
    super('paywall-wallet-connect', { bubbles: true, composed: true });
  }
}

declare global {
  interface HTMLElementEventMap {
    'paywall-wallet-connect': PaywallWalletConnectEvent;
  }
}
