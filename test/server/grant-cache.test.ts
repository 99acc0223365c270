import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GRANT_CACHE_MS } from '../../server/domain/entitlements';
import { describeOnTwoInstances, idempotencyKey, type TestServer } from './harness';

describeOnTwoInstances('remembered grants', (instances) => {
  const granted = async (on: TestServer, token: string, product = 'article-42') =>
    (await on.api('/v1/access', { token, body: { products: [product] } })).body.access[0].granted as boolean;
  const buy = async (token: string, product = 'article-42') =>
    assert.equal((await instances().server.api('/v1/purchases', { token, body: { product, idempotencyKey: idempotencyKey() } })).status, 200);
  const takeBack = (customerId: string, product = 'article-42', { server } = instances()) =>
    server.services.entitlements.setExpiry(server.database.db, customerId, product, server.clock.now().getTime());

  test('a purchase on one instance opens the content on another at once (no answer "not granted" is remembered)', async () => {
    const { server, other } = instances();
    const { token } = await server.signUp();
    assert.equal(await granted(other, token), false);
    await buy(token);
    assert.equal(await granted(other, token), true);
    assert.equal((await other.api('/v1/content/article-42', { token })).status, 200);
  });

  test('a grant taken back on this instance is refused at once, although it was just read', async () => {
    const { server } = instances();
    const { token, customerId } = await server.signUp();
    await buy(token);
    assert.equal(await granted(server, token), true);
    await takeBack(customerId);
    assert.equal(await granted(server, token), false);
    assert.equal((await server.api('/v1/content/article-42', { token })).status, 402);
  });

  test(`another instance sees a grant taken back within ${GRANT_CACHE_MS} ms`, async () => {
    const { server, other } = instances();
    const { token, customerId } = await server.signUp();
    await buy(token);
    assert.equal(await granted(other, token), true);
    await takeBack(customerId);
    assert.equal(await granted(server, token), false);
    // The other instance read the grant just now and believes it until its entry is that old.
    assert.equal(await granted(other, token), true);
    server.clock.advance(GRANT_CACHE_MS);
    assert.equal(await granted(other, token), false);
    assert.equal((await other.api('/v1/content/article-42', { token })).status, 402);
  });

  test('an answer from remembered grants carries the cursor read with them, so a page resuming after it hears what they miss', async () => {
    const { server, other } = instances();
    const { token } = await server.signUp();
    await buy(token);
    const read = (on: TestServer, products: string[]) => on.api('/v1/access', { token, body: { products } });
    const first = (await read(other, ['article-42'])).body.notificationCursor as number;
    await buy(token, 'article-43');
    const fresh = (await read(server, ['article-43'])).body.notificationCursor as number;
    assert.ok(fresh > first, `${fresh} > ${first}`);
    // The other instance answers article-42 from what it read before the second purchase.
    assert.equal((await read(other, ['article-42'])).body.notificationCursor, first);
    assert.equal((await read(other, ['article-42', 'article-43'])).body.notificationCursor, first);
    server.clock.advance(GRANT_CACHE_MS);
    assert.equal((await read(other, ['article-42'])).body.notificationCursor, fresh);
  });

  test('a remembered grant ends when the access does', async () => {
    const { server } = instances();
    const { token } = await server.signUp();
    await buy(token);
    assert.equal(await granted(server, token), true);
    server.clock.advance(3600_000);
    assert.equal(await granted(server, token), false);
  });
});
