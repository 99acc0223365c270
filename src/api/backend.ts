import { PaywallServices } from '../services/paywall-services';
import type { StorageKind } from '../services/session-store';

export interface PaywallApiConfig {
  backend: string;
  storage?: StorageKind;
}

let configured: PaywallApiConfig | null = null;

/** Sets the backend for the JS API and `data-paywall-*` triggers when the page has no meta tag. */
export function configure(config: PaywallApiConfig): void {
  configured = config;
}

/**
 * The services for code outside the elements: the explicit `configure()`, else the nearest
 * `<paywall-config>` around `near`, else the page's `<meta name="paywall-backend">`.
 */
export function servicesNear(near?: Element | null): PaywallServices {
  const config = near?.closest('paywall-config');
  const backend = configured?.backend ?? config?.getAttribute('backend') ?? document.querySelector<HTMLMetaElement>('meta[name="paywall-backend"]')?.content ?? document.querySelector('paywall-config')?.getAttribute('backend');
  if (!backend) throw new Error('paywall-kit: no backend configured; call paywall.configure({ backend }) or add <meta name="paywall-backend" content="…">');
  const storage = configured?.storage ?? (config?.getAttribute('storage') as StorageKind | null) ?? 'local';
  return PaywallServices.for(backend, { storage });
}
