import * as z from 'zod/mini';
import { ProductId } from './catalog';
import { PlanId } from './ids';
import { Currency, MinorUnits } from './money';
import { PaymentMethod } from './plans';

/** Notification types, named after InPlayer's so integrations read the same. */
export const NotificationType = z.enum([
  'access.granted',
  'access.revoked',
  'wallet.balance.changed',
  'payment.card.success',
  'payment.card.failed',
  'payment.card.requires.action',
  'subscribe.success',
  'subscribe.failed',
  'subscribe.requires.action',
  /** A subscription changed outside the reader's page (canceled or resumed at the payment provider). */
  'subscribe.updated',
]);
export type NotificationType = z.infer<typeof NotificationType>;

export const AccessGrantedResource = z.object({ product: ProductId, expiresAt: z.iso.datetime() });
export const AccessRevokedResource = z.object({ product: ProductId, reason: z.optional(z.string()) });
export const WalletBalanceChangedResource = z.object({
  balance: MinorUnits,
  currency: Currency,
  /** Signed change in minor units that produced this balance. */
  delta: z.int(),
  reason: z.enum(['start_credit', 'top_up', 'purchase', 'refund', 'subscription']),
});

/*
 * Card and subscription resources. The names InPlayer uses for the same events are kept where
 * integrations read them (`redirect_to_url`, `payment_intent`, `code`, `message`).
 */

/** `payment.card.requires.action`: send the reader to `redirect_to_url` (the hosted 3-D Secure page). */
export const PaymentRequiresActionResource = z.object({
  redirect_to_url: z.string(),
  payment_intent: z.string(),
  product: ProductId,
  amount: MinorUnits,
  currency: Currency,
});

/** `subscribe.requires.action`: the first payment of `subscription` waits for 3-D Secure. */
export const SubscribeRequiresActionResource = z.object({
  redirect_to_url: z.string(),
  payment_intent: z.string(),
  subscription: z.string(),
  plan: PlanId,
  amount: MinorUnits,
  currency: Currency,
});

/** `payment.card.success`, followed by `access.granted` for the product. */
export const PaymentCardSuccessResource = z.object({
  status: z.literal('success'),
  code: z.literal(200),
  payment_intent: z.string(),
  product: ProductId,
  amount: MinorUnits,
  currency: Currency,
  expiresAt: z.iso.datetime(),
});

/** `payment.card.failed`: `message` is written for the reader; they can try again. */
export const PaymentCardFailedResource = z.object({
  code: z.literal(422),
  reason: z.string(),
  message: z.string(),
  payment_intent: z.string(),
  product: ProductId,
});

/** `subscribe.success`: a subscription started (`renewal: false`) or a period was paid (`renewal: true`). */
export const SubscribeSuccessResource = z.object({
  status: z.literal('success'),
  code: z.literal(200),
  subscription: z.string(),
  plan: PlanId,
  method: PaymentMethod,
  amount: MinorUnits,
  currency: Currency,
  payment_intent: z.nullable(z.string()),
  renewal: z.boolean(),
  currentPeriodEnd: z.iso.datetime(),
});

/** `subscribe.failed`: the first payment was not authenticated, or the last renewal attempt failed. */
export const SubscribeFailedResource = z.object({
  code: z.literal(422),
  reason: z.string(),
  message: z.string(),
  subscription: z.string(),
  plan: PlanId,
  payment_intent: z.nullable(z.string()),
});

export const Notification = z.object({
  /** Increasing (one sequence for all customers); resume a socket with `after=<id>`. */
  id: z.int().check(z.positive()),
  type: NotificationType,
  createdAt: z.iso.datetime(),
  resource: z.record(z.string(), z.unknown()),
});
export type Notification = z.infer<typeof Notification>;

/**
 * A socket opened with `?batch=1` receives its backlog (what came after its `after=` id, or the
 * whole history without one) as JSON arrays of notifications, in id order; live ones still come one a message.
 */
export const NOTIFICATION_BATCH_PARAM = 'batch';

/** WebSocket close code for a missing, unknown or expired token, and for a session that ends while its socket is open. */
export const NOTIFICATION_CLOSE_UNAUTHORIZED = 4401;
/** WebSocket close code for a reader's oldest socket when a newer one goes beyond the backend's limit per reader. */
export const NOTIFICATION_CLOSE_SUPERSEDED = 4429;
/** WebSocket close code for a client that reads too slowly: more than the backend's bound was waiting to be sent to it. */
export const NOTIFICATION_CLOSE_TOO_SLOW = 4408;
