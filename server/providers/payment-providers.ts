import { ApiError } from '../errors';
import type { PaymentProvider, ProviderDeps } from './payment-provider';
import { PaymentwallProvider } from './paymentwall/paymentwall-provider';
import type { CheckoutProviderName } from './provider-config';
import { SandboxProvider } from './sandbox/sandbox-provider';
import { VerotelProvider } from './verotel/verotel-provider';

/** The adapters of the providers the config turns on (the sandbox while it is on), by name. */
export class PaymentProviders {
  readonly #adapters: Map<string, PaymentProvider>;

  constructor(adapters: PaymentProvider[]) {
    this.#adapters = new Map(adapters.map((adapter) => [adapter.name, adapter]));
  }

  get(name: CheckoutProviderName | string): PaymentProvider | undefined {
    return this.#adapters.get(name);
  }

  /** Refuses a card payment in a currency its provider does not take, before any checkout is written. */
  requireCurrency(name: CheckoutProviderName, currency: string): void {
    if (!this.get(name)?.accepts(currency)) throw new ApiError(400, 'currency_unsupported', `The payment provider does not take payments in ${currency}.`);
  }
}

export function createPaymentProviders(deps: ProviderDeps): PaymentProviders {
  const adapters: PaymentProvider[] = [];
  if (deps.config.sandbox) adapters.push(new SandboxProvider(deps.config));
  if (deps.config.providers.verotel) adapters.push(new VerotelProvider(deps));
  if (deps.config.providers.paymentwall) adapters.push(new PaymentwallProvider(deps.config.providers.paymentwall, deps.clock, deps.logger, deps.database));
  return new PaymentProviders(adapters);
}
