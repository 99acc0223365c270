import { expect } from '@open-wc/testing';
import type { Wallet } from '../../../src/protocol';
import type { AccessState } from '../../../src/services/entitlement-store';
import { PaywallServices } from '../../../src/services/paywall-services';
import { BACKEND, FakeBackend, clearStorage, notificationsLink, sleep, until, useMockServiceWorker, worker } from '../helpers/mock-backend';
import { Popups, postFromPopup } from '../helpers/popups';

// Own token and products: test files run in parallel pages that share Web Locks and BroadcastChannels.
const TOKEN = 'services-token';
const PRODUCT = 'svc-article';

describe('PaywallServices', () => {
  useMockServiceWorker();
  let backend: FakeBackend;
  let popups: Popups;
  let services: PaywallServices;

  beforeEach(() => {
    clearStorage();
    backend = new FakeBackend(TOKEN);
    backend.prices.set(PRODUCT, 49);
    popups = new Popups();
    services = PaywallServices.for(BACKEND, { storage: 'memory' });
  });
  afterEach(() => {
    popups.restore();
    services.session.clear();
    services.dispose();
  });

  it('is one instance per backend origin, shared with a second copy of the kit on the page', async () => {
    expect(PaywallServices.for(`${BACKEND}/`)).to.equal(services);
    expect(PaywallServices.for(`${BACKEND}/some/path`)).to.equal(services);
    // The same module loaded again under another URL, as a second bundle of the kit would be.
    const copy: typeof import('../../../src/services/paywall-services') = await import(`../../../src/services/paywall-services.ts?copy=${Date.now()}`);
    expect(copy.PaywallServices).not.to.equal(PaywallServices);
    expect(copy.PaywallServices.for(BACKEND)).to.equal(services);
  });

  it('refuses a backend that is not an http(s) URL with configuration_error', () => {
    expect(() => PaywallServices.for('ftp://files.example')).to.throw().with.property('code', 'configuration_error');
  });

  it('feeds notifications to entitlements and the wallet over one socket, opened only when signed in', async () => {
    let connections = 0;
    const expiresAt = new Date(Date.now() + 600_000).toISOString();
    worker.use(notificationsLink.addEventListener('connection', ({ client }) => {
      connections++;
      const createdAt = new Date().toISOString();
      client.send(JSON.stringify({ id: 1, type: 'access.granted', createdAt, resource: { product: PRODUCT, expiresAt } }));
      client.send(JSON.stringify({ id: 2, type: 'wallet.balance.changed', createdAt, resource: { balance: 451, currency: 'EUR', delta: -49, reason: 'purchase' } }));
    }));
    const access: AccessState[] = [];
    const wallets: (Wallet | null)[] = [];
    const stops = [services.entitlements.subscribe(PRODUCT, (s) => access.push(s)), services.wallet.subscribe((w) => wallets.push(w))];
    await sleep(50);
    expect(connections).to.equal(0);

    services.session.set(TOKEN);
    await until(() => access.some((s) => s.source === 'notification') && wallets.some((w) => w?.balance === 451), 3000, 'live updates');
    expect(connections).to.equal(1);
    expect(services.entitlements.get(PRODUCT)).to.include({ granted: true, expiresAt });
    expect(services.wallet.wallet).to.deep.equal({ balance: 451, currency: 'EUR' });
    stops.forEach((stop) => stop());
    await until(() => !services.notifications.connected, 2000, 'the socket to close');
  });

  it('signs in through the hosted window opened in the click, and signs out everywhere', async () => {
    backend.grants.set(PRODUCT, new Date(Date.now() + 600_000).toISOString());
    const signingIn = services.signIn('sign-in');
    expect(popups.calls).to.equal(1);
    const { win, url } = await popups.at('/hosted/sign-in');
    expect(url.searchParams.get('origin')).to.equal(location.origin);
    postFromPopup(win, { source: 'paywall-kit', type: 'signed-in', token: TOKEN });
    await signingIn;
    expect(services.session.token).to.equal(TOKEN);
    expect((await services.entitlements.check(PRODUCT)).granted).to.equal(true);

    await services.signOut();
    expect(services.session.signedIn).to.equal(false);
    expect(services.entitlements.get(PRODUCT)).to.include({ granted: false, source: 'sign-out' });
    expect(backend.sent('/v1/sessions/current', 'DELETE')).to.have.length(1);
  });

  it('signs out locally even when the server cannot be reached', async () => {
    services.session.set('unknown-to-the-server');
    await services.signOut();
    expect(services.session.signedIn).to.equal(false);
  });

  it('tops up in a hosted window and reloads the balance', async () => {
    services.session.set(TOKEN);
    backend.balance = 20;
    const toppingUp = services.openTopUp();
    expect(popups.calls).to.equal(1);
    const { win } = await popups.at('/hosted/top-up');
    backend.balance = 1020;
    postFromPopup(win, { source: 'paywall-kit', type: 'topped-up' });
    expect(await toppingUp).to.deep.equal({ balance: 1020, currency: 'EUR' });
  });

  it('buys through purchases and keeps the wallet in step with the answer', async () => {
    services.session.set(TOKEN);
    await services.wallet.refresh();
    const access = await services.purchases.purchase({ product: PRODUCT, price: 49, currency: 'EUR' });
    expect(access.granted).to.equal(true);
    expect(services.wallet.wallet!.balance).to.equal(451);
  });
});
