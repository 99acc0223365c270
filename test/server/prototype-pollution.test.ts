import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { idempotencyKey, MERCHANT, startTestServer, testConfigFile, type TestServer } from './harness';

/**
 * No request parameter reaches an object's prototype: every route that reads a query, a form or
 * a JSON body is sent `__proto__`, `constructor` and `prototype` keys (plain and in PHP's
 * `name[key]` form, which the Paymentwall pingback parser nests), and afterwards the process's
 * objects are clean and a reader still signs up and buys. The server runs in this process, so a
 * polluted `Object.prototype` would show here.
 */
const HOSTILE_QUERY = '__proto__[polluted]=yes&constructor[prototype][polluted]=yes&prototype[polluted]=yes&__proto__=yes&constructor=yes';
/** A pingback complete enough to be parsed (and then refused for its signature). */
const PINGBACK_FIELDS = 'uid=cus_1&goodsid=article-42&type=0&ref=t1&sig=0123456789abcdef0123456789abcdef&sign_version=2';
/** Provider callbacks refuse with their protocol's own answers (Verotel's is a 500 "ERROR"); only the prototypes are checked there. */
const isCallback = (path: string) => path.startsWith('/callbacks/');

describe('prototype pollution through request parameters', () => {
  let server: TestServer;
  before(async () => {
    const base = testConfigFile();
    server = await startTestServer({
      config: {
        ...base,
        // Allowlisted, so pingbacks from loopback get past the address check to the parser.
        providers: { paymentwall: { projectKey: 'c22f895840bf2391f67a40da64bfed26', ipAllowlist: ['127.0.0.1'] }, verotel: { merchantId: '9804000000000001', shopId: '12345' } },
      },
      env: { PAYMENTWALL_SECRET_KEY: 'a7408723eaf4bfa2e3ac49b3cb695046', VEROTEL_SIGNATURE_KEY: 'verotel-test-key' },
    });
  });
  after(() => server?.close());

  const clean = () => {
    const probe: Record<string, unknown> = {};
    assert.equal(probe.polluted, undefined, 'Object.prototype was written');
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  };

  test('queries, forms and JSON bodies of every parsing route leave the prototypes alone, and a purchase still works', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const gets = [
      '/callbacks/paymentwall', '/callbacks/verotel', '/callbacks/sandbox', '/callbacks/milkipay',
      '/hosted/sign-in', '/hosted/sign-up', '/hosted/top-up', '/hosted/no-such-page',
      '/hosted/sandbox/card', '/hosted/sandbox/bank', '/hosted/providers/paymentwall/return', '/hosted/providers/verotel/return',
      '/hosted/milkipay/callback', '/v1/catalog', '/v1/notifications',
    ];
    for (const path of gets) {
      const answer = await fetch(`${server.url}${path}?${PINGBACK_FIELDS}&${HOSTILE_QUERY}`);
      assert.ok(isCallback(path) || answer.status < 500, `${path}: ${answer.status}`);
      await answer.arrayBuffer();
      clean();
    }
    for (const path of ['/callbacks/paymentwall', '/callbacks/verotel', '/callbacks/sandbox', '/hosted/sign-in', '/hosted/sign-up', '/hosted/top-up']) {
      const answer = await fetch(`${server.url}${path}?${PINGBACK_FIELDS}&${HOSTILE_QUERY}`, { method: 'POST', headers: { ...form, origin: server.url }, body: `${HOSTILE_QUERY}&email=a%40b.example&password=x` });
      assert.ok(isCallback(path) || answer.status < 500, `POST ${path}: ${answer.status}`);
      await answer.arrayBuffer();
      clean();
    }
    for (const path of ['/v1/access', '/v1/accounts', '/v1/sessions', '/v1/purchases', '/v1/content', '/v1/payments', '/v1/subscriptions']) {
      for (const body of ['{"__proto__":{"polluted":"yes"},"products":["article-42"]}', '{"constructor":{"prototype":{"polluted":"yes"}}}']) {
        const answer = await server.api(path, { body });
        assert.ok(answer.status >= 400 && answer.status < 500, `POST ${path} ${body}: ${answer.status}`);
        clean();
      }
    }

    const { token } = await server.signUp();
    const access = await server.api('/v1/access', { token, body: { products: ['article-42'] } });
    assert.equal(access.status, 200, JSON.stringify(access.body));
    const bought = await server.api('/v1/purchases', { token, body: { product: 'article-42', idempotencyKey: idempotencyKey() }, headers: { origin: MERCHANT } });
    assert.equal(bought.status, 200, JSON.stringify(bought.body));
    assert.equal(bought.body.wallet.balance, 451);
    const page = await fetch(`${server.url}/hosted/sign-in?origin=${encodeURIComponent(MERCHANT)}`, { method: 'POST', headers: { ...form, origin: server.url }, body: 'email=nobody%40example.com&password=wrong+password+here' });
    assert.ok(page.status < 500, `hosted form post after the attack: ${page.status}`);
  });
});
