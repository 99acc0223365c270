import { Hono } from 'hono';
import type { CatalogResponse } from '../../src/protocol';
import { cardProviderAvailable } from '../config';
import type { AppEnv } from '../http/context';
import type { Services } from '../services';

export function catalogRoutes({ config }: Services) {
  const body: CatalogResponse = {
    products: [...config.products.values()].map(({ id, title, price, currency, validity }) => ({ id, title, price, currency, validity })),
    plans: [...config.plans.values()].map(({ id, title, price, currency, periodLength, periodUnit, products, trialDays, methods, provider }) => ({
      id, title, price, currency, periodLength, periodUnit, products,
      ...(trialDays ? { trialDays } : {}),
      // Card payments need a card provider: the plan's own, or the built-in sandbox.
      methods: methods.filter((method) => method === 'wallet' || cardProviderAvailable(config, provider)),
    })),
  };
  return new Hono<AppEnv>().get('/v1/catalog', (c) => {
    c.header('Cache-Control', 'public, max-age=60');
    return c.json(body);
  });
}
