import { normalizeAddress } from '../../http/client-address';

/** Where Paymentwall sends pingbacks from, as its libraries list them (the /24 was added in 2018). */
export const PAYMENTWALL_PINGBACK_IPS: readonly string[] = ['174.36.92.186', '174.36.96.66', '174.36.92.187', '174.36.92.192', '174.37.14.28', '216.127.71.0/24'];

/** An IPv4 address as a 32-bit number, or null when it is not a dotted quad of 0..255. */
function ipv4(address: string): number | null {
  const parts = address.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255)) return null;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

/** IPv4 addresses and CIDR ranges; anything else (IPv6 peers included) is outside. */
export class IpAllowlist {
  readonly #ranges: Array<{ network: number; mask: number }>;

  constructor(entries: readonly string[]) {
    this.#ranges = entries.map((entry) => {
      const [address = '', prefix = '32'] = entry.split('/');
      const network = ipv4(address);
      const bits = Number(prefix);
      if (network === null || !/^\d{1,2}$/.test(prefix) || bits > 32) throw new Error(`"${entry}" is not an IPv4 address or CIDR range`);
      // >>> 0 keeps the arithmetic unsigned; a /0 mask is 0.
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      return { network: (network & mask) >>> 0, mask };
    });
  }

  allows(address: string | null): boolean {
    const value = address === null ? null : ipv4(normalizeAddress(address));
    if (value === null) return false;
    return this.#ranges.some(({ network, mask }) => ((value & mask) >>> 0) === network);
  }
}
