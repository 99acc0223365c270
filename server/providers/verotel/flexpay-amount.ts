/** The currencies FlexPay takes; all have two decimals, so "12.31" is 1231 minor units. */
export const FLEXPAY_CURRENCIES: ReadonlySet<string> = new Set(['USD', 'EUR', 'GBP', 'AUD', 'CAD', 'CHF', 'DKK', 'NOK', 'SEK']);

/** Integer minor units as FlexPay's `nnn.nn`, by string slicing (no float ever holds the amount). */
export function toPriceAmount(minor: number): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError(`Not an amount in minor units: ${minor}`);
  const digits = String(minor).padStart(3, '0');
  return `${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** FlexPay's `nnn.nn` (or `nnn`, `nnn.n`) as integer minor units; null for anything else. */
export function fromPriceAmount(text: string): number | null {
  const match = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}
