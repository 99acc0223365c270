import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ApiError } from './errors';
import { authenticate } from './http/auth';
import { limitBody } from './http/body-limit';
import { cors } from './http/cors';
import type { AppEnv } from './http/context';
import { buildOpenApi } from './openapi';
import { accessRoutes } from './routes/access';
import { accountRoutes } from './routes/accounts';
import { adminPayoutRoutes } from './routes/admin-payouts';
import { catalogRoutes } from './routes/catalog';
import { contentRoutes } from './routes/content';
import { hostedRoutes } from './hosted/routes';
import { demoRoutes } from './routes/demo';
import { kitRoutes } from './routes/kit';
import { paymentRoutes } from './routes/payments';
import { providerCallbackRoutes } from './routes/provider-callbacks';
import { purchaseRoutes } from './routes/purchases';
import { sandboxRoutes } from './routes/sandbox';
import { subscriptionRoutes } from './routes/subscriptions';
import { topUpRoutes } from './routes/top-ups';
import { walletConnectionRoutes } from './routes/wallet-connections';
import type { Services } from './services';

export const MAX_BODY_BYTES = 64 * 1024;

export function createApp(services: Services) {
  const { config, logger, accounts, urls } = services;
  const app = new Hono<AppEnv>();

  app.use('*', async (c, next) => {
    const started = performance.now();
    c.set('logger', logger);
    await next();
    // The path only: query strings may carry tokens and are never logged.
    logger.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) }, 'request');
  });

  const bodyLimit = limitBody(MAX_BODY_BYTES, () => {
    throw new ApiError(413, 'payload_too_large', `Request bodies are limited to ${MAX_BODY_BYTES / 1024} kB.`);
  });
  // The admin API is for merchant servers: it answers before CORS and reader sessions apply, so no
  // browser origin is ever allowed to read it, and a reader's session is never its credential.
  app.use('/v1/admin/*', bodyLimit);
  app.route('/', adminPayoutRoutes(services));

  app.use('/v1/*', cors({
    allowOrigin: (origin) => (urls.isMerchantOrigin(origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type'],
    maxAgeSeconds: 600,
  }));
  app.use('/v1/*', bodyLimit);
  app.use('/v1/*', authenticate(accounts));

  const openApi = buildOpenApi(config.publicBaseUrl);
  app.get('/v1/openapi.json', (c) => c.json(openApi));
  app.route('/', catalogRoutes(services));
  app.route('/', accountRoutes(services));
  app.route('/', accessRoutes(services));
  app.route('/', purchaseRoutes(services));
  app.route('/', contentRoutes(services));
  app.route('/', topUpRoutes(services));
  app.route('/', subscriptionRoutes(services));
  app.route('/', paymentRoutes(services));
  app.route('/', walletConnectionRoutes(services));
  app.route('/', sandboxRoutes(services));
  app.route('/', providerCallbackRoutes(services));
  app.route('/', hostedRoutes(services));
  app.route('/', kitRoutes());
  app.route('/', demoRoutes());

  app.notFound((c) => c.json(new ApiError(404, 'not_found', `No route for ${c.req.method} ${c.req.path}.`).toBody(), 404));
  app.onError((error, c) => {
    if (error instanceof ApiError) return c.json(error.toBody(), error.status);
    if (error instanceof HTTPException) return c.json(new ApiError(error.status as 400, 'bad_request', error.message || 'Bad request.').toBody(), error.status);
    logger.error({ err: error, path: c.req.path }, 'unhandled error');
    return c.json(new ApiError(500, 'internal_error', 'Something went wrong on our side. Try again in a moment.').toBody(), 500);
  });
  return app;
}
