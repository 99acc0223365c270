/** Browser services of the kit: plain TypeScript, no lit. Elements reach them through `PaywallServices.for(backend)`. */
export { BackendError, isBackendError, type ClientErrorCode } from './backend-error';
export { SessionStore, type StorageKind } from './session-store';
export { BackendClient, type BackendClientOptions, type HostedPage } from './backend-client';
export { ContentLoader } from './content-loader';
export { EntitlementStore, type AccessSource, type AccessState, type EntitlementStoreOptions } from './entitlement-store';
export { HostedWindow, HostedWindowEvent, type HostedWindowEventType } from './hosted-window';
export { NotificationSocket, type NotificationSocketOptions } from './notification-socket';
export { WalletStore } from './wallet-store';
export { WalletConnectionStore } from './wallet-connection-store';
export { HostedJourneys, HostedJourney, type HostedJourneysDeps, type JourneyOptions, type PurchaseStep } from './hosted-journey';
export { PurchaseJourney, type PurchaseJourneyDeps, type PurchaseOptions, type PurchaseTarget } from './purchase-journey';
export { SubscriptionJourney, type SubscriptionJourneyDeps } from './subscription-journey';
export { AccountJourney } from './account-journey';
export { SubscriptionStore, isCurrentSubscription } from './subscription-store';
export { ScaFlow, FINAL_INTENT_STATUSES, type ScaAction, type ScaFlowDeps, type ScaNotifications } from './sca-flow';
export { PaywallServices, type PaywallServicesOptions } from './paywall-services';
