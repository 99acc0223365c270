import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect as netConnect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as z from 'zod/mini';
import { ErrorBody, ErrorCode, MAX_PRODUCTS_PER_ACCESS_CHECK } from '../../src/protocol';
import type { Database } from '../../server/store/schema';
import { idempotencyKey, startTestServer, type TestServer } from './harness';

const CARD = { number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' };
const TABLES: Array<keyof Database> = [
  'customers', 'sessions', 'sign_in_failures', 'ledger_accounts', 'ledger_transactions', 'ledger_entries', 'entitlements', 'purchases', 'top_ups', 'notifications',
  'checkouts', 'card_tokens', 'subscriptions', 'payment_intents', 'billing_charges', 'outbox_emails',
];
const LIMIT = 64 * 1024;

interface Sent {
  method?: string;
  headers?: Record<string, string>;
  body?: BodyInit;
}

describe('bad input: a 4xx with a code, nothing written, and the server keeps serving', () => {
  let server: TestServer;
  let token: string;
  let email: string;
  const password = 'correct horse battery';

  before(async () => {
    server = await startTestServer();
    email = 'bad-input@example.com';
    ({ token } = await server.signUp(email, password));
    // Some history, so that "nothing written" is checked against non-empty tables.
    assert.equal((await server.api('/v1/purchases', { token, body: { product: 'article-42', idempotencyKey: idempotencyKey() } })).status, 200);
  });
  after(() => server.close());

  /** Valid requests for every POST endpoint; the cases below break them one way at a time. */
  const endpoints = () => ({
    '/v1/accounts': { headers: {} as Record<string, string>, body: { email: 'new-reader@example.com', password } },
    '/v1/sessions': { headers: {} as Record<string, string>, body: { email, password } },
    '/v1/access': { headers: { authorization: `Bearer ${token}` }, body: { products: ['article-42', 'article-43'] } },
    '/v1/purchases': { headers: { authorization: `Bearer ${token}` }, body: { product: 'article-43', idempotencyKey: idempotencyKey() } as Record<string, unknown> },
    '/v1/top-ups': { headers: { authorization: `Bearer ${token}`, origin: server.url }, body: { amount: 1000, currency: 'EUR', card: CARD, idempotencyKey: idempotencyKey() } as Record<string, unknown> },
    '/v1/subscriptions': { headers: { authorization: `Bearer ${token}` }, body: { plan: 'gold-monthly', method: 'card', idempotencyKey: idempotencyKey() } as Record<string, unknown> },
    '/v1/payments': { headers: { authorization: `Bearer ${token}` }, body: { product: 'article-43', idempotencyKey: idempotencyKey() } as Record<string, unknown> },
  });
  type Path = keyof ReturnType<typeof endpoints>;
  const paths = (): Path[] => Object.keys(endpoints()) as Path[];

  async function state() {
    const counts: Record<string, number> = {};
    for (const table of TABLES) {
      const row = await server.database.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      counts[table] = Number(row.n);
    }
    const me = await server.api('/v1/me', { token });
    assert.equal(me.status, 200);
    return { counts, wallet: me.body.wallet };
  }

  async function send(path: string, init: Sent) {
    const response = await fetch(server.url + path, { method: init.method ?? 'POST', headers: init.headers, body: init.body, ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', text };
  }

  /** Sends a request that must be refused, and checks all a client (and the books) would notice. */
  async function refused(path: string, init: Sent, status: number, code: string, what = '') {
    const label = `${init.method ?? 'POST'} ${path} ${what}`;
    const before = await state();
    const response = await send(path, init);
    assert.equal(response.status, status, `${label}: ${response.text}`);
    assertErrorBody(response, code, label);
    assert.deepEqual(await state(), before, `${label}: nothing is written`);
    assert.equal((await server.api('/v1/catalog')).status, 200, `${label}: the server still answers`);
    return JSON.parse(response.text) as ErrorBody;
  }

  function assertErrorBody(response: { contentType: string; text: string }, code: string, label: string) {
    assert.match(response.contentType, /^application\/json/, label);
    const body = z.parse(ErrorBody, JSON.parse(response.text));
    assert.equal(body.error.code, code, label);
    assert.ok(z.safeParse(ErrorCode, body.error.code).success, `${label}: ${body.error.code} is a contract error code`);
    assert.ok(body.error.message.trim().length > 10, `${label}: a human message`);
  }

  const json = (path: Path, body: unknown, extra: Record<string, string> = {}): Sent => ({
    headers: { ...endpoints()[path].headers, 'content-type': 'application/json', ...extra },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

  test('the valid requests these cases start from are accepted', async () => {
    // Guards the cases below: each of them differs from a request that works.
    const e = endpoints();
    assert.equal((await server.api('/v1/access', { body: e['/v1/access'].body, headers: e['/v1/access'].headers })).status, 200);
    const signIn = await server.api('/v1/sessions', { body: e['/v1/sessions'].body });
    assert.equal(signIn.status, 200);
  });

  test('malformed JSON is 400 invalid_json on every POST endpoint', async () => {
    for (const path of paths()) {
      for (const text of ['', '{', '{"email":', "{'email': 'x'}", '{"a":1}x', 'nul', '{"a":1,}', '\u0000', '[1, 2']) {
        await refused(path, json(path, text), 400, 'invalid_json', JSON.stringify(text));
      }
    }
  });

  test('anything but application/json is 415 on every POST endpoint', async () => {
    for (const path of paths()) {
      const valid = JSON.stringify(endpoints()[path].body);
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json-seq', 'application/jsonp', 'text/json']) {
        await refused(path, { headers: { ...endpoints()[path].headers, 'content-type': type }, body: valid }, 415, 'unsupported_media_type', type);
      }
      // No content type at all (fetch would add text/plain to a string body).
      await refused(path, { headers: endpoints()[path].headers, body: new Blob([valid]) }, 415, 'unsupported_media_type', 'no content type');
    }
    // Parameters on the right type are fine.
    const ok = await send('/v1/access', json('/v1/access', endpoints()['/v1/access'].body, { 'content-type': 'application/json; charset=utf-8' }));
    assert.equal(ok.status, 200);
  });

  test('wrong types, unknown fields and missing fields are 400 validation_failed, naming the field', async () => {
    const cases: Record<Path, Array<[string, (body: Record<string, unknown>) => unknown, string]>> = {
      '/v1/accounts': [
        ['email as a number', (b) => ({ ...b, email: 42 }), 'email'],
        ['password as null', (b) => ({ ...b, password: null }), 'password'],
        ['missing password', ({ password: _, ...b }) => b, 'password'],
        ['unknown field', (b) => ({ ...b, admin: true }), 'admin'],
        ['__proto__ field', (b) => `{"__proto__":{"admin":true},${JSON.stringify(b).slice(1)}`, '__proto__'],
        ['overlong email', (b) => ({ ...b, email: `${'a'.repeat(300)}@example.com` }), 'email'],
      ],
      '/v1/sessions': [
        ['email as an array', (b) => ({ ...b, email: [email] }), 'email'],
        ['missing email', ({ email: _, ...b }) => b, 'email'],
        ['unknown field', (b) => ({ ...b, remember: true }), 'remember'],
      ],
      '/v1/access': [
        ['products as a string', () => ({ products: 'article-42' }), 'products'],
        ['a product as a number', () => ({ products: ['article-42', 42] }), 'products.1'],
        ['a malformed product id', () => ({ products: ['../etc/passwd'] }), 'products.0'],
        ['no products', () => ({ products: [] }), 'products'],
        ['missing products', () => ({}), 'products'],
        ['unknown field', (b) => ({ ...b, customer: 'cus_1' }), 'customer'],
      ],
      '/v1/purchases': [
        ['product as a number', (b) => ({ ...b, product: 42 }), 'product'],
        ['missing idempotency key', ({ idempotencyKey: _, ...b }) => b, 'idempotencyKey'],
        ['a short idempotency key', (b) => ({ ...b, idempotencyKey: 'abc' }), 'idempotencyKey'],
        ['unknown field', (b) => ({ ...b, discount: 100 }), 'discount'],
        ['product and offer at once', (b) => ({ ...b, offer: 'x.y' }), 'offer'],
        ['price as a string', (b) => ({ ...b, price: '99' }), 'price'],
        ['currency in lower case', (b) => ({ ...b, currency: 'eur' }), 'currency'],
      ],
      '/v1/top-ups': [
        ['amount as a string', (b) => ({ ...b, amount: '1000' }), 'amount'],
        ['missing card', ({ card: _, ...b }) => b, 'card'],
        ['card number as a number', (b) => ({ ...b, card: { ...CARD, number: 4242424242424242 } }), 'card.number'],
        ['unknown card field', (b) => ({ ...b, card: { ...CARD, holder: 'A Reader' } }), 'holder'],
        ['unknown field', (b) => ({ ...b, wallet: 'someone-else' }), 'wallet'],
        ['month 13', (b) => ({ ...b, card: { ...CARD, expMonth: 13 } }), 'card.expMonth'],
      ],
      '/v1/subscriptions': [
        ['plan as a number', (b) => ({ ...b, plan: 42 }), 'plan'],
        ['an unknown method', (b) => ({ ...b, method: 'cash' }), 'method'],
        ['missing idempotency key', ({ idempotencyKey: _, ...b }) => b, 'idempotencyKey'],
        ['unknown field', (b) => ({ ...b, coupon: 'FREE' }), 'coupon'],
      ],
      '/v1/payments': [
        ['product as a number', (b) => ({ ...b, product: 42 }), 'product'],
        ['missing idempotency key', ({ idempotencyKey: _, ...b }) => b, 'idempotencyKey'],
        ['unknown field', (b) => ({ ...b, card: CARD }), 'card'],
      ],
    };
    for (const path of paths()) {
      for (const body of [null, [], 'a string', 42, true]) {
        await refused(path, json(path, JSON.stringify(body)), 400, 'validation_failed', JSON.stringify(body));
      }
      for (const [what, change, field] of cases[path]) {
        const error = await refused(path, json(path, change(endpoints()[path].body)), 400, 'validation_failed', what);
        assert.ok(error.error.issues?.length, `${path} ${what}: issues listed`);
        assert.ok(error.error.message.includes(field), `${path} ${what}: "${error.error.message}" names ${field}`);
        assert.doesNotMatch(error.error.message, /Invalid input$/, `${path} ${what}: says what was expected`);
      }
    }
  });

  test('bodies over 64 kB are 413 payload_too_large, whatever Content-Length says', async () => {
    for (const path of paths()) {
      const base = endpoints()[path].body;
      const padded = (size: number) => {
        const text = JSON.stringify({ ...base, padding: '' });
        return text.replace('"padding":""', `"padding":"${'x'.repeat(size - text.length)}"`);
      };
      const over = padded(LIMIT + 1);
      assert.equal(Buffer.byteLength(over), LIMIT + 1);
      await refused(path, json(path, over), 413, 'payload_too_large', 'with Content-Length');
      // Chunked: no Content-Length at all, the body is counted as it arrives.
      const chunks = [over.slice(0, 30_000), over.slice(30_000, 60_000), over.slice(60_000)];
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(next));
        },
      });
      await refused(path, { ...json(path, ''), body: stream }, 413, 'payload_too_large', 'chunked');
      // Exactly at the limit is read (and refused for its unknown field, not its size).
      await refused(path, json(path, padded(LIMIT)), 400, 'validation_failed', 'at the limit');
    }
  });

  test('a Content-Length that claims more than 64 kB is refused without waiting for the body', async () => {
    const before = await state();
    const response = await new Promise<{ status: number; text: string; contentType: string }>((resolve, reject) => {
      const req = httpRequest(server.url + '/v1/purchases', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024), authorization: `Bearer ${token}` },
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, contentType: String(res.headers['content-type'] ?? '') }));
      });
      req.on('error', reject);
      // Only a few bytes follow, and the request is never finished: the answer cannot wait for it.
      req.write(JSON.stringify({ product: 'article-43', idempotencyKey: idempotencyKey() }));
    });
    assert.equal(response.status, 413);
    assertErrorBody(response, 'payload_too_large', 'claimed 10 MB');
    assert.deepEqual(await state(), before);
    assert.equal((await server.api('/v1/catalog')).status, 200);
  });

  test('a Content-Length that claims less than is sent does not smuggle the rest in', async () => {
    const before = await state();
    const body = JSON.stringify({ product: 'article-43', idempotencyKey: idempotencyKey(), padding: 'x'.repeat(100_000) });
    const { hostname, port } = new URL(server.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = netConnect(Number(port), hostname.replace(/^\[|\]$/g, ''));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => (text += chunk));
      socket.on('close', () => resolve(text));
      socket.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(text) : reject(error)));
      socket.write(`POST /v1/purchases HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 20\r\nConnection: close\r\n\r\n`);
      socket.end(body);
    });
    // The first 20 bytes are the body (not JSON); the rest is not HTTP. Which of the two answers
    // comes first depends on how the bytes arrive; either is a 400 with a code, then the connection closes.
    const [head, ...rest] = raw.split('\r\n\r\n');
    assert.match(head!, /^HTTP\/1\.1 400 /, raw);
    const firstBody = rest.join('\r\n\r\n').split(/HTTP\/1\.1 /)[0]!;
    const { code } = z.parse(ErrorBody, JSON.parse(firstBody)).error;
    assert.ok(code === 'invalid_json' || code === 'bad_request', code);
    assertErrorBody({ contentType: /content-type: ([^\r\n]+)/i.exec(head!)?.[1] ?? '', text: firstBody }, code, 'claimed 20 bytes');
    assert.deepEqual(await state(), before);
    assert.equal((await server.api('/v1/catalog')).status, 200);
  });

  test('bytes that are not HTTP get a 400 with a code too', async () => {
    const { hostname, port } = new URL(server.url);
    for (const garbage of ['NOT HTTP AT ALL\r\n\r\n', `GET /v1/catalog HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]) {
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = netConnect(Number(port), hostname);
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk) => (text += chunk));
        socket.on('close', () => resolve(text));
        socket.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(text) : reject(error)));
        socket.write(garbage);
      });
      const [head, body] = raw.split('\r\n\r\n');
      assert.match(head!, /^HTTP\/1\.1 4(00|31) /, raw);
      assertErrorBody({ contentType: /content-type: ([^\r\n]+)/i.exec(head!)?.[1] ?? '', text: body! }, 'bad_request', garbage.slice(0, 20));
    }
    assert.equal((await server.api('/v1/catalog')).status, 200);
  });

  test('unknown products are 404 unknown_product', async () => {
    await refused('/v1/purchases', json('/v1/purchases', { product: 'article-999', idempotencyKey: idempotencyKey() }), 404, 'unknown_product');
    await refused('/v1/purchases', json('/v1/purchases', { product: 'article-999', price: 49, currency: 'EUR', idempotencyKey: idempotencyKey() }), 404, 'unknown_product', 'with a price');
    await refused('/v1/content/article-999', { method: 'GET', headers: { authorization: `Bearer ${token}` } }, 404, 'unknown_product');
    await refused('/v1/content/not%20a%20product', { method: 'GET' }, 400, 'validation_failed');
    // An access check may name products outside the catalog (signed offers): they are simply not granted.
    const check = await server.api('/v1/access', { token, body: { products: ['article-999'] } });
    assert.equal(check.status, 200);
    assert.deepEqual(check.body.access, [{ product: 'article-999', granted: false, expiresAt: null }]);
  });

  test('negative, zero, fractional and oversized amounts and prices are 400', async () => {
    for (const amount of [-100, -1, 0, 0.5, 1.5, 100.25, 1e9, 1e300, 9_007_199_254_740_993]) {
      const { body, headers } = endpoints()['/v1/top-ups'];
      await refused('/v1/top-ups', json('/v1/top-ups', JSON.stringify({ ...body, amount }), headers), 400, 'validation_failed', `amount ${amount}`);
    }
    // Floats that JSON writes without a fraction are fractional too, and -0 is not an amount.
    for (const amount of ['1000.5', '-0.0001', '1e-3', '-1e3']) {
      const { body, headers } = endpoints()['/v1/top-ups'];
      await refused('/v1/top-ups', json('/v1/top-ups', JSON.stringify({ ...body, amount: 0 }).replace('"amount":0', `"amount":${amount}`), headers), 400, 'validation_failed', `amount ${amount}`);
    }
    for (const price of ['-49', '-1', '0.5', '48.99', '49.000001', '-0.5e1', '1e400']) {
      await refused('/v1/purchases', json('/v1/purchases', `{"product":"article-43","price":${price},"idempotencyKey":"${idempotencyKey()}"}`), 400, 'validation_failed', `price ${price}`);
    }
    // A well-formed price that is not the catalog's is a conflict, still without a charge.
    await refused('/v1/purchases', json('/v1/purchases', { product: 'article-43', price: 1, idempotencyKey: idempotencyKey() }), 409, 'price_mismatch');
  });

  test('an access check takes at most 200 products', async () => {
    const products = (n: number) => Array.from({ length: n }, (_, i) => `article-${i}`);
    await refused('/v1/access', json('/v1/access', { products: products(MAX_PRODUCTS_PER_ACCESS_CHECK + 1) }), 400, 'validation_failed', '201 products');
    await refused('/v1/access', json('/v1/access', { products: products(1000) }), 400, 'validation_failed', '1000 products');
    const ok = await server.api('/v1/access', { token, body: { products: products(MAX_PRODUCTS_PER_ACCESS_CHECK) } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.access.length, 200);
    assert.equal(ok.body.access.find((grant: { product: string }) => grant.product === 'article-42').granted, true);
  });

  test('unknown routes and methods are 404 not_found in JSON', async () => {
    for (const [method, path] of [['GET', '/v1/nope'], ['POST', '/v1/nope'], ['DELETE', '/v1/catalog'], ['PUT', '/v1/purchases'], ['GET', '/nope'], ['GET', '/v1/purchases']]) {
      await refused(path!, { method, headers: { authorization: `Bearer ${token}` } }, 404, 'not_found', method);
    }
  });

  test('a bad bearer token is 401 before the body is even read', async () => {
    for (const path of ['/v1/access', '/v1/purchases'] as const) {
      await refused(path, json(path, endpoints()[path].body, { authorization: 'Bearer pws_not-a-real-token' }), 401, 'unauthenticated');
    }
    await refused('/v1/top-ups', json('/v1/top-ups', endpoints()['/v1/top-ups'].body, { origin: 'http://merchant.test' }), 403, 'forbidden_origin');
    await refused('/v1/top-ups', json('/v1/top-ups', endpoints()['/v1/top-ups'].body, { authorization: '' }), 401, 'unauthenticated', 'no token');
  });

  test('after all of it, the same valid requests still work and the books balance', async () => {
    const before = await state();
    const { body, headers } = endpoints()['/v1/top-ups'];
    const topUp = await server.api('/v1/top-ups', { body, headers });
    assert.equal(topUp.status, 200);
    assert.equal(topUp.body.wallet.balance, before.wallet.balance + 1000);
    assert.deepEqual(await server.services.ledger.audit(server.database.db), []);
  });
});
