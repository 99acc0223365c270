import type { Context } from 'hono';
import { requestAddress } from './client-address';
import type { AppEnv } from './context';
import type { ProviderCallback } from '../providers/payment-provider';

/** Callbacks are small forms or queries; anything larger is not from a provider. */
export const MAX_CALLBACK_BYTES = 16 * 1024;

/** A provider's request as received: its raw query and body, and the client address (see `clientAddress`, behind `proxyHops` proxies). */
export async function readCallback(c: Context<AppEnv>, proxyHops: number): Promise<ProviderCallback> {
  const url = new URL(c.req.url);
  // Bodies over MAX_CALLBACK_BYTES are refused before this (see the callback route).
  const body = c.req.method === 'GET' || c.req.method === 'HEAD' ? null : await c.req.text();
  return { method: c.req.method, url, params: new Map(url.searchParams), body, headers: c.req.raw.headers, remoteAddress: requestAddress(c, proxyHops) };
}
