import { expect } from '@open-wc/testing';
import type { Wallet } from '../../../src/protocol';
import { BackendClient } from '../../../src/services/backend-client';
import { NotificationSocket } from '../../../src/services/notification-socket';
import { SessionStore } from '../../../src/services/session-store';
import { WalletStore } from '../../../src/services/wallet-store';
import { BACKEND, FakeBackend, notificationsLink, until, useMockServiceWorker, worker } from '../helpers/mock-backend';

const TOKEN = 'wallet-token';

describe('WalletStore', () => {
  useMockServiceWorker();
  let backend: FakeBackend;
  let session: SessionStore;
  let wallet: WalletStore;

  beforeEach(() => {
    backend = new FakeBackend(TOKEN);
    session = new SessionStore(BACKEND, 'memory');
    const client = new BackendClient({ baseUrl: BACKEND, session });
    wallet = new WalletStore(client, session, new NotificationSocket(BACKEND, session, { minDelay: 10 }));
  });

  it('has no wallet and sends nothing when signed out', async () => {
    expect(await wallet.refresh()).to.equal(null);
    expect(backend.requests).to.have.length(0);
  });

  it('loads the balance for its first subscriber, follows wallet.balance.changed, and forgets it on sign-out', async () => {
    let socket: { send(data: string): void } | null = null;
    worker.use(notificationsLink.addEventListener('connection', ({ client }) => (socket = client)));
    session.set(TOKEN);
    const seen: (Wallet | null)[] = [];
    const stop = wallet.subscribe((w) => seen.push(w));
    // The change is sent once the first balance has loaded, however slow the machine.
    await until(() => seen.length === 1 && socket !== null, 3000, 'the loaded balance and an open socket');
    socket!.send(JSON.stringify({ id: 9, type: 'wallet.balance.changed', createdAt: new Date().toISOString(), resource: { balance: 1500, currency: 'EUR', delta: 1000, reason: 'top_up' } }));
    await until(() => seen.length === 2, 3000, 'the loaded and the changed balance');
    expect(seen).to.deep.equal([{ balance: 500, currency: 'EUR' }, { balance: 1500, currency: 'EUR' }]);
    session.clear();
    expect(wallet.wallet).to.equal(null);
    expect(seen[2]).to.equal(null);
    stop();
  });
});
