import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SESSION_CACHE_MS } from '../../server/domain/accounts';
import { describeOnTwoInstances, type TestServer } from './harness';

const SESSION_LIFETIME_MS = 90 * 24 * 3600 * 1000;

describeOnTwoInstances('remembered sessions', (instances) => {
  const me = (on: TestServer, token: string) => on.api('/v1/me', { token }).then((r) => r.status);

  test('a session used a moment ago is refused at once after signing out on this instance', async () => {
    const { server } = instances();
    const { token } = await server.signUp();
    assert.equal(await me(server, token), 200);
    assert.equal((await server.api('/v1/sessions/current', { method: 'DELETE', token })).status, 204);
    assert.equal(await me(server, token), 401);
    assert.equal((await server.api('/v1/access', { token, body: { products: ['article-42'] } })).body.error.code, 'unauthenticated');
  });

  test('a session that has expired is refused although it was just used', async () => {
    const { server } = instances();
    const { token } = await server.signUp();
    assert.equal(await me(server, token), 200);
    server.clock.advance(SESSION_LIFETIME_MS);
    assert.equal(await me(server, token), 401);
  });

  test(`another instance sees a sign-out within ${SESSION_CACHE_MS} ms`, async () => {
    const { server, other } = instances();
    const { token } = await server.signUp();
    assert.equal(await me(other, token), 200);
    assert.equal((await server.api('/v1/sessions/current', { method: 'DELETE', token })).status, 204);
    assert.equal(await me(server, token), 401);
    // The other instance read the session just now and trusts it until its entry is that old.
    assert.equal(await me(other, token), 200);
    server.clock.advance(SESSION_CACHE_MS);
    assert.equal(await me(other, token), 401);
  });
});
