/** How the elements name a payment provider to the reader (brand names, the same in every language). */
const NAMES: Record<string, string> = { milkipay: 'Milkipay', paymentwall: 'Paymentwall', verotel: 'Verotel' };

/** The brand name of a provider id, or null for one the kit does not know. */
export const providerName = (id: string): string | null => NAMES[id] ?? null;
