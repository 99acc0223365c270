import { Hono } from 'hono';
import { PurchaseRequest } from '../../src/protocol';
import type { AppEnv } from '../http/context';
import { readJson } from '../http/read-json';
import type { Services } from '../services';

export function purchaseRoutes({ purchases }: Services) {
  return new Hono<AppEnv>().post('/v1/purchases', async (c) => {
    const request = await readJson(c, PurchaseRequest);
    return c.json(await purchases.purchase(c.get('auth')?.customer.id ?? null, request, c.req.header('origin')));
  });
}
