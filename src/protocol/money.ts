import * as z from 'zod/mini';

/** ISO 4217 currency code, upper case. */
export const Currency = z.string().check(z.regex(/^[A-Z]{3}$/, 'Currency must be a three-letter ISO 4217 code'));

/** An amount in integer minor units (cents); never a float. */
export const MinorUnits = z.int().check(z.nonnegative(), z.lte(Number.MAX_SAFE_INTEGER));

/** A positive amount in integer minor units. */
export const PositiveMinorUnits = z.int().check(z.positive(), z.lte(100_000_000));

export const Wallet = z.object({
  balance: MinorUnits,
  currency: Currency,
});
export type Wallet = z.infer<typeof Wallet>;
