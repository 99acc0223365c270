import { css, html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import * as z from 'zod/mini';
import { Currency, decodeOfferToken, MinorUnits, PaymentMethod, ProductId } from '../protocol';
import { FollowController } from '../controllers/follow-controller';
import { hostedProgress, hostedStepText } from '../controllers/hosted-progress';
import { PaywallAccessEvent } from '../events/access';
import { formatDuration, formatMoney } from '../i18n/messages';
import type { PurchaseTarget } from '../services/purchase-journey';
import { PaywallElement } from './internal/paywall-element';
import { tokens } from './internal/shared-styles';

export type PaywallButtonState = 'idle' | 'checking' | 'working' | 'window-open' | 'granted' | 'error';

const ButtonAttributes = z.object({
  product: ProductId,
  price: z.optional(MinorUnits),
  currency: z.optional(Currency),
});

/**
 * How long a button waits for its first access answer before it shows itself busy: most answers
 * come sooner, and then the reader sees the button only as it is (or, with access, never).
 */
export const FIRST_ANSWER_PATIENCE_MS = 500;

/** What is being bought (product id and display price), or why nothing is. */
type ReadAttributes = { target: PurchaseTarget & { product: string }; problem: null } | { target: null; problem: string };

/**
 * Buys access to a product: one click from the wallet, or through the backend's hosted sign-in and
 * top-up windows when needed; with `method="card"`, by card on the backend's hosted checkout page
 * (and its 3-D Secure step, in the same window). Hides itself once the reader has access.
 *
 * @tagname paywall-button
 * @summary A buy button for one product or signed offer.
 * @slot - The label; defaults to "Buy for <price>".
 * @csspart button - The native button.
 * @csspart price - The price, when a label is slotted.
 * @csspart validity - How long access lasts, when `validity` is set.
 * @csspart status - The status line announced to screen readers.
 * @csspart window-hint - While the hosted window is open: where to finish, and the control that brings the window back.
 * @csspart show-window - The control that brings the hosted window back to the front.
 * @csspart error - The error message, in the error state.
 * @cssprop [--paywall-accent=#1d4ed8] - Button background.
 * @cssprop [--paywall-on-accent=#ffffff] - Button text.
 * @cssprop [--paywall-radius=0.375rem] - Corner radius.
 * @cssprop [--paywall-font=inherit] - Font family.
 * @cssprop [--paywall-error=#b42318] - Error text.
 * @fires paywall-access - Access was granted (by purchase or because the reader already had it).
 * @fires paywall-error - The purchase failed; `code` says why.
 * @fires paywall-window - A hosted window opened, completed, was closed or was blocked.
 */
export class PaywallButtonElement extends PaywallElement {
  static override shadowRootOptions: ShadowRootInit = { ...PaywallElement.shadowRootOptions, delegatesFocus: true };

  static override styles = [
    tokens,
    css`
      :host {
        display: inline-block;
        min-height: 2.5em;
      }
      /* Hidden once bought, but its live region stays rendered so "Access granted" is still announced. */
      :host([state='granted']:not([keep-visible])) {
        display: contents;
      }
      :host([state='granted']:not([keep-visible])) button {
        display: none;
      }
      .price {
        margin-inline-start: 0.5em;
        font-weight: 600;
      }
      .validity {
        margin-inline-start: 0.5em;
        font-size: 0.85em;
        opacity: 0.85;
      }
      .error,
      .hint {
        display: block;
        margin-top: 0.25em;
        font-size: 0.9em;
      }
      .show-window {
        font: inherit;
        color: inherit;
        background: none;
        border: 0;
        padding: 0;
        text-decoration: underline;
        cursor: pointer;
      }
    `,
  ];

  /** Catalog product id. Use either `product` or `offer`. */
  @property({ reflect: true }) product?: string;
  /** A merchant-signed offer (dynamic price); see `npm run sign-offer`. */
  @property({ reflect: true }) offer?: string;
  /** Display price in integer minor units (49 = €0.49); the backend refuses to charge if it differs. */
  @property({ type: Number }) price?: number;
  /** ISO 4217 currency of `price`. */
  @property({ reflect: true }) currency?: string;
  /** Seconds of access, shown beside the price ("30 days"); the backend decides the real validity. */
  @property({ type: Number }) validity?: number;
  /**
   * How the reader pays: `wallet` (default; one click from the balance, hosted top-up when short) or
   * `card` (a one-off card payment on the backend's hosted checkout page, with 3-D Secure in the
   * same window when the bank asks for it). Any other value is a configuration error.
   */
  @property({ reflect: true }) method?: 'wallet' | 'card';
  /** Stay visible as "Purchased" once access is granted, instead of hiding. */
  @property({ type: Boolean, reflect: true, attribute: 'keep-visible' }) keepVisible = false;
  /** The purchase state, reflected for styling: idle, checking, working, window-open, granted, error. */
  @property({ reflect: true }) state: PaywallButtonState = 'checking';

  @state() private errorMessage = '';
  @state() private status = '';
  @state() private hasLabel = false;

  /** Why the element cannot work (backend or attributes), shown instead of the button. */
  #problem: string | null = null;

  /** A new backend, product or price starts over (an error about the old ones is stale). */
  #access = new FollowController(this, {
    args: () => [this.backendUrl, JSON.stringify(this.#target())] as const,
    follow: () => {
      const services = this.services;
      const product = this.#target()?.product;
      if (!services || !product) return;
      // A new product starts over (an error of the previous one is no longer true); one being bought stays busy.
      this.state = services.journeys.inProgress(product) ? 'working' : 'checking';
      this.errorMessage = '';
      // While this button's own purchase runs, its answer reports the grant (source `purchase`), even
      // when the notification of the same grant arrives first.
      const unsubscribe = services.entitlements.subscribe(product, (access) => !(this.#buying && access.granted) && this.#onAccess(access.granted, access.expiresAt, access.source === 'purchase' ? 'purchase' : access.source === 'notification' ? 'notification' : access.source === 'other-tab' ? 'other-tab' : 'check'));
      const known = services.entitlements.get(product);
      if (known) this.#onAccess(known.granted, known.expiresAt, 'check');
      else {
        if (!this.hasUpdated && this.state === 'checking') this.#awaitFirstAnswer();
        services.entitlements.check(product).catch((error) => this.#fail(error));
      }
      return unsubscribe;
    },
  });

  /** Set while the first render waits for the first answer (see FIRST_ANSWER_PATIENCE_MS). */
  #patience: ReturnType<typeof setTimeout> | null = null;

  #awaitFirstAnswer() {
    this.#stopWaiting();
    // Nothing renders meanwhile, so nothing reflects: the documented `state` is set here.
    this.setAttribute('state', this.state);
    this.#patience = setTimeout(() => {
      this.#patience = null;
      this.requestUpdate();
    }, FIRST_ANSWER_PATIENCE_MS);
  }

  #stopWaiting() {
    if (this.#patience !== null) clearTimeout(this.#patience);
    this.#patience = null;
  }

  /**
   * Follows a new target or backend first (a `<paywall-config>` may provide it only now), since
   * that may start the wait for a first answer. Its space is reserved (`:host` min-height) while
   * it waits, so showing it later moves nothing.
   */
  protected override shouldUpdate(changed: PropertyValues): boolean {
    this.#access.sync();
    return this.#patience === null && super.shouldUpdate(changed);
  }

  #readFrom: unknown[] | null = null;
  #readResult: ReadAttributes | null = null;

  /** The attributes read, once per change of them: an update asks several times, and parsing is not free. */
  #read() {
    const from = [this.method, this.offer, this.product, this.price, this.currency];
    if (!this.#readFrom || from.some((value, i) => !Object.is(value, this.#readFrom![i]))) {
      this.#readFrom = from;
      this.#readResult = this.#parseAttributes();
    }
    return this.#readResult!;
  }

  /** What is being bought (product id and display price, from the attributes or the offer), or why nothing is. */
  #parseAttributes(): ReadAttributes {
    if (this.method != null && !z.safeParse(PaymentMethod, this.method).success) {
      return { target: null, problem: `method="${this.method}" is not a payment method (wallet or card)` };
    }
    if (this.offer) {
      const offer = decodeOfferToken(this.offer)?.payload;
      if (!offer) return { target: null, problem: `offer="${this.offer}" is not a readable signed offer` };
      return { target: { product: offer.product, offer: this.offer, price: offer.price, currency: offer.currency }, problem: null };
    }
    const parsed = z.safeParse(ButtonAttributes, { product: this.product, price: this.price, currency: this.currency });
    return parsed.success ? { target: parsed.data, problem: null } : { target: null, problem: `invalid product, price or currency: ${z.prettifyError(parsed.error)}` };
  }

  #target() {
    return this.#read().target;
  }

  protected override willUpdate(): void {
    this.#problem = this.problem(() => this.#read().problem);
    if (this.#problem) this.state = 'error';
  }

  #buying = false;

  #onAccess(granted: boolean, expiresAt: string | null, source: 'check' | 'purchase' | 'notification' | 'other-tab') {
    this.#stopWaiting();
    if (granted) {
      const first = this.state !== 'granted';
      if (first && !this.keepVisible && this.matches(':focus-within')) this.#moveFocusToContent();
      this.state = 'granted';
      this.errorMessage = '';
      if (first) this.dispatchEvent(new PaywallAccessEvent(this.#target()!.product, expiresAt, source));
    } else if (this.state === 'granted' || this.state === 'checking') {
      this.state = 'idle';
    }
  }

  /** The button is about to hide under the reader's focus: take focus to what just opened, not to the page top. */
  #moveFocusToContent() {
    const product = this.#target()?.product;
    const content = product && [...this.ownerDocument.querySelectorAll('paywall-content')].find((el) => el.getAttribute('product') === product);
    if (!content) return;
    if (!content.hasAttribute('tabindex')) content.setAttribute('tabindex', '-1');
    content.focus({ preventScroll: true });
  }

  #fail(error: unknown) {
    this.#stopWaiting();
    const failure = this.fail(error, { product: this.#target()?.product });
    if (!failure) return;
    this.state = failure.closed ? 'idle' : 'error';
    if (!failure.closed) this.errorMessage = failure.message;
    this.status = failure.message;
  }

  #onClick() {
    const services = this.services;
    const target = this.#target();
    if (this.state === 'window-open') return this.#showWindow();
    if (!services || !target || this.state === 'working' || this.state === 'granted') return;
    this.state = 'working';
    this.errorMessage = '';
    this.status = this.t.working;
    const onProgress = hostedProgress(this, {
      product: target.product,
      onPhase: (phase) => {
        if (phase.kind === 'redirecting') return void (this.status = this.t.redirecting);
        this.state = phase.kind;
        this.status = phase.kind === 'window-open' ? hostedStepText(this.t, phase.step) : this.t.working;
      },
    });
    this.#buying = true;
    // Called synchronously inside the click, so the hosted window may open without being blocked.
    services.purchases
      .purchase(target, { onProgress, method: this.method === 'card' ? 'card' : 'wallet' })
      .then((access) => {
        this.#buying = false;
        this.status = this.t.granted;
        this.#onAccess(access.granted, access.expiresAt, 'purchase');
      })
      .catch((error) => {
        this.#buying = false;
        this.#fail(error);
      });
  }

  #showWindow() {
    const product = this.#target()?.product;
    if (product) this.services?.journeys.showWindow(product);
  }

  #label(price: string | null) {
    if (this.state === 'error') return this.t.tryAgain;
    return price ? this.t.buy(price) : this.t.buyNoPrice;
  }

  protected override render() {
    if (this.#problem) {
      return html`<span part="error" class="error" role="alert">${this.problemText()}</span>`;
    }
    const target = this.#target()!;
    const price = target.price !== undefined && target.currency ? formatMoney(target.price, target.currency, this.locale) : null;
    const busy = this.state === 'working' || this.state === 'checking' || this.state === 'window-open';
    const granted = this.state === 'granted';
    return html`
      <button
        part="button button-${this.state}"
        type="button"
        aria-busy=${busy ? 'true' : 'false'}
        aria-disabled=${busy || this.state === 'granted' ? 'true' : 'false'}
        aria-describedby="status"
        @click=${this.#onClick}
      >
        <slot ?hidden=${granted} @slotchange=${this.#onSlotChange}>${this.#label(price)}</slot>${granted
          ? this.t.purchased
          : this.hasLabel && price
            ? html`<span part="price" class="price">${price}</span>`
            : nothing}${this.validity && !granted ? html`<span part="validity" class="validity">${formatDuration(this.validity, this.locale)}</span>` : nothing}
      </button>
      ${this.state === 'error' ? html`<span part="error" class="error">${this.errorMessage}</span>` : nothing}
      ${this.state === 'window-open'
        ? html`<span part="window-hint" class="hint"><span aria-hidden="true">${this.status}</span> <button part="show-window" class="show-window" type="button" @click=${this.#showWindow}>${this.t.showWindow}</button></span>`
        : nothing}
      <span id="status" part="status" class="visually-hidden" role="status" aria-live="polite">${this.status}</span>
    `;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stopWaiting();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // What the default slot will show, known before the first render, so its slotchange renders nothing new.
    this.hasLabel = isLabel([...this.childNodes].filter((node) => !(node instanceof Element) || !node.slot));
  }

  #onSlotChange(event: Event) {
    this.hasLabel = isLabel((event.target as HTMLSlotElement).assignedNodes({ flatten: false }));
  }
}

/** Whether the nodes in the default slot make a label of their own (an element, or text that is not blank). */
function isLabel(nodes: Node[]): boolean {
  return nodes.some((node) => node.nodeType === Node.ELEMENT_NODE || node.textContent?.trim());
}
