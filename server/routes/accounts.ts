import { Hono } from 'hono';
import { Credentials, type MeResponse } from '../../src/protocol';
import { requireAuth } from '../http/auth';
import type { AppEnv } from '../http/context';
import { readJson } from '../http/read-json';
import type { Services } from '../services';

export function accountRoutes({ accounts, ledger, config, database }: Services) {
  return new Hono<AppEnv>()
    .post('/v1/accounts', async (c) => {
      const { email, password } = await readJson(c, Credentials);
      return c.json(await accounts.signUp(email, password), 201);
    })
    .post('/v1/sessions', async (c) => {
      const { email, password } = await readJson(c, Credentials);
      return c.json(await accounts.signIn(email, password));
    })
    .delete('/v1/sessions/current', async (c) => {
      await accounts.signOut(requireAuth(c.get('auth')));
      return c.body(null, 204);
    })
    .get('/v1/me', async (c) => {
      const { customer } = requireAuth(c.get('auth'));
      const wallet = (await ledger.wallet(database.db, customer.id)) ?? { balance: 0, currency: config.startCredit.currency };
      const body: MeResponse = { customer, wallet };
      c.header('Cache-Control', 'private, no-store');
      return c.json(body);
    });
}
