import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import pino from 'pino';
import { pingbackParams, pingbackSignature, widgetSignature, type SignVersion } from '../../server/providers/paymentwall/paymentwall-signature';
import { access, notifications, subscriptionsOf, types } from './card-flows';
import { signOffer } from '../../server/domain/offers';
import { databases, idempotencyKey, MERCHANT, OFFER_SECRET, startTestServer, testConfigFile, type TestServer } from './harness';

/**
 * Paymentwall behind the backend: the widget URL a checkout opens, pingbacks (verified by
 * parameters, address and signature) and what each type does to access, subscriptions and the
 * ledger, replays, and Delivery Confirmation against msw.
 */

const PROJECT_KEY = 'c22f895840bf2391f67a40da64bfed26';
const SECRET = 'a7408723eaf4bfa2e3ac49b3cb695046';
const PAYMENTWALL_IP = '174.36.92.186';

function paymentwallConfig(paymentwall: Record<string, unknown> = {}) {
  const base = testConfigFile();
  return {
    catalog: {
      products: [...base.catalog.products, { id: 'pw-report', title: 'PW report', price: 250, currency: 'EUR', validity: 3600, provider: 'paymentwall' }],
      plans: [...base.catalog.plans, { id: 'pw-monthly', title: 'Paymentwall monthly', price: 999, currency: 'EUR', periodUnit: 'month', products: ['article-42'], methods: ['card'], provider: 'paymentwall' }],
    },
    providers: { paymentwall: { projectKey: PROJECT_KEY, deliveryRetryMs: 5, deliveryAttempts: 3, ...paymentwall } },
  };
}

interface DeliveryCall {
  apiKey: string | null;
  fields: URLSearchParams;
}

const mock = setupServer();
let deliveries: DeliveryCall[] = [];
/** Delivery Confirmation that answers `{"success":1}`, or what `answer` says for each call. */
function deliveryApi(answer: (call: DeliveryCall, index: number) => Promise<Response> | Response = () => HttpResponse.json({ success: 1 })) {
  mock.use(http.post('https://api.paymentwall.com/api/delivery', async ({ request }) => {
    const call = { apiKey: request.headers.get('x-apikey'), fields: new URLSearchParams(await request.text()) };
    deliveries.push(call);
    return answer(call, deliveries.length - 1);
  }));
}

async function until(condition: () => boolean, what: string) {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition(), `timed out waiting for ${what}`);
}

before(() => mock.listen({ onUnhandledRequest: 'bypass' }));
afterEach(() => {
  mock.resetHandlers();
  deliveries = [];
});
after(() => mock.close());

/** A signed pingback query, as Paymentwall would send it. */
function signedQuery(fields: Record<string, string>, version: SignVersion = 3): string {
  const params = version === 1 ? fields : { ...fields, sign_version: String(version) };
  return new URLSearchParams({ ...params, sig: pingbackSignature(pingbackParams(new Map(Object.entries(params))), SECRET, version, 'goods') }).toString();
}

for (const database of databases) {
  describe(`Paymentwall on ${database.name}`, { skip: database.name === 'postgres' && !database.url ? 'DATABASE_URL is not set to a PostgreSQL URL' : false }, () => {
    let server: TestServer;
    before(async () => (server = await startTestServer({ db: database.name, config: paymentwallConfig({ trustProxy: true }), env: { PAYMENTWALL_SECRET_KEY: SECRET } })));
    after(() => server?.close());

    const audit = () => server.services.ledger.audit(server.database.db);
    // Behind one trusted proxy (the loopback peer), which appended the address it received from; the entry left of it is the client's own writing.
    const send = (query: string, from = PAYMENTWALL_IP) => server.api(`/callbacks/paymentwall?${query}`, { headers: { 'x-forwarded-for': `203.0.113.7, ${from}` } });
    const pingback = (fields: Record<string, string>, version: SignVersion = 3, from = PAYMENTWALL_IP) => send(signedQuery(fields, version), from);

    /** Starts a card checkout of a Paymentwall plan or product and follows the hosted window to the widget. */
    async function widgetFor(token: string, item: { plan: string } | { product: string }): Promise<URL> {
      const path = 'plan' in item ? '/v1/subscriptions' : '/v1/payments';
      const started = await server.api(path, { token, body: { ...item, ...('plan' in item ? { method: 'card' } : {}), idempotencyKey: idempotencyKey() }, headers: { origin: MERCHANT } });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      const hosted = await fetch(new URL(started.body.checkoutUrl), { redirect: 'manual' });
      assert.equal(hosted.status, 303);
      return new URL(hosted.headers.get('location')!);
    }

    async function subscribed() {
      const reader = await server.signUp();
      const widget = await widgetFor(reader.token, { plan: 'pw-monthly' });
      const checkoutId = widget.searchParams.get('ag_external_id')!;
      const base = { uid: reader.customerId, goodsid: checkoutId, slength: '1', speriod: 'month' };
      return { ...reader, widget, checkoutId, base };
    }

    const ledgerKinds = async (customerId: string) => (await server.database.db.selectFrom('ledger_transactions').select('kind').where('customer_id', '=', customerId).orderBy('id').execute()).map((r) => r.kind);
    const outcomes = async () => (await server.database.db.selectFrom('provider_callbacks').select(['outcome', 'detail']).where('provider', '=', 'paymentwall').orderBy('id').execute()).map((r) => r.outcome);

    test('the widget URL: digital goods with the plan as a subscription, exact amount, our checkout and customer, signed v3', async () => {
      const { widget, checkoutId, customerId } = await subscribed();
      assert.equal(widget.origin + widget.pathname, 'https://api.paymentwall.com/api/subscription');
      const params = Object.fromEntries(widget.searchParams);
      const customer = await server.database.db.selectFrom('customers').select('email').where('id', '=', customerId).executeTakeFirstOrThrow();
      const { sign, ...signed } = params;
      assert.deepEqual(signed, {
        key: PROJECT_KEY, uid: customerId, widget: 'pw', amount: '9.99', currencyCode: 'EUR', ag_name: 'Paymentwall monthly', ag_external_id: checkoutId,
        ag_type: 'subscription', ag_period_length: '1', ag_period_type: 'month', ag_recurring: '1',
        success_url: `${server.url}/hosted/providers/paymentwall/return?checkout=${checkoutId}&result=success&lang=en`,
        failure_url: `${server.url}/hosted/providers/paymentwall/return?checkout=${checkoutId}&result=decline&lang=en`,
        ps: 'all', email: customer.email, lang: 'en', timestamp: String(Date.parse('2026-03-01T10:00:00.000Z') / 1000), sign_version: '3',
      });
      assert.equal(sign, widgetSignature(signed, SECRET, 3));
      assert.match(sign!, /^[0-9a-f]{64}$/);
    });

    test('a one-off product is a fixed digital good without period parameters', async () => {
      const { token } = await server.signUp();
      const widget = await widgetFor(token, { product: 'pw-report' });
      assert.deepEqual([widget.searchParams.get('amount'), widget.searchParams.get('ag_type'), widget.searchParams.get('ag_name')], ['2.50', 'fixed', 'PW report']);
      for (const name of ['ag_period_length', 'ag_period_type', 'ag_recurring']) assert.equal(widget.searchParams.has(name), false, name);
    });

    test('type 0: access to the plan, an active subscription, one payment booked, order_placed then delivered; a replay changes nothing', async () => {
      deliveryApi();
      const { token, customerId, checkoutId, base } = await subscribed();
      const first = await pingback({ ...base, type: '0', ref: 'b100', is_test: '1' });
      assert.deepEqual([first.status, first.body], [200, 'OK']);
      const end = '2026-04-01T10:00:00.000Z';
      assert.deepEqual(await access(server, token, ['article-42', 'article-43']), { 'article-42': end, 'article-43': null });
      const [sub] = await subscriptionsOf(server, token);
      assert.deepEqual([sub.plan, sub.status, sub.currentPeriodEnd], ['pw-monthly', 'active', end]);
      assert.deepEqual(await ledgerKinds(customerId), ['start_credit', 'provider_payment']);
      assert.ok(types(await notifications(server, customerId)).includes('subscribe.success'));

      await until(() => deliveries.length === 2, 'two delivery confirmations');
      assert.deepEqual(deliveries.map((d) => d.fields.get('status')), ['order_placed', 'delivered']);
      for (const call of deliveries) {
        assert.equal(call.apiKey, SECRET);
        assert.deepEqual(
          ['payment_id', 'merchant_reference_id', 'type', 'is_test', 'shipping_address[email]'].map((name) => call.fields.get(name)),
          ['b100', checkoutId, 'digital', '1', (await server.database.db.selectFrom('customers').select('email').where('id', '=', customerId).executeTakeFirstOrThrow()).email],
        );
        assert.equal(call.fields.get('estimated_delivery_datetime'), '2026/03/01 10:00:00 +0000');
      }

      const replay = await pingback({ ...base, type: '0', ref: 'b100', is_test: '1' });
      assert.deepEqual([replay.status, replay.body], [200, 'OK']);
      assert.deepEqual(await ledgerKinds(customerId), ['start_credit', 'provider_payment']);
      assert.equal((await subscriptionsOf(server, token)).length, 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(deliveries.length, 2, 'a replay confirms nothing again');
      assert.deepEqual((await outcomes()).slice(-2), ['applied', 'duplicate']);
      assert.deepEqual(await audit(), []);
    });

    test('a later type 0 renews (v2 signature), 12 cancels to the period end (v1 signature), 2 with reason 9 refunds and revokes', async () => {
      deliveryApi();
      const { token, customerId, base } = await subscribed();
      assert.equal((await pingback({ ...base, type: '0', ref: 'b200' })).body, 'OK');
      server.clock.advance(31 * 24 * 3600 * 1000);
      assert.equal((await pingback({ ...base, type: '0', ref: 'b201' }, 2)).body, 'OK');
      const renewed = '2026-05-01T10:00:00.000Z';
      assert.deepEqual(await access(server, token, ['article-42']), { 'article-42': renewed });
      assert.deepEqual(await ledgerKinds(customerId), ['start_credit', 'provider_payment', 'provider_payment']);

      const canceled = await pingback({ ...base, type: '12', ref: 'b201' }, 1);
      assert.deepEqual([canceled.status, canceled.body], [200, 'OK']);
      const [sub] = await subscriptionsOf(server, token);
      assert.deepEqual([sub.status, sub.cancelAtPeriodEnd], ['canceled', true]);
      assert.deepEqual(await access(server, token, ['article-42']), { 'article-42': renewed }, 'kept to the end of the paid period');

      const refunded = await pingback({ ...base, slength: '-1', type: '2', ref: 'b200', reason: '9' });
      assert.deepEqual([refunded.status, refunded.body], [200, 'OK']);
      assert.deepEqual(await access(server, token, ['article-42']), { 'article-42': null });
      assert.deepEqual(await ledgerKinds(customerId), ['start_credit', 'provider_payment', 'provider_payment', 'provider_refund']);
      const sale = await server.database.db.selectFrom('provider_sales').select(['status']).where('sale_id', '=', 'b200').executeTakeFirstOrThrow();
      assert.equal(sale.status, 'refunded');
      const reference = await server.database.db.selectFrom('ledger_transactions').select('reference').where('customer_id', '=', customerId).where('kind', '=', 'provider_refund').executeTakeFirstOrThrow();
      assert.match(reference.reference ?? '', /reason 9 \(cancelled order\)/);
      assert.ok(types(await notifications(server, customerId)).includes('access.revoked'));
      assert.deepEqual(await audit(), []);
    });

    test('type 2 with a chargeback reason books a chargeback; 13 expires; 14 fails the renewal', async () => {
      deliveryApi();
      const charged = await subscribed();
      await pingback({ ...charged.base, type: '0', ref: 'b300' });
      assert.equal((await pingback({ ...charged.base, type: '2', ref: 'b300', reason: '2' })).body, 'OK');
      assert.deepEqual(await ledgerKinds(charged.customerId), ['start_credit', 'provider_payment', 'chargeback']);
      assert.deepEqual(await access(server, charged.token, ['article-42']), { 'article-42': null });

      const expiring = await subscribed();
      await pingback({ ...expiring.base, type: '0', ref: 'b301' });
      assert.equal((await pingback({ ...expiring.base, type: '13', ref: 'b301' })).body, 'OK');
      assert.equal((await subscriptionsOf(server, expiring.token))[0].status, 'expired');
      assert.deepEqual(await access(server, expiring.token, ['article-42']), { 'article-42': null });

      const failing = await subscribed();
      await pingback({ ...failing.base, type: '0', ref: 'b302' });
      assert.equal((await pingback({ ...failing.base, type: '14', ref: 'b302' })).body, 'OK');
      assert.equal((await subscriptionsOf(server, failing.token))[0].status, 'failed');
      assert.deepEqual(await access(server, failing.token, ['article-42']), { 'article-42': null });
      assert.ok(types(await notifications(server, failing.customerId)).includes('subscribe.failed'));
      assert.deepEqual(await audit(), []);
    });

    test('type 1 (goodwill credit, from 216.127.71.25) delivers a one-off product for its validity', async () => {
      deliveryApi();
      const { token, customerId } = await server.signUp();
      const widget = await widgetFor(token, { product: 'pw-report' });
      const res = await pingback({ uid: customerId, goodsid: widget.searchParams.get('ag_external_id')!, slength: '', speriod: '', type: '1', ref: 'b400' }, 3, '216.127.71.25');
      assert.deepEqual([res.status, res.body], [200, 'OK']);
      assert.deepEqual(await access(server, token, ['pw-report']), { 'pw-report': new Date(server.clock.now().getTime() + 3600_000).toISOString() });
      assert.deepEqual(await ledgerKinds(customerId), ['start_credit', 'provider_payment']);
    });

    test('a one-off paid twice (two refs): the second is booked as its own sale; a refund of it reverses it and keeps the access', async () => {
      deliveryApi();
      const { token, customerId } = await server.signUp();
      const widget = await widgetFor(token, { product: 'pw-report' });
      const base = { uid: customerId, goodsid: widget.searchParams.get('ag_external_id')!, slength: '', speriod: '' };
      assert.equal((await pingback({ ...base, type: '0', ref: 'b450' })).body, 'OK');
      const until = (await access(server, token, ['pw-report']))['pw-report'];
      assert.equal((await pingback({ ...base, type: '0', ref: 'b451' })).body, 'OK');
      assert.deepEqual(await ledgerKinds(customerId), ['start_credit', 'provider_payment', 'provider_payment']);
      assert.equal((await pingback({ ...base, type: '2', ref: 'b451', reason: '9' })).body, 'OK');
      assert.deepEqual((await outcomes()).slice(-1), ['applied']);
      assert.deepEqual(await ledgerKinds(customerId), ['start_credit', 'provider_payment', 'provider_payment', 'provider_refund']);
      const sales = await server.database.db.selectFrom('provider_sales').select(['sale_id', 'status']).where('customer_id', '=', customerId).orderBy('sale_id').execute();
      assert.deepEqual(sales, [{ sale_id: 'b450', status: 'paid' }, { sale_id: 'b451', status: 'refunded' }]);
      assert.deepEqual(await access(server, token, ['pw-report']), { 'pw-report': until });
      assert.deepEqual(await audit(), []);
    });

    test('a signed offer in a currency without two decimals (JPY, KWD): 400 currency_unsupported and no checkout written', async () => {
      const { token, customerId } = await server.signUp();
      const offer = (currency: string) => signOffer(OFFER_SECRET, { product: 'pw-report', title: 'Report', price: 250, currency, validity: 3600, expiresAt: Math.floor(server.clock.now().getTime() / 1000) + 600 });
      for (const currency of ['JPY', 'KWD']) {
        const refused = await server.api('/v1/payments', { token, body: { offer: offer(currency), idempotencyKey: idempotencyKey() }, headers: { origin: MERCHANT } });
        assert.deepEqual([refused.status, refused.body.error.code], [400, 'currency_unsupported'], currency);
      }
      assert.equal((await server.database.db.selectFrom('checkouts').select('id').where('customer_id', '=', customerId).execute()).length, 0);
      const taken = await server.api('/v1/payments', { token, body: { offer: offer('USD'), idempotencyKey: idempotencyKey() }, headers: { origin: MERCHANT } });
      assert.deepEqual([taken.status, taken.body.status], [200, 'requires_payment_method']);
    });

    test('refused pingbacks change nothing and are recorded rejected: missing parameters, address, signature, someone else\'s checkout', async () => {
      const { token, customerId, base } = await subscribed();
      const other = await server.signUp();
      const before = (await outcomes()).length;

      const missing = await send(signedQuery({ uid: customerId, type: '0', ref: 'b500' }));
      assert.deepEqual([missing.status, missing.body], [400, 'Missing parameters: goodsid']);
      const outside = await pingback({ ...base, type: '0', ref: 'b500' }, 3, '1.2.3.4');
      assert.deepEqual([outside.status, outside.body], [403, 'IP address not allowed']);
      const forged = await send(signedQuery({ ...base, type: '0', ref: 'b500' }).replace(/sig=([0-9a-f]+)/, 'sig=$1foo'));
      assert.deepEqual([forged.status, forged.body], [403, 'Invalid signature']);
      const altered = await send(signedQuery({ ...base, type: '0', ref: 'b500' }).replace('ref=b500', 'ref=b501'));
      assert.deepEqual([altered.status, altered.body], [403, 'Invalid signature']);
      const stranger = await pingback({ ...base, uid: other.customerId, type: '0', ref: 'b500' });
      assert.equal(stranger.status, 400);
      const unknown = await pingback({ ...base, goodsid: 'chk_unknown', type: '0', ref: 'b500' });
      assert.deepEqual([unknown.status, unknown.body], [500, 'ERROR'], 'verified but unknown: Paymentwall resends it');
      const badVersion = await send(new URLSearchParams({ ...base, type: '0', ref: 'b500', sign_version: '7', sig: 'x' }).toString());
      assert.equal(badVersion.status, 400);

      assert.deepEqual((await outcomes()).slice(before), ['rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected']);
      assert.deepEqual(await access(server, token, ['article-42']), { 'article-42': null });
      assert.deepEqual(await ledgerKinds(customerId), ['start_credit']);
      assert.equal((await subscriptionsOf(server, token))[0]?.status === 'active', false);
      assert.deepEqual(await audit(), []);
    });

    test('delivery confirmation is retried after a 500 and never delays the pingback answer', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      deliveryApi(async (_call, index) => {
        if (index > 0) return HttpResponse.json({ success: 1 });
        await gate;
        return new HttpResponse('down', { status: 500 });
      });
      const { base, token } = await subscribed();
      const answer = await pingback({ ...base, type: '0', ref: 'b600' });
      assert.deepEqual([answer.status, answer.body], [200, 'OK']);
      assert.notEqual((await access(server, token, ['article-42']))['article-42'], null);
      await until(() => deliveries.length === 1, 'the first delivery call');
      assert.equal(deliveries.length, 1, 'answered while the delivery API has not responded');
      release();
      await until(() => deliveries.length === 3, 'the retry and delivered');
      assert.deepEqual(deliveries.map((d) => d.fields.get('status')), ['order_placed', 'order_placed', 'delivered']);
    });

    test('cancelSubscription opens a recurring-billing cancellation ticket', async () => {
      deliveryApi();
      const { token, base } = await subscribed();
      await pingback({ ...base, type: '0', ref: 'b700' });
      const tickets: URLSearchParams[] = [];
      mock.use(
        http.post('https://api.paymentwall.com/developers/api/ticket', async ({ request }) => {
          tickets.push(new URLSearchParams(await request.text()));
          return HttpResponse.json({ result: 1 });
        }),
      );
      const adapter = server.services.providers.get('paymentwall')!;
      const sub = await server.database.db.selectFrom('subscriptions').selectAll().where('id', '=', (await subscriptionsOf(server, token))[0].id).executeTakeFirstOrThrow();
      assert.deepEqual(await adapter.cancelSubscription(sub), { kind: 'canceled' });
      const ticket = Object.fromEntries(tickets[0]!);
      assert.deepEqual([ticket.key, ticket.ref, ticket.type, ticket.sign_version], [PROJECT_KEY, 'b700', '2', '3']);
      const { sign, ...signed } = ticket;
      assert.equal(sign, widgetSignature(signed, SECRET, 3));
    });

    test('DELETE /v1/subscriptions: cancels at Paymentwall first; when Paymentwall refuses, 502 provider_unavailable and nothing changes', async () => {
      deliveryApi();
      const { token, base } = await subscribed();
      await pingback({ ...base, type: '0', ref: 'b710' });
      const [sub] = await subscriptionsOf(server, token);
      let answer: Response = HttpResponse.json({ result: 0, error: 'temporarily unavailable' }, { status: 500 });
      mock.use(http.post('https://api.paymentwall.com/developers/api/ticket', () => answer.clone()));
      const refused = await server.api(`/v1/subscriptions/${sub.id}`, { token, method: 'DELETE' });
      assert.deepEqual([refused.status, refused.body.error.code], [502, 'provider_unavailable']);
      assert.equal((await subscriptionsOf(server, token))[0].status, 'active');
      answer = HttpResponse.json({ result: 1 });
      const canceled = await server.api(`/v1/subscriptions/${sub.id}`, { token, method: 'DELETE' });
      assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
      assert.equal((await subscriptionsOf(server, token))[0].status, 'canceled');
    });
  });
}

describe('Paymentwall pingback address: the socket, X-Forwarded-For only behind a trusted proxy', () => {
  let server: TestServer;
  after(() => server?.close());

  test('without trustProxy an allowed X-Forwarded-For is ignored; an allowlisted socket address is honoured', async () => {
    server = await startTestServer({ config: paymentwallConfig(), env: { PAYMENTWALL_SECRET_KEY: SECRET } });
    const query = signedQuery({ uid: 'cus_x', goodsid: 'chk_x', type: '0', ref: 'b800' });
    const forwarded = await server.api(`/callbacks/paymentwall?${query}`, { headers: { 'x-forwarded-for': PAYMENTWALL_IP } });
    assert.deepEqual([forwarded.status, forwarded.body], [403, 'IP address not allowed']);
    await server.close();

    server = await startTestServer({ config: paymentwallConfig({ ipAllowlist: ['127.0.0.1'] }), env: { PAYMENTWALL_SECRET_KEY: SECRET } });
    const direct = await server.api(`/callbacks/paymentwall?${query}`);
    assert.deepEqual([direct.status, direct.body], [500, 'ERROR'], 'past the address and the signature, to the unknown checkout');
  });

  test('behind trusted proxies the address is the one the proxies appended, never an entry the client wrote', async () => {
    await server?.close();
    const query = signedQuery({ uid: 'cus_x', goodsid: 'chk_x', type: '0', ref: 'b801' });
    server = await startTestServer({ config: paymentwallConfig({ trustProxy: true }), env: { PAYMENTWALL_SECRET_KEY: SECRET } });
    const spoofed = await server.api(`/callbacks/paymentwall?${query}`, { headers: { 'x-forwarded-for': '216.127.71.9, 127.0.0.1' } });
    assert.deepEqual([spoofed.status, spoofed.body], [403, 'IP address not allowed'], 'the first entry is the client\'s own');
    const appended = await server.api(`/callbacks/paymentwall?${query}`, { headers: { 'x-forwarded-for': `127.0.0.1, ${PAYMENTWALL_IP}` } });
    assert.deepEqual([appended.status, appended.body], [500, 'ERROR'], 'the last entry is what the proxy saw');
    await server.close();

    server = await startTestServer({ config: { ...paymentwallConfig(), trustProxy: 2 }, env: { PAYMENTWALL_SECRET_KEY: SECRET } });
    const twoHops = await server.api(`/callbacks/paymentwall?${query}`, { headers: { 'x-forwarded-for': `216.127.71.9, ${PAYMENTWALL_IP}, 10.1.2.3` } });
    assert.deepEqual([twoHops.status, twoHops.body], [500, 'ERROR'], 'two hops: the second entry from the right');
    const shortChain = await server.api(`/callbacks/paymentwall?${query}`, { headers: { 'x-forwarded-for': PAYMENTWALL_IP } });
    assert.deepEqual([shortChain.status, shortChain.body], [403, 'IP address not allowed'], 'fewer entries than hops: only the peer is known');
  });
});

describe('Paymentwall with sign_version 2 and a delivery API that stays down', () => {
  let server: TestServer;
  const lines: string[] = [];
  before(async () => {
    server = await startTestServer({
      config: paymentwallConfig({ signVersion: 2, ipAllowlist: ['127.0.0.1'], deliveryAttempts: 2 }),
      env: { PAYMENTWALL_SECRET_KEY: SECRET },
      logger: pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }),
    });
  });
  after(() => server?.close());

  test('the widget is signed v2 (md5); failed confirmations are given up after the set attempts and logged without the key', async () => {
    deliveryApi(() => new HttpResponse('down', { status: 503 }));
    const { token, customerId } = await server.signUp();
    const started = await server.api('/v1/subscriptions', { token, body: { plan: 'pw-monthly', method: 'card', idempotencyKey: idempotencyKey() }, headers: { origin: MERCHANT } });
    const widget = new URL((await fetch(new URL(started.body.checkoutUrl), { redirect: 'manual' })).headers.get('location')!);
    const { sign, ...signed } = Object.fromEntries(widget.searchParams);
    assert.equal(signed.sign_version, '2');
    assert.equal(sign, widgetSignature(signed, SECRET, 2));
    assert.match(sign!, /^[0-9a-f]{32}$/);

    const answer = await server.api(`/callbacks/paymentwall?${signedQuery({ uid: customerId, goodsid: signed.ag_external_id!, slength: '1', speriod: 'month', type: '0', ref: 'b900' })}`);
    assert.deepEqual([answer.status, answer.body], [200, 'OK']);
    await until(() => lines.filter((line) => line.includes('delivery confirmation failed')).length === 2, 'two failure logs');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(deliveries.length, 2, 'order_placed twice, then given up: delivered is not sent before order_placed');
    assert.ok(lines.every((line) => !line.includes(SECRET)), 'the secret key is never logged');
    assert.match(lines.find((line) => line.includes('delivery confirmation failed'))!, /HTTP 503/);
  });
});
