import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ServerConfig } from '../config';

/**
 * Links to the hosted checkout and 3-D Secure pages. A checkout id is itself an unguessable
 * capability, handed only to the signed-in reader who asked for it. A payment intent id travels
 * further (return URLs, emails, notifications), so the 3-D Secure link carries a signature as
 * well: knowing an intent id is not enough to approve it.
 */
export class PaymentLinks {
  readonly #key: Buffer;

  constructor(private readonly config: ServerConfig) {
    // A key of its own, derived from the server secret, so the offer signatures never double as link signatures.
    this.#key = createHmac('sha256', config.offerSecret).update('paywall-kit/hosted-payment-links/v1').digest();
  }

  checkoutUrl(checkoutId: string): string {
    const url = new URL('/hosted/checkout', this.config.publicBaseUrl);
    url.searchParams.set('checkout', checkoutId);
    return url.href;
  }

  /** The hosted 3-D Secure page of an intent: `redirect_to_url` in notifications and the link in emails. */
  authenticationUrl(intentId: string): string {
    const url = new URL('/hosted/3ds', this.config.publicBaseUrl);
    url.searchParams.set('intent', intentId);
    url.searchParams.set('sig', this.#sign(intentId));
    return url.href;
  }

  verifyIntent(intentId: string, signature: string): boolean {
    const expected = Buffer.from(this.#sign(intentId));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  #sign(intentId: string): string {
    return createHmac('sha256', this.#key).update(`intent:${intentId}`).digest('base64url').slice(0, 32);
  }
}
