import { expect } from '@open-wc/testing';
import { BackendClient } from '../../../src/services/backend-client';
import { BackendError } from '../../../src/services/backend-error';
import { EntitlementStore } from '../../../src/services/entitlement-store';
import { NotificationSocket } from '../../../src/services/notification-socket';
import { HostedJourneys, type PurchaseStep } from '../../../src/services/hosted-journey';
import { PurchaseJourney } from '../../../src/services/purchase-journey';
import { SessionStore } from '../../../src/services/session-store';
import { WalletStore } from '../../../src/services/wallet-store';
import { BACKEND, FakeBackend, clearStorage, sleep, useMockServiceWorker } from '../helpers/mock-backend';
import { Popups, postFromPopup } from '../helpers/popups';

// Own token and product ids: test files run in parallel pages that share Web Locks and BroadcastChannels.
const TOKEN = 'purchase-token';
const PRODUCT = 'pf-article';
const KEY_FORMAT = /^[A-Za-z0-9_-]{16,128}$/;

/** The services one page load has; a "reload" builds them again. */
function page(navigated: string[] = []) {
  const session = new SessionStore(BACKEND, 'session');
  const client = new BackendClient({ baseUrl: BACKEND, session, locale: () => 'en-GB' });
  const notifications = new NotificationSocket(BACKEND, session);
  const entitlements = new EntitlementStore(client, session);
  const wallet = new WalletStore(client, session, notifications);
  const journeys = new HostedJourneys({ client, session, navigate: (url) => navigated.push(url) });
  const flow = new PurchaseJourney({ journeys, entitlements, wallet });
  return { session, client, entitlements, wallet, flow, navigated };
}

async function rejection(promise: Promise<unknown>): Promise<BackendError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).to.be.instanceOf(BackendError);
  return error as BackendError;
}

function progressLog() {
  const log: string[] = [];
  return { log, onProgress: (step: PurchaseStep, window?: string) => log.push(window ? `${step}:${window}` : step) };
}

describe('PurchaseJourney', () => {
  useMockServiceWorker();
  let backend: FakeBackend;
  let popups: Popups;
  let tab: ReturnType<typeof page>;
  const pageUrl = location.href;

  beforeEach(() => {
    clearStorage();
    backend = new FakeBackend(TOKEN);
    backend.prices.set(PRODUCT, 49);
    backend.prices.set('pf-other', 49);
    popups = new Popups();
    tab = page();
  });
  afterEach(() => {
    popups.restore();
    tab.entitlements.dispose();
    history.replaceState(null, '', pageUrl);
  });

  it('buys in one click when signed in with enough balance: no window', async () => {
    tab.session.set(TOKEN);
    const { log, onProgress } = progressLog();
    const access = await tab.flow.purchase({ product: PRODUCT, price: 49, currency: 'EUR' }, { onProgress });
    expect(access).to.include({ product: PRODUCT, granted: true, source: 'purchase' });
    expect(popups.calls).to.equal(0);
    const [sent, ...more] = backend.sent('/v1/purchases');
    expect(more).to.have.length(0);
    expect(sent!.body).to.include({ product: PRODUCT, price: 49, currency: 'EUR' });
    expect(sent!.body.idempotencyKey).to.match(KEY_FORMAT);
    expect(tab.wallet.wallet).to.deep.equal({ balance: 451, currency: 'EUR' });
    expect(tab.entitlements.get(PRODUCT)!.granted).to.equal(true);
    expect(log).to.deep.equal(['checking', 'working', 'granted']);
  });

  it('signed out: opens the window inside the click, signs up, then buys', async () => {
    const { log, onProgress } = progressLog();
    const purchase = tab.flow.purchase({ product: PRODUCT }, { onProgress });
    expect(popups.calls, 'window opened before the first await').to.equal(1);
    expect(backend.requests).to.have.length(0);

    const { win, url } = await popups.at('/hosted/sign-up');
    expect(url.searchParams.get('origin')).to.equal(location.origin);
    expect(url.searchParams.get('lang')).to.equal('en');
    postFromPopup(win, { source: 'paywall-kit', type: 'signed-up', token: TOKEN });

    expect(await purchase).to.include({ product: PRODUCT, granted: true });
    expect(tab.session.token).to.equal(TOKEN);
    const sent = backend.sent('/v1/purchases');
    expect(sent).to.have.length(1);
    expect(sent[0]!.authorization).to.equal(`Bearer ${TOKEN}`);
    expect(log).to.deep.equal(['checking', 'signing-in', 'signing-in:opened', 'signing-in:completed', 'working', 'granted']);
    await sleep(20);
    expect(win.closed, 'closed by the flow at the end').to.equal(true);
    expect(popups.calls).to.equal(1);
  });

  it('signed out with too little balance: sign-up, then top-up in the same window, then buys with one key', async () => {
    backend.balance = 10;
    const { log, onProgress } = progressLog();
    const purchase = tab.flow.purchase({ product: PRODUCT }, { onProgress });
    expect(popups.calls, 'window opened before the first await').to.equal(1);
    const signUp = await popups.at('/hosted/sign-up');
    postFromPopup(signUp.win, { source: 'paywall-kit', type: 'signed-up', token: TOKEN });

    const topUp = await popups.at('/hosted/top-up');
    expect(topUp.win, 'the same window, navigated').to.equal(signUp.win);
    expect(popups.calls, 'no second window').to.equal(1);
    expect(topUp.url.searchParams.get('amount')).to.equal('39');
    backend.balance = 1010;
    postFromPopup(topUp.win, { source: 'paywall-kit', type: 'topped-up' });

    expect((await purchase).granted).to.equal(true);
    const [first, second, ...more] = backend.sent('/v1/purchases');
    expect(more).to.have.length(0);
    expect(first!.authorization).to.equal(`Bearer ${TOKEN}`);
    expect(second!.body.idempotencyKey).to.equal(first!.body.idempotencyKey);
    expect(log).to.deep.equal([
      'checking', 'signing-in', 'signing-in:opened', 'signing-in:completed', 'working',
      'topping-up', 'topping-up:opened', 'topping-up:completed', 'working', 'granted',
    ]);
    await sleep(20);
    expect(signUp.win.closed, 'closed by the flow at the end').to.equal(true);
  });

  it('a window closed by hand in its second step rejects with popup_closed and buys nothing more', async () => {
    backend.balance = 10;
    const purchase = tab.flow.purchase({ product: PRODUCT });
    const signUp = await popups.at('/hosted/sign-up');
    postFromPopup(signUp.win, { source: 'paywall-kit', type: 'signed-up', token: TOKEN });
    const topUp = await popups.at('/hosted/top-up');
    topUp.win.close();
    expect((await rejection(purchase)).code).to.equal('popup_closed');
    expect(popups.calls).to.equal(1);
    expect(backend.sent('/v1/purchases')).to.have.length(1); // the one that answered 402
    expect(tab.entitlements.get(PRODUCT)?.granted ?? false).to.equal(false);
  });

  it('sends a reader who signed in on this device before to sign-in rather than sign-up', async () => {
    tab.session.set('old-token');
    tab.session.clear();
    const purchase = tab.flow.purchase({ product: PRODUCT });
    const { win } = await popups.at('/hosted/sign-in');
    postFromPopup(win, { source: 'paywall-kit', type: 'signed-in', token: TOKEN });
    expect((await purchase).granted).to.equal(true);
  });

  it('402: opens the top-up window and retries with the same idempotency key', async () => {
    tab.session.set(TOKEN);
    backend.balance = 10;
    const purchase = tab.flow.purchase({ product: PRODUCT });
    const { win, url } = await popups.at('/hosted/top-up');
    expect(Object.fromEntries(url.searchParams)).to.deep.equal({ amount: '39', currency: 'EUR', origin: location.origin, lang: 'en' });
    backend.balance = 1010; // the reader topped up 1000
    postFromPopup(win, { source: 'paywall-kit', type: 'topped-up' });

    expect((await purchase).granted).to.equal(true);
    const [first, second, ...more] = backend.sent('/v1/purchases');
    expect(more).to.have.length(0);
    expect(second!.body.idempotencyKey).to.equal(first!.body.idempotencyKey);
    expect(tab.wallet.wallet!.balance).to.equal(961);
  });

  it('opens the top-up window inside the click when the known balance is below the price', async () => {
    tab.session.set(TOKEN);
    tab.wallet.set({ balance: 10, currency: 'EUR' });
    backend.balance = 10;
    const purchase = tab.flow.purchase({ product: PRODUCT, price: 49, currency: 'EUR' });
    expect(popups.calls).to.equal(1);
    const { win, url } = await popups.at('/hosted/top-up');
    expect(url.searchParams.get('amount')).to.equal('39');
    expect(backend.sent('/v1/purchases')).to.have.length(0);
    backend.balance = 1010;
    postFromPopup(win, { source: 'paywall-kit', type: 'topped-up' });
    expect((await purchase).granted).to.equal(true);
    expect(backend.sent('/v1/purchases')).to.have.length(1);
  });

  it('a window closed by the reader rejects with popup_closed and buys nothing', async () => {
    const purchase = tab.flow.purchase({ product: PRODUCT });
    const { win } = await popups.at('/hosted/sign-up');
    win.close();
    expect((await rejection(purchase)).code).to.equal('popup_closed');
    expect(backend.sent('/v1/purchases')).to.have.length(0);
    expect(tab.entitlements.get(PRODUCT)?.granted ?? false).to.equal(false);
  });

  it('the hosted cancel rejects with popup_closed and buys nothing', async () => {
    tab.session.set(TOKEN);
    backend.balance = 0;
    const purchase = tab.flow.purchase({ product: PRODUCT });
    const { win } = await popups.at('/hosted/top-up');
    postFromPopup(win, { source: 'paywall-kit', type: 'cancelled' });
    expect((await rejection(purchase)).code).to.equal('popup_closed');
    expect(backend.balance).to.equal(0);
    expect(backend.sent('/v1/purchases')).to.have.length(1); // the one that answered 402
  });

  it('a double click joins the purchase in flight: one POST', async () => {
    tab.session.set(TOKEN);
    const first = tab.flow.purchase({ product: PRODUCT });
    const second = tab.flow.purchase({ product: PRODUCT });
    const [a, b] = await Promise.all([first, second]);
    expect(a).to.equal(b);
    expect(backend.sent('/v1/purchases')).to.have.length(1);
    expect(backend.balance).to.equal(451);
  });

  it('a purchase of the same product in another tab is refused with purchase_in_progress', async () => {
    tab.session.set(TOKEN);
    const otherTab = page();
    const mine = tab.flow.purchase({ product: PRODUCT });
    const theirs = otherTab.flow.purchase({ product: PRODUCT });
    expect((await rejection(theirs)).code).to.equal('purchase_in_progress');
    expect((await mine).granted).to.equal(true);
    expect(backend.sent('/v1/purchases')).to.have.length(1);
    // Different products are independent.
    await Promise.all([tab.flow.purchase({ product: 'pf-other' }), otherTab.flow.purchase({ product: 'pf-other-2' }).catch(() => null)]);
    otherTab.entitlements.dispose();
  });

  it('reports a price that differs from the server as price_mismatch, without a window', async () => {
    tab.session.set(TOKEN);
    const error = await rejection(tab.flow.purchase({ product: PRODUCT, price: 10, currency: 'EUR' }));
    expect([error.code, error.status]).to.deep.equal(['price_mismatch', 409]);
    expect(popups.calls).to.equal(0);
  });

  it('blocked popup when signed out: redirects with a return URL and completes on return with the same key', async () => {
    popups.blocked = true;
    const purchase = tab.flow.purchase({ product: PRODUCT, price: 49, currency: 'EUR' });
    expect((await rejection(purchase)).code).to.equal('popup_blocked');
    expect(backend.sent('/v1/purchases')).to.have.length(0);

    expect(tab.navigated).to.have.length(1);
    const target = new URL(tab.navigated[0]!);
    expect(target.origin + target.pathname).to.equal(`${BACKEND}/hosted/sign-up`);
    expect(target.searchParams.get('origin')).to.equal(location.origin);
    expect(target.searchParams.get('return')).to.equal(pageUrl);
    const stored = Object.keys(sessionStorage).filter((k) => k.startsWith('paywall-kit:pending:'));
    expect(stored).to.have.length(1);
    const record = JSON.parse(sessionStorage.getItem(stored[0]!)!);
    expect(record).to.include({ step: 'signing-in' });
    expect(record.target).to.deep.equal({ product: PRODUCT, price: 49, currency: 'EUR' });
    expect(record.idempotencyKey).to.match(KEY_FORMAT);

    // The hosted page sends the reader back with the result in the fragment; the page loads again.
    history.replaceState(null, '', `${pageUrl}#paywall-type=signed-up&paywall-token=${TOKEN}`);
    const reloaded = page();
    const access = await reloaded.flow.resumePending();
    expect(access).to.include({ product: PRODUCT, granted: true });
    expect(location.hash).to.equal('');
    expect(reloaded.session.token).to.equal(TOKEN);
    const sent = backend.sent('/v1/purchases');
    expect(sent).to.have.length(1);
    expect(sent[0]!.body.idempotencyKey).to.equal(record.idempotencyKey);
    expect(Object.keys(sessionStorage).filter((k) => k.startsWith('paywall-kit:pending:'))).to.have.length(0);
    reloaded.entitlements.dispose();
  });

  it('blocked top-up window after a 402: redirects, and the return retries with the same key', async () => {
    tab.session.set(TOKEN);
    backend.balance = 0;
    popups.blocked = true;
    expect((await rejection(tab.flow.purchase({ product: PRODUCT }))).code).to.equal('popup_blocked');
    const target = new URL(tab.navigated[0]!);
    expect(target.pathname).to.equal('/hosted/top-up');
    expect(target.searchParams.get('amount')).to.equal('49');
    expect(target.searchParams.get('return')).to.equal(pageUrl);

    backend.balance = 500;
    history.replaceState(null, '', `${pageUrl}#paywall-type=topped-up`);
    const reloaded = page();
    expect((await reloaded.flow.resumePending())!.granted).to.equal(true);
    const [first, second, ...more] = backend.sent('/v1/purchases');
    expect(more).to.have.length(0);
    expect(second!.body.idempotencyKey).to.equal(first!.body.idempotencyKey);
    reloaded.entitlements.dispose();
  });

  it('returning with a cancel buys nothing; nothing pending resumes nothing', async () => {
    popups.blocked = true;
    await rejection(tab.flow.purchase({ product: PRODUCT }));
    history.replaceState(null, '', `${pageUrl}#paywall-type=cancelled`);
    expect((await rejection(page().flow.resumePending())).code).to.equal('popup_closed');
    expect(location.hash).to.equal('');

    // A fragment without a pending step of this backend is left alone.
    history.replaceState(null, '', `${pageUrl}#paywall-type=signed-in&paywall-token=x`);
    expect(await page().flow.resumePending()).to.equal(null);
    expect(location.hash).to.equal('#paywall-type=signed-in&paywall-token=x');
    expect(backend.sent('/v1/purchases')).to.have.length(0);
  });

  it('aborting closes the window and buys nothing', async () => {
    const controller = new AbortController();
    const purchase = tab.flow.purchase({ product: PRODUCT }, { signal: controller.signal });
    await popups.at('/hosted/sign-up');
    controller.abort();
    expect((await rejection(purchase)).code).to.equal('aborted');
    await sleep(20);
    expect(popups.last!.closed).to.equal(true);
    expect(backend.sent('/v1/purchases')).to.have.length(0);
  });
});
