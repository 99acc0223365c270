import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/** An IPv4-mapped IPv6 peer (`::ffff:1.2.3.4`, how a dual-stack socket names an IPv4 client) in its IPv4 form. */
export const normalizeAddress = (address: string): string => address.trim().replace(/^::ffff:/i, '');

/**
 * Where a request came from. With no proxy of the operator's in front (`hops` 0) it is the socket's
 * peer and X-Forwarded-For is ignored. Each trusted proxy appends the address it received from, so
 * behind `hops` of them the client is the `hops`-th entry from the right: everything left of it was
 * written by the client and proves nothing. A header shorter than that did not pass through them
 * all; then the peer (a proxy) is all that is known.
 */
export function clientAddress(peer: string | null, forwardedFor: string | null | undefined, hops: number): string | null {
  if (hops > 0 && forwardedFor) {
    const entries = forwardedFor.split(',').map((entry) => entry.trim());
    const entry = entries.length >= hops ? entries[entries.length - hops] : undefined;
    if (entry) return normalizeAddress(entry);
  }
  return peer ? normalizeAddress(peer) : null;
}

/** The socket's peer address, or null where there is no socket (app.request in tests). */
export function peerAddress(c: Context): string | null {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null;
  }
}

/** The client address of a request, by the rule above. */
export function requestAddress(c: Context, hops: number): string | null {
  return clientAddress(peerAddress(c), c.req.header('x-forwarded-for'), hops);
}
