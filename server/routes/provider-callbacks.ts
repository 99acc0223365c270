import { Hono } from 'hono';
import type { AppEnv } from '../http/context';
import { limitBody } from '../http/body-limit';
import { requestAddress } from '../http/client-address';
import { RateLimiter } from '../http/rate-limit';
import { MAX_CALLBACK_BYTES, readCallback } from '../http/read-callback';
import { receiveCallback } from '../domain/receive-callback';
import type { Services } from '../services';

/**
 * `/callbacks/:provider`: Verotel postbacks, Paymentwall pingbacks. Every request is recorded raw
 * for audit with what it led to; the adapter verifies it, the processor applies its events once,
 * and the provider gets the answer it expects (a replay gets the same answer and changes nothing).
 */
export function providerCallbackRoutes(services: Services) {
  // Anyone may call these: past the limit an address is answered 429 before its request is read or stored.
  const limiter = new RateLimiter(services.config.callbacks.perMinute, 60_000, services.clock);
  return new Hono<AppEnv>()
    .use('/callbacks/*', async (c, next) => {
      const address = requestAddress(c, services.config.proxyHops) ?? 'unknown';
      if (limiter.take(address)) return next();
      return c.text('Too many requests', 429, { 'Retry-After': String(limiter.retryAfterSeconds(address)) });
    })
    .use('/callbacks/*', limitBody(MAX_CALLBACK_BYTES, (c) => c.text('Payload too large', 413)))
    .on(['GET', 'POST'], '/callbacks/:provider', async (c) => {
      const provider = services.providers.get(c.req.param('provider'));
      if (!provider) return c.text('Not found', 404);
      // Never null: handleCallback always gives a verdict or throws.
      const reply = (await receiveCallback(services, provider, await readCallback(c, services.config.proxyHops), (callback) => provider.handleCallback(callback)))!;
      return c.text(reply.body, reply.status);
    });
}
