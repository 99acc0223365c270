import { css, html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { Task } from '@lit/task';
import * as z from 'zod/mini';
import { ProductId } from '../protocol';
import { FollowController } from '../controllers/follow-controller';
import { PaywallAccessEvent, type AccessEventSource } from '../events/access';
import { PaywallDeniedEvent } from '../events/denied';
import { errorText } from '../i18n/messages';
import type { AccessState } from '../services/entitlement-store';
import { PaywallElement } from './internal/paywall-element';
import { sanitizedContainer } from './internal/sanitize';
import { tokens } from './internal/shared-styles';

export type PaywallContentState = 'checking' | 'locked' | 'loading' | 'unlocked' | 'error';

type LoadArgs = readonly [product: string | null, src: string | undefined, trusted: boolean, connection: number];
/** One array for "nothing to load", so the load task sees no change while there is none. */
const NOTHING_TO_LOAD: LoadArgs = [null, undefined, false, 0];

/**
 * Shows paid content once the backend confirms access. By default (safe mode) the paid fragment
 * is fetched from the backend only after access is confirmed, so it is never in the page before.
 * With `inline`, content already in the page is merely hidden until access: that is presentation,
 * not protection, because anyone can read the page source.
 *
 * @tagname paywall-content
 * @summary Paid content, revealed on access.
 * @slot teaser - Always visible: the free part of the article.
 * @slot locked - Shown while the reader has no access (a `<paywall-button>`, say).
 * @slot - With `inline`: the content to reveal on access.
 * @csspart content - The wrapper of the revealed content.
 * @csspart status - Loading and error messages.
 * @cssprop [--paywall-content-reserve=auto] - Height kept for the paid part (the locked slot, then the
 *   revealed content) from the first paint, so revealing content up to this height moves nothing below.
 * @fires paywall-access - Access confirmed and content revealed.
 * @fires paywall-denied - The reader has no access (or lost it on expiry or sign-out).
 * @fires paywall-error - Loading the content failed.
 */
export class PaywallContentElement extends PaywallElement {
  static override styles = [
    tokens,
    css`
      :host {
        display: block;
      }
      .paid {
        min-height: var(--paywall-content-reserve, auto);
      }
    `,
  ];

  /** Catalog product id whose access unlocks this content. */
  @property({ reflect: true }) product?: string;
  /** Load the fragment from this URL instead of the backend's `/v1/content/<product>`. */
  @property() src?: string;
  /** Reveal light-DOM content already in the page instead of loading it (not protection). */
  @property({ type: Boolean, reflect: true }) inline = false;
  /** Insert the fragment without sanitizing it; only for HTML you fully control. */
  @property({ type: Boolean, reflect: true }) trusted = false;
  /** checking, locked, loading, unlocked or error; reflected for styling. */
  @property({ reflect: true }) state: PaywallContentState = 'checking';

  @state() private access: AccessState | null = null;
  #inserted: HTMLElement | null = null;
  /** The fragment asked for on access; `ready` when the access answer brought it along. */
  #early: { product: string; fragment: Promise<string>; ready: boolean } | null = null;
  #earlyAbort: AbortController | null = null;
  #problem: string | null = null;
  #errorCode = 'generic';
  /** Counts connections: paid content leaves with the element and is loaded again when it returns. */
  @state() private connection = 0;

  #follow = new FollowController(this, {
    args: () => [this.backendUrl, this.#product()] as const,
    follow: () => {
      const services = this.services;
      const product = this.#product();
      if (!services || !product) return;
      this.access = null;
      this.state = 'checking';
      const unsubscribe = services.entitlements.subscribe(product, (access) => this.#onAccess(access));
      const known = services.entitlements.get(product);
      if (known) this.#onAccess(known);
      // Shown from the backend: the answer that grants it brings the fragment along.
      else services.entitlements.check(product, { content: !this.inline && !this.src }).catch((error) => this.#fail(error));
      return unsubscribe;
    },
  });

  #load = new Task(this, {
    args: (): LoadArgs => {
      // Asked first while the element is constructed, before the fields #product() reads exist.
      if (this.access?.granted !== true || this.inline) return NOTHING_TO_LOAD;
      const product = this.#product();
      return product ? [product, this.src, this.trusted, this.connection] : NOTHING_TO_LOAD;
    },
    // Nothing to load at first: the task runs (and asks for an update) only once there is.
    initialValue: null,
    task: async ([product, src, trusted], { signal }) => {
      if (!product) return null;
      const services = this.services!;
      const early = src ? null : this.#takeEarly(product);
      // A fragment already here is shown at once: no "Loading…" to announce for it.
      if (!early?.ready) this.state = 'loading';
      const fragment = src ? await services.client.fragment(src, signal) : await (early?.fragment ?? services.content.load(product, signal));
      const container = await sanitizedContainer(fragment, trusted);
      signal.throwIfAborted();
      return container;
    },
    onComplete: (container) => {
      this.#remove();
      if (!container) return;
      container.slot = 'paid';
      container.setAttribute('data-paywall-content', '');
      this.#inserted = container;
      this.append(container);
      this.state = 'unlocked';
      this.dispatchEvent(new PaywallAccessEvent(this.#product()!, this.access?.expiresAt ?? null, this.#eventSource()));
    },
    onError: (error) => this.#fail(error),
  });

  #productFrom: { attribute: string | undefined; product: string | null } | null = null;

  /** The valid product id, parsed once per change of the attribute (an update asks several times). */
  #product(): string | null {
    if (!this.#productFrom || this.#productFrom.attribute !== this.product) {
      const parsed = z.safeParse(ProductId, this.product);
      this.#productFrom = { attribute: this.product, product: parsed.success ? parsed.data : null };
    }
    return this.#productFrom.product;
  }

  #eventSource(): AccessEventSource {
    const source = this.access?.source;
    return source === 'purchase' || source === 'notification' || source === 'other-tab' ? source : 'check';
  }

  protected override willUpdate(): void {
    this.#follow.sync();
    this.#problem = this.problem(() => (this.#product() ? null : this.product ? `product="${this.product}" is not a valid product id` : 'the product attribute is missing'));
    if (this.#problem) this.state = 'error';
  }

  #onAccess(access: AccessState) {
    const wasGranted = this.access?.granted === true;
    this.access = access;
    if (access.granted) {
      if (!wasGranted) this.#loadEarly(access.product);
      if (this.inline) {
        this.state = 'unlocked';
        if (!wasGranted) this.dispatchEvent(new PaywallAccessEvent(access.product, access.expiresAt, this.#eventSource()));
      }
      return;
    }
    this.#dropEarly();
    this.#remove();
    if (this.state !== 'locked') {
      this.state = 'locked';
      const reason = access.source === 'expiry' ? 'expired' : access.source === 'sign-out' ? 'signed-out' : access.source === 'notification' ? 'revoked' : 'no-access';
      this.dispatchEvent(new PaywallDeniedEvent(access.product, reason));
    }
  }

  /**
   * Takes the fragment the access answer brought, or asks for it as soon as access is confirmed,
   * in the same task as every other element the answer unlocked (they go out in one request),
   * instead of after this element has rendered the answer; the load task then takes it over.
   */
  #loadEarly(product: string) {
    const services = this.services;
    if (this.inline || this.src || !services || product !== this.#product()) return;
    this.#dropEarly();
    const brought = services.content.take(product);
    if (brought !== undefined) {
      this.#early = { product, fragment: Promise.resolve(brought), ready: true };
      return;
    }
    const abort = (this.#earlyAbort = new AbortController());
    const fragment = services.content.load(product, abort.signal);
    fragment.catch(() => undefined);
    this.#early = { product, fragment, ready: false };
  }

  /** Stops an early request nobody will take over (access ended, or the element left). */
  #dropEarly() {
    this.#earlyAbort?.abort();
    this.#earlyAbort = null;
    this.#early = null;
  }

  /** The early request for `product`, once: a later load (the element came back, say) asks anew. */
  #takeEarly(product: string): { fragment: Promise<string>; ready: boolean } | null {
    const early = this.#early;
    this.#early = null;
    return early?.product === product ? early : null;
  }

  #remove() {
    this.#inserted?.remove();
    this.#inserted = null;
  }

  #fail(error: unknown) {
    const failure = this.fail(error, { product: this.#product() });
    if (!failure) return;
    this.state = 'error';
    this.#errorCode = failure.code;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.connection++;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // Paid content leaves the page with its element; it is loaded again on return if still allowed.
    this.#remove();
    this.#dropEarly();
  }

  protected override render() {
    if (this.#problem) {
      return html`<slot name="teaser"></slot><p part="status" class="error" role="alert">${this.problemText()}</p>`;
    }
    const unlocked = this.state === 'unlocked';
    return html`
      <slot name="teaser"></slot>
      <div class="paid">
        ${unlocked ? nothing : html`<slot name="locked"></slot>`}
        <div part="content" ?hidden=${!unlocked}>${this.inline ? html`<slot></slot>` : html`<slot name="paid"></slot>`}</div>
      </div>
      <p part="status" role="status" aria-live="polite" class=${this.state === 'error' ? 'error' : 'visually-hidden'}>
        ${this.state === 'loading' ? this.t.loading : this.state === 'error' ? errorText(this.locale, this.#errorCode) : ''}
      </p>
    `;
  }
}
