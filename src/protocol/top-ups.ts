import * as z from 'zod/mini';
import { Currency, PositiveMinorUnits, Wallet } from './money';
import { IdempotencyKey } from './purchases';

export const CardInput = z.strictObject({
  number: z.string().check(z.regex(/^[0-9]{12,19}$/, 'Card number must be 12–19 digits')),
  expMonth: z.int().check(z.gte(1), z.lte(12)),
  expYear: z.int().check(z.gte(2000), z.lte(2100)),
  cvc: z.string().check(z.regex(/^[0-9]{3,4}$/, 'CVC must be 3 or 4 digits')),
});
export type CardInput = z.infer<typeof CardInput>;

export const TopUpRequest = z.strictObject({
  amount: PositiveMinorUnits,
  currency: Currency,
  card: CardInput,
  /** A top-up charges a card, so it is retried safely like a purchase. */
  idempotencyKey: IdempotencyKey,
});
export type TopUpRequest = z.infer<typeof TopUpRequest>;

export const TopUpResponse = z.object({
  wallet: Wallet,
});
export type TopUpResponse = z.infer<typeof TopUpResponse>;
