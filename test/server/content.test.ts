import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { MAX_PRODUCTS_PER_CONTENT_REQUEST } from '../../src/protocol';
import type { Database } from '../../server/store/schema';
import { databases, idempotencyKey, startTestServer, type TestServer } from './harness';

const TABLES: Array<keyof Database> = ['customers', 'sessions', 'ledger_transactions', 'ledger_entries', 'entitlements', 'purchases', 'notifications'];
const ARTICLE_42 = readFileSync(new URL('../../content/article-42.html', import.meta.url), 'utf8');
const ARTICLE_43 = readFileSync(new URL('../../content/article-43.html', import.meta.url), 'utf8');

for (const database of databases) {
  describe(`POST /v1/content (many fragments in one request) on ${database.name}`, { skip: database.name === 'postgres' && !database.url ? 'DATABASE_URL is not set to a PostgreSQL URL' : false }, () => {
    let server: TestServer;
    let token: string;
    before(async () => {
      server = await startTestServer({ db: database.name });
      ({ token } = await server.signUp());
      // Entitled to article-42 and (by subscription) to big-report, which has no backend content; not to article-43.
      const bought = await server.api('/v1/purchases', { token, body: { product: 'article-42', idempotencyKey: idempotencyKey() } });
      assert.equal(bought.status, 200, JSON.stringify(bought.body));
      const subscribed = await server.api('/v1/subscriptions', { token, body: { plan: 'wallet-only', method: 'wallet', idempotencyKey: idempotencyKey() } });
      assert.equal(subscribed.status, 200, JSON.stringify(subscribed.body));
      const access = await server.api('/v1/access', { token, body: { products: ['big-report'] } });
      assert.equal(access.body.access[0].granted, true);
    });
    after(() => server?.close());

    const contents = (products: unknown, as = token) => server.api('/v1/content', { token: as, body: { products } });

    async function counts() {
      const result: Record<string, number> = {};
      for (const table of TABLES) {
        const row = await server.database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        result[table] = Number(row.n);
      }
      return result;
    }

    test('answers only the fragments the reader may read, with the same HTML as the per-product GET', async () => {
      const { status, body, headers } = await contents(['article-42', 'article-43', 'big-report']);
      assert.equal(status, 200);
      assert.deepEqual(body, { content: [{ product: 'article-42', html: ARTICLE_42 }] });
      assert.equal(headers.get('cache-control'), 'private, no-store');
      assert.equal((await server.api('/v1/content/article-42', { token })).body, ARTICLE_42);
    });

    test('an access check asking for content carries the fragments of the granted products only, in the same answer', async () => {
      const products = ['article-42', 'article-43', 'big-report'];
      const { status, body, headers } = await server.api('/v1/access', { token, body: { products, content: products } });
      assert.equal(status, 200);
      assert.deepEqual(body.access.map((a: { granted: boolean }) => a.granted), [true, false, true]);
      // big-report is granted but has no backend content; article-43 is not granted.
      assert.deepEqual(body.content, [{ product: 'article-42', html: ARTICLE_42 }]);
      assert.equal(headers.get('cache-control'), 'private, no-store');
      assert.equal(headers.get('vary'), 'Authorization, Origin');

      const onlyAsked = await server.api('/v1/access', { token, body: { products, content: ['article-43'] } });
      assert.deepEqual(onlyAsked.body.content, []);
      const without = await server.api('/v1/access', { token, body: { products } });
      assert.equal(without.body.content, undefined);
      const anonymous = await server.api('/v1/access', { body: { products, content: products } });
      assert.deepEqual(anonymous.body.content, []);
      assert.equal((await server.api('/v1/access', { token, body: { products, content: ['not a product id'] } })).status, 400);
    });

    test('a product named twice is answered once', async () => {
      const { status, body } = await contents(['article-42', 'article-42']);
      assert.equal(status, 200);
      assert.deepEqual(body.content.map((c: { product: string }) => c.product), ['article-42']);
    });

    test('after buying the second article both fragments come in one answer', async () => {
      const { token: reader } = await server.signUp();
      for (const product of ['article-42', 'article-43']) {
        assert.equal((await server.api('/v1/purchases', { token: reader, body: { product, idempotencyKey: idempotencyKey() } })).status, 200);
      }
      const { status, body } = await contents(['article-43', 'article-42'], reader);
      assert.equal(status, 200);
      assert.deepEqual(body, { content: [{ product: 'article-43', html: ARTICLE_43 }, { product: 'article-42', html: ARTICLE_42 }] });
    });

    test('402 access_required when nothing asked for may be read: signed out, or not bought', async () => {
      const anonymous = await server.api('/v1/content', { body: { products: ['article-42'] } });
      assert.equal(anonymous.status, 402);
      assert.equal(anonymous.body.error.code, 'access_required');
      const notBought = await contents(['article-43']);
      assert.equal(notBought.status, 402);
      assert.equal(notBought.body.error.code, 'access_required');
    });

    test('bad input is a 4xx with a code and writes nothing', async () => {
      const before = await counts();
      const cases: Array<[unknown, number, string]> = [
        [[], 400, 'validation_failed'],
        [Array.from({ length: MAX_PRODUCTS_PER_CONTENT_REQUEST + 1 }, (_, i) => `article-${i}`), 400, 'validation_failed'],
        [['not a product'], 400, 'validation_failed'],
        ['article-42', 400, 'validation_failed'],
        [['article-42', 'article-999'], 404, 'unknown_product'],
      ];
      for (const [products, status, code] of cases) {
        const response = await contents(products);
        assert.equal(response.status, status, JSON.stringify(products).slice(0, 60));
        assert.equal(response.body.error.code, code);
      }
      const extra = await server.api('/v1/content', { token, body: { products: ['article-42'], admin: true } });
      assert.equal(extra.status, 400);
      assert.equal(extra.body.error.code, 'validation_failed');
      const text = await server.api('/v1/content', { token, body: '{"products":["article-42"]}', headers: { 'content-type': 'text/plain' } });
      assert.equal(text.status, 415);
      assert.equal(text.body.error.code, 'unsupported_media_type');
      const broken = await server.api('/v1/content', { token, body: '{"products":' });
      assert.equal(broken.status, 400);
      assert.equal(broken.body.error.code, 'invalid_json');
      assert.deepEqual(await counts(), before);
    });
  });
}
