import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { setupServer } from 'msw/node';
import * as z from 'zod/mini';
import { StartWalletConnectionResponse, WalletConnectionsResponse } from '../../src/protocol';
import { PayoutResponse } from '../../server/providers/milkipay/payout-request';
import { createLogger } from '../../server/server';
import { FakeMilkipay, MILKIPAY_CLIENT_ID, MILKIPAY_CLIENT_TOKEN } from '../fakes/milkipay-fake';
import { alertText, completion, hostedGet } from './card-flows';
import { databases, MERCHANT, startTestServer, type TestServer } from './harness';

const API = 'https://api.milkipay.test';
const OAUTH = 'https://oauth.milkipay.test';
const ADMIN_KEY = 'admin-key-0123456789abcdef0123456789abcdef';
const MILKIPAY_CONFIG = { providers: { milkipay: { clientId: MILKIPAY_CLIENT_ID, oauthUrl: OAUTH, baseUrl: API } } };
const ENV = { MILKIPAY_CLIENT_TOKEN, PAYWALL_ADMIN_API_KEY: ADMIN_KEY };

const fake = new FakeMilkipay(API);
const msw = setupServer(...fake.handlers());
before(() => msw.listen({ onUnhandledRequest: 'bypass' }));
after(() => msw.close());

/** The connect flow as the hosted window walks it; returns the callback page. */
async function connect(server: TestServer, token: string, code?: string) {
  const started = await server.api('/v1/wallet-connections/milkipay', { method: 'POST', token, headers: { origin: MERCHANT } });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const { authorizeUrl } = z.parse(StartWalletConnectionResponse, started.body);
  assert.equal(new URL(authorizeUrl).origin, server.url, 'the kit only ever sees a backend link');
  assert.doesNotMatch(authorizeUrl, new RegExp(MILKIPAY_CLIENT_TOKEN));
  const opened = await fetch(authorizeUrl + '&lang=de', { redirect: 'manual' });
  assert.equal(opened.status, 303);
  const authorize = new URL(opened.headers.get('location')!);
  const cookie = opened.headers.get('set-cookie')!.split(';')[0]!;
  const state = authorize.searchParams.get('state')!;
  const callback = new URL('/hosted/milkipay/callback', server.url);
  callback.searchParams.set('state', state);
  if (code !== undefined) callback.searchParams.set('code', code);
  return { authorize, cookie, state, callback, page: await hostedGet(server, callback.href, { cookie }) };
}

const connections = async (server: TestServer, token: string) => {
  const response = await server.api('/v1/wallet-connections', { token });
  assert.equal(response.status, 200);
  return z.parse(WalletConnectionsResponse, response.body).connections;
};

for (const database of databases) {
  describe(`Milkipay wallet connection and payouts on ${database.name}`, { skip: database.name === 'postgres' && !database.url ? 'DATABASE_URL is not set to a PostgreSQL URL' : false }, () => {
    let server: TestServer;
    before(async () => (server = await startTestServer({ db: database.name, config: MILKIPAY_CONFIG, env: ENV })));
    after(() => server?.close());
    afterEach(() => {
      fake.calls.length = 0;
      fake.account = { status: 'active' };
      fake.payoutRefusal = null;
      fake.payoutDelayMs = 0;
    });

    const payout = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${ADMIN_KEY}` }) => server.api('/v1/admin/payouts', { body, headers });
    const payoutRows = () => server.database.db.selectFrom('payouts').selectAll().execute();
    let txCounter = 0;
    const newTx = () => `tx-${database.name}-${++txCounter}`;

    /** A reader with a connected wallet. */
    async function connectedReader() {
      const reader = await server.signUp();
      const { code, processorToken } = fake.issueCode();
      const { page } = await connect(server, reader.token, code);
      assert.equal(completion(page.text)?.message.type, 'wallet-connected');
      fake.calls.length = 0;
      return { ...reader, processorToken };
    }

    test('connect: the authorize URL carries the client credentials; the code is exchanged with Bearer <code>; the token is stored sealed; the reader is told', async () => {
      const reader = await server.signUp();
      assert.deepEqual(await connections(server, reader.token), [{ provider: 'milkipay', status: 'not_connected' }]);
      const { code, processorToken } = fake.issueCode();
      const { authorize, page } = await connect(server, reader.token, code);

      assert.equal(authorize.origin + authorize.pathname, `${OAUTH}/clients/authorize`);
      assert.equal(authorize.searchParams.get('client_id'), MILKIPAY_CLIENT_ID);
      assert.equal(authorize.searchParams.get('client_token'), MILKIPAY_CLIENT_TOKEN);
      assert.equal(authorize.searchParams.get('redirect_uri'), `${server.url}/hosted/milkipay/callback`);

      assert.equal(page.status, 200);
      const done = completion(page.text)!;
      assert.deepEqual(done.message, { source: 'paywall-kit', type: 'wallet-connected' });
      assert.equal(done.targetOrigin, MERCHANT);
      assert.match(page.text, /<html lang="de">/);
      assert.match(page.text, /Milkipay-Wallet ist verbunden/);

      assert.deepEqual(fake.callsTo('/api/clients/processor-token').map((c) => c.authorization), [`Bearer ${code}`]);
      assert.deepEqual(fake.callsTo('/api/clients/status-user').map((c) => c.authorization), [`Bearer ${processorToken}`]);

      const rows = await server.database.db.selectFrom('customer_provider_tokens').selectAll().where('customer_id', '=', reader.customerId).execute();
      assert.equal(rows.length, 1);
      assert.deepEqual([rows[0]!.provider, rows[0]!.kind], ['milkipay', 'processor']);
      assert.ok(!JSON.stringify(rows).includes(processorToken), 'the processor token is not stored in the clear');
      assert.equal(await server.services.providerTokens.read(server.database.db, { customerId: reader.customerId, provider: 'milkipay', kind: 'processor' }), processorToken);

      const [connection] = await connections(server, reader.token);
      assert.equal(connection!.status, 'connected');
    });

    test('connect: a forged or foreign state, a missing nonce cookie, an expired link — refused, nothing exchanged', async () => {
      const reader = await server.signUp();
      const { code } = fake.issueCode();
      const flow = await connect(server, reader.token);
      fake.calls.length = 0;
      const withState = (state: string) => {
        const url = new URL(flow.callback);
        url.searchParams.set('state', state);
        url.searchParams.set('code', code);
        return url.href;
      };
      const forged = await hostedGet(server, withState(flow.state.slice(0, -4) + 'AAAA'), { cookie: flow.cookie });
      assert.equal(forged.status, 400);
      const noCookie = await hostedGet(server, withState(flow.state));
      assert.equal(noCookie.status, 400);
      const otherBrowser = await hostedGet(server, withState(flow.state), { cookie: 'paywall_milkipay_nonce=someone-else' });
      assert.equal(otherBrowser.status, 400);
      assert.equal(completion(forged.text), null, 'an error page reports nothing to the opener');
      assert.equal(fake.calls.length, 0);

      const started = await server.api('/v1/wallet-connections/milkipay', { method: 'POST', token: reader.token });
      server.clock.advance(6 * 60_000);
      const stale = await hostedGet(server, started.body.authorizeUrl);
      assert.equal(stale.status, 400);
      assert.ok(alertText(stale.text));
      server.clock.advance(-6 * 60_000);
      assert.deepEqual(await connections(server, reader.token), [{ provider: 'milkipay', status: 'not_connected' }]);
    });

    test('connect: signed out is refused; a declined authorization reports wallet-connect-failed', async () => {
      const anonymous = await server.api('/v1/wallet-connections/milkipay', { method: 'POST' });
      assert.deepEqual([anonymous.status, anonymous.body.error.code], [401, 'unauthenticated']);
      const reader = await server.signUp();
      const { page } = await connect(server, reader.token);
      assert.deepEqual(completion(page.text)!.message, { source: 'paywall-kit', type: 'wallet-connect-failed', code: 'wallet_connect_declined', message: 'Das Milkipay-Wallet wurde nicht verbunden.' });
      assert.equal(fake.calls.length, 0);
    });

    test('status-user: a locked account (CAI-100-04) shows as an error with account_locked', async () => {
      const reader = await server.signUp();
      fake.account = { refusal: 'CAI-100-04' };
      const { page } = await connect(server, reader.token, fake.issueCode().code);
      const { message } = completion(page.text)!;
      assert.equal(message.type, 'wallet-connect-failed');
      assert.equal(message.code, 'account_locked');
      const [connection] = await connections(server, reader.token);
      assert.equal(connection!.status, 'error');
      assert.deepEqual([connection!.error!.code, connection!.error!.providerCode], ['account_locked', 'CAI-100-04']);
    });

    test('status-user: an account that is not active is an error', async () => {
      const reader = await server.signUp();
      fake.account = { status: 'suspended' };
      await connect(server, reader.token, fake.issueCode().code);
      const [connection] = await connections(server, reader.token);
      assert.deepEqual([connection!.status, connection!.error!.code], ['error', 'milkipay_account_error']);
      assert.match(connection!.error!.message, /suspended/);
    });

    test('payout: forwarded with the processor token; a replay answers the first result without calling Milkipay again', async () => {
      const reader = await connectedReader();
      const body = { customer: reader.customerId, amount: 1250, currency: 'EUR', transactionId: newTx() };
      const first = await payout(body);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const { payout: paid } = z.parse(PayoutResponse, first.body);
      assert.deepEqual([paid.transactionId, paid.customer, paid.amount, paid.currency, paid.status], [body.transactionId, reader.customerId, 1250, 'EUR', 'completed']);
      const calls = fake.callsTo('/api/clients/payout');
      assert.deepEqual(calls.map((c) => [c.authorization, c.body]), [[`Bearer ${reader.processorToken}`, { amount: 1250, currency: 'EUR', transactionId: body.transactionId }]]);

      const again = await payout(body);
      assert.deepEqual([again.status, again.body], [200, first.body]);
      assert.equal(fake.callsTo('/api/clients/payout').length, 1, 'Milkipay is called once');

      const conflict = await payout({ ...body, amount: 1251 });
      assert.deepEqual([conflict.status, conflict.body.error.code], [409, 'idempotency_conflict']);
      assert.equal(fake.callsTo('/api/clients/payout').length, 1);
      const rows = (await payoutRows()).filter((row) => row.transaction_id === body.transactionId);
      assert.deepEqual(rows.map((row) => [row.status, Number(row.amount)]), [['succeeded', 1250]]);
      const hex = createHash('sha256').update(JSON.stringify([body.customer, body.amount, body.currency])).digest('hex');
      assert.equal(rows[0]!.request_hash, hex, 'stored as hex, as every payout before: a retry across an upgrade still matches');
    });

    const refusals: Array<[string, string, number]> = [
      ['CAI-200-05', 'merchant_balance_too_low', 402],
      ['CAI-100-04', 'account_locked', 423],
      // Codes nobody documented: mapped by their group, the raw code kept.
      ['CAI-100-99', 'milkipay_account_error', 422],
      ['CAI-200-77', 'milkipay_payment_error', 402],
      ['CAI-900-01', 'milkipay_error', 502],
    ];
    for (const [cai, code, status] of refusals) {
      test(`payout refused with ${cai} → ${status} ${code}, raw code kept, replayed as is`, async () => {
        const reader = await connectedReader();
        fake.payoutRefusal = cai;
        const body = { customer: reader.customerId, amount: 500, currency: 'EUR', transactionId: newTx() };
        const refused = await payout(body);
        assert.deepEqual([refused.status, refused.body.error.code, refused.body.error.providerCode], [status, code, cai]);
        assert.match(refused.body.error.message, new RegExp(cai));
        const [connection] = await connections(server, reader.token);
        if (cai.startsWith('CAI-100-')) assert.deepEqual([connection!.status, connection!.error!.code, connection!.error!.providerCode], ['error', code, cai], "an account problem shows on the reader's connection");
        else assert.equal(connection!.status, 'connected');
        fake.payoutRefusal = null;
        const replay = await payout(body);
        assert.deepEqual([replay.status, replay.body], [status, refused.body]);
        assert.equal(fake.callsTo('/api/clients/payout').length, 1);
      });
    }

    test('payout: two requests with one transactionId at once pay once; the second is told it is in progress', async () => {
      const reader = await connectedReader();
      fake.payoutDelayMs = 300;
      const body = { customer: reader.customerId, amount: 800, currency: 'EUR', transactionId: newTx() };
      const answers = await Promise.all([payout(body), payout(body)]);
      const outcomes = answers.map((a) => (a.status === 200 ? '200' : `${a.status} ${a.body.error.code}`)).sort();
      assert.deepEqual(outcomes, ['200', '409 payout_in_progress']);
      assert.equal(fake.callsTo('/api/clients/payout').length, 1);
      assert.equal((await payout(body)).status, 200);
      assert.equal(fake.callsTo('/api/clients/payout').length, 1);
    });

    test('payout: Milkipay unavailable → 502, nothing kept, so a retry asks again', async () => {
      const reader = await connectedReader();
      fake.payoutRefusal = 'unavailable';
      const body = { customer: reader.customerId, amount: 300, currency: 'EUR', transactionId: newTx() };
      const down = await payout(body);
      assert.deepEqual([down.status, down.body.error.code], [502, 'milkipay_unavailable']);
      assert.equal((await payoutRows()).some((row) => row.transaction_id === body.transactionId), false);
      fake.payoutRefusal = null;
      assert.equal((await payout(body)).status, 200);
      assert.equal(fake.callsTo('/api/clients/payout').length, 2);
    });

    test('payout: admin key missing or wrong → 401, a browser origin → 403, a bad body → 400; nothing written, Milkipay not called', async () => {
      const reader = await connectedReader();
      const body = { customer: reader.customerId, amount: 100, currency: 'EUR', transactionId: newTx() };
      const before = (await payoutRows()).length;
      const missing = await payout(body, {});
      assert.deepEqual([missing.status, missing.body.error.code], [401, 'unauthenticated']);
      const wrong = await payout(body, { authorization: `Bearer ${ADMIN_KEY.slice(0, -1)}x` });
      assert.deepEqual([wrong.status, wrong.body.error.code], [401, 'unauthenticated']);
      const session = await payout(body, { authorization: `Bearer ${reader.token}` });
      assert.equal(session.status, 401, "a reader's session is not the admin key");
      const browser = await payout(body, { authorization: `Bearer ${ADMIN_KEY}`, origin: MERCHANT });
      assert.deepEqual([browser.status, browser.body.error.code], [403, 'forbidden_origin']);
      assert.equal(browser.headers.get('access-control-allow-origin'), null);
      for (const bad of [
        { ...body, amount: 0 },
        { ...body, amount: 12.5 },
        { ...body, amount: '100' },
        { ...body, currency: 'eur' },
        { ...body, transactionId: '' },
        { ...body, customer: 'someone' },
        { ...body, extra: true },
      ]) {
        const response = await payout(bad);
        assert.deepEqual([response.status, response.body.error.code], [400, 'validation_failed'], JSON.stringify(bad));
      }
      const notConnected = await payout({ ...body, customer: (await server.signUp()).customerId });
      assert.deepEqual([notConnected.status, notConnected.body.error.code], [409, 'wallet_not_connected']);
      assert.equal((await payoutRows()).length, before);
      assert.equal(fake.callsTo('/api/clients/payout').length, 0);
    });

    test('admin paths without a route answer 404 not_found, not as the reader API', async () => {
      const headers = { authorization: `Bearer ${ADMIN_KEY}` };
      for (const [method, path] of [['GET', '/v1/admin/payouts'], ['POST', '/v1/admin/refunds']] as const) {
        const response = await server.api(path, { method, headers, ...(method === 'POST' ? { body: {} } : {}) });
        assert.deepEqual([response.status, response.body.error.code], [404, 'not_found'], `${method} ${path}`);
      }
    });

    test('payout: a CORS preflight from a merchant page is not allowed', async () => {
      const preflight = await fetch(`${server.url}/v1/admin/payouts`, {
        method: 'OPTIONS',
        headers: { origin: MERCHANT, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      assert.equal(preflight.headers.get('access-control-allow-origin'), null);
      const readerApi = await fetch(`${server.url}/v1/wallet-connections`, { method: 'OPTIONS', headers: { origin: MERCHANT, 'access-control-request-method': 'GET' } });
      assert.equal(readerApi.headers.get('access-control-allow-origin'), MERCHANT, 'the reader API stays open to the merchant page');
    });
  });
}

describe('admin API without a key configured', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer({ config: MILKIPAY_CONFIG, env: { MILKIPAY_CLIENT_TOKEN } })));
  after(() => server?.close());

  test('POST /v1/admin/payouts → 503 admin_api_disabled', async () => {
    const response = await server.api('/v1/admin/payouts', { body: { customer: 'x' }, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    assert.deepEqual([response.status, response.body.error.code], [503, 'admin_api_disabled']);
  });
});

describe('Milkipay not configured', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server?.close());

  test('no wallet connections are offered and none can be started', async () => {
    const reader = await server.signUp();
    assert.deepEqual(await connections(server, reader.token), []);
    const start = await server.api('/v1/wallet-connections/milkipay', { method: 'POST', token: reader.token });
    assert.deepEqual([start.status, start.body.error.code], [404, 'not_found']);
  });
});

describe('Milkipay secrets stay out of the logs', () => {
  let server: TestServer;
  let logged = '';
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => void ((logged += chunk.toString('utf8')), done()) });
  before(async () => (server = await startTestServer({ config: MILKIPAY_CONFIG, env: ENV, logger: createLogger('trace', sink) })));
  after(() => server?.close());
  afterEach(() => void (fake.payoutRefusal = null));

  test('client token, code and processor token are never logged (connect, refused payout)', async () => {
    const reader = await server.signUp();
    const { code, processorToken } = fake.issueCode();
    const { page } = await connect(server, reader.token, code);
    assert.equal(completion(page.text)?.message.type, 'wallet-connected');
    fake.payoutRefusal = 'CAI-200-05';
    const refused = await server.api('/v1/admin/payouts', { body: { customer: reader.customerId, amount: 100, currency: 'EUR', transactionId: 'tx-logs-1' }, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    assert.equal(refused.body.error.code, 'merchant_balance_too_low');
    assert.match(logged, /milkipay payout refused/);
    for (const [name, secret] of Object.entries({ 'client token': MILKIPAY_CLIENT_TOKEN, code, 'processor token': processorToken, 'admin key': ADMIN_KEY })) {
      assert.ok(!logged.includes(secret), `the ${name} is not in the log`);
    }
  });
});
