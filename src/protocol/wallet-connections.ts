import * as z from 'zod/mini';

/** Wallet providers a reader can connect to their account (to receive payouts). */
export const WalletProvider = z.enum(['milkipay']);
export type WalletProvider = z.infer<typeof WalletProvider>;

/** One provider's connection: `error` carries why the last check failed (our code and the provider's). */
export const WalletConnection = z.object({
  provider: WalletProvider,
  status: z.enum(['connected', 'not_connected', 'error']),
  error: z.optional(z.object({ code: z.string(), message: z.string(), providerCode: z.optional(z.string()) })),
  checkedAt: z.optional(z.string()),
});
export type WalletConnection = z.infer<typeof WalletConnection>;

/** `GET /v1/wallet-connections`: one entry per wallet provider the backend offers. */
export const WalletConnectionsResponse = z.object({ connections: z.array(WalletConnection) });
export type WalletConnectionsResponse = z.infer<typeof WalletConnectionsResponse>;

/** `POST /v1/wallet-connections/{provider}`: a short-lived backend page that sends the window on to the provider. */
export const StartWalletConnectionResponse = z.object({ authorizeUrl: z.string() });
export type StartWalletConnectionResponse = z.infer<typeof StartWalletConnectionResponse>;
