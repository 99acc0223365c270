import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signOffer } from '../../server/domain/offers';
import { databases, idempotencyKey, MERCHANT, OFFER_SECRET, startTestServer, type TestServer } from './harness';

const DAY = 24 * 3600 * 1000;

for (const database of databases) {
  describe(`purchases, wallet ledger and entitlements on ${database.name}`, { skip: database.name === 'postgres' && !database.url ? 'DATABASE_URL is not set to a PostgreSQL URL' : false }, () => {
    let server: TestServer;
    before(async () => (server = await startTestServer({ db: database.name })));
    after(() => server?.close());

    const balance = async (token: string) => (await server.api('/v1/me', { token })).body.wallet.balance as number;
    const buy = (token: string | undefined, body: Record<string, unknown>, headers?: Record<string, string>) =>
      server.api('/v1/purchases', { token, body: { idempotencyKey: idempotencyKey(), ...body }, headers });
    const offer = (fields: Partial<Parameters<typeof signOffer>[1]> = {}, secret = OFFER_SECRET) =>
      signOffer(secret, { product: 'live-match-7', title: 'Live match', price: 50, currency: 'EUR', validity: 3600, expiresAt: Math.floor(server.clock.now().getTime() / 1000) + 600, ...fields });
    const audit = () => server.services.ledger.audit(server.database.db);
    /** The revenue account's balance: the sum of its entries. */
    const revenue = async () => Number((await server.database.db.selectFrom('ledger_entries').select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount'), eb.lit(0)).as('total')).where('account_id', '=', 'system:revenue:EUR').executeTakeFirstOrThrow()).total);

    test('a signed-out reader is asked to sign in, with a link to the hosted sign-in for the merchant origin', async () => {
      const { status, body } = await buy(undefined, { product: 'article-42' }, { origin: MERCHANT });
      assert.equal(status, 401);
      assert.equal(body.error.code, 'sign_in_required');
      const url = new URL(body.error.signInUrl);
      assert.equal(url.pathname, '/hosted/sign-in');
      assert.equal(url.searchParams.get('origin'), MERCHANT);
    });

    test('buying from the wallet grants access, charges the price once and opens the content', async () => {
      const { token } = await server.signUp();
      assert.equal((await server.api('/v1/content/article-42', { token })).status, 402);
      const { status, body } = await buy(token, { product: 'article-42', price: 49, currency: 'EUR' });
      assert.equal(status, 200);
      assert.equal(body.status, 'granted');
      assert.equal(body.entitlement.product, 'article-42');
      assert.equal(body.entitlement.expiresAt, new Date(server.clock.now().getTime() + 3600_000).toISOString());
      assert.deepEqual(body.wallet, { balance: 451, currency: 'EUR' });
      assert.equal(await balance(token), 451);
      const access = await server.api('/v1/access', { token, body: { products: ['article-42', 'article-43'] } });
      assert.deepEqual(access.body.access.map((a: any) => [a.product, a.granted]), [['article-42', true], ['article-43', false]]);
      const content = await server.api('/v1/content/article-42', { token });
      assert.equal(content.status, 200);
      assert.match(content.headers.get('content-type') ?? '', /text\/html/);
      assert.match(content.body, /Night trains were written off/);
      assert.deepEqual(await audit(), []);
    });

    test('content is 402 access_required for anonymous readers and 404 for unknown products', async () => {
      const anonymous = await server.api('/v1/content/article-42');
      assert.equal(anonymous.status, 402);
      assert.equal(anonymous.body.error.code, 'access_required');
      assert.equal((await server.api('/v1/content/no-such-thing')).body.error.code, 'unknown_product');
    });

    test('anonymous access checks answer granted: false for every product', async () => {
      const { status, body } = await server.api('/v1/access', { body: { products: ['article-42', 'whatever'] } });
      assert.equal(status, 200);
      assert.deepEqual(body.access, [
        { product: 'article-42', granted: false, expiresAt: null },
        { product: 'whatever', granted: false, expiresAt: null },
      ]);
    });

    test('without enough balance the purchase is 402 with the missing amount and a top-up link; after topping up the same key succeeds', async () => {
      const { token } = await server.signUp();
      const key = idempotencyKey();
      const short = await server.api('/v1/purchases', { token, body: { product: 'big-report', idempotencyKey: key }, headers: { origin: MERCHANT } });
      assert.equal(short.status, 402);
      assert.equal(short.body.error.code, 'insufficient_funds');
      assert.equal(short.body.error.missing, 9500);
      const topUpUrl = new URL(short.body.error.topUpUrl);
      assert.equal(topUpUrl.pathname, '/hosted/top-up');
      assert.equal(topUpUrl.searchParams.get('amount'), '9500');
      assert.equal(topUpUrl.searchParams.get('origin'), MERCHANT);
      assert.equal(await balance(token), 500);
      const topUp = await server.api('/v1/top-ups', { token, headers: { origin: server.url }, body: { amount: 9500, currency: 'EUR', card: { number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' }, idempotencyKey: idempotencyKey() } });
      assert.equal(topUp.status, 200);
      assert.deepEqual(topUp.body.wallet, { balance: 10_000, currency: 'EUR' });
      const retry = await server.api('/v1/purchases', { token, body: { product: 'big-report', idempotencyKey: key } });
      assert.equal(retry.status, 200);
      assert.equal(await balance(token), 0);
      assert.deepEqual(await audit(), []);
    });

    test('retrying with the same idempotency key returns the first result and never charges again; another body is a conflict', async () => {
      const { token } = await server.signUp();
      const key = idempotencyKey();
      const first = await server.api('/v1/purchases', { token, body: { product: 'article-43', idempotencyKey: key } });
      server.clock.advance(1000);
      const second = await server.api('/v1/purchases', { token, body: { product: 'article-43', idempotencyKey: key } });
      assert.equal(second.status, 200);
      assert.deepEqual(second.body.entitlement, first.body.entitlement);
      assert.equal(await balance(token), 401);
      const conflict = await server.api('/v1/purchases', { token, body: { product: 'article-42', idempotencyKey: key } });
      assert.equal(conflict.status, 409);
      assert.equal(conflict.body.error.code, 'idempotency_conflict');
      assert.equal(await balance(token), 401);
    });

    test('buying what the reader already holds returns the existing entitlement and charges nothing, even when the purchases race', async () => {
      const { token } = await server.signUp();
      const results = await Promise.all(Array.from({ length: 8 }, () => buy(token, { product: 'article-42' })));
      assert.deepEqual(results.map((r) => r.status), Array(8).fill(200));
      assert.equal(new Set(results.map((r) => r.body.entitlement.expiresAt)).size, 1);
      assert.equal(await balance(token), 451);
      server.clock.advance(60_000);
      const again = await buy(token, { product: 'article-42' });
      assert.equal(again.body.entitlement.expiresAt, results[0]!.body.entitlement.expiresAt);
      assert.equal(await balance(token), 451);
    });

    test('100 concurrent purchases against a wallet that can afford 10: exactly 10 succeed, the balance is 0 and the ledger balances', async () => {
      const { token } = await server.signUp();
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => buy(token, { offer: offer({ product: `clip-${i}` }) })));
      const statuses = results.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 200).length, 10);
      assert.equal(statuses.filter((s) => s === 402).length, 90);
      assert.ok(results.filter((r) => r.status === 402).every((r) => r.body.error.code === 'insufficient_funds'));
      assert.equal(await balance(token), 0);
      const granted = await server.api('/v1/access', { token, body: { products: Array.from({ length: 100 }, (_, i) => `clip-${i}`) } });
      assert.equal(granted.body.access.filter((a: any) => a.granted).length, 10);
      assert.deepEqual(await audit(), []);
    });

    test('a purchase does not wait for another reader\'s purchase to commit (no shared row is locked)', { skip: database.name === 'sqlite' ? 'SQLite has one writer at a time by design' : false }, async () => {
      const first = await server.signUp();
      const second = await server.signUp();
      const revenueBefore = await revenue();
      let secondStatus: number | string = 'not run';
      // The first reader's purchase stays uncommitted until the second reader's purchase has answered.
      await server.database.db.transaction().execute(async (trx) => {
        await server.services.ledger.post(trx, { kind: 'purchase', customerId: first.customerId, currency: 'EUR', amount: 10, from: 'wallet', to: 'revenue', at: server.clock.now() });
        secondStatus = await Promise.race([
          buy(second.token, { product: 'article-42' }).then((r) => r.status),
          new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5000).unref()),
        ]);
      });
      assert.equal(secondStatus, 200);
      assert.equal(await balance(first.token), 490);
      assert.equal(await balance(second.token), 451);
      assert.equal(await revenue(), revenueBefore + 10 + 49);
      assert.deepEqual(await audit(), []);
    });

    test('access lasts for the validity period on any session, then expires and must be bought again', async () => {
      const { token } = await server.signUp('expiry-' + database.name + '@example.com');
      await buy(token, { product: 'article-42' });
      const tablet = await server.api('/v1/sessions', { body: { email: 'expiry-' + database.name + '@example.com', password: 'correct horse battery' } });
      server.clock.advance(3600_000 - 1);
      assert.equal((await server.api('/v1/content/article-42', { token: tablet.body.token })).status, 200);
      server.clock.advance(1);
      const expired = await server.api('/v1/access', { token: tablet.body.token, body: { products: ['article-42'] } });
      assert.deepEqual(expired.body.access, [{ product: 'article-42', granted: false, expiresAt: null }]);
      assert.equal((await server.api('/v1/content/article-42', { token })).status, 402);
      const rebuy = await buy(token, { product: 'article-42' });
      assert.equal(rebuy.status, 200);
      assert.equal(await balance(token), 402);
    });

    test('a display price or currency that differs from the server is price_mismatch and charges nothing', async () => {
      const { token } = await server.signUp();
      const low = await buy(token, { product: 'article-42', price: 1, currency: 'EUR' });
      assert.equal(low.status, 409);
      assert.equal(low.body.error.code, 'price_mismatch');
      const currency = await buy(token, { product: 'article-42', price: 49, currency: 'USD' });
      assert.equal(currency.body.error.code, 'price_mismatch');
      assert.equal(await balance(token), 500);
      assert.equal((await server.api('/v1/access', { token, body: { products: ['article-42'] } })).body.access[0].granted, false);
    });

    test('a signed offer sets the price; forged, altered, expired and malformed offers are refused and charge nothing', async () => {
      const { token } = await server.signUp();
      const good = await buy(token, { offer: offer({ product: 'match-1', price: 120 }), price: 120, currency: 'EUR' });
      assert.equal(good.status, 200);
      assert.equal(good.body.wallet.balance, 380);

      const forged = await buy(token, { offer: offer({ product: 'match-2' }, 'some-other-secret-that-is-long-enough!!') });
      assert.equal(forged.status, 400);
      assert.equal(forged.body.error.code, 'invalid_offer');

      const [payload, signature] = offer({ product: 'match-3', price: 300 }).split('.');
      const altered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), price: 1 })).toString('base64url');
      assert.equal((await buy(token, { offer: `${altered}.${signature}` })).body.error.code, 'invalid_offer');

      const expiring = offer({ product: 'match-4', expiresAt: Math.floor(server.clock.now().getTime() / 1000) + 5 });
      server.clock.advance(5000);
      const expired = await buy(token, { offer: expiring });
      assert.equal(expired.status, 400);
      assert.equal(expired.body.error.code, 'offer_expired');

      for (const bad of ['nonsense', 'a.b.c', `${Buffer.from('{"product":1}').toString('base64url')}.abc`, '']) {
        assert.equal((await buy(token, { offer: bad })).body.error.code, 'invalid_offer', bad);
      }
      assert.equal(await balance(token), 380);
      assert.deepEqual(await audit(), []);
    });

    test('unknown products are 404 unknown_product and charge nothing', async () => {
      const { token } = await server.signUp();
      const unknown = await buy(token, { product: 'article-404' });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'unknown_product');
      assert.equal(await balance(token), 500);
    });

    test('top-ups with each sandbox test card; only 4242… credits the wallet, and only once per key', async () => {
      const { token } = await server.signUp();
      const card = (number: string) => ({ number, expMonth: 12, expYear: 2030, cvc: '123' });
      const topUp = (number: string, key = idempotencyKey(), origin = server.url) =>
        server.api('/v1/top-ups', { token, headers: { origin }, body: { amount: 1000, currency: 'EUR', card: card(number), idempotencyKey: key } });
      const key = idempotencyKey();
      assert.equal((await topUp('4242424242424242', key)).body.wallet.balance, 1500);
      assert.equal((await topUp('4242424242424242', key)).body.wallet.balance, 1500);
      const declined = await topUp('4000000000000002');
      assert.deepEqual([declined.status, declined.body.error.code], [402, 'card_declined']);
      const poor = await topUp('4000000000009995');
      assert.deepEqual([poor.status, poor.body.error.code], [402, 'insufficient_funds']);
      const other = await topUp('5555555555554444');
      assert.deepEqual([other.status, other.body.error.code], [402, 'card_declined']);
      assert.match(other.body.error.message, /4242/);
      const merchant = await topUp('4242424242424242', idempotencyKey(), MERCHANT);
      assert.deepEqual([merchant.status, merchant.body.error.code], [403, 'forbidden_origin']);
      assert.equal(await balance(token), 1500);
      assert.deepEqual(await audit(), []);
    });
  });
}
