import * as z from 'zod/mini';

/**
 * What a hosted page posts to its opener before it closes itself.
 * - `subscribed`: the checkout (or its 3-D Secure step) started `subscription`;
 * - `payment-succeeded`: a one-off card payment granted `product`;
 * - `payment-intent`: 3-D Secure for a one-off payment ended; confirm `paymentIntent` to finish it;
 * - `payment-failed`: the first payment of a subscription was not authenticated (`code`, `message`);
 * - `wallet-connected` / `wallet-connect-failed`: a wallet (Milkipay) was connected, or not (`code`, `message`).
 */
export const HostedMessage = z.object({
  source: z.literal('paywall-kit'),
  type: z.enum(['signed-in', 'signed-up', 'topped-up', 'cancelled', 'subscribed', 'payment-succeeded', 'payment-intent', 'payment-failed', 'wallet-connected', 'wallet-connect-failed']),
  token: z.optional(z.string()),
  subscription: z.optional(z.string()),
  product: z.optional(z.string()),
  paymentIntent: z.optional(z.string()),
  code: z.optional(z.string()),
  message: z.optional(z.string()),
});
export type HostedMessage = z.infer<typeof HostedMessage>;
