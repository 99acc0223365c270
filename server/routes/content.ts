import { Hono } from 'hono';
import { ContentRequest, ProductId, type ContentResponse } from '../../src/protocol';
import { ApiError } from '../errors';
import type { AppEnv } from '../http/context';
import { parseWith, readJson } from '../http/read-json';
import { forThisReaderOnly } from '../http/for-this-reader-only';
import type { Services } from '../services';

export function contentRoutes({ content, entitlements }: Services) {
  return new Hono<AppEnv>()
    .get('/v1/content/:product', async (c) => {
      const product = parseWith(ProductId, c.req.param('product'));
      content.assertKnown(product);
      const customerId = c.get('auth')?.customer.id ?? null;
      const [grant] = await entitlements.check(customerId, [product]);
      if (!grant?.granted) throw new ApiError(402, 'access_required', 'Buy access to read this.');
      const html = await content.fragment(product);
      forThisReaderOnly(c);
      return c.html(html);
    })
    .post('/v1/content', async (c) => {
      const products = [...new Set((await readJson(c, ContentRequest)).products)];
      for (const product of products) content.assertKnown(product);
      const customerId = c.get('auth')?.customer.id ?? null;
      const body: ContentResponse = { content: await content.readable(await entitlements.check(customerId, products)) };
      if (!body.content.length) throw new ApiError(402, 'access_required', 'Buy access to read any of these.');
      forThisReaderOnly(c);
      return c.json(body);
    });
}
