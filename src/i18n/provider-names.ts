/** How the elements name a payment provider to the reader (brand names, the same in every language). */
const NAMES: Record<string, string> = { milkipay: 'Milkipay', paymentwall: 'Paymentwall', verotel: 'Verotel' };

/** The brand name of a provider id; one the kit does not know is shown as it is. */
export const providerName = (id: string): string => NAMES[id] ?? id;
