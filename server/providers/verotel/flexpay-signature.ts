import { createHash, timingSafeEqual } from 'node:crypto';

/** FlexPay protocol version 4. */
export const FLEXPAY_VERSION = '4';

/** Keys covered by the signature of a URL we generate; any other key (email, oneClickToken) rides along unsigned. */
const SIGNED_KEYS: ReadonlySet<string> = new Set([
  'version', 'shopID', 'priceAmount', 'priceCurrency', 'paymentMethod', 'description', 'referenceID', 'saleID',
  'custom1', 'custom2', 'custom3', 'subscriptionType', 'period', 'name', 'trialAmount', 'trialPeriod',
  'cancelDiscountPercentage', 'type', 'successURL', 'declineURL', 'precedingSaleID', 'upgradeOption',
  'mcc', 'subCreditorName', 'subCreditorId', 'subCreditorCountry',
]);

type Params = Iterable<[string, string]>;

/** Keys in byte order (PHP ksort, Kotlin toSortedMap): the keys are ASCII, where code-unit order is byte order. */
const sorted = (params: Params) => [...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** `KEY:k1=v1:k2=v2…` over the raw (unencoded) UTF-8 values, keys sorted. */
export function signatureInput(key: string, params: Params): string {
  return [key, ...sorted(params).map(([k, v]) => `${k}=${v}`)].join(':');
}

const digest = (algorithm: 'sha256' | 'sha1', input: string) => createHash(algorithm).update(input, 'utf8').digest('hex');

/** The signature of a URL we generate: SHA-256 over the whitelisted keys only. */
export function urlSignature(key: string, params: Params): string {
  return digest('sha256', signatureInput(key, [...params].filter(([k]) => SIGNED_KEYS.has(k))));
}

/**
 * A signed FlexPay URL: `version` and `shopID` added, empty values dropped, the query sorted and
 * form-encoded (space as `+`), the signature last.
 */
export function signedUrl(base: string, path: string, key: string, shopId: string, params: Record<string, string | undefined>): string {
  const kept = Object.entries({ shopID: shopId, ...params, version: FLEXPAY_VERSION })
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '');
  const query = new URLSearchParams(sorted(kept));
  query.append('signature', urlSignature(key, kept));
  return `${base}${path}?${query}`;
}

/**
 * Whether received data (postback, success redirect) carries a valid signature: over ALL received
 * parameters but `signature` (no whitelist), `shopID` defaulted to ours; SHA-256, or the legacy
 * SHA-1 that Verotel still accepts; compared case-insensitively and in constant time.
 */
export function validSignature(key: string, shopId: string, received: ReadonlyMap<string, string>): boolean {
  const given = received.get('signature')?.toLowerCase();
  if (!given || !/^[0-9a-f]+$/.test(given)) return false;
  const params = new Map(received);
  params.delete('signature');
  if (!params.has('shopID')) params.set('shopID', shopId);
  const input = signatureInput(key, params);
  return [digest('sha256', input), digest('sha1', input)].some((expected) => expected.length === given.length && timingSafeEqual(Buffer.from(expected), Buffer.from(given)));
}
