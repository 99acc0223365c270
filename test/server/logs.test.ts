import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import WebSocket from 'ws';
import { createLogger } from '../../server/server';
import { idempotencyKey, startTestServer, type TestServer } from './harness';

const PASSWORD = 'Unguessable-Passphrase-7319';
const CARD = { number: '4000056655665556', expMonth: 12, expYear: 2030, cvc: '987' };
const SANDBOX_CARD = { ...CARD, number: '4242424242424242' };
const BOGUS_TOKEN = 'pws_bogus-but-secret-looking-token-0123456789';

/** Every line the server logs, kept in memory. */
class Capture extends Writable {
  readonly lines: string[] = [];
  #partial = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    const text = this.#partial + chunk.toString('utf8');
    const parts = text.split('\n');
    this.#partial = parts.pop()!;
    this.lines.push(...parts.filter(Boolean));
    done();
  }
}

describe('logs never carry secrets', () => {
  let server: TestServer;
  const capture = new Capture();
  const secrets: Record<string, string> = { password: PASSWORD, 'card number': CARD.number, 'sandbox card number': SANDBOX_CARD.number, 'bogus token': BOGUS_TOKEN };

  before(async () => {
    // The production logger (with its redaction), at the most verbose level, writing to memory.
    server = await startTestServer({ logger: createLogger('trace', capture) });
  });
  after(() => server.close());

  const socket = async (url: string, headers: Record<string, string> = {}) => {
    const ws = new WebSocket(url, { headers });
    ws.on('error', () => {});
    const first = await Promise.race([once(ws, 'message').then(() => 'message'), once(ws, 'close').then(([code]) => `close ${code}`)]);
    if (ws.readyState === WebSocket.OPEN) {
      // An oversized frame makes the server log a socket error for this connection.
      ws.send('x'.repeat(4096));
      await once(ws, 'close');
    }
    return first;
  };

  test('sign-up, sign-in, top-ups, sockets, 4xx and 500 answers leave no token, password or card number in the log', async () => {
    const email = 'logs@example.com';
    const signUp = await server.api('/v1/accounts', { body: { email, password: PASSWORD } });
    assert.equal(signUp.status, 201);
    secrets['sign-up token'] = signUp.body.token;
    const signIn = await server.api('/v1/sessions', { body: { email, password: PASSWORD } });
    assert.equal(signIn.status, 200);
    const token: string = signIn.body.token;
    secrets['sign-in token'] = token;

    // Top-ups: accepted, declined by the card's bank, refused as invalid.
    const topUp = (card: object, extra: Record<string, unknown> = {}) =>
      server.api('/v1/top-ups', { token, headers: { origin: server.url }, body: { amount: 1000, currency: 'EUR', card, idempotencyKey: idempotencyKey(), ...extra } });
    assert.equal((await topUp(SANDBOX_CARD)).status, 200);
    assert.equal((await topUp(CARD)).status, 402);
    assert.equal((await topUp({ ...CARD, cvc: 'x' })).status, 400);
    assert.equal((await topUp(CARD, { note: PASSWORD })).status, 400);

    // Sockets: a token in the query, in the header, a bad one; and a plain GET with the token in the query.
    const wsUrl = `${server.url.replace(/^http/, 'ws')}/v1/notifications`;
    assert.equal(await socket(`${wsUrl}?token=${encodeURIComponent(token)}`), 'message');
    assert.equal(await socket(wsUrl, { authorization: `Bearer ${signUp.body.token}` }), 'message');
    assert.equal(await socket(`${wsUrl}?token=${BOGUS_TOKEN}`), 'close 4401');
    assert.equal(await socket(`${wsUrl}?token=${token}`, { origin: 'https://evil.example' }), 'close 4403');
    assert.equal((await server.api(`/v1/notifications?token=${token}`)).status, 404);
    assert.equal((await server.api(`/v1/catalog?token=${token}&password=${PASSWORD}`)).status, 200);

    // 4xx answers that carry secrets in the request.
    assert.equal((await server.api('/v1/sessions', { body: { email, password: `${PASSWORD}-wrong` } })).status, 401);
    assert.equal((await server.api('/v1/me', { token: BOGUS_TOKEN })).status, 401);
    assert.equal((await server.api('/v1/purchases', { token: BOGUS_TOKEN, body: { product: 'article-42', idempotencyKey: idempotencyKey() } })).status, 401);
    assert.equal((await server.api('/v1/accounts', { body: `{"email":"${email}","password":"${PASSWORD}"` })).status, 400);

    // 500s in the middle of requests that carry a card and a password: the store fails.
    const { db } = server.database;
    await sql`ALTER TABLE top_ups RENAME TO top_ups_away`.execute(db);
    await sql`ALTER TABLE sign_in_failures RENAME TO sign_in_failures_away`.execute(db);
    try {
      const failed = await topUp(SANDBOX_CARD);
      assert.equal(failed.status, 500);
      assert.equal(failed.body.error.code, 'internal_error');
      const failedSignIn = await server.api('/v1/sessions', { body: { email, password: `${PASSWORD}-again` } });
      assert.equal(failedSignIn.status, 500);
    } finally {
      await sql`ALTER TABLE top_ups_away RENAME TO top_ups`.execute(db);
      await sql`ALTER TABLE sign_in_failures_away RENAME TO sign_in_failures`.execute(db);
    }
    assert.equal((await server.api('/v1/me', { token })).status, 200);

    // The log did record all of this (so the check below is not vacuous) ...
    const entries = capture.lines.map((line) => JSON.parse(line) as Record<string, any>);
    const requests = entries.filter((e) => e.msg === 'request');
    assert.ok(requests.some((e) => e.path === '/v1/top-ups' && e.status === 200));
    assert.ok(requests.some((e) => e.path === '/v1/top-ups' && e.status === 500));
    assert.ok(requests.some((e) => e.path === '/v1/sessions' && e.status === 401));
    assert.ok(entries.some((e) => e.msg === 'unhandled error' && e.level >= 50 && /top_ups/.test(JSON.stringify(e.err))));
    assert.ok(entries.some((e) => e.msg === 'notification socket error'));
    // ... and no line carries a secret, whole or URL-encoded.
    for (const line of capture.lines) {
      for (const [what, secret] of Object.entries(secrets)) {
        assert.ok(!line.includes(secret) && !line.includes(encodeURIComponent(secret)), `a log line carries the ${what}: ${line}`);
      }
      assert.doesNotMatch(line, /Bearer\s/i, `a log line carries an Authorization header: ${line}`);
      assert.doesNotMatch(line, /[?&]token=/, `a log line carries a query string: ${line}`);
    }
  });

  test('fields named like secrets are censored wherever the server logs them', () => {
    const before = capture.lines.length;
    server.services.logger.info({ token: 'T-1-secret', password: 'P-1-secret', authorization: 'Bearer A-1-secret', card: { number: 'C-1-secret' } }, 'top level');
    server.services.logger.info({ request: { token: 'T-2-secret', password: 'P-2-secret', card: { number: 'C-2-secret', cvc: 'V-2-secret' } } }, 'nested');
    server.services.logger.child({ customer: 'cus_1' }).warn({ session: { token: 'T-3-secret' } }, 'child');
    const written = capture.lines.slice(before);
    assert.equal(written.length, 3);
    for (const line of written) assert.doesNotMatch(line, /-secret/, line);
  });
});
