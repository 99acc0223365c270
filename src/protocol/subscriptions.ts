import * as z from 'zod/mini';
import { PlanId } from './ids';
import { Currency, MinorUnits } from './money';
import { CardSummary, CheckoutRequired, ReturnUrl } from './payments';
import { PaymentMethod, PeriodUnit } from './plans';
import { IdempotencyKey } from './purchases';

/**
 * - `active`: paid (or in its trial) and renewing;
 * - `incomplete`: the first payment waits for 3-D Secure; `incomplete_expired` after 24 h, never to be activated;
 * - `past_due`: a renewal failed or needs 3-D Secure and is being retried; access continues meanwhile;
 * - `canceled`: canceled by the reader, access until the end of the paid period, then `expired`;
 * - `failed`: the first payment failed authentication, or the last renewal attempt failed; access ended.
 */
export const SubscriptionStatus = z.enum(['active', 'incomplete', 'incomplete_expired', 'past_due', 'canceled', 'expired', 'failed']);
export type SubscriptionStatus = z.infer<typeof SubscriptionStatus>;

/** A payment the reader has to authenticate on the hosted 3-D Secure page. */
export const PendingAction = z.object({
  paymentIntent: z.string(),
  redirectToUrl: z.string(),
  expiresAt: z.iso.datetime(),
});

export const Subscription = z.object({
  id: z.string(),
  plan: PlanId,
  title: z.string(),
  status: SubscriptionStatus,
  method: PaymentMethod,
  card: z.nullable(CardSummary),
  /** The payment provider that bills it (`verotel`, `paymentwall`); absent for the wallet and the sandbox. */
  provider: z.optional(z.string()),
  /** What each period costs, fixed when the subscription started. */
  price: MinorUnits,
  currency: Currency,
  periodLength: z.int().check(z.positive()),
  periodUnit: PeriodUnit,
  currentPeriodStart: z.nullable(z.iso.datetime()),
  /** Access lasts until then (null while the first payment is incomplete). */
  currentPeriodEnd: z.nullable(z.iso.datetime()),
  trialEndsAt: z.nullable(z.iso.datetime()),
  /** When the next charge (or retry) runs; null when nothing more will be charged. */
  nextBillingAt: z.nullable(z.iso.datetime()),
  cancelAtPeriodEnd: z.boolean(),
  canceledAt: z.nullable(z.iso.datetime()),
  endedAt: z.nullable(z.iso.datetime()),
  createdAt: z.iso.datetime(),
  pendingAction: z.nullable(PendingAction),
});
export type Subscription = z.infer<typeof Subscription>;

export const SubscriptionsResponse = z.object({ subscriptions: z.array(Subscription) });
export type SubscriptionsResponse = z.infer<typeof SubscriptionsResponse>;

export const CreateSubscriptionRequest = z.strictObject({
  plan: PlanId,
  method: PaymentMethod,
  returnUrl: z.optional(ReturnUrl),
  idempotencyKey: IdempotencyKey,
});
export type CreateSubscriptionRequest = z.infer<typeof CreateSubscriptionRequest>;

export const CreateSubscriptionResponse = z.union([
  /** Card: open the hosted checkout page. */
  CheckoutRequired,
  /** Wallet (charged at once), or a replayed key whose checkout has completed. */
  z.object({ status: SubscriptionStatus, subscription: Subscription }),
]);
export type CreateSubscriptionResponse = z.infer<typeof CreateSubscriptionResponse>;

export const CancelSubscriptionResponse = z.object({ subscription: Subscription });
export type CancelSubscriptionResponse = z.infer<typeof CancelSubscriptionResponse>;
