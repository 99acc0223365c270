/** The currencies FlexPay takes; all have two decimals, so its `priceAmount` "12.31" is 1231 minor units. */
export const FLEXPAY_CURRENCIES: ReadonlySet<string> = new Set(['USD', 'EUR', 'GBP', 'AUD', 'CAD', 'CHF', 'DKK', 'NOK', 'SEK']);
