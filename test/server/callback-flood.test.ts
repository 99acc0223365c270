import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { MAX_CALLBACK_BYTES } from '../../server/http/read-callback';
import { REJECTED_FIELD_CHARS } from '../../server/domain/callback-log';
import { startTestServer, testConfigFile, type TestServer } from './harness';

/**
 * Anyone can call /callbacks/*: what such traffic may cost is bounded. A flood from one address is
 * answered 429 past the limit before anything is read or stored, what is stored of a rejected
 * callback is cut, and rejected callbacks expire while applied ones stay.
 */
const PER_MINUTE = 200;
const DAY = 86_400_000;

describe('anonymous callback traffic is bounded (SQLite)', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer({ config: { ...testConfigFile(), callbacks: { perMinute: PER_MINUTE, rejectedRetentionDays: 30 } } })));
  after(() => server?.close());

  const rows = async () => (await server.database.db.selectFrom('provider_callbacks').select(['outcome', 'body', 'received_at']).execute());
  const databaseBytes = async () => {
    const [pages] = (await sql<{ page_count: number }>`PRAGMA page_count`.execute(server.database.db)).rows;
    const [size] = (await sql<{ page_size: number }>`PRAGMA page_size`.execute(server.database.db)).rows;
    return pages!.page_count * size!.page_size;
  };
  const flood = async (count: number) => {
    const body = `x=${'a'.repeat(MAX_CALLBACK_BYTES - 100)}`;
    const statuses: number[] = [];
    for (let sent = 0; sent < count; sent += 20) {
      const batch = Array.from({ length: Math.min(20, count - sent) }, () => fetch(`${server.url}/callbacks/sandbox`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }).then(async (r) => (await r.arrayBuffer(), r)));
      for (const answer of await Promise.all(batch)) statuses.push(answer.status);
    }
    return statuses;
  };

  test('1,000 bad 16 kB callbacks from one address: 429 past the limit, nothing written for those, the database grows by under 1 MB', async () => {
    const before = await databaseBytes();
    const statuses = await flood(1000);
    assert.equal(statuses.filter((s) => s === 400).length, PER_MINUTE, 'refused by the sandbox, and recorded');
    assert.equal(statuses.filter((s) => s === 429).length, 1000 - PER_MINUTE, 'over the limit');
    const stored = await rows();
    assert.equal(stored.length, PER_MINUTE);
    assert.ok(stored.every((row) => row.outcome === 'rejected' && row.body!.length <= REJECTED_FIELD_CHARS + 10), 'each body cut');
    const grown = (await databaseBytes()) - before;
    assert.ok(grown < 1024 * 1024, `the database grew by ${grown} bytes`);

    const limited = await fetch(`${server.url}/callbacks/sandbox`);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    server.clock.advance(60_000);
    assert.equal((await fetch(`${server.url}/callbacks/sandbox`)).status, 400, 'a new minute, a new allowance');
  });

  test('rejected callbacks expire after the retention; applied ones are kept', async () => {
    const t0 = server.clock.now().getTime();
    await server.services.callbackLog.record({ provider: 'sandbox', method: 'POST', query: '', body: 'sale=1', remote_address: '127.0.0.1', outcome: 'applied', detail: 'payment' });
    server.clock.advance(30 * DAY + 61_000);
    assert.equal((await fetch(`${server.url}/callbacks/sandbox?late=1`)).status, 400);
    const left = await rows();
    assert.deepEqual(left.map((row) => row.outcome).sort(), ['applied', 'rejected'], 'the old rejected ones are gone, the new one and the applied one stay');
    assert.ok(left.find((row) => row.outcome === 'applied')!.received_at >= t0);
  });
});
