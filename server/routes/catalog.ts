import { Hono } from 'hono';
import type { CatalogResponse } from '../../src/protocol';
import type { AppEnv } from '../http/context';
import type { Services } from '../services';

export function catalogRoutes({ config }: Services) {
  const body: CatalogResponse = {
    products: [...config.products.values()].map(({ id, title, price, currency, validity }) => ({ id, title, price, currency, validity })),
    plans: [...config.plans.values()].map(({ id, title, price, currency, periodLength, periodUnit, products, trialDays, methods }) => ({
      id, title, price, currency, periodLength, periodUnit, products,
      ...(trialDays ? { trialDays } : {}),
      // Card payments need a card provider; the built-in one is the sandbox.
      methods: methods.filter((method) => method === 'wallet' || config.sandbox),
    })),
  };
  return new Hono<AppEnv>().get('/v1/catalog', (c) => {
    c.header('Cache-Control', 'public, max-age=60');
    return c.json(body);
  });
}
