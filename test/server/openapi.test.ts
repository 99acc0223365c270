import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { idempotencyKey, MERCHANT, startTestServer, type TestServer } from './harness';

type Schema = Record<string, any>;

const CONTRACT = [
  ['get', '/v1/catalog'],
  ['post', '/v1/accounts'],
  ['post', '/v1/sessions'],
  ['delete', '/v1/sessions/current'],
  ['get', '/v1/me'],
  ['post', '/v1/access'],
  ['post', '/v1/purchases'],
  ['post', '/v1/content'],
  ['get', '/v1/content/{product}'],
  ['post', '/v1/top-ups'],
  ['get', '/v1/subscriptions'],
  ['post', '/v1/subscriptions'],
  ['delete', '/v1/subscriptions/{id}'],
  ['post', '/v1/payments'],
  ['get', '/v1/payment-intents/{id}'],
  ['post', '/v1/payment-intents/{id}/confirm'],
  ['get', '/v1/sandbox/outbox'],
  ['get', '/v1/wallet-connections'],
  ['post', '/v1/wallet-connections/{provider}'],
  ['post', '/v1/admin/payouts'],
] as const;

const IGNORED = new Set(['$schema', 'title', 'description', 'format', 'default', 'examples']);

/**
 * The part of JSON Schema 2020-12 the document uses, strictly: a keyword it does not know fails
 * the test instead of being skipped, so a schema cannot pass by using something unchecked.
 */
function validates(schema: Schema, value: unknown): boolean {
  for (const keyword of Object.keys(schema)) {
    if (!IGNORED.has(keyword) && !(keyword in KEYWORDS)) throw new Error(`the test's validator does not know "${keyword}"`);
  }
  return Object.entries(schema).every(([keyword, arg]) => IGNORED.has(keyword) || KEYWORDS[keyword]!(arg, value, schema));
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const TYPES: Record<string, (value: unknown) => boolean> = {
  object: isObject,
  array: Array.isArray,
  string: (v) => typeof v === 'string',
  integer: (v) => Number.isInteger(v),
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  boolean: (v) => typeof v === 'boolean',
  null: (v) => v === null,
};
const KEYWORDS: Record<string, (arg: any, value: unknown, schema: Schema) => boolean> = {
  type: (type: string | string[], value) => [type].flat().some((t) => TYPES[t]!(value)),
  properties: (properties: Record<string, Schema>, value) => !isObject(value) || Object.entries(properties).every(([key, sub]) => !(key in value) || validates(sub, value[key])),
  required: (keys: string[], value) => !isObject(value) || keys.every((key) => Object.hasOwn(value, key)),
  additionalProperties: (allowed: boolean | Schema, value, schema) =>
    !isObject(value) || Object.keys(value).every((key) => Object.hasOwn(schema.properties ?? {}, key) || (allowed === true ? true : allowed === false ? false : validates(allowed, value[key]))),
  items: (items: Schema, value) => !Array.isArray(value) || value.every((item) => validates(items, item)),
  minItems: (n: number, value) => !Array.isArray(value) || value.length >= n,
  maxItems: (n: number, value) => !Array.isArray(value) || value.length <= n,
  minLength: (n: number, value) => typeof value !== 'string' || [...value].length >= n,
  maxLength: (n: number, value) => typeof value !== 'string' || [...value].length <= n,
  pattern: (pattern: string, value) => typeof value !== 'string' || new RegExp(pattern, 'u').test(value),
  minimum: (n: number, value) => typeof value !== 'number' || value >= n,
  maximum: (n: number, value) => typeof value !== 'number' || value <= n,
  exclusiveMinimum: (n: number, value) => typeof value !== 'number' || value > n,
  exclusiveMaximum: (n: number, value) => typeof value !== 'number' || value < n,
  anyOf: (schemas: Schema[], value) => schemas.some((sub) => validates(sub, value)),
  oneOf: (schemas: Schema[], value) => schemas.filter((sub) => validates(sub, value)).length === 1,
  enum: (options: unknown[], value) => options.includes(value),
  const: (option: unknown, value) => option === value,
};

describe('OpenAPI document', () => {
  let server: TestServer;
  let doc: Schema;
  let token: string;
  before(async () => {
    server = await startTestServer();
    ({ token } = await server.signUp('openapi@example.com'));
    const { status, body, headers } = await server.api('/v1/openapi.json');
    assert.equal(status, 200);
    assert.match(headers.get('content-type') ?? '', /^application\/json/);
    doc = body;
  });
  after(() => server.close());

  const requestSchema = (path: string): Schema => doc.paths[path].post.requestBody.content['application/json'].schema;

  test('is OpenAPI 3.1 and lists every endpoint of the contract, and only those', () => {
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    assert.ok(doc.info?.title && doc.info?.version);
    const listed = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) => Object.keys(item).filter((k) => k !== 'parameters').map((method) => `${method} ${path}`));
    assert.deepEqual(listed.sort(), CONTRACT.map(([method, path]) => `${method} ${path}`).sort());
    const ids = new Set<string>();
    for (const [method, path] of CONTRACT) {
      const op = doc.paths[path][method];
      assert.ok(op.summary, `${method} ${path} has a summary`);
      assert.ok(op.operationId && !ids.has(op.operationId), `${method} ${path} has a unique operationId`);
      ids.add(op.operationId);
      assert.ok(Object.keys(op.responses).some((status) => /^2\d\d$/.test(status)), `${method} ${path} documents its success`);
      for (const [status, response] of Object.entries(op.responses as Record<string, Schema>)) {
        if (Number(status) >= 400) assert.equal(response.$ref, '#/components/responses/Error', `${method} ${path} ${status}`);
      }
    }
    assert.ok(doc.components.responses.Error.content['application/json'].schema.properties.error);
    assert.deepEqual(doc.paths['/v1/content/{product}'].get.parameters.map((p: Schema) => [p.name, p.in, p.required]), [['product', 'path', true]]);
    assert.deepEqual(doc.paths['/v1/payment-intents/{id}/confirm'].post.parameters.map((p: Schema) => [p.name, p.in, p.required]), [['id', 'path', true]]);
    assert.deepEqual(doc.paths['/v1/subscriptions/{id}'].delete.parameters.map((p: Schema) => [p.name, p.in, p.required]), [['id', 'path', true]]);
    assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer' });
    assert.deepEqual(doc.paths['/v1/me'].get.security, [{ bearer: [] }]);
  });

  test('documents the errors every endpoint can answer with', () => {
    for (const [method, path] of CONTRACT) {
      const op = doc.paths[path][method];
      const statuses = Object.keys(op.responses).map(Number);
      if (op.requestBody) for (const status of [400, 413, 415]) assert.ok(statuses.includes(status), `${method} ${path} documents ${status}`);
      if (op.security) assert.ok(statuses.includes(401), `${method} ${path} documents 401`);
    }
    assert.ok(Object.keys(doc.paths['/v1/purchases'].post.responses).includes('402'));
    assert.ok(Object.keys(doc.paths['/v1/content/{product}'].get.responses).includes('402'));
    assert.ok(Object.keys(doc.paths['/v1/subscriptions'].post.responses).includes('402'));
    assert.ok(Object.keys(doc.paths['/v1/payment-intents/{id}/confirm'].post.responses).includes('410'));
  });

  test('the catalog lists the plans with their period, products and methods', async () => {
    const { body } = await server.api('/v1/catalog');
    const schema = doc.paths['/v1/catalog'].get.responses['200'].content['application/json'].schema;
    assert.ok(validates(schema, body));
    assert.deepEqual(body.plans.find((p: Schema) => p.id === 'gold-monthly'), {
      id: 'gold-monthly', title: 'Gold monthly', price: 499, currency: 'EUR', periodLength: 1, periodUnit: 'month', products: ['article-42', 'article-43'], methods: ['wallet', 'card'],
    });
    assert.equal(body.plans.find((p: Schema) => p.id === 'trial-weekly').trialDays, 14);
  });

  test('request bodies are closed: unknown fields are not allowed, as the server refuses them', () => {
    const closed = (schema: Schema, where: string): void => {
      if (schema.anyOf) return schema.anyOf.forEach((sub: Schema, i: number) => closed(sub, `${where}.anyOf[${i}]`));
      assert.equal(schema.type, 'object', where);
      assert.equal(schema.additionalProperties, false, `${where} has additionalProperties: false`);
      for (const [key, sub] of Object.entries(schema.properties as Record<string, Schema>)) if (sub.type === 'object') closed(sub, `${where}.${key}`);
    };
    for (const [method, path] of CONTRACT) if (method === 'post' && doc.paths[path].post.requestBody) closed(requestSchema(path), path);
    assert.equal(doc.paths['/v1/payment-intents/{id}/confirm'].post.requestBody, undefined, 'confirm takes no body');
    assert.deepEqual(requestSchema('/v1/accounts').required.sort(), ['email', 'password']);
    assert.equal(requestSchema('/v1/access').properties.products.maxItems, 200);
  });

  test('each request schema rejects exactly what the server rejects as invalid', async () => {
    const card = { number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' };
    const many = (n: number) => Array.from({ length: n }, (_, i) => `article-${i}`);
    const cases: Record<string, { headers?: Record<string, string>; bodies: unknown[] }> = {
      '/v1/accounts': {
        bodies: [
          { email: 'schema-1@example.com', password: 'correct horse battery' },
          { email: 'schema-1@example.com' },
          { email: 7, password: 'correct horse battery' },
          { email: 'schema-2@example.com', password: 'correct horse battery', role: 'admin' },
          { email: `${'a'.repeat(250)}@example.com`, password: 'correct horse battery' },
          { email: 'schema-3@example.com', password: 'x'.repeat(1025) },
          null, [], 'text',
        ],
      },
      '/v1/sessions': {
        bodies: [
          { email: 'openapi@example.com', password: 'correct horse battery' },
          { email: 'openapi@example.com', password: 'correct horse battery', remember: true },
          { password: 'correct horse battery' },
          { email: 'openapi@example.com', password: 12345678 },
        ],
      },
      '/v1/access': {
        headers: { authorization: `Bearer ${token}` },
        bodies: [
          { products: ['article-42'] },
          { products: many(200) },
          { products: many(201) },
          { products: [] },
          { products: ['article-42', 1] },
          { products: ['../secret'] },
          { products: ['article-42'], customer: 'cus_x' },
          { products: 'article-42' },
          {},
        ],
      },
      '/v1/purchases': {
        headers: { authorization: `Bearer ${token}` },
        bodies: [
          { product: 'article-42', idempotencyKey: idempotencyKey() },
          { product: 'article-42', price: 49, currency: 'EUR', idempotencyKey: idempotencyKey() },
          { product: 'article-999', idempotencyKey: idempotencyKey() },
          { offer: 'not.an-offer', idempotencyKey: idempotencyKey() },
          { product: 'article-42', offer: 'x.y', idempotencyKey: idempotencyKey() },
          { product: 'article-42', idempotencyKey: idempotencyKey(), discount: 10 },
          { product: 'article-42', price: -1, idempotencyKey: idempotencyKey() },
          { product: 'article-42', price: 0.5, idempotencyKey: idempotencyKey() },
          { product: 'article-42', price: '49', idempotencyKey: idempotencyKey() },
          { product: 'article-42', currency: 'eur', idempotencyKey: idempotencyKey() },
          { product: 'article-42', idempotencyKey: 'short' },
          { product: 'article-42' },
          { idempotencyKey: idempotencyKey() },
        ],
      },
      '/v1/subscriptions': {
        headers: { authorization: `Bearer ${token}` },
        bodies: [
          { plan: 'gold-monthly', method: 'card', idempotencyKey: idempotencyKey() },
          { plan: 'gold-yearly', method: 'card', returnUrl: `${MERCHANT}/subscribe`, idempotencyKey: idempotencyKey() },
          { plan: 'no-such-plan', method: 'wallet', idempotencyKey: idempotencyKey() },
          { plan: 'gold-monthly', method: 'paypal', idempotencyKey: idempotencyKey() },
          { plan: 'gold-monthly', idempotencyKey: idempotencyKey() },
          { plan: 'gold-monthly', method: 'card' },
          { plan: 'gold-monthly', method: 'card', returnUrl: '', idempotencyKey: idempotencyKey() },
          { plan: 'gold-monthly', method: 'card', returnUrl: `${MERCHANT}/${'x'.repeat(2100)}`, idempotencyKey: idempotencyKey() },
          { plan: 'gold-monthly', method: 'card', idempotencyKey: idempotencyKey(), coupon: 'FREE' },
          { plan: '../x', method: 'card', idempotencyKey: idempotencyKey() },
        ],
      },
      '/v1/payments': {
        headers: { authorization: `Bearer ${token}` },
        bodies: [
          { product: 'article-43', idempotencyKey: idempotencyKey() },
          { product: 'article-43', price: 99, currency: 'EUR', returnUrl: `${MERCHANT}/a`, idempotencyKey: idempotencyKey() },
          { offer: 'not.an-offer', idempotencyKey: idempotencyKey() },
          { product: 'article-43', offer: 'x.y', idempotencyKey: idempotencyKey() },
          { product: 'article-43', card: { number: '4242424242424242' }, idempotencyKey: idempotencyKey() },
          { product: 'article-43', price: 1.5, idempotencyKey: idempotencyKey() },
          { product: 'article-43', returnUrl: 7, idempotencyKey: idempotencyKey() },
          { product: 'article-43' },
        ],
      },
      '/v1/top-ups': {
        headers: { authorization: `Bearer ${token}`, origin: server.url },
        bodies: [
          { amount: 1000, currency: 'EUR', card, idempotencyKey: idempotencyKey() },
          { amount: 0, currency: 'EUR', card, idempotencyKey: idempotencyKey() },
          { amount: -5, currency: 'EUR', card, idempotencyKey: idempotencyKey() },
          { amount: 10.5, currency: 'EUR', card, idempotencyKey: idempotencyKey() },
          { amount: 100_000_001, currency: 'EUR', card, idempotencyKey: idempotencyKey() },
          { amount: 1000, currency: 'EUR', card: { ...card, holder: 'A' }, idempotencyKey: idempotencyKey() },
          { amount: 1000, currency: 'EUR', card: { ...card, expMonth: 0 }, idempotencyKey: idempotencyKey() },
          { amount: 1000, currency: 'EUR', card: { ...card, cvc: '12' }, idempotencyKey: idempotencyKey() },
          { amount: 1000, currency: 'EUR', card: { ...card, number: '4242' }, idempotencyKey: idempotencyKey() },
          { amount: 1000, currency: 'EUR', idempotencyKey: idempotencyKey() },
          { amount: 1000, currency: 'EUR', card, idempotencyKey: idempotencyKey(), note: 'x' },
        ],
      },
    };
    for (const [path, { headers = {}, bodies }] of Object.entries(cases)) {
      const schema = requestSchema(path);
      let accepted = 0;
      for (const body of bodies) {
        const response = await server.api(path, { body: JSON.stringify(body), headers });
        const serverRefuses = response.status === 400 && response.body.error.code === 'validation_failed';
        const schemaRefuses = !validates(schema, body);
        assert.equal(schemaRefuses, serverRefuses, `${path} ${JSON.stringify(body).slice(0, 120)}: server ${response.status} ${response.body?.error?.code ?? ''}, schema ${schemaRefuses ? 'refuses' : 'accepts'}`);
        if (!schemaRefuses) accepted++;
      }
      assert.ok(accepted > 0 && accepted < bodies.length, `${path}: the cases include both valid and invalid bodies`);
    }
  });
});
