import { expect } from '@open-wc/testing';
import { http, HttpResponse } from 'msw';
import { BackendClient } from '../../../src/services/backend-client';
import { EntitlementStore, type AccessState } from '../../../src/services/entitlement-store';
import { NotificationSocket } from '../../../src/services/notification-socket';
import { SessionStore } from '../../../src/services/session-store';
import { BACKEND, FakeBackend, clearStorage, notificationsLink, sleep, until, useMockServiceWorker, worker } from '../helpers/mock-backend';

const TOKEN = 'entitlements-token';
const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

describe('EntitlementStore', () => {
  useMockServiceWorker();
  let backend: FakeBackend;
  let session: SessionStore;
  let client: BackendClient;
  const stores: EntitlementStore[] = [];

  /** A store as one tab of the page would have it. */
  function store(options: { now?: () => number; session?: SessionStore; notifications?: NotificationSocket } = {}) {
    const ownSession = options.session ?? session;
    const created = new EntitlementStore(options.session ? new BackendClient({ baseUrl: BACKEND, session: ownSession }) : client, ownSession, options);
    stores.push(created);
    return created;
  }

  beforeEach(() => {
    clearStorage();
    backend = new FakeBackend(TOKEN, 'entitlements-token-2');
    session = new SessionStore(BACKEND, 'memory');
    session.set(TOKEN);
    client = new BackendClient({ baseUrl: BACKEND, session });
  });

  afterEach(() => {
    for (const s of stores.splice(0)) s.dispose();
  });

  it('answers every check made in one task with one POST /v1/access', async () => {
    backend.grants.set('article-42', inMinutes(10));
    const entitlements = store();
    const products = ['article-42', 'article-43', 'a', 'b', 'c', 'article-42'];
    const states = await Promise.all(products.map((p) => entitlements.check(p)));
    expect(states.map((s) => s.granted)).to.deep.equal([true, false, false, false, false, true]);
    const sent = backend.sent('/v1/access');
    expect(sent).to.have.length(1);
    expect(sent[0]!.body.products).to.deep.equal(['article-42', 'article-43', 'a', 'b', 'c']);
  });

  it('also batches checks reached through a few promise hops in the same task', async () => {
    const entitlements = store();
    const late = Promise.resolve().then(() => Promise.resolve()).then(() => entitlements.check('late'));
    await Promise.all([entitlements.check('early'), late]);
    expect(backend.sent('/v1/access')).to.have.length(1);
  });

  it('sendQueued() sends the checks queued so far at once; later checks of the task go together in the next request', async () => {
    const entitlements = store();
    entitlements.sendQueued();
    const first = [entitlements.check('a'), entitlements.check('b')];
    entitlements.sendQueued();
    const later = [entitlements.check('c'), entitlements.check('a'), Promise.resolve().then(() => entitlements.check('d'))];
    await Promise.all([...first, ...later]);
    expect(backend.sent('/v1/access').map((r) => r.body.products)).to.deep.equal([['a', 'b'], ['c', 'd']]);
  });

  it('asks for the fragments of the products checked with content, and hands them over before any subscriber hears the grant', async () => {
    backend.grants.set('article-42', inMinutes(10));
    backend.grants.set('article-43', inMinutes(10));
    const events: string[] = [];
    const created = new EntitlementStore(client, session, { fragments: (fragments) => events.push(...fragments.map((f) => `fragment ${f.product}: ${f.html}`)) });
    stores.push(created);
    const stop = created.subscribe('article-42', (s) => events.push(`granted ${s.product}: ${s.granted}`));
    // A button checks first, then the content of the same product asks for the fragment too.
    await Promise.all([created.check('article-42'), created.check('article-43'), created.check('article-42', { content: true })]);
    expect(backend.sent('/v1/access')[0]!.body).to.deep.equal({ products: ['article-42', 'article-43'], content: ['article-42'] });
    expect(events).to.deep.equal(['fragment article-42: <p>Paid article-42</p>', 'granted article-42: true']);
    stop();
  });

  it('splits more than 200 products into requests of 200', async () => {
    const entitlements = store();
    const products = Array.from({ length: 450 }, (_, i) => `p-${i}`);
    await Promise.all(products.map((p) => entitlements.check(p)));
    expect(backend.sent('/v1/access').map((r) => r.body.products.length)).to.deep.equal([200, 200, 50]);
  });

  it('serves later checks from the cache', async () => {
    backend.grants.set('article-42', inMinutes(10));
    const entitlements = store();
    await entitlements.check('article-42');
    await entitlements.check('article-43');
    const again = await Promise.all([entitlements.check('article-42'), entitlements.check('article-43')]);
    expect(again.map((s) => s.granted)).to.deep.equal([true, false]);
    expect(backend.sent('/v1/access')).to.have.length(2);
  });

  it('refresh() asks again, in one request, about every product shown, and unlocks what is now granted', async () => {
    const entitlements = store();
    const seen: boolean[] = [];
    entitlements.subscribe('plan-product', (state) => seen.push(state.granted));
    await Promise.all([entitlements.check('plan-product'), entitlements.check('other-product')]);
    expect(backend.sent('/v1/access')).to.have.length(1);
    backend.grants.set('plan-product', inMinutes(10));
    entitlements.refresh();
    await until(() => entitlements.get('plan-product')?.granted === true, 2000, 'granted after refresh');
    const sent = backend.sent('/v1/access');
    expect(sent).to.have.length(2);
    expect(sent[1]!.body.products).to.have.members(['plan-product', 'other-product']);
    expect(seen).to.deep.equal([false, true]);
  });

  it('asks nothing when signed out, and refuses an invalid product id', async () => {
    session.clear();
    const entitlements = store();
    expect((await entitlements.check('article-42')).granted).to.equal(false);
    expect(backend.requests).to.have.length(0);
    const error = await entitlements.check('not a product!').catch((e) => e);
    expect(error.code).to.equal('configuration_error');
  });

  it('re-locks content when the entitlement expires', async () => {
    // Long enough that the answer arrives before expiry on a loaded machine, short enough to wait for.
    backend.grants.set('article-42', new Date(Date.now() + 1000).toISOString());
    const entitlements = store();
    const seen: AccessState[] = [];
    entitlements.subscribe('article-42', (s) => seen.push(s));
    expect((await entitlements.check('article-42')).granted).to.equal(true);
    await until(() => entitlements.get('article-42')?.granted === false, 4000, 're-lock');
    expect(seen.map((s) => [s.granted, s.source])).to.deep.equal([[true, 'check'], [false, 'expiry']]);
    // Expired: the next check asks the server again.
    await entitlements.check('article-42');
    expect(backend.sent('/v1/access')).to.have.length(2);
  });

  it('judges expiry by the injected clock', async () => {
    let now = Date.now();
    const entitlements = store({ now: () => now });
    entitlements.apply({ product: 'article-42', granted: true, expiresAt: inMinutes(5) }, 'purchase');
    expect(entitlements.get('article-42')!.granted).to.equal(true);
    now += 10 * 60_000;
    // A clock past expiresAt: the cache no longer answers, and a stale grant is stored locked.
    entitlements.apply({ product: 'article-43', granted: true, expiresAt: inMinutes(5) }, 'purchase');
    expect(entitlements.get('article-43')).to.include({ granted: false, source: 'expiry' });
    await entitlements.check('article-42');
    expect(backend.sent('/v1/access')).to.have.length(1);
  });

  it('keeps a grant that ends beyond setTimeout’s 24.8-day limit', async () => {
    const entitlements = store();
    entitlements.apply({ product: 'article-42', granted: true, expiresAt: new Date(Date.now() + 40 * 86_400_000).toISOString() }, 'purchase');
    await sleep(50);
    expect(entitlements.get('article-42')!.granted).to.equal(true);
  });

  it('applies a grant made in another tab, only for the same reader', async () => {
    const here = store();
    const seen: AccessState[] = [];
    here.subscribe('article-42', (s) => seen.push(s));
    await here.check('article-42');

    // Another tab with another reader (sessionStorage sessions differ per tab): not applied here.
    const strangerSession = new SessionStore(BACKEND, 'memory');
    strangerSession.set('entitlements-token-2');
    store({ session: strangerSession }).apply({ product: 'article-42', granted: true, expiresAt: inMinutes(10) }, 'purchase');
    await sleep(50);
    expect(here.get('article-42')!.granted).to.equal(false);

    const otherTabSession = new SessionStore(BACKEND, 'memory');
    otherTabSession.set(TOKEN);
    const otherTab = store({ session: otherTabSession });
    otherTab.apply({ product: 'article-42', granted: true, expiresAt: inMinutes(10) }, 'purchase');
    await until(() => here.get('article-42')?.granted, 2000, 'the other tab grant');
    expect(seen.map((s) => [s.granted, s.source])).to.deep.equal([[false, 'check'], [true, 'other-tab']]);
  });

  it('re-locks everything on sign-out and re-checks on sign-in', async () => {
    backend.grants.set('article-42', inMinutes(10));
    const entitlements = store();
    const seen: AccessState[] = [];
    entitlements.subscribe('article-42', (s) => seen.push(s));
    await entitlements.check('article-42');
    session.clear();
    expect(entitlements.get('article-42')).to.include({ granted: false, source: 'sign-out' });
    session.set(TOKEN);
    await until(() => entitlements.get('article-42')?.granted, 2000, 're-check after sign-in');
    expect(seen.map((s) => [s.granted, s.source])).to.deep.equal([[true, 'check'], [false, 'sign-out'], [true, 'check']]);
    expect(backend.sent('/v1/access')).to.have.length(2);
  });

  it('drops an answer that arrives after a purchase changed the product', async () => {
    const entitlements = store();
    worker.use(http.post(`${BACKEND}/v1/access`, async () => {
      await sleep(100);
      return HttpResponse.json({ access: [{ product: 'article-42', granted: false, expiresAt: null }] });
    }));
    const checking = entitlements.check('article-42');
    await sleep(20);
    entitlements.apply({ product: 'article-42', granted: true, expiresAt: inMinutes(10) }, 'purchase');
    expect((await checking).granted).to.equal(true);
    expect(entitlements.get('article-42')!.source).to.equal('purchase');
  });

  it('applies access.granted and access.revoked notifications live', async () => {
    let connections = 0;
    worker.use(notificationsLink.addEventListener('connection', ({ client: socket }) => {
      connections++;
      socket.send(JSON.stringify({ id: 1, type: 'access.granted', createdAt: new Date().toISOString(), resource: { product: 'article-42', expiresAt: inMinutes(10) } }));
      setTimeout(() => socket.send(JSON.stringify({ id: 2, type: 'access.revoked', createdAt: new Date().toISOString(), resource: { product: 'article-42' } })), 100);
    }));
    const notifications = new NotificationSocket(BACKEND, session, { minDelay: 10, maxDelay: 20 });
    const entitlements = store({ notifications });
    const seen: AccessState[] = [];
    const stop = entitlements.subscribe('article-42', (s) => seen.push(s));
    await until(() => seen.length === 2, 2000, 'two notifications');
    expect(seen.map((s) => [s.granted, s.source])).to.deep.equal([[true, 'notification'], [false, 'notification']]);
    expect(connections).to.equal(1);
    stop();
    await until(() => !notifications.connected, 2000, 'the socket to close with the last subscriber');
  });

  it("opens the socket once the first access answer is in, resuming after its notificationCursor instead of replaying the reader's history", async () => {
    backend.notificationCursor = 41;
    const connections: { url: URL; accessAnswered: number }[] = [];
    worker.use(notificationsLink.addEventListener('connection', ({ client: socket }) => {
      connections.push({ url: new URL(socket.url), accessAnswered: backend.sent('/v1/access').length });
      socket.send(JSON.stringify({ id: 42, type: 'access.revoked', createdAt: new Date().toISOString(), resource: { product: 'article-42' } }));
    }));
    backend.grants.set('article-42', inMinutes(10));
    const notifications = new NotificationSocket(BACKEND, session, { minDelay: 10, maxDelay: 20 });
    const entitlements = store({ notifications });
    const seen: AccessState[] = [];
    const stop = entitlements.subscribe('article-42', (s) => seen.push(s));
    expect((await entitlements.check('article-42')).granted).to.equal(true);
    await until(() => seen.length === 2, 2000, 'the revocation after the cursor');
    expect(connections).to.have.length(1);
    expect(connections[0]!.accessAnswered).to.equal(1);
    expect(connections[0]!.url.searchParams.get('after')).to.equal('41');
    expect(seen.map((s) => [s.granted, s.source])).to.deep.equal([[true, 'check'], [false, 'notification']]);
    stop();
  });

  it("after a sign-in, the new reader's socket waits for the re-check and resumes after its cursor", async () => {
    session.clear();
    const connections: URL[] = [];
    worker.use(notificationsLink.addEventListener('connection', ({ client: socket }) => void connections.push(new URL(socket.url))));
    const notifications = new NotificationSocket(BACKEND, session, { minDelay: 10, maxDelay: 20 });
    const entitlements = store({ notifications });
    const stop = entitlements.subscribe('article-43', () => undefined);
    expect((await entitlements.check('article-43')).granted).to.equal(false);
    // Long signed out: no answer came to wait for.
    await sleep(50);
    backend.notificationCursor = 77;
    session.set(TOKEN);
    await until(() => connections.length === 1, 2000, 'the socket to open');
    expect(backend.sent('/v1/access')).to.have.length(1);
    expect(connections[0]!.searchParams.get('after')).to.equal('77');
    stop();
  });

  it('a replayed access.granted for the grant the page already holds changes nothing; a longer one is applied', async () => {
    const held = inMinutes(10);
    const longer = inMinutes(20);
    backend.grants.set('article-42', held);
    const grant = (id: number, expiresAt: string) => JSON.stringify({ id, type: 'access.granted', createdAt: new Date().toISOString(), resource: { product: 'article-42', expiresAt } });
    let send: (message: string) => void = () => undefined;
    worker.use(notificationsLink.addEventListener('connection', ({ client: socket }) => (send = (message) => socket.send(message))));
    const notifications = new NotificationSocket(BACKEND, session, { minDelay: 10, maxDelay: 20 });
    const entitlements = store({ notifications });
    const seen: AccessState[] = [];
    const stop = entitlements.subscribe('article-42', (s) => seen.push(s));
    await entitlements.check('article-42');
    await until(() => notifications.connected, 2000, 'the socket to open');
    const otherTab = new BroadcastChannel(`paywall-kit:${BACKEND}`);
    const told: unknown[] = [];
    otherTab.onmessage = (event) => told.push(event.data);
    send(grant(1, new Date(Date.parse(held)).toISOString()));
    await sleep(50);
    expect(seen.map((s) => [s.granted, s.expiresAt, s.source])).to.deep.equal([[true, held, 'check']]);
    expect(told).to.have.length(0);
    send(grant(2, longer));
    await until(() => seen.length === 2, 2000, 'the longer grant');
    expect(seen[1]).to.include({ granted: true, expiresAt: longer, source: 'notification' });
    await until(() => told.length === 1, 2000, 'the other tabs told');
    otherTab.close();
    stop();
  });
});
