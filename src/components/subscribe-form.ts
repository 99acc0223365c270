import { css, html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { FollowController } from '../controllers/follow-controller';
import { hostedProgress, hostedStepText } from '../controllers/hosted-progress';
import { PaywallSubscriptionEvent } from '../events/subscription';
import { formatDate, formatPlanPrice } from '../i18n/messages';
import { cardBrandName } from '../i18n/card-brand-names';
import { providerName } from '../i18n/provider-names';
import type { PaymentMethod, Plan, Subscription } from '../protocol';
import { isCurrentSubscription } from '../services/subscription-store';
import { PaywallElement } from './internal/paywall-element';
import { tokens } from './internal/shared-styles';

export type SubscribeFormState = 'loading' | 'ready' | 'working' | 'window-open' | 'subscribed' | 'confirming' | 'error';

const PLAN_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Lists subscription plans with their localized price and period and subscribes the reader
 * (sign-in first when signed out; the card checkout in the hosted window). Once subscribed it
 * shows the subscription — state, next billing date, card or wallet — and cancels it after an
 * inline confirmation.
 *
 * @tagname subscribe-form
 * @summary Plans, subscribing, and the current subscription with cancel.
 * @csspart plans - The list of plans.
 * @csspart plan - One plan.
 * @csspart plan-title - A plan's title.
 * @csspart plan-price - A plan's price and period ("€4.99 / month").
 * @csspart plan-trial - A plan's free trial, when it has one.
 * @csspart subscribe - A subscribe button (one per payment method).
 * @csspart current - The current subscription.
 * @csspart subscription-state - Its state (active, canceled…).
 * @csspart next-billing - Its next billing date, or until when access lasts.
 * @csspart payment-method - The card (brand and last four digits) or the wallet it is paid with.
 * @csspart cancel - The cancel button.
 * @csspart provider-cancel - The link to the payment provider's cancel page, when only the provider can cancel.
 * @csspart confirm - The inline cancel confirmation.
 * @csspart keep - The "Keep subscription" button of the confirmation.
 * @csspart confirm-cancel - The "Cancel subscription" button of the confirmation.
 * @csspart status - The status line announced to screen readers.
 * @csspart error - The error message.
 * @cssprop [--paywall-accent=#1d4ed8] - Button background.
 * @cssprop [--paywall-on-accent=#ffffff] - Button text.
 * @cssprop [--paywall-muted=#5b6270] - Secondary text.
 * @cssprop [--paywall-radius=0.375rem] - Corner radius.
 * @cssprop [--paywall-font=inherit] - Font family.
 * @cssprop [--paywall-error=#b42318] - Error text.
 * @fires paywall-subscription - The reader's subscription to one of the plans became known or changed (`status`, `subscription`).
 * @fires paywall-error - Loading, subscribing or canceling failed; `code` says why.
 * @fires paywall-window - The sign-in or checkout window opened, completed, was closed or was blocked.
 */
export class SubscribeFormElement extends PaywallElement {
  static override styles = [
    tokens,
    css`
      :host {
        display: block;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: 0.75em;
      }
      li,
      .current {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5em 1em;
        padding: 0.75em;
        border: 1px solid var(--_muted);
        border-radius: var(--_radius);
      }
      .title {
        font-weight: 600;
      }
      .muted {
        color: var(--_muted);
      }
      .current {
        flex-direction: column;
        align-items: flex-start;
      }
      .current p {
        margin: 0;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5em;
      }
      .error {
        display: block;
        margin-top: 0.5em;
      }
    `,
  ];

  /** Space-separated plan ids, in the order to list them. */
  @property({ reflect: true }) plans = '';
  /** Reflected for styling: loading, ready, working, window-open, subscribed, confirming, error. */
  @property({ reflect: true }) state: SubscribeFormState = 'loading';

  @state() private catalog: Plan[] | null = null;
  @state() private subscriptions: Subscription[] | null = null;
  @state() private status = '';
  @state() private errorMessage = '';

  #problem: string | null = null;
  /** `id:status` of the subscription last reported, undefined before the first answer. */
  #reported: string | null | undefined = undefined;
  #busy = false;
  #confirming = false;
  /** Where the reader cancels a subscription only its payment provider can cancel: from the `cancel_at_provider` error shown; any other error shown clears it. */
  #providerCancelUrl = '';
  /** Where focus goes after the next render. */
  #focusNext: string | null = null;

  #follow = new FollowController(this, {
    args: () => [this.backendUrl, this.plans] as const,
    follow: () => {
      const services = this.services;
      if (!services) return;
      this.catalog = null;
      services.client.catalog().then(
        ({ plans }) => (this.catalog = plans),
        (error) => this.#fail(error),
      );
      const offSubscriptions = services.subscriptions.subscribe((list) => this.#onSubscriptions(list));
      const offSession = services.session.subscribe((token) => {
        if (!token) this.#onSubscriptions(null);
      });
      this.subscriptions = services.subscriptions.subscriptions;
      if (services.session.signedIn && !this.subscriptions) services.subscriptions.refresh().catch((error) => this.#fail(error));
      return () => {
        offSubscriptions();
        offSession();
      };
    },
  });

  get #planIds(): string[] {
    return this.plans.split(/\s+/).filter(Boolean);
  }

  /** The listed plans, in the attribute's order, among those the backend sells. */
  get #plans(): Plan[] {
    const byId = new Map(this.catalog?.map((plan) => [plan.id, plan]));
    return this.#planIds.map((id) => byId.get(id)).filter((plan): plan is Plan => !!plan);
  }

  get #current(): Subscription | null {
    const ids = this.#planIds;
    return this.subscriptions?.find((s) => ids.includes(s.plan) && isCurrentSubscription(s)) ?? null;
  }

  #onSubscriptions(list: Subscription[] | null) {
    this.subscriptions = list;
    const current = this.#current;
    const key = current ? `${current.id}:${current.status}` : null;
    if (list === null && this.#reported === undefined) return;
    if (key !== this.#reported) {
      const first = this.#reported === undefined;
      this.#reported = key;
      if (!first || current) this.dispatchEvent(new PaywallSubscriptionEvent(current?.status ?? null, current));
    }
  }

  protected override willUpdate(): void {
    this.#follow.sync();
    this.#problem = this.problem(() => {
      const ids = this.#planIds;
      if (!ids.length) return 'plans="…" is empty: name the plan ids to offer';
      const bad = ids.find((id) => !PLAN_ID.test(id));
      if (bad) return `"${bad}" is not a valid plan id`;
      const missing = this.catalog && ids.find((id) => !this.catalog!.some((plan) => plan.id === id));
      return missing ? `the backend sells no plan "${missing}"` : null;
    });
    if (this.#problem) {
      this.state = 'error';
      return;
    }
    if (this.#busy) return;
    if (this.state === 'error' && this.errorMessage) return;
    if (!this.catalog) this.state = 'loading';
    else if (this.#current) this.state = this.#confirming ? 'confirming' : 'subscribed';
    else this.state = 'ready';
  }

  protected override updated(): void {
    if (!this.#focusNext) return;
    const target = this.renderRoot.querySelector<HTMLElement>(this.#focusNext);
    this.#focusNext = null;
    target?.focus();
  }

  #subscribe(plan: Plan, method: PaymentMethod) {
    const services = this.services;
    if (!services || this.#busy) return;
    this.#busy = true;
    this.state = 'working';
    this.errorMessage = '';
    this.status = this.t.working;
    const onProgress = hostedProgress(this, {
      onPhase: (phase) => {
        if (phase.kind === 'redirecting') return void (this.status = this.t.redirecting);
        this.state = phase.kind;
        this.status = phase.kind === 'window-open' ? hostedStepText(this.t, phase.step) : this.t.working;
      },
    });
    // Synchronous inside the click: the sign-in or checkout window opens before anything is awaited.
    services.subscribing
      .subscribe(plan.id, method, { onProgress })
      .then((subscription) => {
        this.#busy = false;
        services.subscriptions.upsert(subscription);
        this.status = this.t.subscribed;
        this.#focusNext = '.current';
        this.requestUpdate();
      })
      .catch((error) => {
        this.#busy = false;
        this.#fail(error);
      });
  }

  #askCancel() {
    this.#confirming = true;
    this.errorMessage = '';
    this.#focusNext = '[part="keep"]';
    this.requestUpdate();
  }

  #keep() {
    this.#confirming = false;
    this.status = this.t.kept;
    this.#focusNext = '[part="cancel"]';
    this.requestUpdate();
  }

  #onConfirmKeydown(event: KeyboardEvent) {
    if (event.key !== 'Escape') return;
    event.preventDefault();
    event.stopPropagation();
    this.#keep();
  }

  #cancel(subscription: Subscription) {
    const services = this.services;
    if (!services || this.#busy) return;
    this.#busy = true;
    this.#confirming = false;
    this.state = 'working';
    this.status = this.t.working;
    services.subscriptions
      .cancel(subscription.id)
      .then(() => {
        this.#busy = false;
        this.status = this.t.canceled;
        this.#focusNext = '.current';
        this.requestUpdate();
      })
      .catch((error) => {
        this.#busy = false;
        this.#fail(error);
      });
  }

  #fail(error: unknown) {
    const failure = this.fail(error);
    if (!failure) return;
    this.status = failure.message;
    this.#providerCancelUrl = failure.code === 'cancel_at_provider' ? failure.error?.cancelUrl ?? '' : '';
    this.errorMessage = failure.closed ? '' : failure.message;
    this.state = failure.closed ? 'ready' : 'error';
    if (failure.closed) this.requestUpdate();
  }

  #renderPlans() {
    const busy = this.state === 'working' || this.state === 'window-open';
    return html`<ul part="plans" aria-label=${this.t.plans}>
      ${this.#plans.map((plan, i) => html`<li part="plan">
        <span part="plan-title" class="title" id="plan-${i}">${plan.title}</span>
        <span part="plan-price">${formatPlanPrice(plan, this.locale)}</span>
        ${plan.trialDays ? html`<span part="plan-trial" class="muted">${this.t.trial(plan.trialDays)}</span>` : nothing}
        <span class="actions">
          ${plan.methods.map((method) => html`<button
            part="subscribe subscribe-${method}"
            type="button"
            aria-describedby="plan-${i}"
            aria-disabled=${busy ? 'true' : 'false'}
            @click=${() => !busy && this.#subscribe(plan, method)}
          >${this.t.subscribeWith[method] ?? method}</button>`)}
        </span>
      </li>`)}
    </ul>`;
  }

  #renderCurrent(subscription: Subscription) {
    const t = this.t;
    const date = (iso: string | null) => (iso ? formatDate(iso, this.locale) : null);
    const until = date(subscription.currentPeriodEnd);
    const next = subscription.status !== 'canceled' && !subscription.cancelAtPeriodEnd ? date(subscription.nextBillingAt) : null;
    const cancellable = subscription.status !== 'canceled' && !subscription.cancelAtPeriodEnd;
    const busy = this.state === 'working';
    return html`<div part="current" class="current" tabindex="-1" role="group" aria-labelledby="current-title">
      <p id="current-title" class="title">${t.yourSubscription}: ${subscription.title}</p>
      <p part="subscription-state">${t.subscriptionStatus[subscription.status] ?? subscription.status}</p>
      ${next ? html`<p part="next-billing">${t.nextBilling(next)}</p>` : until ? html`<p part="next-billing">${t.accessUntil(until)}</p>` : nothing}
      <p part="payment-method" class="muted">${subscription.provider ? t.billedBy(providerName(subscription.provider)) : subscription.method === 'card' && subscription.card ? t.paidWithCard(cardBrandName(subscription.card.brand), subscription.card.last4) : t.paidFromWallet}</p>
      ${this.#confirming
        ? html`<div part="confirm" class="confirm" role="group" aria-labelledby="confirm-text" @keydown=${this.#onConfirmKeydown}>
            <p id="confirm-text">${t.confirmCancel(subscription.title, until)}</p>
            <span class="actions">
              <button part="keep" type="button" @click=${this.#keep}>${t.keepSubscription}</button>
              <button part="confirm-cancel" class="secondary" type="button" @click=${() => this.#cancel(subscription)}>${t.cancelSubscription}</button>
            </span>
          </div>`
        : cancellable
          ? html`<button part="cancel" class="secondary" type="button" aria-disabled=${busy ? 'true' : 'false'} @click=${() => !busy && this.#askCancel()}>${t.cancelSubscription}</button>`
          : nothing}
    </div>`;
  }

  protected override render() {
    if (this.#problem) return html`<span part="error" class="error" role="alert">${this.problemText()}</span>`;
    const current = this.#current;
    return html`
      ${!this.catalog ? html`<span class="muted">${this.t.loading}</span>` : current ? this.#renderCurrent(current) : this.#renderPlans()}
      ${this.errorMessage ? html`<span part="error" class="error">${this.errorMessage}</span>` : nothing}
      ${this.errorMessage && this.#providerCancelUrl ? html`<a part="provider-cancel" href=${this.#providerCancelUrl} target="_blank" rel="noopener">${this.t.cancelAtProvider}</a>` : nothing}
      <span part="status" class="visually-hidden" role="status" aria-live="polite">${this.status}</span>
    `;
  }
}
