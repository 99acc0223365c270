import './components/register';
import { installPurchaseTriggers } from './api/purchase-triggers';
import { servicesNear } from './api/backend';

export { paywall } from './api/paywall';
export { Product, type ProductEventType } from './api/product';
export * from './events';
export { PaywallButtonElement } from './components/paywall-button';
export { PaywallConfigElement } from './components/paywall-config';
export { PaywallContentElement } from './components/paywall-content';
export { WalletBalanceElement } from './components/wallet-balance';
export { WalletConnectElement } from './components/wallet-connect';
export { SubscribeFormElement, type SubscribeFormState } from './components/subscribe-form';
export { ScaHandlerElement, type ScaHandlerMode, type ScaHandlerState } from './components/sca-handler';
export { BackendError } from './services/backend-error';
export type { AccessState } from './services/entitlement-store';
export type { PurchaseTarget } from './services/purchase-journey';
export type * from './protocol';

installPurchaseTriggers();

// Resolving the page's services completes (and reports) a purchase that returns from a same-tab redirect.
try {
  servicesNear();
} catch {
  // No backend on this page yet: nothing can be pending; paywall.configure() resolves it later.
}
