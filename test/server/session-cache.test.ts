import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SESSION_CACHE_MS } from '../../server/domain/accounts';
import { databases, startTestServer, type TestServer } from './harness';

const SESSION_LIFETIME_MS = 90 * 24 * 3600 * 1000;

for (const database of databases) {
describe(`remembered sessions on ${database.name}`, { skip: database.name === 'postgres' && !database.url ? 'DATABASE_URL is not set to a PostgreSQL URL' : false }, () => {
  let server: TestServer;
  let other: TestServer;
  before(async () => {
    server = await startTestServer({ db: database.name });
    other = await startTestServer({ sameDatabaseAs: server, clock: server.clock });
  });
  after(async () => {
    await other?.close();
    await server?.close();
  });

  const me = (on: TestServer, token: string) => on.api('/v1/me', { token }).then((r) => r.status);

  test('a session used a moment ago is refused at once after signing out on this instance', async () => {
    const { token } = await server.signUp();
    assert.equal(await me(server, token), 200);
    assert.equal((await server.api('/v1/sessions/current', { method: 'DELETE', token })).status, 204);
    assert.equal(await me(server, token), 401);
    assert.equal((await server.api('/v1/access', { token, body: { products: ['article-42'] } })).body.error.code, 'unauthenticated');
  });

  test('a session that has expired is refused although it was just used', async () => {
    const { token } = await server.signUp();
    assert.equal(await me(server, token), 200);
    server.clock.advance(SESSION_LIFETIME_MS);
    assert.equal(await me(server, token), 401);
  });

  test(`another instance sees a sign-out within ${SESSION_CACHE_MS} ms`, async () => {
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
}
