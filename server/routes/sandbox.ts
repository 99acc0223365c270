import { Hono } from 'hono';
import type { SandboxOutboxResponse } from '../../src/protocol';
import { ApiError } from '../errors';
import { requireAuth } from '../http/auth';
import type { AppEnv } from '../http/context';
import type { Services } from '../services';

/** What only the built-in sandbox provider shows: the emails the backend would have sent. */
export function sandboxRoutes({ config, outbox }: Services) {
  return new Hono<AppEnv>().get('/v1/sandbox/outbox', async (c) => {
    // With the sandbox off the route does not exist, as far as anyone can tell.
    if (!config.sandbox) throw new ApiError(404, 'not_found', `No route for ${c.req.method} ${c.req.path}.`);
    const { customer } = requireAuth(c.get('auth'));
    const body: SandboxOutboxResponse = { emails: await outbox.list(customer.id) };
    c.header('Cache-Control', 'private, no-store');
    return c.json(body);
  });
}
