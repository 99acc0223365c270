import { Hono } from 'hono';
import { AccessRequest } from '../../src/protocol';
import type { AppEnv } from '../http/context';
import { readJson } from '../http/read-json';
import type { Services } from '../services';

export function accessRoutes({ entitlements }: Services) {
  return new Hono<AppEnv>().post('/v1/access', async (c) => {
    const { products } = await readJson(c, AccessRequest);
    const body = await entitlements.answer(c.get('auth')?.customer.id ?? null, products);
    c.header('Cache-Control', 'private, no-store');
    return c.json(body);
  });
}
