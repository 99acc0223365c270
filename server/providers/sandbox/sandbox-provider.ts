import type { ServerConfig } from '../../config';
import { CallbackRejected, type CallbackVerdict, type CheckoutStart, type PaymentProvider, type ProviderCancellation, type ProviderReply } from '../payment-provider';

const NO_CALLBACKS: ProviderReply = { status: 400, body: 'The sandbox sends no callbacks' };

/**
 * The built-in sandbox behind the same interface as the real providers. Its hosted page is the
 * backend's own card form, and it charges in-process (the card form, the 3-D Secure page and the
 * billing clock write the payment where they take it), so it never calls back: a request to its
 * callback URL is refused and recorded like any unverifiable callback.
 */
export class SandboxProvider implements PaymentProvider {
  readonly name = 'sandbox' as const;
  readonly errorReply = NO_CALLBACKS;

  constructor(private readonly config: ServerConfig) {}

  /** The sandbox charges any currency the catalog or an offer names. */
  accepts(): boolean {
    return true;
  }

  async startCheckout({ checkout, lang }: CheckoutStart): Promise<string> {
    const url = new URL('/hosted/sandbox/card', this.config.publicBaseUrl);
    url.searchParams.set('checkout', checkout.id);
    url.searchParams.set('lang', lang);
    return url.href;
  }

  async handleCallback(): Promise<CallbackVerdict> {
    throw new CallbackRejected(NO_CALLBACKS, 'the sandbox charges in-process and sends no callbacks');
  }

  /** Sandbox subscriptions are billed by the billing clock: canceling here is all it takes. */
  async cancelSubscription(): Promise<ProviderCancellation> {
    return { kind: 'canceled' };
  }
}
