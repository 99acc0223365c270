import { css, html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import * as z from 'zod/mini';
import { FollowController } from '../controllers/follow-controller';
import { hostedProgress, reportWindowEvents } from '../controllers/hosted-progress';
import { PaywallWalletConnectEvent } from '../events/wallet-connect';
import { errorText } from '../i18n/messages';
import { providerName } from '../i18n/provider-names';
import { WalletProvider, type WalletConnection } from '../protocol';
import { HostedWindow } from '../services/hosted-window';
import type { PaywallServices } from '../services/paywall-services';
import { PaywallElement } from './internal/paywall-element';
import { tokens } from './internal/shared-styles';

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
 * @fires paywall-window - The sign-in or connect window opened, completed, was closed or was blocked.
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
  #problem: string | null = null;

  #follow = new FollowController(this, {
    args: () => [this.backendUrl, this.provider] as const,
    follow: () => {
      const services = this.services;
      // An unknown provider shows the configuration error alone: nothing to load for it.
      if (!services || !this.#known) return;
      const offSession = services.session.subscribe((token) => {
        this.signedIn = token !== null;
        if (this.signedIn) this.#refresh(services);
      });
      const offConnections = services.walletConnections.subscribe((connections) => this.#apply(connections));
      this.signedIn = services.session.signedIn;
      this.#apply(services.walletConnections.connections);
      if (this.signedIn && !services.walletConnections.connections) this.#refresh(services);
      return () => {
        offSession();
        offConnections();
      };
    },
  });

  protected override willUpdate(): void {
    this.#follow.sync();
    this.#problem = this.problem(() => (this.#known ? null : `unknown wallet provider "${this.provider}"`));
  }

  get #known(): boolean {
    return z.safeParse(WalletProvider, this.provider).success;
  }

  get #name(): string {
    return providerName(this.provider);
  }

  /** Asks for the connections (one request shared by every element); a failure says why and leaves nothing to click. */
  #refresh(services: PaywallServices) {
    const token = services.session.token;
    services.walletConnections.refresh().catch((error) => {
      // A failure for a reader who has since signed out or switched is not this reader's.
      if (services.session.token === token) this.#fail(error);
    });
  }

  /** Shows this provider's connection from the shared list; null (signed out, another reader) forgets what was shown. */
  #apply(connections: WalletConnection[] | null) {
    if (!connections) {
      this.connection = null;
      [this.failed, this.status] = [false, ''];
      return;
    }
    const found = connections.find((c) => c.provider === this.provider);
    if (found) this.#show(found);
    else this.#report('payment_method_unavailable', undefined);
  }

  #show(connection: WalletConnection) {
    const changed = connection.status !== this.connection?.status || connection.error?.code !== this.connection?.error?.code;
    this.connection = connection;
    if (connection.error) this.#report(connection.error.code, connection.error.message);
    else if (this.failed) [this.failed, this.status] = [false, ''];
    if (changed) this.dispatchEvent(new PaywallWalletConnectEvent(this.provider, connection.status, connection.error?.code));
  }

  #fail(error: unknown) {
    const failure = this.fail(error, { closedIsError: false });
    if (!failure) return;
    this.failed = !failure.closed;
    this.status = failure.closed ? '' : failure.message;
  }

  #report(code: string, message: string | undefined) {
    this.failed = true;
    this.status = errorText(this.locale, code, message);
    this.reportError(code, this.status);
  }

  /** Opens the hosted sign-in inside the click; a blocked window continues in this tab. */
  #signIn() {
    const onProgress = hostedProgress(this, { onPhase: (phase) => phase.kind === 'redirecting' && void ([this.failed, this.status] = [false, this.t.redirecting]) });
    this.services!.account.signIn('sign-in', { onProgress }).catch((error) => this.#fail(error));
  }

  /** Opens the hosted window synchronously inside the click, then sends it to the backend's connect page. */
  #connect() {
    const services = this.services!;
    if (this.busy) return;
    const win = HostedWindow.open(services.client.origin);
    reportWindowEvents(win, this);
    // No window to send anywhere: starting a connection would only leave an unused link behind.
    if (win.blocked) return this.#report('popup_blocked', undefined);
    this.busy = true;
    this.failed = false;
    this.status = this.t.connectingWallet;
    services.client.walletConnectUrl(this.provider)
      .then((url) => {
        win.navigate(url);
        return win.result();
      })
      .then(async (message) => {
        // The shown connection follows from the reloaded list (through #apply).
        await services.walletConnections.refresh();
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
    const control = !this.signedIn
      ? html`<button part="sign-in" type="button" @click=${() => this.#signIn()}>${t.signIn}</button>`
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
