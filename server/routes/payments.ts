import { Hono } from 'hono';
import { PaymentRequest } from '../../src/protocol';
import { requireAuth } from '../http/auth';
import type { AppEnv } from '../http/context';
import { readJson } from '../http/read-json';
import type { Services } from '../services';

export function paymentRoutes({ cardPayments, paymentIntents }: Services) {
  return new Hono<AppEnv>()
    .post('/v1/payments', async (c) => {
      const request = await readJson(c, PaymentRequest);
      return c.json(await cardPayments.createPayment(c.get('auth')?.customer.id ?? null, request, c.req.header('origin')));
    })
    .get('/v1/payment-intents/:id', async (c) => {
      const { customer } = requireAuth(c.get('auth'));
      c.header('Cache-Control', 'private, no-store');
      return c.json(await paymentIntents.get(customer.id, c.req.param('id')));
    })
    // No body: the intent id says everything; sent twice, it charges once.
    .post('/v1/payment-intents/:id/confirm', async (c) => {
      const { customer } = requireAuth(c.get('auth'));
      return c.json(await paymentIntents.confirm(customer.id, c.req.param('id')));
    });
}
