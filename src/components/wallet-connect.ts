import { css, html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { SubscriptionController } from '../controllers/subscription-controller';
import { PaywallErrorEvent } from '../events/error';
import { PaywallWalletConnectEvent } from '../events/wallet-connect';
import { PaywallWindowEvent } from '../events/window';
import { errorText } from '../i18n/messages';
import { providerName } from '../i18n/provider-names';
import type { WalletConnection } from '../protocol';
import { BackendError } from '../services/backend-error';
import { HostedWindow } from '../services/hosted-window';
import { PaywallElement } from './internal/paywall-element';
import { tokens } from './internal/shared-styles';

/** Providers whose wallet a reader can connect. */
const WALLET_PROVIDERS = new Set(['milkipay']);

/**
 * Connects the reader's wallet at a provider (Milkipay) to their account, so the merchant can pay
 * out to it. The provider's authorization runs in a hosted window; the element shows Connect,
 * Connected, or why the connection failed.
 *
 * @tagname wallet-connect
 * @summary Connect a Milkipay wallet and show whether it is connected.
 * @csspart connect - The connect button (also shown again after an error).
 * @csspart sign-in - The sign-in button, shown when signed out.
 * @csspart connected - The "wallet connected" label.
 * @csspart status - Progress and error messages (a live region).
 * @cssprop [--paywall-accent=#1d4ed8] - Button color.
 * @cssprop [--paywall-error=#b42318] - Error text color.
 * @fires paywall-wallet-connect - The connection became known or changed (`status`, `code` on error).
 * @fires paywall-error - Loading the connection or connecting failed.
 * @fires paywall-window - The connect window opened, completed, was closed or was blocked.
 */
export class WalletConnectElement extends PaywallElement {
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
    `,
  ];

  /** The wallet provider; only `milkipay` so far. */
  @property({ reflect: true }) provider = 'milkipay';

  @state() private signedIn = false;
  @state() private connection: WalletConnection | null = null;
  @state() private busy = false;
  @state() private status = '';
  @state() private failed = false;
  #backend: string | null = null;
  #problem: string | null = null;

  #follow = new SubscriptionController(this, () => {
    const services = this.services;
    this.#backend = this.backendUrl;
    if (!services) return;
    const off = services.session.subscribe((token) => {
      this.signedIn = token !== null;
      this.connection = null;
      if (this.signedIn) this.#load();
    });
    this.signedIn = services.session.signedIn;
    if (this.signedIn) this.#load();
    return off;
  });

  protected override willUpdate(): void {
    if (this.isConnected && this.backendUrl !== this.#backend) this.#follow.refresh();
    this.#problem = this.problem(() => (WALLET_PROVIDERS.has(this.provider) ? null : `unknown wallet provider "${this.provider}"`));
  }

  get #name(): string {
    return providerName(this.provider) ?? this.provider;
  }

  /** Loads this provider's connection; when that fails (or the backend does not offer it) the message says why and there is nothing to click. */
  async #load(): Promise<void> {
    try {
      const found = (await this.services!.client.walletConnections()).find((c) => c.provider === this.provider);
      if (found) this.#show(found);
      else this.#report('payment_method_unavailable', undefined);
    } catch (error) {
      this.#fail(error);
    }
  }

  #show(connection: WalletConnection) {
    const changed = connection.status !== this.connection?.status || connection.error?.code !== this.connection?.error?.code;
    this.connection = connection;
    if (connection.error) this.#report(connection.error.code, connection.error.message);
    else if (this.failed) [this.failed, this.status] = [false, ''];
    if (changed) this.dispatchEvent(new PaywallWalletConnectEvent(this.provider, connection.status, connection.error?.code));
  }

  #fail(error: unknown) {
    const code = error instanceof BackendError ? error.code : 'generic';
    if (code === 'popup_closed') this.status = '';
    else this.#report(code, (error as Error)?.message);
  }

  #report(code: string, message: string | undefined) {
    this.failed = true;
    this.status = errorText(this.locale, code, message);
    this.dispatchEvent(new PaywallErrorEvent(code, this.status));
  }

  /** Opens the hosted window synchronously inside the click, then sends it to the backend's connect page. */
  #connect() {
    const services = this.services!;
    if (this.busy) return;
    const win = HostedWindow.open(services.client.origin);
    for (const type of ['opened', 'completed', 'closed', 'blocked'] as const) win.addEventListener(type, () => this.dispatchEvent(new PaywallWindowEvent(type)));
    this.busy = true;
    this.failed = false;
    this.status = this.t.connectingWallet;
    services.client.walletConnectUrl(this.provider)
      .then((url) => {
        if (win.blocked) throw new BackendError('popup_blocked', 'The browser blocked the window.');
        win.navigate(url);
        return win.result();
      })
      .then(async (message) => {
        await this.#load();
        if (message.type === 'wallet-connect-failed') {
          // A refusal the backend recorded is already shown by the reload; a declined authorization is not recorded.
          const code = message.code ?? 'generic';
          if (this.connection?.error?.code !== code) this.#report(code, message.message);
        } else if (this.connection?.status === 'connected') {
          this.status = this.t.walletConnected(this.#name);
        }
      })
      .catch((error) => {
        win.close();
        this.#fail(error);
      })
      .finally(() => (this.busy = false));
  }

  protected override render() {
    if (this.#problem) return html`<span part="status" class="error" role="alert">${this.problemText()}</span>`;
    const t = this.t;
    const connected = this.connection?.status === 'connected';
    const services = this.services!;
    const control = !this.signedIn
      ? html`<button part="sign-in" type="button" @click=${() => services.purchases.signIn('sign-in').catch((error) => this.#fail(error))}>${t.signIn}</button>`
      : connected
        ? html`<span part="connected">${t.walletConnected(this.#name)}</span>`
        : this.connection
          ? html`<button part="connect" type="button" aria-busy=${this.busy} @click=${() => this.#connect()}>${t.connectWallet(this.#name)}</button>`
          : nothing;
    // One live region, always rendered, so that every change in it is announced.
    const shown = this.status || (this.signedIn && !this.connection && !this.failed ? t.loading : '');
    return html`${control}<span part="status" role="status" aria-live="polite" class=${this.failed ? 'error' : shown ? '' : 'visually-hidden'}>${shown}</span>`;
  }
}
