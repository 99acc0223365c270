/** FlexPay brands by the first four digits of the merchant id, and their base URLs. */
const BRANDS: Readonly<Record<string, { name: string; baseUrl: string }>> = {
  '9804': { name: 'Verotel', baseUrl: 'https://secure.verotel.com' },
  '9762': { name: 'CardBilling', baseUrl: 'https://secure.billing.creditcard' },
  '9653': { name: 'BitsafePay', baseUrl: 'https://secure.bitsafepay.com' },
  '9511': { name: 'Bill', baseUrl: 'https://secure.bill.creditcard' },
  '9444': { name: 'PaintFest', baseUrl: 'https://secure.paintfestpayments.com' },
  '9388': { name: 'GayCharge', baseUrl: 'https://secure.gaycharge.com' },
  '9001': { name: 'YoursafeDirect', baseUrl: 'https://secure.yoursafedirect.com' },
};

export const isKnownBrand = (merchantId: string) => merchantId.slice(0, 4) in BRANDS;

/** The brand's base URL (startorder, salestatus, cancel-subscription live under it). */
export function brandBaseUrl(merchantId: string): string {
  const brand = BRANDS[merchantId.slice(0, 4)];
  if (!brand) throw new Error(`No FlexPay brand has merchant ids starting with ${merchantId.slice(0, 4)}`);
  return brand.baseUrl;
}
