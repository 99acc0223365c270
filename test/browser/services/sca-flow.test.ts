import { expect } from '@open-wc/testing';
import type { Notification } from '../../../src/protocol';
import { BackendClient } from '../../../src/services/backend-client';
import { EntitlementStore } from '../../../src/services/entitlement-store';
import { ScaFlow, type ScaAction } from '../../../src/services/sca-flow';
import { SessionStore } from '../../../src/services/session-store';
import { BACKEND, FakeBackend, sleep, until, useMockServiceWorker } from '../helpers/mock-backend';
import { FakePayments, intent } from '../helpers/mock-payments';

const TOKEN = 'sca-flow-token';

/** A notification feed the test drives: `connected` and the messages are the test's to set. */
class FakeFeed {
  connected = true;
  readonly listeners = new Set<(n: Notification) => void>();
  #id = 1;
  subscribe(listener: (n: Notification) => void) {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
  send(type: Notification['type'], resource: Record<string, unknown>) {
    const n = { id: this.#id++, type, createdAt: new Date().toISOString(), resource };
    for (const listener of [...this.listeners]) listener(n);
  }
}

describe('ScaFlow', () => {
  useMockServiceWorker();
  let backend: FakeBackend, payments: FakePayments, session: SessionStore, client: BackendClient, entitlements: EntitlementStore, feed: FakeFeed;
  const flow = (extra: Partial<ConstructorParameters<typeof ScaFlow>[0]> = {}) =>
    new ScaFlow({ client, session, notifications: feed, entitlements, navigate: () => undefined, minPollDelay: 20, maxPollDelay: 80, ...extra });

  beforeEach(() => {
    backend = new FakeBackend(TOKEN);
    payments = new FakePayments(backend);
    session = new SessionStore(BACKEND, 'memory');
    session.set(TOKEN);
    client = new BackendClient({ baseUrl: BACKEND, session });
    entitlements = new EntitlementStore(client, session);
    feed = new FakeFeed();
  });
  afterEach(() => entitlements.dispose());

  it('confirms an intent once however often it is asked, and applies the access it bought', async () => {
    payments.intents.set('pi_1', intent({ status: 'requires_confirmation' }));
    const sca = flow();
    const [a, b] = await Promise.all([sca.confirm('pi_1'), sca.confirm('pi_1')]);
    expect(a).to.equal(b);
    expect(a.status).to.equal('succeeded');
    expect(await sca.confirm('pi_1')).to.equal(a);
    expect(backend.sent('/v1/payment-intents/pi_1/confirm', 'POST')).to.have.length(1);
    expect(entitlements.get('report-2026')).to.include({ granted: true, source: 'purchase' });
  });

  it('completes a ?payment_intent= return once and removes it (and the result fragment) from the address bar', async () => {
    const before = location.href;
    payments.intents.set('pi_url', intent({ id: 'pi_url', status: 'requires_confirmation' }));
    history.replaceState(history.state, '', `${location.pathname}?keep=1&payment_intent=pi_url#paywall-type=payment-intent`);
    try {
      const sca = flow();
      const [first, second] = await Promise.all([sca.resumeFromUrl(), sca.resumeFromUrl()]);
      expect(first?.status).to.equal('succeeded');
      expect(second).to.equal(first);
      expect(location.search).to.equal('?keep=1');
      expect(location.hash).to.equal('');
      expect(backend.sent('/v1/payment-intents/pi_url/confirm', 'POST')).to.have.length(1);
    } finally {
      history.replaceState(history.state, '', before);
    }
  });

  it('returns null without a payment_intent in the URL, and sends nothing', async () => {
    expect(await flow().resumeFromUrl()).to.equal(null);
    expect(backend.requests).to.have.length(0);
  });

  it('rejects a return whose confirm fails, with the server code', async () => {
    const before = location.href;
    payments.intents.set('pi_bad', intent({ id: 'pi_bad', status: 'requires_confirmation' }));
    payments.confirmOutcome = 'failed';
    history.replaceState(history.state, '', `${location.pathname}?payment_intent=pi_bad`);
    try {
      const error = await flow().resumeFromUrl().then(() => null, (e) => e);
      expect(error?.code).to.equal('authentication_failed');
      expect(location.search).to.equal('');
    } finally {
      history.replaceState(history.state, '', before);
    }
  });

  it('polls the intent with backoff while the socket is down, until it reaches a final status', async () => {
    feed.connected = false;
    payments.intents.set('pi_poll', intent({ id: 'pi_poll', kind: 'subscription', product: null, plan: 'gold-monthly', subscription: 'sub_1' }));
    const sca = flow();
    const tracked = sca.track('pi_poll');
    await until(() => backend.sent('/v1/payment-intents/pi_poll').length >= 3, 3000, 'three polls');
    payments.intents.get('pi_poll').status = 'succeeded';
    const result = await tracked;
    expect(result.status).to.equal('succeeded');
    const polls = backend.sent('/v1/payment-intents/pi_poll').length;
    await sleep(200);
    expect(backend.sent('/v1/payment-intents/pi_poll'), 'no poll after the final status').to.have.length(polls);
  });

  it('does not poll while the socket is up; an outcome notification makes it look', async () => {
    payments.intents.set('pi_live', intent({ id: 'pi_live' }));
    const sca = flow();
    const tracked = sca.track('pi_live');
    await sleep(200);
    expect(backend.sent('/v1/payment-intents/pi_live'), 'only the first look').to.have.length(1);
    Object.assign(payments.intents.get('pi_live'), { status: 'requires_confirmation' });
    feed.send('payment.card.success', { payment_intent: 'pi_live' });
    const result = await tracked;
    expect(result.status, 'an authenticated one-off payment is confirmed').to.equal('succeeded');
    expect(backend.sent('/v1/payment-intents/pi_live/confirm', 'POST')).to.have.length(1);
  });

  it('hands a pending requires.action to listeners once, and ignores replayed ones already decided', async () => {
    payments.intents.set('pi_a', intent({ id: 'pi_a', redirectToUrl: `${BACKEND}/hosted/3ds?intent=pi_a&sig=x` }));
    payments.intents.set('pi_old', intent({ id: 'pi_old', status: 'succeeded', redirectToUrl: null }));
    const sca = flow();
    const actions: ScaAction[] = [];
    sca.onAction((action) => actions.push(action));
    const resource = (id: string) => ({ redirect_to_url: `${BACKEND}/hosted/3ds?intent=${id}&sig=x`, payment_intent: id, product: 'report-2026', amount: 299, currency: 'EUR' });
    feed.send('payment.card.requires.action', resource('pi_old'));
    feed.send('payment.card.requires.action', resource('pi_a'));
    feed.send('payment.card.requires.action', resource('pi_a'));
    await until(() => actions.length === 1, 3000, 'one action');
    await sleep(100);
    expect(actions).to.have.length(1);
    expect(actions[0]).to.include({ paymentIntent: 'pi_a', kind: 'payment', product: 'report-2026' });
    expect(new URL(actions[0]!.redirectToUrl).pathname).to.equal('/hosted/3ds');
  });

  it('leaves an action to a checkout that shows it in its own window', async () => {
    payments.intents.set('pi_own', intent({ id: 'pi_own' }));
    const sca = flow({ ownWindowOpen: () => true });
    const actions: ScaAction[] = [];
    sca.onAction((action) => actions.push(action));
    feed.send('payment.card.requires.action', { redirect_to_url: `${BACKEND}/hosted/3ds?intent=pi_own`, payment_intent: 'pi_own', product: 'report-2026', amount: 1, currency: 'EUR' });
    await sleep(100);
    expect(actions).to.have.length(0);
  });
});
