import * as z from 'zod/mini';
import { PaywallAccessEvent } from '../events/access';
import { PaywallErrorEvent } from '../events/error';
import { hostedProgress } from '../controllers/hosted-progress';
import { PaymentMethod } from '../protocol';
import { BackendError } from '../services/backend-error';
import type { AccessState } from '../services/entitlement-store';
import { productOf, type PurchaseTarget } from '../services/purchase-journey';
import { accessAfterResume, configure, withServices, type PaywallApiConfig } from './backend';
import { watchTriggers } from './purchase-triggers';

type PaywallEventName = Extract<keyof HTMLElementEventMap, `paywall-${string}`>;

/**
 * The JS API, for apps that drive the paywall from code. Every method is promise-based; the
 * events it causes bubble to `document` like the elements' own, so `paywall.on()` sees both.
 */
export const paywall = {
  /** Sets the backend for the JS API and `data-paywall-*` triggers (it wins over the page's meta tag). */
  configure(config: PaywallApiConfig): void {
    configure(config);
    // Triggers already in the page found no backend when the kit loaded before this call.
    watchTriggers();
  },

  /**
   * Buys a product or offer; call it inside a click handler so a hosted window may open. `method`:
   * `wallet` (default) or `card` (a one-off card payment on the hosted checkout page).
   */
  purchase(target: PurchaseTarget & { method?: PaymentMethod }): Promise<AccessState> {
    let product: string | undefined;
    try {
      product = productOf(target);
    } catch {
      // purchase() below rejects with the reason.
    }
    const { method, ...what } = target;
    return withServices((services) => {
      if (method !== undefined && !z.safeParse(PaymentMethod, method).success) {
        throw new BackendError('configuration_error', `"${String(method)}" is not a payment method (wallet or card).`);
      }
      return services.purchases.purchase(what, { method: method ?? 'wallet', onProgress: hostedProgress(document, { product }) });
    }).then(
      (access) => {
        document.dispatchEvent(new PaywallAccessEvent(access.product, access.expiresAt, 'purchase'));
        return access;
      },
      (error: unknown) => {
        const failure = error instanceof BackendError ? error : new BackendError('configuration_error', String(error));
        document.dispatchEvent(new PaywallErrorEvent(failure.code, failure.message, product));
        throw failure;
      },
    );
  },

  /** Access for each product, checked with one batched request. */
  checkAccess(products: string[]): Promise<AccessState[]> {
    return withServices((services) => Promise.all(products.map((product) => accessAfterResume(services, product))));
  },

  /** Opens the hosted sign-in (or sign-up) window; call it inside a click handler. */
  signIn(mode?: 'sign-in' | 'sign-up'): Promise<void> {
    return withServices((services) => services.signIn(mode));
  },

  signOut(): Promise<void> {
    return withServices((services) => services.signOut());
  },

  /** Listens to a `paywall-*` event anywhere on the page; returns the function that stops listening. */
  on<K extends PaywallEventName>(type: K, listener: (event: HTMLElementEventMap[K]) => void): () => void {
    const handler = listener as EventListener;
    document.addEventListener(type, handler);
    return () => document.removeEventListener(type, handler);
  },
};
