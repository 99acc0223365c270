import { Hono } from 'hono';
import { TopUpRequest, type TopUpResponse } from '../../src/protocol';
import { ApiError } from '../errors';
import { requireAuth } from '../http/auth';
import type { AppEnv } from '../http/context';
import { readJson } from '../http/read-json';
import type { Services } from '../services';

export function topUpRoutes({ topUps, config }: Services) {
  return new Hono<AppEnv>().post('/v1/top-ups', async (c) => {
    // Card data may only come from the backend's own hosted pages, never from a merchant page.
    if (c.req.header('origin') !== config.ownOrigin) {
      throw new ApiError(403, 'forbidden_origin', 'Top-ups are only accepted from the hosted top-up page.');
    }
    const { customer } = requireAuth(c.get('auth'));
    const request = await readJson(c, TopUpRequest);
    const body: TopUpResponse = { wallet: await topUps.topUp(customer.id, request) };
    return c.json(body);
  });
}
