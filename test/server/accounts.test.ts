import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databases, describeOnTwoInstances, startTestServer, type TestServer } from './harness';

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

describeOnTwoInstances('the sign-in limit', (instances) => {
  const signIn = (instance: TestServer, email: string, password: string) => instance.api('/v1/sessions', { body: { email, password } });
  /** Sign-ins sent all at once, alternating between the two instances; their statuses counted. */
  const burst = async (email: string, passwords: string[]) => {
    const { server, other } = instances();
    const answers = await Promise.all(passwords.map((password, i) => signIn(i % 2 ? other : server, email, password)));
    const statuses: Record<number, number> = {};
    for (const { status } of answers) statuses[status] = (statuses[status] ?? 0) + 1;
    return statuses;
  };

  test('fifty wrong passwords at once over two instances get five password checks; the right one is then locked out for 15 minutes', async () => {
    const { server, other } = instances();
    await server.signUp('burst@example.com');
    const statuses = await burst('burst@example.com', Array.from({ length: 50 }, (_, i) => `wrong password ${i}`));
    assert.deepEqual(statuses, { 401: 5, 423: 45 });
    for (const instance of [server, other]) {
      const locked = await signIn(instance, 'burst@example.com', 'correct horse battery');
      assert.equal(locked.status, 423);
      assert.equal(locked.body.error.code, 'account_locked');
    }
    server.clock.advance(15 * 60 * 1000 + 1);
    assert.equal((await signIn(other, 'burst@example.com', 'correct horse battery')).status, 200);
  });

  test('a right password does not reset the count of wrong ones, alone or inside a burst', async () => {
    const { server, other } = instances();
    await server.signUp('one-by-one@example.com');
    for (let i = 0; i < 4; i++) assert.equal((await signIn(server, 'one-by-one@example.com', `wrong password ${i}`)).status, 401);
    assert.equal((await signIn(other, 'one-by-one@example.com', 'correct horse battery')).status, 200);
    assert.equal((await signIn(server, 'one-by-one@example.com', 'wrong password 4')).status, 401);
    assert.equal((await signIn(other, 'one-by-one@example.com', 'wrong password 5')).status, 423);
    assert.equal((await signIn(server, 'one-by-one@example.com', 'correct horse battery')).status, 423);

    await server.signUp('mixed-burst@example.com');
    const passwords = Array.from({ length: 40 }, (_, i) => `wrong password ${i}`);
    passwords.splice(20, 0, 'correct horse battery');
    const statuses = await burst('mixed-burst@example.com', passwords);
    assert.ok((statuses[200] ?? 0) <= 1 && (statuses[401] ?? 0) <= 5, JSON.stringify(statuses));
    // Whatever the right one got, five wrong passwords in all get checked, then the account is locked.
    let wrong = statuses[401] ?? 0;
    for (let i = 0; i < 6 && (await signIn(server, 'mixed-burst@example.com', `late wrong password ${i}`)).status === 401; i++) wrong++;
    assert.equal(wrong, 5, JSON.stringify(statuses));
    assert.equal((await signIn(other, 'mixed-burst@example.com', 'correct horse battery')).status, 423);
  });
});
