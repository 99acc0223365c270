/**
 * Providers write amounts as decimal strings ("12.31"); here money is integer minor units. Both
 * directions go through strings, so no float ever holds an amount. Two decimals: every currency
 * the adapters take has two.
 */
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
