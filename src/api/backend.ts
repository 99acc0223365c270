import { PaywallAccessEvent } from '../events/access';
import { PaywallErrorEvent } from '../events/error';
import { BackendError } from '../services/backend-error';
import type { AccessState } from '../services/entitlement-store';
import { PaywallServices } from '../services/paywall-services';
import type { StorageKind } from '../services/session-store';

export interface PaywallApiConfig {
  backend: string;
  storage?: StorageKind;
}

let configured: PaywallApiConfig | null = null;

/** Sets the backend (and storage) for the JS API and `data-paywall-*` triggers; it wins over `<paywall-config>` and the meta tag. */
export function configure(config: PaywallApiConfig): void {
  configured = config;
  // Resolving the services now completes a purchase returning from a same-tab redirect, if any.
  servicesNear();
}

/** `fn` with the services near `near`; a missing or bad backend is a rejection, never an exception thrown into the caller. */
export function withServices<T>(fn: (services: PaywallServices) => Promise<T>, near?: Element | null): Promise<T> {
  try {
    return fn(servicesNear(near));
  } catch (error) {
    return Promise.reject(error);
  }
}

const isStorage = (value: string | null | undefined): value is StorageKind => value === 'local' || value === 'session' || value === 'memory';

/**
 * The services for code outside the elements: the explicit `configure()`, else the nearest
 * `<paywall-config>` around `near`, else the page's `<meta name="paywall-backend">`, else the
 * page's first `<paywall-config>`. The storage comes from wherever the backend came from: the kit
 * may run this before that config's own first update, and would otherwise fix the session in
 * localStorage for every element.
 */
export function servicesNear(near?: Element | null): PaywallServices {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="paywall-backend"]')?.content;
  const config = near?.closest('paywall-config[backend]') ?? (meta ? null : document.querySelector('paywall-config[backend]'));
  const backend = configured?.backend ?? config?.getAttribute('backend') ?? meta;
  if (!backend) throw new BackendError('configuration_error', 'paywall-kit: no backend configured; call paywall.configure({ backend }) or add <meta name="paywall-backend" content="…">');
  const attribute = configured ? null : config?.getAttribute('storage');
  const services = PaywallServices.for(backend, { storage: configured?.storage ?? (isStorage(attribute) ? attribute : 'local') });
  reportResumedPurchase(services);
  return services;
}

const reported = new WeakSet<PaywallServices>();

/**
 * A purchase that left for a hosted page in this tab (popup blocked) completes when the reader
 * returns; page code hears of it like any other purchase, with source `redirect`.
 */
function reportResumedPurchase(services: PaywallServices): void {
  if (reported.has(services)) return;
  reported.add(services);
  services.purchases.resumePending().then(
    (access) => access && document.dispatchEvent(new PaywallAccessEvent(access.product, access.expiresAt, 'redirect')),
    (error: unknown) => {
      const failure = error instanceof BackendError ? error : new BackendError('configuration_error', String(error));
      document.dispatchEvent(new PaywallErrorEvent(failure.code, failure.message));
    },
  );
}

/** Access to `product`, asked only after a purchase returning from a redirect has completed, so it counts. */
export async function accessAfterResume(services: PaywallServices, product: string): Promise<AccessState> {
  await services.purchases.resumePending().catch(() => null);
  return services.entitlements.check(product);
}
