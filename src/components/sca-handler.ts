import { css, html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { FollowController } from '../controllers/follow-controller';
import { reportWindowEvents } from '../controllers/hosted-progress';
import { PaywallAccessEvent, type AccessEventSource } from '../events/access';
import { PaywallRequiresActionEvent } from '../events/requires-action';
import { PaywallSubscriptionEvent } from '../events/subscription';
import type { PaymentIntent } from '../protocol';
import { BackendError } from '../services/backend-error';
import { HostedWindow } from '../services/hosted-window';
import type { PaywallServices } from '../services/paywall-services';
import type { ScaAction } from '../services/sca-flow';
import { PaywallElement } from './internal/paywall-element';
import { tokens } from './internal/shared-styles';

export type ScaHandlerMode = 'popup' | 'redirect';
export type ScaHandlerState = 'idle' | 'confirming' | 'window-open' | 'blocked' | 'done' | 'error';

/**
 * Page-level Strong Customer Authentication (one per page, optional). Follows the signed-in
 * reader's `*.requires.action` notifications: `popup` opens the hosted 3-D Secure page in a window
 * (the page keeps its state; when the browser blocks it, a "Complete verification" button opens
 * it on click), `redirect` leaves for it. On page load it completes a `?payment_intent=` return
 * once and removes it from the address bar. While the notification socket is down it polls the
 * intent, so a lost message never leaves the reader waiting.
 *
 * @tagname sca-handler
 * @summary Handles 3-D Secure for the whole page.
 * @csspart message - The "verify this payment" text, while a blocked window waits for a click.
 * @csspart button - The "Complete verification" button.
 * @csspart status - The status line announced to screen readers.
 * @csspart error - The error message, in the error state.
 * @cssprop [--paywall-accent=#1d4ed8] - Button background.
 * @cssprop [--paywall-on-accent=#ffffff] - Button text.
 * @cssprop [--paywall-radius=0.375rem] - Corner radius.
 * @cssprop [--paywall-error=#b42318] - Error text.
 * @fires paywall-requires-action - A payment waits for 3-D Secure; cancelable (then the page handles it).
 * @fires paywall-access - A verified payment granted access.
 * @fires paywall-subscription - A verified payment started a subscription.
 * @fires paywall-error - Verification or confirmation failed; `code` says why.
 * @fires paywall-window - The 3-D Secure window opened, completed, was closed or was blocked.
 */
export class ScaHandlerElement extends PaywallElement {
  static override styles = [
    tokens,
    css`
      :host {
        display: block;
      }
      :host([state='idle']),
      :host([state='confirming']),
      :host([state='window-open']),
      :host([state='done']) {
        display: contents;
      }
      .prompt {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5em;
      }
      p {
        margin: 0;
      }
    `,
  ];

  /** `popup` (default): the 3-D Secure page opens in a window; `redirect`: the page leaves for it. */
  @property({ reflect: true }) mode: ScaHandlerMode = 'popup';
  /** Reflected for styling: idle, confirming, window-open, blocked, done, error. */
  @property({ reflect: true }) state: ScaHandlerState = 'idle';

  @state() private status = '';
  @state() private errorMessage = '';

  /** The action a blocked window left waiting for the reader's click. */
  #waiting: ScaAction | null = null;
  #problem: string | null = null;
  /** The `?payment_intent=` return is completed (and reported) by one element once. */
  #resumed = false;

  #follow = new FollowController(this, {
    args: () => [this.backendUrl] as const,
    follow: () => {
      const services = this.services;
      if (!services) return;
      if (!this.#resumed) {
        this.#resumed = true;
        this.#resume(services);
      }
      return services.sca.onAction((action) => this.#onAction(services, action));
    },
  });

  protected override willUpdate(): void {
    this.#follow.sync();
    this.#problem = this.problem(() => (this.mode === 'popup' || this.mode === 'redirect' ? null : `mode="${this.mode}" must be "popup" or "redirect"`));
    if (this.#problem) this.state = 'error';
  }

  #resume(services: PaywallServices) {
    const returning = typeof location !== 'undefined' && new URL(location.href).searchParams.has('payment_intent');
    if (returning) {
      this.state = 'confirming';
      this.status = this.t.confirmingPayment;
    }
    services.sca.resumeFromUrl().then(
      (intent) => {
        if (intent) void this.#succeeded(services, intent, 'redirect');
      },
      (error) => this.#fail(error),
    );
  }

  #onAction(services: PaywallServices, action: ScaAction) {
    const event = new PaywallRequiresActionEvent(action.paymentIntent, action.redirectToUrl);
    this.dispatchEvent(event);
    if (event.defaultPrevented || this.#problem) return;
    if (this.mode === 'redirect') {
      this.status = this.t.redirecting;
      try {
        services.sca.navigate(action.redirectToUrl);
      } catch (error) {
        this.#fail(error);
      }
      return;
    }
    this.#open(services, action);
  }

  /** Opens the 3-D Secure page in a window, or waits for a click when the browser blocks it. */
  #open(services: PaywallServices, action: ScaAction) {
    const win = HostedWindow.open(services.client.origin);
    reportWindowEvents(win, this, action.product);
    if (win.blocked) {
      this.#waiting = action;
      this.state = 'blocked';
      this.errorMessage = '';
      this.status = this.t.verificationNeeded;
      return;
    }
    this.#waiting = null;
    void this.#verify(services, action, win);
  }

  #onCompleteClick() {
    const services = this.services;
    const action = this.#waiting;
    if (!services || !action) return;
    // Synchronous inside the click, so the browser lets the window open.
    const win = HostedWindow.open(services.client.origin);
    if (win.blocked) {
      // Blocked even on a click: leave for the page; the hosted page returns here with the result.
      services.sca.navigate(action.redirectToUrl);
      return;
    }
    this.#waiting = null;
    void this.#verify(services, action, win);
  }

  /** The reader verifies in `win`; the window's message, a notification or a poll reports the outcome, whichever comes first. */
  async #verify(services: PaywallServices, action: ScaAction, win: HostedWindow) {
    this.state = 'window-open';
    this.errorMessage = '';
    this.status = this.t.verifying;
    const done = new AbortController();
    try {
      win.navigate(action.redirectToUrl);
      const viaWindow = win.result(done.signal).then(async (message) => {
        if (message.type === 'payment-failed') throw new BackendError(message.code ?? 'authentication_failed', message.message ?? 'The payment was not authenticated.');
        if (message.type === 'payment-intent') return services.sca.confirm(message.paymentIntent ?? action.paymentIntent);
        return services.sca.track(action.paymentIntent, done.signal);
      });
      const viaTracking = services.sca.track(action.paymentIntent, done.signal);
      viaWindow.catch(() => undefined);
      viaTracking.catch(() => undefined);
      const intent = await Promise.race([viaWindow, viaTracking]);
      await this.#succeeded(services, intent, 'purchase');
    } catch (error) {
      this.#fail(error);
    } finally {
      // Stops the polling and closes the window if the outcome came another way.
      done.abort();
    }
  }

  async #succeeded(services: PaywallServices, intent: PaymentIntent, source: AccessEventSource) {
    if (intent.status !== 'succeeded') {
      this.#fail(intent.status === 'failed'
        ? new BackendError(intent.failure?.code ?? 'authentication_failed', intent.failure?.message ?? 'The payment was not authenticated.')
        : intent.status === 'canceled'
          ? new BackendError('intent_expired', 'This payment has expired.')
          : new BackendError('authentication_required', 'Verify the payment with your bank first.'));
      return;
    }
    this.state = 'done';
    this.errorMessage = '';
    this.status = this.t.paymentConfirmed;
    if (intent.entitlement) this.dispatchEvent(new PaywallAccessEvent(intent.entitlement.product, intent.entitlement.expiresAt, source));
    if (intent.subscription) {
      const list = await services.subscriptions.refresh().catch(() => null);
      const subscription = list?.find((s) => s.id === intent.subscription) ?? null;
      if (subscription) this.dispatchEvent(new PaywallSubscriptionEvent(subscription.status, subscription));
    }
  }

  #fail(error: unknown) {
    const failure = this.fail(error);
    if (!failure) return;
    this.state = failure.closed ? 'idle' : 'error';
    if (!failure.closed) this.errorMessage = failure.message;
    this.status = failure.message;
  }

  protected override render() {
    if (this.#problem) return html`<span part="error" class="error" role="alert">${this.problemText()}</span>`;
    return html`
      ${this.state === 'blocked'
        ? html`<div class="prompt">
            <p part="message">${this.t.verificationNeeded}</p>
            <button part="button" type="button" @click=${this.#onCompleteClick}>${this.t.completeVerification}</button>
          </div>`
        : nothing}
      ${this.state === 'error' ? html`<span part="error" class="error">${this.errorMessage}</span>` : nothing}
      <span part="status" class="visually-hidden" role="status" aria-live="polite">${this.status}</span>
    `;
  }
}
