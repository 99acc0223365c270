import { Hono } from 'hono';
import type { CatalogResponse } from '../../src/protocol';
import type { AppEnv } from '../http/context';
import type { Services } from '../services';

export function catalogRoutes({ config }: Services) {
  const body: CatalogResponse = {
    products: [...config.products.values()].map(({ id, title, price, currency, validity }) => ({ id, title, price, currency, validity })),
    plans: [],
  };
  return new Hono<AppEnv>().get('/v1/catalog', (c) => {
    c.header('Cache-Control', 'public, max-age=60');
    return c.json(body);
  });
}
