import { css, html, nothing } from 'lit';
import { state } from 'lit/decorators.js';
import { FollowController } from '../controllers/follow-controller';
import { hostedProgress } from '../controllers/hosted-progress';
import { PaywallBalanceEvent } from '../events/balance';
import { formatMoney } from '../i18n/messages';
import type { Wallet } from '../protocol';
import type { JourneyOptions } from '../services/hosted-journey';
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
 * @fires paywall-window - The sign-in or top-up window opened, completed, was closed or was blocked.
 */
export class WalletBalanceElement extends PaywallElement {
  static override shadowRootOptions: ShadowRootInit = { ...PaywallElement.shadowRootOptions, delegatesFocus: true };

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
  /** The status is an error (styled as one), not progress. */
  @state() private failed = false;
  #problem: string | null = null;

  #follow = new FollowController(this, {
    args: () => [this.backendUrl] as const,
    follow: () => {
      const services = this.services;
      if (!services) return;
      const offSession = services.session.subscribe((token) => {
        this.signedIn = token !== null;
        if (this.signedIn) services.wallet.refresh().catch((error) => this.#fail(error));
      });
      const offWallet = services.wallet.subscribe((wallet) => {
        if (wallet) this.#clearError();
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
    },
  });

  protected override willUpdate(): void {
    this.#follow.sync();
    this.#problem = this.problem();
  }

  #fail(error: unknown) {
    // A window the reader closed is news, not an error.
    const failure = this.fail(error, { closedIsError: false });
    if (!failure) return;
    this.status = failure.message;
    this.failed = !failure.closed;
  }

  #clearError() {
    if (!this.failed) return;
    this.failed = false;
    this.status = '';
  }

  /** Runs a hosted-window action, announcing it and its window; it must start synchronously inside the click. */
  #run(action: (options: JourneyOptions) => Promise<unknown>, announce: string) {
    if (this.busy) return;
    this.busy = true;
    this.failed = false;
    this.status = announce;
    const onProgress = hostedProgress(this, { onPhase: (phase) => phase.kind === 'redirecting' && void (this.status = this.t.redirecting) });
    action({ onProgress })
      .then(() => void (this.status = ''), (error) => this.#fail(error))
      .finally(() => (this.busy = false));
  }

  protected override render() {
    if (this.#problem) return html`<span part="status" class="error" role="alert">${this.problemText()}</span>`;
    // One live region for both states, always rendered, so that every change in it is announced.
    return html`${this.signedIn ? this.#signedIn() : this.#signedOut()}<span
        part="status"
        role="status"
        aria-live="polite"
        class=${this.failed ? 'error' : this.status ? '' : 'visually-hidden'}
        >${this.status}</span
      >`;
  }

  #signedOut() {
    const services = this.services!;
    return html`
      <button part="sign-in" type="button" class="secondary" aria-busy=${this.busy} @click=${() => this.#run((options) => services.account.signIn('sign-in', options), this.t.signingIn)}>${this.t.signIn}</button>
      <button part="sign-up" type="button" aria-busy=${this.busy} @click=${() => this.#run((options) => services.account.signIn('sign-up', options), this.t.signingIn)}>${this.t.signUp}</button>
    `;
  }

  #signedIn() {
    const services = this.services!;
    const t = this.t;
    // Without a balance after a failed load, the error says why; "Loading…" would wait forever.
    const shown = this.wallet ? formatMoney(this.wallet.balance, this.wallet.currency, this.locale) : this.failed ? null : t.loading;
    return html`
      ${shown === null ? nothing : html`<span part="balance" class="balance"><span class="visually-hidden">${t.balance}: </span>${shown}</span>`}
      <button part="top-up" type="button" aria-busy=${this.busy} @click=${() => this.#run((options) => services.account.topUp(options), t.toppingUp)}>${t.topUp}</button>
      <button part="sign-out" type="button" class="secondary" @click=${() => services.signOut().catch((error) => this.#fail(error))}>${t.signOut}</button>
    `;
  }
}
