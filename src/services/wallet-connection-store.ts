import type { WalletConnection } from '../protocol';
import type { BackendClient } from './backend-client';
import { ReaderResource } from './reader-resource';
import type { SessionStore } from './session-store';

/**
 * The signed-in reader's wallet connections (GET /v1/wallet-connections), one entry per provider
 * the backend offers: one load per session for every `<wallet-connect>` on the page, reloaded
 * after a connect. No notification reports a connection, so it opens no socket.
 */
export class WalletConnectionStore extends ReaderResource<WalletConnection[]> {
  readonly #client: BackendClient;

  constructor(client: BackendClient, session: SessionStore) {
    super(session, null);
    this.#client = client;
  }

  get connections(): WalletConnection[] | null {
    return this.value;
  }

  protected override load(signal?: AbortSignal): Promise<WalletConnection[]> {
    return this.#client.walletConnections(signal);
  }
}
