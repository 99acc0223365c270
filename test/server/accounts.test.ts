import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databases, startTestServer, type TestServer } from './harness';

for (const database of databases) {
describe(`accounts and sessions on ${database.name}`, { skip: database.name === 'postgres' && !database.url ? 'DATABASE_URL is not set to a PostgreSQL URL' : false }, () => {
  let server: TestServer;
  before(async () => (server = await startTestServer({ db: database.name })));
  after(() => server?.close());

  test('sign-up creates a customer with the start credit and a working session', async () => {
    const { status, body } = await server.api('/v1/accounts', { body: { email: ' Reader@Example.com ', password: 'correct horse battery' } });
    assert.equal(status, 201);
    assert.equal(body.customer.email, 'reader@example.com');
    assert.deepEqual(body.wallet, { balance: 500, currency: 'EUR' });
    const me = await server.api('/v1/me', { token: body.token });
    assert.equal(me.status, 200);
    assert.deepEqual(me.body.wallet, { balance: 500, currency: 'EUR' });
    assert.equal(me.body.customer.id, body.customer.id);
  });

  test('the same email cannot sign up twice', async () => {
    await server.api('/v1/accounts', { body: { email: 'twice@example.com', password: 'correct horse battery' } });
    const again = await server.api('/v1/accounts', { body: { email: 'TWICE@example.com', password: 'another good one' } });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'email_taken');
  });

  test('weak passwords and invalid emails are refused and create nothing', async () => {
    const weak = await server.api('/v1/accounts', { body: { email: 'weak@example.com', password: 'short' } });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.error.code, 'weak_password');
    const common = await server.api('/v1/accounts', { body: { email: 'weak@example.com', password: 'password123' } });
    assert.equal(common.body.error.code, 'weak_password');
    const email = await server.api('/v1/accounts', { body: { email: 'not-an-email', password: 'correct horse battery' } });
    assert.equal(email.status, 400);
    assert.equal(email.body.error.code, 'invalid_email');
    const signIn = await server.api('/v1/sessions', { body: { email: 'weak@example.com', password: 'password123' } });
    assert.equal(signIn.body.error.code, 'invalid_credentials');
  });

  test('sign-in returns a new token; sign-out ends only that session', async () => {
    const { token: first } = await server.signUp('sessions@example.com');
    const signIn = await server.api('/v1/sessions', { body: { email: 'sessions@example.com', password: 'correct horse battery' } });
    assert.equal(signIn.status, 200);
    assert.notEqual(signIn.body.token, first);
    assert.equal(signIn.body.wallet.balance, 500);
    const out = await server.api('/v1/sessions/current', { method: 'DELETE', token: signIn.body.token });
    assert.equal(out.status, 204);
    assert.equal((await server.api('/v1/me', { token: signIn.body.token })).body.error.code, 'unauthenticated');
    assert.equal((await server.api('/v1/me', { token: first })).status, 200);
    assert.equal((await server.api('/v1/sessions/current', { method: 'DELETE' })).status, 401);
  });

  test('wrong passwords get invalid_credentials, and the fifth failure in 15 minutes locks the account', async () => {
    await server.signUp('locked@example.com');
    for (let i = 0; i < 5; i++) {
      const wrong = await server.api('/v1/sessions', { body: { email: 'locked@example.com', password: `wrong password ${i}` } });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error.code, 'invalid_credentials');
    }
    const locked = await server.api('/v1/sessions', { body: { email: 'locked@example.com', password: 'correct horse battery' } });
    assert.equal(locked.status, 423);
    assert.equal(locked.body.error.code, 'account_locked');
    server.clock.advance(15 * 60 * 1000 + 1);
    const later = await server.api('/v1/sessions', { body: { email: 'locked@example.com', password: 'correct horse battery' } });
    assert.equal(later.status, 200);
  });

  test('unknown emails answer exactly like wrong passwords', async () => {
    const unknown = await server.api('/v1/sessions', { body: { email: 'nobody@example.com', password: 'correct horse battery' } });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.error.code, 'invalid_credentials');
  });

  test('an unknown or expired bearer token is a 401 on every endpoint that reads it', async () => {
    const me = await server.api('/v1/me', { token: 'pws_not-a-real-token' });
    assert.equal(me.status, 401);
    assert.equal(me.body.error.code, 'unauthenticated');
    const { token } = await server.signUp();
    server.clock.advance(91 * 24 * 3600 * 1000);
    assert.equal((await server.api('/v1/me', { token })).status, 401);
  });
});
}
