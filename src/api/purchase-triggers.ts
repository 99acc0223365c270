import { PaywallAccessEvent } from '../events/access';
import { PaywallErrorEvent } from '../events/error';
import { hostedProgress } from '../controllers/hosted-progress';
import type { PaymentMethod } from '../protocol';
import { BackendError } from '../services/backend-error';
import { productOf, type PurchaseTarget } from '../services/purchase-journey';
import { servicesNear } from './backend';

const SELECTOR = '[data-paywall-product], [data-paywall-offer]';
const installed = Symbol.for('paywall-kit.triggers');
/** Triggers whose access is followed; one that found no backend is tried again by `watchTriggers()`. */
const watched = new WeakSet<HTMLElement>();

function targetOf(el: HTMLElement): PurchaseTarget {
  const { paywallProduct: product, paywallOffer: offer, paywallPrice: price, paywallCurrency: currency } = el.dataset;
  return {
    ...(offer ? { offer } : { product }),
    ...(price !== undefined && /^\d+$/.test(price) ? { price: Number(price) } : {}),
    ...(currency ? { currency } : {}),
  };
}

/** `data-paywall-method`: `wallet` (default) or `card` (the hosted card checkout); anything else is a configuration error. */
function methodOf(el: HTMLElement): PaymentMethod {
  const method = el.dataset.paywallMethod;
  if (method === undefined || method === '') return 'wallet';
  if (method === 'wallet' || method === 'card') return method;
  throw new BackendError('configuration_error', `data-paywall-method="${method}" is not a payment method (wallet or card).`);
}

/** Hides a granted trigger (unless `data-paywall-keep-visible`) and exposes the state for CSS. */
function mark(el: HTMLElement, state: string) {
  el.dataset.paywallState = state;
  el.setAttribute('aria-busy', String(state === 'working' || state === 'window-open'));
  if (state === 'granted' && !('paywallKeepVisible' in el.dataset)) el.hidden = true;
}

/** `retry`: try again a trigger that found no backend before (see `watchTriggers`). */
function watchAccess(el: HTMLElement, retry = false) {
  if (watched.has(el) || (el.dataset.paywallState && !retry)) return;
  mark(el, 'checking');
  try {
    const services = servicesNear(el);
    const product = productOf(targetOf(el));
    watched.add(el);
    services.entitlements.subscribe(product, (access) => {
      if (access.granted) mark(el, 'granted');
      else if (el.dataset.paywallState === 'granted' || el.dataset.paywallState === 'checking') {
        el.hidden = false;
        mark(el, 'idle');
      }
    });
    services.entitlements.check(product).then((access) => {
      if (access.granted) {
        mark(el, 'granted');
        el.dispatchEvent(new PaywallAccessEvent(product, access.expiresAt, 'check'));
      } else if (el.dataset.paywallState === 'checking') mark(el, 'idle');
    }, (error) => fail(el, error, product));
  } catch (error) {
    mark(el, 'error');
    console.error('paywall-kit: this purchase trigger cannot work:', (error as Error).message, el);
  }
}

function onClick(event: MouseEvent) {
  const el = (event.target as Element | null)?.closest?.<HTMLElement>(SELECTOR);
  if (!el || el.closest('paywall-button')) return;
  event.preventDefault();
  if (el.dataset.paywallState === 'working' || el.dataset.paywallState === 'window-open' || el.dataset.paywallState === 'granted') return;
  let product: string | undefined;
  try {
    const target = targetOf(el);
    product = productOf(target);
    const method = methodOf(el);
    mark(el, 'working');
    // Synchronous inside the click, so a hosted window may open.
    servicesNear(el)
      .purchases.purchase(target, {
        method,
        onProgress: hostedProgress(el, { product, onPhase: (phase) => phase.kind === 'window-open' && mark(el, 'window-open') }),
      })
      .then((access) => {
        mark(el, 'granted');
        el.dispatchEvent(new PaywallAccessEvent(access.product, access.expiresAt, 'purchase'));
      })
      .catch((error) => fail(el, error, product));
  } catch (error) {
    fail(el, error, product);
  }
}

function fail(el: HTMLElement, error: unknown, product?: string) {
  const code = error instanceof BackendError ? error.code : 'configuration_error';
  mark(el, code === 'popup_closed' ? 'idle' : 'error');
  el.dispatchEvent(new PaywallErrorEvent(code, (error as Error)?.message ?? String(error), product));
}

/**
 * Makes every element with `data-paywall-product` (or `data-paywall-offer`) a purchase trigger,
 * including ones added later, for CMS markup that cannot hold custom tags; their products are
 * checked on load so readers with access see the content at once.
 */
export function installPurchaseTriggers(root: Document = document): void {
  const holder = root as Document & { [installed]?: boolean };
  if (holder[installed]) return;
  holder[installed] = true;
  root.addEventListener('click', onClick);
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node instanceof HTMLElement) {
          if (node.matches(SELECTOR)) watchAccess(node);
          scan(node);
        }
      }
    }
  }).observe(root.documentElement, { childList: true, subtree: true });
  if (root.readyState === 'loading') root.addEventListener('DOMContentLoaded', () => scan(root), { once: true });
  else scan(root);
}

function scan(node: ParentNode, retry = false) {
  node.querySelectorAll<HTMLElement>(SELECTOR).forEach((el) => watchAccess(el, retry));
}

/** Follows access of the triggers in the page not followed yet (those that found no backend before `paywall.configure()`). */
export function watchTriggers(root: Document = document): void {
  if ((root as Document & { [installed]?: boolean })[installed]) scan(root, true);
}
