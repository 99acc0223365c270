import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { AppEnv } from '../http/context';
import type { ProviderCallback } from './payment-provider';

/** Callbacks are small forms or queries; anything larger is not from a provider. */
export const MAX_CALLBACK_BYTES = 16 * 1024;

/** A provider's request as received: its raw query and body, and the address of the connection it came on. */
export async function readCallback(c: Context<AppEnv>): Promise<ProviderCallback> {
  const url = new URL(c.req.url);
  // Bodies over MAX_CALLBACK_BYTES are refused before this (see the callback route).
  const body = c.req.method === 'GET' || c.req.method === 'HEAD' ? null : await c.req.text();
  let remoteAddress: string | null = null;
  try {
    remoteAddress = getConnInfo(c).remote.address ?? null;
  } catch {
    // Not served by @hono/node-server (app.request in tests): no peer to name.
  }
  return { method: c.req.method, url, params: new Map(url.searchParams), body, headers: c.req.raw.headers, remoteAddress };
}
