/**
 * Providers write amounts as decimal strings ("12.31"); here money is integer minor units. Both
 * directions go through strings, so no float ever holds an amount. Two decimals: the adapters take
 * only currencies that have two (hasTwoDecimals).
 */
const TWO_DECIMALS: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency').filter((currency) =>
  new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits === 2));

/** Whether `currency` is an ISO 4217 code whose minor unit is a hundredth (EUR, USD; not JPY, KWD). */
export const hasTwoDecimals = (currency: string): boolean => TWO_DECIMALS.has(currency);

export function toDecimalAmount(minor: number): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError(`Not an amount in minor units: ${minor}`);
  const digits = String(minor).padStart(3, '0');
  return `${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** "12.31", "12.3" or "12" as minor units; null for anything else. */
export function fromDecimalAmount(text: string): number | null {
  const match = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}
