import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { urlSignature } from '../../server/providers/verotel/flexpay-signature';
import { signFlexPayData } from '../fakes/verotel-fake';
import { access, completion, hostedGet, notifications, subscriptionsOf, types } from './card-flows';
import { signOffer } from '../../server/domain/offers';
import { refused } from './config-refusal';
import { databases, idempotencyKey, MERCHANT, OFFER_SECRET, startTestServer, testConfig, type TestServer } from './harness';

/**
 * Verotel FlexPay end to end through the backend: checkout → signed startorder URL, postbacks
 * and the signed success redirect → access, subscriptions, refunds; `/salestatus` is mocked with msw.
 */

const KEY = 'verotel-test-signature-key';
const SHOP = '12345';
const BASE = 'https://secure.verotel.com';
const DAY = 24 * 3600 * 1000;
/** The audit keeps a callback as received, but for the one-click token (a credential, stored only sealed). */
const audited = (params: Record<string, string>) => new URLSearchParams(params).toString().replace(/(^|&)oneClickToken=[^&]*/, '$1oneClickToken=[redacted]');
const LONG_TITLE = 'Über Nachtzüge & Fähren: ' + 'ein langer Titel, '.repeat(8);

const config = {
  providers: { verotel: { merchantId: '9804000000000001', shopId: SHOP } },
  catalog: {
    products: [
      { id: 'article-42', title: 'Night trains', price: 49, currency: 'EUR', validity: 3600, content: 'content/article-42.html' },
      { id: 'vero-story', title: LONG_TITLE, price: 1231, currency: 'EUR', validity: 7 * 86_400, provider: 'verotel' },
      { id: 'vero-other', title: 'Another story', price: 500, currency: 'EUR', validity: 86_400, provider: 'verotel' },
      { id: 'vero-third', title: 'A third story', price: 250, currency: 'EUR', validity: 86_400, provider: 'verotel' },
    ],
    plans: [{ id: 'vero-monthly', title: 'Verotel monthly', price: 999, currency: 'EUR', periodUnit: 'month', products: ['article-42'], provider: 'verotel' }],
  },
};

/** What msw's /salestatus answers per sale (default: approved for what the test says was paid). */
const statuses = new Map<string, { status: number; body: string }>();
const statusRequests: URL[] = [];
const mock = setupServer(http.get(`${BASE}/salestatus`, ({ request }) => {
  const url = new URL(request.url);
  statusRequests.push(url);
  const params = [...url.searchParams].filter(([k]) => k !== 'signature');
  if (url.searchParams.get('signature') !== urlSignature(KEY, params)) return new HttpResponse('error: invalid signature', { status: 400 });
  const saleId = url.searchParams.get('saleID') ?? '';
  const answer = statuses.get(saleId) ?? { status: 200, body: `saleID: ${saleId}\nsaleResult: APPROVED\n` };
  return new HttpResponse(answer.body, { status: answer.status, headers: { 'content-type': 'text/plain' } });
}));

let nextSale = 500_000;

for (const database of databases) {
  describe(`Verotel FlexPay on ${database.name}`, { skip: database.name === 'postgres' && !database.url ? 'DATABASE_URL is not set to a PostgreSQL URL' : false }, () => {
    let server: TestServer;
    before(async () => {
      mock.listen({ onUnhandledRequest: 'bypass' });
      server = await startTestServer({ db: database.name, config, env: { VEROTEL_SIGNATURE_KEY: KEY } });
    });
    afterEach(() => statuses.clear());
    after(async () => {
      mock.close();
      await server?.close();
    });

    const db = () => server.database.db;
    const audit = () => server.services.ledger.audit(db());
    const postback = async (data: Record<string, string>, signed = signFlexPayData(KEY, data)) => {
      const response = await fetch(`${server.url}/callbacks/verotel?${new URLSearchParams(signed)}`);
      return { status: response.status, body: await response.text() };
    };
    const lastCallback = async () => db().selectFrom('provider_callbacks').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    const count = async (table: 'provider_sales' | 'provider_events' | 'ledger_transactions' | 'entitlements' | 'notifications' | 'customer_provider_tokens', customerId?: string) => {
      let query = db().selectFrom(table).select(sql<number>`count(*)`.as('n'));
      if (customerId && table !== 'provider_events') query = query.where('customer_id', '=', customerId);
      return Number((await query.executeTakeFirstOrThrow()).n);
    };
    /** Everything a callback could change, to show that one changed nothing. */
    const snapshot = async (customerId: string) => ({
      sales: await count('provider_sales'), events: await count('provider_events'), ledger: await count('ledger_transactions', customerId),
      entitlements: await db().selectFrom('entitlements').select(['product', 'expires_at']).where('customer_id', '=', customerId).orderBy('product').execute(),
      notifications: await count('notifications', customerId), subscriptions: await db().selectFrom('subscriptions').select(['status', 'access_until']).where('customer_id', '=', customerId).execute(),
    });

    /** POST /v1/payments → checkoutUrl → 303 to Verotel: the startorder URL, parsed. */
    const startPurchase = async (token: string, product: string) => {
      const { status, body } = await server.api('/v1/payments', { token, body: { product, idempotencyKey: idempotencyKey() }, headers: { origin: MERCHANT } });
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.status, 'requires_payment_method');
      return toVerotel(body.checkoutUrl);
    };
    const toVerotel = async (checkoutUrl: string) => {
      const opened = await hostedGet(server, new URL(checkoutUrl).pathname + new URL(checkoutUrl).search);
      assert.equal(opened.status, 303, opened.text);
      const url = new URL(opened.headers.get('location')!);
      assert.equal(url.origin + url.pathname, `${BASE}/startorder`);
      return url;
    };
    /** What Verotel would send for an approved sale of the order at `url`. */
    const saleData = (url: URL, extra: Record<string, string> = {}) => ({
      shopID: SHOP, saleID: String(nextSale++), referenceID: url.searchParams.get('referenceID')!, transactionID: String(nextSale * 3),
      type: url.searchParams.get('type')!, priceAmount: url.searchParams.get('priceAmount')!, priceCurrency: url.searchParams.get('priceCurrency')!, paymentMethod: 'CC', ...extra,
    });
    const subscribe = async (token: string) => {
      const { status, body } = await server.api('/v1/subscriptions', { token, body: { plan: 'vero-monthly', method: 'card', idempotencyKey: idempotencyKey() }, headers: { origin: MERCHANT } });
      assert.equal(status, 200, JSON.stringify(body));
      const url = await toVerotel(body.checkoutUrl);
      const initial = saleData(url, { event: 'initial', subscriptionType: 'recurring', period: 'P1M' });
      assert.deepEqual(await postback(initial), { status: 200, body: 'OK' });
      return { url, saleID: initial.saleID };
    };

    test('purchase: a signed startorder URL, the postback grants access once, with notifications and a balanced ledger', async () => {
      const { token, customerId } = await server.signUp();
      const url = await startPurchase(token, 'vero-story');
      const q = url.searchParams;
      const checkout = await db().selectFrom('checkouts').selectAll().where('customer_id', '=', customerId).executeTakeFirstOrThrow();
      assert.deepEqual(
        { type: q.get('type'), version: q.get('version'), shopID: q.get('shopID'), priceAmount: q.get('priceAmount'), priceCurrency: q.get('priceCurrency'), referenceID: q.get('referenceID'), paymentMethod: q.get('paymentMethod'), oneClickToken: q.get('oneClickToken') },
        { type: 'purchase', version: '4', shopID: SHOP, priceAmount: '12.31', priceCurrency: 'EUR', referenceID: checkout.id, paymentMethod: null, oneClickToken: null },
      );
      assert.equal(q.get('description'), Array.from(LONG_TITLE).slice(0, 100).join(''), 'the description is clipped to 100 characters');
      assert.match(url.search, /description=%C3%9Cber\+Nachtz%C3%BCge\+%26\+F%C3%A4hren%3A\+/, 'form-encoded UTF-8');
      assert.equal(q.get('email'), (await db().selectFrom('customers').select('email').where('id', '=', customerId).executeTakeFirstOrThrow()).email);
      assert.equal(new URL(q.get('successURL')!).href, `${server.url}/hosted/providers/verotel/return?checkout=${checkout.id}&result=success&lang=en`);
      assert.equal(new URL(q.get('declineURL')!).searchParams.get('result'), 'decline');
      assert.equal(q.get('signature'), urlSignature(KEY, [...q].filter(([k]) => k !== 'signature')));
      assert.equal(q.get('signature'), urlSignature(KEY, [...q].filter(([k]) => k !== 'signature' && k !== 'email')), 'email is not signed');
      assert.equal([...q.keys()].at(-1), 'signature');

      const data = saleData(url, { oneClickToken: 'one-click-1' });
      assert.deepEqual(await postback(data), { status: 200, body: 'OK' });
      assert.equal(statusRequests.at(-1)?.searchParams.get('saleID'), data.saleID, 'the sale was cross-checked with /salestatus');
      const until = new Date(server.clock.now().getTime() + 7 * DAY).toISOString();
      assert.deepEqual(await access(server, token, ['vero-story', 'vero-other']), { 'vero-story': until, 'vero-other': null });
      const sent = await notifications(server, customerId);
      assert.deepEqual(types(sent).slice(-2), ['payment.card.success', 'access.granted']);
      assert.deepEqual(sent.at(-2)!.resource, { status: 'success', code: 200, provider: 'verotel', sale: data.saleID, product: 'vero-story', amount: 1231, currency: 'EUR', expiresAt: until });
      assert.deepEqual(await audit(), []);
      const callback = await lastCallback();
      assert.deepEqual([callback.outcome, callback.method, callback.query], ['applied', 'GET', audited(signFlexPayData(KEY, data))]);

      // Replayed: the same answer, nothing changes.
      const before = await snapshot(customerId);
      assert.deepEqual(await postback(data), { status: 200, body: 'OK' });
      assert.deepEqual(await snapshot(customerId), before);
      assert.equal((await lastCallback()).outcome, 'duplicate');

      // The success redirect with the same signed data: a duplicate too; the page reports the payment and closes.
      const back = new URL(q.get('successURL')!);
      for (const [k, v] of Object.entries(signFlexPayData(KEY, data))) back.searchParams.set(k, v);
      const page = await hostedGet(server, back.pathname + back.search);
      assert.equal(page.status, 200);
      assert.deepEqual(completion(page.text)?.message, { source: 'paywall-kit', type: 'payment-succeeded', product: 'vero-story' });
      assert.deepEqual(await snapshot(customerId), before);
    });

    test('the signed success redirect arriving first applies the payment; the postback after it is a duplicate', async () => {
      const { token, customerId } = await server.signUp();
      const url = await startPurchase(token, 'vero-other');
      const data = saleData(url);
      const back = new URL(url.searchParams.get('successURL')!);
      const callbacks = async () => Number((await db().selectFrom('provider_callbacks').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
      const recorded = await callbacks();
      const waiting = await hostedGet(server, back.pathname + back.search);
      assert.equal(completion(waiting.text), null, 'a return without Verotel data waits for the postback');
      assert.match(waiting.text, /http-equiv="refresh"/);
      assert.equal(await callbacks(), recorded, 'a return without Verotel data is no callback to record');
      const forged = new URL(back);
      for (const [k, v] of Object.entries(signFlexPayData('wrong key', data))) forged.searchParams.set(k, v);
      assert.equal(completion((await hostedGet(server, forged.pathname + forged.search)).text), null, 'forged return data grants nothing');
      const refused = await lastCallback();
      assert.deepEqual([refused.outcome, refused.detail, refused.query], ['rejected', 'the signature does not match the data', forged.search.slice(1)], 'recorded like a forged postback');
      const cheap = new URL(back);
      for (const [k, v] of Object.entries(signFlexPayData(KEY, { ...data, priceAmount: '0.50' }))) cheap.searchParams.set(k, v);
      assert.equal(completion((await hostedGet(server, cheap.pathname + cheap.search)).text), null, 'a signed return for another amount grants nothing');
      assert.deepEqual([(await lastCallback()).outcome, (await lastCallback()).detail?.split(':')[0]], ['rejected', 'amount_mismatch']);
      assert.equal((await access(server, token, ['vero-other']))['vero-other'], null);

      for (const [k, v] of Object.entries(signFlexPayData(KEY, data))) back.searchParams.set(k, v);
      const page = await hostedGet(server, back.pathname + back.search);
      assert.deepEqual(completion(page.text)?.message, { source: 'paywall-kit', type: 'payment-succeeded', product: 'vero-other' });
      assert.notEqual((await access(server, token, ['vero-other']))['vero-other'], null);
      const before = await snapshot(customerId);
      assert.deepEqual(await postback(data), { status: 200, body: 'OK' });
      assert.equal((await lastCallback()).outcome, 'duplicate');
      assert.deepEqual(await snapshot(customerId), before);
    });

    test('forged and altered postbacks: 500 "ERROR - Invalid signature!", recorded as rejected, nothing written', async () => {
      const { token, customerId } = await server.signUp();
      const url = await startPurchase(token, 'vero-story');
      const data = saleData(url);
      const before = await snapshot(customerId);
      const signed = signFlexPayData(KEY, data);
      const attempts = [
        signFlexPayData('not the key', data),
        { ...signed, priceAmount: '0.01' },
        { ...signed, referenceID: 'chk_someone_else' },
        { ...signed, oneClickToken: 'smuggled' },
        Object.fromEntries(Object.entries(signed).filter(([k]) => k !== 'signature')),
        { ...signed, signature: signed.signature!.slice(0, 40) },
      ];
      for (const attempt of attempts) {
        assert.deepEqual(await postback(data, attempt), { status: 500, body: 'ERROR - Invalid signature!' });
        const callback = await lastCallback();
        assert.equal(callback.outcome, 'rejected');
        assert.equal(callback.query, audited(attempt), 'recorded as received, the one-click token redacted');
      }
      assert.deepEqual(await snapshot(customerId), before);
      assert.equal(await count('customer_provider_tokens', customerId), 0);
      assert.equal((await access(server, token, ['vero-story']))['vero-story'], null);
    });

    test('a valid signature for what was not sold here is refused with ERROR: unknown checkout, wrong amount, another shop', async () => {
      const { token, customerId } = await server.signUp();
      const url = await startPurchase(token, 'vero-story');
      const before = await snapshot(customerId);
      for (const data of [saleData(url, { referenceID: 'chk_unknown' }), saleData(url, { priceAmount: '1.00' }), saleData(url, { shopID: '99999' })]) {
        assert.deepEqual(await postback(data), { status: 500, body: 'ERROR' });
        assert.equal((await lastCallback()).outcome, 'rejected');
      }
      assert.deepEqual(await snapshot(customerId), before);
    });

    test('salestatus not approved (declined, unparseable, failing, another amount): the postback answers ERROR and nothing is granted', async () => {
      const { token, customerId } = await server.signUp();
      const url = await startPurchase(token, 'vero-story');
      const before = await snapshot(customerId);
      const answers = [
        { status: 200, body: 'saleResult: DECLINED' },
        { status: 200, body: '<html><body>Service unavailable</body></html>' },
        { status: 503, body: 'saleResult: APPROVED' },
        { status: 200, body: 'saleResult: APPROVED\npriceAmount: 0.01\npriceCurrency: EUR' },
      ];
      for (const answer of answers) {
        const data = saleData(url);
        statuses.set(data.saleID, answer);
        assert.deepEqual(await postback(data), { status: 500, body: 'ERROR' }, answer.body);
        const callback = await lastCallback();
        assert.equal(callback.outcome, 'rejected');
        assert.match(callback.detail ?? '', /salestatus/);
      }
      assert.deepEqual(await snapshot(customerId), before);
      assert.equal((await access(server, token, ['vero-story']))['vero-story'], null);
    });

    test('one-click: the token of the first sale is stored sealed and sent, unsigned, with paymentMethod=CC on the next purchase', async () => {
      const { token, customerId } = await server.signUp();
      const first = await startPurchase(token, 'vero-story');
      assert.deepEqual(await postback(saleData(first, { oneClickToken: 'tok-first-123' })), { status: 200, body: 'OK' });
      const stored = await db().selectFrom('customer_provider_tokens').selectAll().where('customer_id', '=', customerId).executeTakeFirstOrThrow();
      assert.equal(stored.kind, 'one_click');
      assert.ok(!String(stored.sealed).includes('tok-first-123'), 'sealed at rest');
      const audit = await lastCallback();
      assert.ok(!audit.query.includes('tok-first-123'), 'not in the raw callback audit either');
      assert.match(audit.query, /(^|&)oneClickToken=\[redacted\](&|$)/);
      assert.match(audit.query, /(^|&)saleID=/, 'the rest is kept as received');

      const second = await startPurchase(token, 'vero-other');
      assert.deepEqual([second.searchParams.get('oneClickToken'), second.searchParams.get('paymentMethod')], ['tok-first-123', 'CC']);
      const signedPart = [...second.searchParams].filter(([k]) => k !== 'signature' && k !== 'oneClickToken' && k !== 'email');
      assert.ok(signedPart.some(([k]) => k === 'paymentMethod'));
      assert.equal(second.searchParams.get('signature'), urlSignature(KEY, signedPart));
      // Verotel's next OK postback carries a fresh token; it replaces the spent one.
      assert.deepEqual(await postback(saleData(second, { oneClickToken: 'tok-second-456' })), { status: 200, body: 'OK' });
      const third = await startPurchase(token, 'vero-third');
      assert.equal(third.searchParams.get('oneClickToken'), 'tok-second-456');
      // Another reader has none.
      const other = await server.signUp();
      assert.equal((await startPurchase(other.token, 'vero-other')).searchParams.get('oneClickToken'), null);
    });

    test('credit and chargeback of a purchase take the access back and reverse the ledger', async () => {
      for (const event of ['credit', 'chargeback'] as const) {
        const { token, customerId } = await server.signUp();
        const url = await startPurchase(token, 'vero-story');
        const paid = saleData(url);
        await postback(paid);
        const reversal = { shopID: SHOP, saleID: paid.saleID, event, transactionID: String(nextSale++), ...(event === 'credit' ? { parentID: paid.transactionID, priceAmount: '12.31', priceCurrency: 'EUR', type: 'purchase' } : {}) };
        assert.deepEqual(await postback(reversal), { status: 200, body: 'OK' });
        assert.equal((await access(server, token, ['vero-story']))['vero-story'], null, event);
        const sent = await notifications(server, customerId);
        assert.deepEqual(sent.at(-1), { ...sent.at(-1)!, type: 'access.revoked' });
        const sale = await db().selectFrom('provider_sales').select('status').where('sale_id', '=', paid.saleID).executeTakeFirstOrThrow();
        assert.equal(sale.status, event === 'credit' ? 'refunded' : 'charged_back');
        assert.deepEqual(await audit(), []);
        const before = await snapshot(customerId);
        assert.deepEqual(await postback(reversal), { status: 200, body: 'OK' }, 'replayed');
        assert.deepEqual(await snapshot(customerId), before);
      }
    });

    test('subscription: initial → active; rebill extends; DELETE answers cancel_at_provider; cancel keeps access to period end; uncancel; expiry revokes', async () => {
      const { token, customerId } = await server.signUp();
      const { url, saleID } = await subscribe(token);
      const q = url.searchParams;
      assert.deepEqual(
        { type: q.get('type'), subscriptionType: q.get('subscriptionType'), period: q.get('period'), name: q.get('name'), priceAmount: q.get('priceAmount'), description: q.get('description') },
        { type: 'subscription', subscriptionType: 'recurring', period: 'P1M', name: 'Verotel monthly', priceAmount: '9.99', description: null },
      );
      assert.equal(q.get('signature'), urlSignature(KEY, [...q].filter(([k]) => k !== 'signature')));
      let [sub] = await subscriptionsOf(server, token);
      assert.deepEqual([sub.status, sub.plan, sub.currentPeriodEnd], ['active', 'vero-monthly', '2026-04-01T10:00:00.000Z']);
      assert.equal((await access(server, token, ['article-42']))['article-42'], '2026-04-01T10:00:00.000Z');
      assert.ok(types(await notifications(server, customerId)).includes('subscribe.success'));

      server.clock.set(new Date('2026-04-01T09:00:00.000Z'));
      const rebill = { shopID: SHOP, saleID, event: 'rebill', transactionID: String(nextSale++), priceAmount: '9.99', priceCurrency: 'EUR', type: 'subscription' };
      assert.deepEqual(await postback(rebill), { status: 200, body: 'OK' });
      [sub] = await subscriptionsOf(server, token);
      assert.deepEqual([sub.status, sub.currentPeriodEnd], ['active', '2026-05-01T10:00:00.000Z']);
      assert.equal((await access(server, token, ['article-42']))['article-42'], '2026-05-01T10:00:00.000Z');
      await postback(rebill);
      assert.equal((await subscriptionsOf(server, token))[0].currentPeriodEnd, '2026-05-01T10:00:00.000Z', 'a replayed rebill extends nothing');
      assert.deepEqual(await audit(), []);

      // Only the buyer cancels, on Verotel's page: the API names it and changes nothing here.
      const before = await snapshot(customerId);
      const refused = await server.api(`/v1/subscriptions/${sub.id}`, { method: 'DELETE', token });
      assert.deepEqual([refused.status, refused.body.error.code], [409, 'cancel_at_provider']);
      const cancelUrl = new URL(refused.body.error.cancelUrl);
      assert.equal(cancelUrl.origin + cancelUrl.pathname, `${BASE}/cancel-subscription`);
      assert.deepEqual([...cancelUrl.searchParams.keys()], ['saleID', 'shopID', 'version', 'signature']);
      assert.equal(cancelUrl.searchParams.get('saleID'), saleID);
      assert.equal(cancelUrl.searchParams.get('signature'), urlSignature(KEY, [...cancelUrl.searchParams].filter(([k]) => k !== 'signature')));
      assert.deepEqual(await snapshot(customerId), before);

      const cancel = { shopID: SHOP, saleID, event: 'cancel', cancelledBy: 'user', type: 'subscription' };
      assert.deepEqual(await postback(cancel), { status: 200, body: 'OK' });
      [sub] = await subscriptionsOf(server, token);
      assert.deepEqual([sub.status, sub.cancelAtPeriodEnd], ['canceled', true]);
      assert.equal((await access(server, token, ['article-42']))['article-42'], '2026-05-01T10:00:00.000Z', 'access to the end of the paid period');
      assert.deepEqual(await postback({ ...cancel, uncancelledBy: 'user', event: 'uncancel' }), { status: 200, body: 'OK' });
      assert.equal((await subscriptionsOf(server, token))[0].status, 'active');
      assert.deepEqual(await postback({ ...cancel, cancelledBy: 'merchant' }), { status: 200, body: 'OK' });
      assert.equal((await subscriptionsOf(server, token))[0].status, 'canceled', 'a second cancel after the uncancel applies');

      server.clock.set(new Date('2026-05-01T10:00:01.000Z'));
      assert.deepEqual(await postback({ shopID: SHOP, saleID, event: 'expiry', type: 'subscription' }), { status: 200, body: 'OK' });
      [sub] = await subscriptionsOf(server, token);
      assert.equal(sub.status, 'expired');
      assert.equal((await access(server, token, ['article-42']))['article-42'], null);
      assert.ok(types(await notifications(server, customerId)).includes('access.revoked'));
      assert.deepEqual(await audit(), []);
    });

    test('subscription chargeback revokes access at once', async () => {
      const { token, customerId } = await server.signUp();
      server.clock.set(new Date('2026-06-01T10:00:00.000Z'));
      const { saleID } = await subscribe(token);
      assert.notEqual((await access(server, token, ['article-42']))['article-42'], null);
      assert.deepEqual(await postback({ shopID: SHOP, saleID, event: 'chargeback', transactionID: String(nextSale++), type: 'subscription' }), { status: 200, body: 'OK' });
      assert.equal((await access(server, token, ['article-42']))['article-42'], null);
      assert.equal((await subscriptionsOf(server, token))[0].status, 'expired');
      assert.equal(types(await notifications(server, customerId)).at(-1), 'access.revoked');
      assert.deepEqual(await audit(), []);
    });

    test('events for a sale never paid here are refused; events not sold here (upgrade) are acknowledged and change nothing', async () => {
      assert.deepEqual(await postback({ shopID: SHOP, saleID: '1', event: 'rebill', transactionID: '2', priceAmount: '9.99', priceCurrency: 'EUR' }), { status: 500, body: 'ERROR' });
      assert.equal((await lastCallback()).outcome, 'rejected');
      assert.deepEqual(await postback({ shopID: SHOP, saleID: '1', event: 'upgrade' }), { status: 200, body: 'OK' });
      assert.equal((await lastCallback()).outcome, 'ignored');
    });

    test('a signed offer in a currency Verotel does not take: 400 currency_unsupported and no checkout written', async () => {
      const { token, customerId } = await server.signUp();
      const offer = (currency: string) => signOffer(OFFER_SECRET, { product: 'vero-story', title: 'Story', price: 1231, currency, validity: 3600, expiresAt: Math.floor(server.clock.now().getTime() / 1000) + 600 });
      const refused = await server.api('/v1/payments', { token, body: { offer: offer('JPY'), idempotencyKey: idempotencyKey() }, headers: { origin: MERCHANT } });
      assert.deepEqual([refused.status, refused.body.error.code], [400, 'currency_unsupported']);
      assert.equal((await db().selectFrom('checkouts').select('id').where('customer_id', '=', customerId).execute()).length, 0);
      const taken = await server.api('/v1/payments', { token, body: { offer: offer('USD'), idempotencyKey: idempotencyKey() }, headers: { origin: MERCHANT } });
      assert.deepEqual([taken.status, taken.body.status], [200, 'requires_payment_method']);
      assert.equal((await toVerotel(taken.body.checkoutUrl)).searchParams.get('priceCurrency'), 'USD');
    });

    test('a purchase paid twice: the second sale is booked on its own and buys nothing more; its credit reverses it and keeps the access', async () => {
      const { token, customerId } = await server.signUp();
      const url = await startPurchase(token, 'vero-story');
      const first = saleData(url);
      assert.deepEqual(await postback(first), { status: 200, body: 'OK' });
      const until = (await access(server, token, ['vero-story']))['vero-story'];
      const second = saleData(url);
      assert.deepEqual(await postback(second), { status: 200, body: 'OK' });
      assert.equal((await lastCallback()).outcome, 'applied');
      assert.deepEqual(await access(server, token, ['vero-story']), { 'vero-story': until }, 'the second payment extends nothing');
      const sales = await db().selectFrom('provider_sales').select(['sale_id', 'status']).where('customer_id', '=', customerId).orderBy('sale_id').execute();
      assert.deepEqual(sales, [{ sale_id: first.saleID, status: 'paid' }, { sale_id: second.saleID, status: 'paid' }]);
      assert.equal(await count('ledger_transactions', customerId), 3, 'start credit and both payments');

      const credit = { shopID: SHOP, saleID: second.saleID, event: 'credit', transactionID: String(nextSale++), parentID: second.transactionID, priceAmount: '12.31', priceCurrency: 'EUR', type: 'purchase' };
      assert.deepEqual(await postback(credit), { status: 200, body: 'OK' });
      assert.equal((await lastCallback()).outcome, 'applied');
      assert.deepEqual(await access(server, token, ['vero-story']), { 'vero-story': until }, 'the first sale still pays for the access');
      assert.equal((await db().selectFrom('provider_sales').select('status').where('sale_id', '=', second.saleID).executeTakeFirstOrThrow()).status, 'refunded');
      assert.deepEqual(await audit(), []);
    });

    test('a subscription checkout paid twice: the second sale is booked without extending or starting a subscription', async () => {
      const { token, customerId } = await server.signUp();
      const { url } = await subscribe(token);
      const [before] = await subscriptionsOf(server, token);
      const again = saleData(url, { event: 'initial', subscriptionType: 'recurring', period: 'P1M' });
      assert.deepEqual(await postback(again), { status: 200, body: 'OK' });
      const subs = await subscriptionsOf(server, token);
      assert.deepEqual(subs.map((s) => [s.id, s.currentPeriodEnd]), [[before.id, before.currentPeriodEnd]], 'not renewed by a second initial payment');
      const sale = await db().selectFrom('provider_sales').select(['status', 'subscription_id']).where('sale_id', '=', again.saleID).executeTakeFirstOrThrow();
      assert.deepEqual(sale, { status: 'paid', subscription_id: null });
      assert.deepEqual(await postback({ shopID: SHOP, saleID: again.saleID, event: 'chargeback', transactionID: String(nextSale++), type: 'subscription' }), { status: 200, body: 'OK' });
      assert.equal((await subscriptionsOf(server, token))[0].status, 'active', 'the chargeback of the second sale leaves the first one\'s subscription');
      assert.equal(await count('ledger_transactions', customerId), 4, 'start credit, both payments, the chargeback');
      assert.deepEqual(await audit(), []);
    });
  });
}

describe('Verotel configuration', () => {
  const env = { VEROTEL_SIGNATURE_KEY: KEY };
  const products = config.catalog.products;
  test('a merchant id of no FlexPay brand, a currency Verotel does not take or a period under 7 days is refused with one message when the config is resolved', () => {
    assert.throws(() => testConfig({ ...config, providers: { verotel: { merchantId: '1234000000000001', shopId: SHOP } } }, env), /providers\.verotel\.merchantId.*FlexPay brand/);
    assert.throws(() => testConfig(config), /VEROTEL_SIGNATURE_KEY is not set/);
    const yen = { id: 'yen', title: 'Yen', price: 100, currency: 'JPY', validity: 60 };
    const jpy = { ...config, startCredit: { amount: 500, currency: 'JPY' }, catalog: { products: [{ ...yen, provider: 'verotel' }], plans: [] } };
    refused(() => testConfig(jpy, env), null, /product "yen": Verotel takes USD, EUR.*not JPY/);
    const jpyPlan = { ...jpy, catalog: { products: [yen], plans: [{ id: 'yen-monthly', title: 'Yen monthly', price: 900, currency: 'JPY', periodUnit: 'month', products: ['yen'], provider: 'verotel' }] } };
    refused(() => testConfig(jpyPlan, env), null, /plan "yen-monthly": Verotel takes USD, EUR.*not JPY/);
    const threeDays = { id: 'three-days', title: 'Short', price: 99, currency: 'EUR', periodLength: 3, periodUnit: 'day', products: ['article-42'], provider: 'verotel' };
    refused(() => testConfig({ ...config, catalog: { products, plans: [threeDays] } }, env), null, /plan "three-days": Verotel bills recurring subscriptions every 7 days at the least/);
    assert.ok(testConfig({ ...config, catalog: { products, plans: [{ ...threeDays, methods: ['wallet'] }] } }, env).plans.has('three-days'), 'a plan paid only from the wallet is not billed by Verotel');
  });
});
