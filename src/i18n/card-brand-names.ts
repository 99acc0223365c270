/** Card brands as the brands write themselves (the same in every language); the wire carries lower-case ids. */
const NAMES: Record<string, string> = { visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express' };

/** The brand's own spelling of a card brand id; one the kit does not know is shown as it is. */
export const cardBrandName = (id: string): string => NAMES[id] ?? id;
