import { createHash, timingSafeEqual } from 'node:crypto';

/** A request parameter as Paymentwall signs it: a value, or one level of `name[key]` entries. */
export type SignedValue = string | number | boolean | null | undefined | Readonly<Record<string, string | number | boolean | null | undefined>> | ReadonlyArray<string | number | boolean | null | undefined>;
export type SignedParams = Readonly<Record<string, SignedValue>>;

export type SignVersion = 1 | 2 | 3;

/** Paymentwall's two project kinds we meet: digital goods (our widget) and virtual currency (only in its test vectors). */
export type PingbackApiType = 'goods' | 'vc';

/** The fields a v1 pingback signature covers, in this order (not sorted). */
const V1_FIELDS: Record<PingbackApiType, readonly string[]> = {
  goods: ['uid', 'goodsid', 'slength', 'speriod', 'type', 'ref'],
  vc: ['uid', 'currency', 'type', 'ref'],
};

const text = (value: string | number | boolean) => (value === false ? '0' : value === true ? '1' : String(value));

/** Keys sorted as PHP's ksort does for our keys: integer keys numerically, the rest by code unit. */
function sortedKeys(keys: string[]): string[] {
  const integer = (key: string) => /^(0|[1-9]\d*)$/.test(key);
  return [...keys].sort((a, b) => (integer(a) && integer(b) ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Paymentwall's base string: every parameter but `sign`/`sig`, keys sorted (nested ones too),
 * null values skipped, `k=v` (or `k[i]=v`) with no separators and no URL encoding.
 */
export function signatureBase(params: SignedParams): string {
  let base = '';
  for (const key of sortedKeys(Object.keys(params))) {
    const value = params[key];
    if (value === null || value === undefined) continue;
    if (typeof value === 'object') {
      const entries = value as Record<string, string | number | boolean | null | undefined>;
      for (const sub of sortedKeys(Object.keys(entries))) {
        const item = entries[sub];
        if (item !== null && item !== undefined) base += `${key}[${sub}]=${text(item)}`;
      }
    } else {
      base += `${key}=${text(value)}`;
    }
  }
  return base;
}

const md5 = (input: string) => createHash('md5').update(input, 'utf8').digest('hex');
const sha256 = (input: string) => createHash('sha256').update(input, 'utf8').digest('hex');

/** The `sign` of a widget URL or an API request (ticket): v2 md5, v3 sha256 over the base string and the secret; the deprecated v1 covers only the uid. */
export function widgetSignature(params: SignedParams, secret: string, version: SignVersion): string {
  if (version === 1) return md5(`${typeof params.uid === 'object' ? '' : text(params.uid ?? '')}${secret}`);
  const { sign: _sign, ...signed } = params;
  const base = signatureBase(signed) + secret;
  return version === 2 ? md5(base) : sha256(base);
}

/**
 * Pingback parameters as PHP reads them: `name[key]=v` becomes an entry of `name`, so nested
 * parameters sort under their own name, as Paymentwall signed them.
 */
export function pingbackParams(query: ReadonlyMap<string, string>): Record<string, string | Record<string, string>> {
  // Objects without a prototype: a parameter named `__proto__` (or `__proto__[x]`) is a key like any other.
  const params: Record<string, string | Record<string, string>> = Object.create(null);
  for (const [name, value] of query) {
    const nested = /^([^[\]]+)\[([^[\]]*)\]$/.exec(name);
    if (!nested) {
      params[name] = value;
      continue;
    }
    const [, outer, inner] = nested as unknown as [string, string, string];
    const entries = typeof params[outer] === 'object' ? (params[outer] as Record<string, string>) : Object.create(null);
    entries[inner] = value;
    params[outer] = entries;
  }
  return params;
}

/** The version a pingback says it is signed with: none or 1 is v1; anything else unknown is null. */
export function pingbackSignVersion(params: Readonly<Record<string, unknown>>): SignVersion | null {
  const version = params.sign_version;
  if (version === undefined || version === '' || version === '1') return 1;
  return version === '2' ? 2 : version === '3' ? 3 : null;
}

/**
 * The expected `sig` of a pingback. v1 covers a fixed field list (a missing field counts as
 * empty); v2 (md5) and v3 (sha256) cover every received parameter except `sig`.
 */
export function pingbackSignature(params: Readonly<Record<string, string | Record<string, string>>>, secret: string, version: SignVersion, apiType: PingbackApiType): string {
  if (version === 1) {
    const field = (name: string) => (typeof params[name] === 'string' ? params[name] : '');
    return md5(V1_FIELDS[apiType].map((name) => `${name}=${field(name)}`).join('') + secret);
  }
  const { sig: _sig, ...signed } = params;
  const base = signatureBase(signed) + secret;
  return version === 2 ? md5(base) : sha256(base);
}

/** Whether a received `sig` is the expected one (hex, case-insensitive), compared in constant time. */
export function signatureMatches(received: string, expected: string): boolean {
  const a = Buffer.from(received.toLowerCase(), 'utf8');
  const b = Buffer.from(expected.toLowerCase(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
