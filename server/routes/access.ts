import { Hono } from 'hono';
import { AccessRequest } from '../../src/protocol';
import type { AppEnv } from '../http/context';
import { readJson } from '../http/read-json';
import { forThisReaderOnly } from '../http/for-this-reader-only';
import type { Services } from '../services';

export function accessRoutes({ entitlements, content }: Services) {
  return new Hono<AppEnv>().post('/v1/access', async (c) => {
    const { products, content: wanted } = await readJson(c, AccessRequest);
    const body = await entitlements.answer(c.get('auth')?.customer.id ?? null, products);
    if (wanted?.length) body.content = await content.readable(body.access, wanted);
    forThisReaderOnly(c);
    return c.json(body);
  });
}
