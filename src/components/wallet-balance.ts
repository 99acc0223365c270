import { css, html, nothing } from 'lit';
import { state } from 'lit/decorators.js';
import { SubscriptionController } from '../controllers/subscription-controller';
import { PaywallBalanceEvent } from '../events/balance';
import { PaywallErrorEvent } from '../events/error';
import { errorText, formatMoney } from '../i18n/messages';
import type { Wallet } from '../protocol';
import { BackendError } from '../services/backend-error';
import { PaywallElement } from './internal/paywall-element';
import { tokens } from './internal/shared-styles';

/**
 * The reader's wallet: sign-in and account creation when signed out; balance, top-up and sign-out
 * when signed in. The balance updates live.
 *
 * @tagname wallet-balance
 * @summary Wallet balance with sign-in, top-up and sign-out.
 * @csspart balance - The formatted balance.
 * @csspart sign-in - The sign-in button.
 * @csspart sign-up - The create-account button.
 * @csspart top-up - The top-up button.
 * @csspart sign-out - The sign-out button.
 * @csspart status - Status and error messages.
 * @cssprop [--paywall-accent=#1d4ed8] - Button color.
 * @fires paywall-balance - The balance became known or changed.
 * @fires paywall-error - Signing in, topping up or signing out failed.
 */
export class WalletBalanceElement extends PaywallElement {
  static override styles = [
    tokens,
    css`
      :host {
        display: inline-flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5em;
        min-height: 2.5em;
      }
      .balance {
        font-weight: 600;
        font-variant-numeric: tabular-nums;
      }
    `,
  ];

  @state() private signedIn = false;
  @state() private wallet: Wallet | null = null;
  @state() private busy = false;
  @state() private status = '';
  #backend: string | null = null;

  #follow = new SubscriptionController(this, () => {
    const services = this.services;
    this.#backend = this.backendUrl;
    if (!services) return;
    const offSession = services.session.subscribe((token) => {
      this.signedIn = token !== null;
      if (this.signedIn) services.wallet.refresh().catch((error) => this.#fail(error));
    });
    const offWallet = services.wallet.subscribe((wallet) => {
      const changed = wallet?.balance !== this.wallet?.balance || wallet?.currency !== this.wallet?.currency;
      this.wallet = wallet;
      if (changed) this.dispatchEvent(new PaywallBalanceEvent(wallet?.balance ?? null, wallet?.currency ?? null));
    });
    this.signedIn = services.session.signedIn;
    this.wallet = services.wallet.wallet;
    if (this.signedIn && !this.wallet) services.wallet.refresh().catch((error) => this.#fail(error));
    return () => {
      offSession();
      offWallet();
    };
  });

  protected override willUpdate(): void {
    if (this.isConnected && this.backendUrl !== this.#backend) this.#follow.refresh();
  }

  #fail(error: unknown) {
    const code = error instanceof BackendError ? error.code : 'generic';
    const message = errorText(this.locale, code, (error as Error)?.message);
    this.status = message;
    if (code !== 'popup_closed') this.dispatchEvent(new PaywallErrorEvent(code, message));
  }

  /** Runs a hosted-window action; it must start synchronously inside the click. */
  #run(action: () => Promise<unknown>) {
    if (this.busy) return;
    this.busy = true;
    this.status = '';
    action()
      .catch((error) => this.#fail(error))
      .finally(() => (this.busy = false));
  }

  protected override render() {
    if (this.configurationProblem()) return html`<span part="status" class="error" role="alert">${this.t.configError}</span>`;
    const services = this.services!;
    const t = this.t;
    const status = html`<span part="status" role="status" aria-live="polite" class=${this.status ? '' : 'visually-hidden'}>${this.status}</span>`;
    if (!this.signedIn) {
      return html`
        <button part="sign-in" type="button" class="secondary" aria-busy=${this.busy} @click=${() => this.#run(() => services.signIn('sign-in'))}>${t.signIn}</button>
        <button part="sign-up" type="button" aria-busy=${this.busy} @click=${() => this.#run(() => services.signIn('sign-up'))}>${t.signUp}</button>
        ${status}
      `;
    }
    return html`
      <span part="balance" class="balance">
        <span class="visually-hidden">${t.balance}: </span>${this.wallet ? formatMoney(this.wallet.balance, this.wallet.currency, this.locale) : t.loading}
      </span>
      <button part="top-up" type="button" aria-busy=${this.busy} @click=${() => this.#run(() => services.openTopUp())}>${t.topUp}</button>
      <button part="sign-out" type="button" class="secondary" @click=${() => services.signOut().catch((error) => this.#fail(error))}>${t.signOut}</button>
      ${this.busy ? nothing : status}
    `;
  }
}
