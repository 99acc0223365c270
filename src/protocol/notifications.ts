import * as z from 'zod/mini';
import { ProductId } from './catalog';
import { Currency, MinorUnits } from './money';

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
]);
export type NotificationType = z.infer<typeof NotificationType>;

export const AccessGrantedResource = z.object({ product: ProductId, expiresAt: z.iso.datetime() });
export const AccessRevokedResource = z.object({ product: ProductId, reason: z.optional(z.string()) });
export const WalletBalanceChangedResource = z.object({
  balance: MinorUnits,
  currency: Currency,
  /** Signed change in minor units that produced this balance. */
  delta: z.int(),
  reason: z.enum(['start_credit', 'top_up', 'purchase', 'refund']),
});

export const Notification = z.object({
  /** Increasing per customer; resume a socket with `after=<id>`. */
  id: z.int().check(z.positive()),
  type: NotificationType,
  createdAt: z.iso.datetime(),
  resource: z.record(z.string(), z.unknown()),
});
export type Notification = z.infer<typeof Notification>;

/** WebSocket close code for a missing, unknown or expired token. */
export const NOTIFICATION_CLOSE_UNAUTHORIZED = 4401;
