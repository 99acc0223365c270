import { BackendError } from '../services/backend-error';
import type { AccessState } from '../services/entitlement-store';
import { productOf, type PurchaseTarget } from '../services/purchase-journey';
import { sanitizedContainer } from '../components/internal/sanitize';
import { accessAfterResume, servicesNear, withServices } from './backend';

export type ProductEventType = 'start' | 'userAbort' | 'error' | 'accessAuthorization';

type Reaction = (access: AccessState) => Promise<void> | void;

/**
 * A facade shaped like the milliPay JS client, so merchants moving from it keep their code:
 * register triggers and reactions, then `tryAccessOnLoad()`.
 *
 * Events: `start` (a payment began), `userAbort` (the reader closed the window),
 * `error` (detail: { code, message }), `accessAuthorization` (detail: { product, expiresAt }).
 */
export class Product extends EventTarget {
  readonly target: PurchaseTarget;
  readonly product: string;
  #reactions: Reaction[] = [];

  constructor(target: PurchaseTarget) {
    super();
    this.target = target;
    this.product = productOf(target);
  }

  /** A click on `el` starts the payment. */
  registerStartPaymentClick(el: Element): this {
    el.addEventListener('click', (event) => {
      event.preventDefault();
      void this.startPayment();
    });
    return this;
  }

  /** Runs the reactions when the reader already has access; resolves whether they do. */
  async tryAccessOnLoad(): Promise<boolean> {
    try {
      const access = await accessAfterResume(servicesNear(), this.product);
      if (access.granted) await this.#authorized(access);
      return access.granted;
    } catch (error) {
      this.#emit('error', this.#errorDetail(error));
      return false;
    }
  }

  /** Starts the purchase; call it inside a click handler. Resolves whether access was granted. */
  startPayment(): Promise<boolean> {
    this.#emit('start', { product: this.product });
    return withServices((services) => services.purchases.purchase(this.target))
      .then(async (access) => {
        await this.#authorized(access);
        return true;
      })
      .catch((error) => {
        if (error instanceof BackendError && error.code === 'popup_closed') this.#emit('userAbort', { product: this.product });
        else this.#emit('error', this.#errorDetail(error));
        return false;
      });
  }

  /** Reaction: unhide `el` on access. */
  show(el: HTMLElement): this {
    return this.#react(() => void (el.hidden = false));
  }

  /** Reaction: hide `el` on access. */
  hide(el: HTMLElement): this {
    return this.#react(() => void (el.hidden = true));
  }

  /** Reaction: load the paid fragment and put it, sanitized, into `el`. */
  fetchContentThenInject(el: Element, options: { trusted?: boolean } = {}): this {
    return this.#react(async () => {
      const container = await sanitizedContainer(await servicesNear(el).client.content(this.product), options.trusted ?? false);
      el.replaceChildren(...container.childNodes);
    });
  }

  /** Reaction: load the paid fragment and hand the HTML (unsanitized) to `fn`. */
  fetchContentThenCall(fn: (html: string) => void): this {
    return this.#react(async () => fn(await servicesNear().client.content(this.product)));
  }

  on(type: ProductEventType, listener: (event: CustomEvent) => void): this {
    this.addEventListener(type, listener as EventListener);
    return this;
  }

  #react(reaction: Reaction): this {
    this.#reactions.push(reaction);
    return this;
  }

  async #authorized(access: AccessState) {
    for (const reaction of this.#reactions) await reaction(access);
    this.#emit('accessAuthorization', { product: access.product, expiresAt: access.expiresAt });
  }

  #errorDetail(error: unknown) {
    return error instanceof BackendError ? { code: error.code, message: error.message } : { code: 'configuration_error', message: String(error) };
  }

  #emit(type: ProductEventType, detail: unknown) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
