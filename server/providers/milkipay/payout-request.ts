import * as z from 'zod/mini';
import { Currency, PositiveMinorUnits } from '../../../src/protocol';

/** The merchant's transaction id: the idempotency key of a payout. */
export const TransactionId = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'transactionId is 1–128 letters, digits, ".", "_", ":" or "-"'));

/** `POST /v1/admin/payouts` (merchant servers only): pay `amount` minor units to the reader's connected wallet. */
export const PayoutRequest = z.strictObject({
  customer: z.string().check(z.regex(/^cus_[a-f0-9]{32}$/, 'customer is a customer id (cus_…)')),
  amount: PositiveMinorUnits,
  currency: Currency,
  transactionId: TransactionId,
});
export type PayoutRequest = z.infer<typeof PayoutRequest>;

export const PayoutResponse = z.object({
  payout: z.object({
    transactionId: TransactionId,
    customer: z.string(),
    amount: PositiveMinorUnits,
    currency: Currency,
    /** `pending`: Milkipay accepted it and settles later. */
    status: z.enum(['completed', 'pending']),
    providerPayoutId: z.string(),
    createdAt: z.string(),
  }),
});
export type PayoutResponse = z.infer<typeof PayoutResponse>;
