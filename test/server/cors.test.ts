import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MERCHANT, startTestServer, type TestServer } from './harness';

describe('CORS for merchant pages', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server?.close());

  const preflight = (origin: string) =>
    fetch(`${server.url}/v1/access`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });

  test('a preflight from a merchant origin allows the methods and headers the kit sends, for ten minutes', async () => {
    const response = await preflight(MERCHANT);
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), MERCHANT);
    assert.equal(response.headers.get('access-control-allow-methods'), 'GET,POST,DELETE');
    assert.equal(response.headers.get('access-control-allow-headers'), 'Authorization,Content-Type');
    assert.equal(response.headers.get('access-control-max-age'), '600');
    assert.match(response.headers.get('vary') ?? '', /Origin/);
    assert.equal(await response.text(), '');
  });

  test('a preflight from any other origin is not allowed', async () => {
    const response = await preflight('http://elsewhere.test');
    assert.equal(response.headers.get('access-control-allow-origin'), null);
  });

  test('answers to a merchant origin, errors included, may be read by its page; other origins may not', async () => {
    const { token } = await server.signUp();
    const ask = (origin: string, authorization = `Bearer ${token}`) =>
      fetch(`${server.url}/v1/access`, { method: 'POST', headers: { origin, authorization, 'content-type': 'application/json' }, body: JSON.stringify({ products: ['article-42'] }) });
    const ok = await ask(MERCHANT);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), MERCHANT);
    assert.equal(ok.headers.get('vary'), 'Authorization, Origin');
    assert.equal(ok.headers.get('cache-control'), 'private, no-store');
    assert.equal((await ok.json()).access[0].granted, false);
    const refused = await ask(MERCHANT, 'Bearer pws_not-a-session');
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('access-control-allow-origin'), MERCHANT);
    assert.equal((await refused.json()).error.code, 'unauthenticated');
    const missing = await fetch(`${server.url}/v1/nowhere`, { headers: { origin: MERCHANT } });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('access-control-allow-origin'), MERCHANT);
    const foreign = await ask('http://elsewhere.test');
    assert.equal(foreign.status, 200);
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  });
});
