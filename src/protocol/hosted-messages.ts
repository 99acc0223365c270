import * as z from 'zod/mini';

/** What a hosted page posts to its opener before it closes itself. */
export const HostedMessage = z.object({
  source: z.literal('paywall-kit'),
  type: z.enum(['signed-in', 'signed-up', 'topped-up', 'cancelled']),
  token: z.optional(z.string()),
});
export type HostedMessage = z.infer<typeof HostedMessage>;
