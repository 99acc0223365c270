import { Hono } from 'hono';
import { CreateSubscriptionRequest, type CancelSubscriptionResponse, type SubscriptionsResponse } from '../../src/protocol';
import { requireAuth } from '../http/auth';
import type { AppEnv } from '../http/context';
import { readJson } from '../http/read-json';
import type { Services } from '../services';

export function subscriptionRoutes({ subscriptions }: Services) {
  return new Hono<AppEnv>()
    .get('/v1/subscriptions', async (c) => {
      const { customer } = requireAuth(c.get('auth'));
      const body: SubscriptionsResponse = { subscriptions: await subscriptions.list(customer.id) };
      c.header('Cache-Control', 'private, no-store');
      return c.json(body);
    })
    .post('/v1/subscriptions', async (c) => {
      const request = await readJson(c, CreateSubscriptionRequest);
      return c.json(await subscriptions.create(c.get('auth')?.customer.id ?? null, request, c.req.header('origin')));
    })
    .delete('/v1/subscriptions/:id', async (c) => {
      const { customer } = requireAuth(c.get('auth'));
      const body: CancelSubscriptionResponse = { subscription: await subscriptions.cancel(customer.id, c.req.param('id')) };
      return c.json(body);
    });
}
