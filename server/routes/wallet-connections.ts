import { Hono } from 'hono';
import { WalletProvider, type StartWalletConnectionResponse, type WalletConnectionsResponse } from '../../src/protocol';
import { ApiError } from '../errors';
import { requireAuth } from '../http/auth';
import type { AppEnv } from '../http/context';
import type { Services } from '../services';

/** The signed-in reader's wallet connections, and the link that starts one in the hosted window. */
export function walletConnectionRoutes({ milkipay, urls }: Services) {
  return new Hono<AppEnv>()
    .get('/v1/wallet-connections', async (c) => {
      const { customer } = requireAuth(c.get('auth'));
      const body: WalletConnectionsResponse = { connections: milkipay ? await milkipay.connections(customer.id) : [] };
      c.header('Cache-Control', 'private, no-store');
      return c.json(body);
    })
    .post('/v1/wallet-connections/:provider', (c) => {
      const { customer } = requireAuth(c.get('auth'));
      const provider = c.req.param('provider');
      if (!WalletProvider.options.includes(provider as WalletProvider) || !milkipay) throw new ApiError(404, 'not_found', `Wallet provider "${provider}" is not available here.`);
      // The window reports to the page that asked, and only to an allowlisted one.
      const origin = c.req.header('origin');
      const body: StartWalletConnectionResponse = { authorizeUrl: milkipay.connectLink(customer.id, urls.isMerchantOrigin(origin) ? origin : null) };
      return c.json(body);
    });
}
