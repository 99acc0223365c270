import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { ApiError } from '../errors';
import { bearerToken } from '../http/auth';
import type { AppEnv } from '../http/context';
import { readJson } from '../http/read-json';
import { PayoutRequest } from '../providers/milkipay/payout-request';
import type { Services } from '../services';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The merchant's server API (`/v1/admin/*`): authenticated by the admin API key, never by a
 * reader's session, and refused to browsers (no CORS, and any request carrying an Origin).
 */
export function adminPayoutRoutes({ config, milkipay }: Services) {
  return new Hono<AppEnv>()
    .use('/v1/admin/*', async (c, next) => {
      if (!config.adminApiKey) throw new ApiError(503, 'admin_api_disabled', 'The admin API is off: set the environment variable named by adminApiKeyEnv (PAYWALL_ADMIN_API_KEY).');
      if (c.req.header('origin') !== undefined) throw new ApiError(403, 'forbidden_origin', 'The admin API is for servers only; browsers may not call it.');
      const given = bearerToken(c.req.header('authorization'));
      if (!given || !timingSafeEqual(digest(given), digest(config.adminApiKey))) throw new ApiError(401, 'unauthenticated', 'Send the admin API key as "Authorization: Bearer <key>".');
      await next();
    })
    .post('/v1/admin/payouts', async (c) => {
      const request = await readJson(c, PayoutRequest);
      if (!milkipay) throw new ApiError(404, 'not_found', 'Payouts need providers.milkipay in the config.');
      const outcome = await milkipay.payout(request);
      return c.json(outcome.body, outcome.status);
    })
    // Nothing under /v1/admin falls through to the reader API behind it.
    .all('/v1/admin/*', (c) => {
      throw new ApiError(404, 'not_found', `No route for ${c.req.method} ${c.req.path}.`);
    });
}
