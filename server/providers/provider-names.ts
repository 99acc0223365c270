import type { CheckoutProviderName } from './provider-config';

/** The providers behind an adapter (the sandbox is built into the card payment code). */
export type ExternalProviderName = Exclude<CheckoutProviderName, 'sandbox'>;

export const isExternalProvider = (name: string): name is ExternalProviderName => name === 'verotel' || name === 'paymentwall';
