import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import * as z from 'zod/mini';
import WebSocket from 'ws';
import {
  NOTIFICATION_BATCH_PARAM, NOTIFICATION_CLOSE_SUPERSEDED, NOTIFICATION_CLOSE_TOO_SLOW, NOTIFICATION_CLOSE_UNAUTHORIZED, Notification, WalletBalanceChangedResource, AccessGrantedResource,
} from '../../src/protocol';
import { writeTransaction } from '../../server/domain/write-transaction';
import type { PendingNotification, WrittenNotification } from '../../server/notifications/notification-store';
import { SEND_BUFFER_LIMIT_BYTES } from '../../server/routes/notification-sockets';
import { MERCHANT, databases, idempotencyKey, startTestServer, type TestServer } from './harness';

const CARD = { number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' };

/** A notification socket as a client sees it: every message parsed with the contract schema. */
interface Client {
  ws: WebSocket;
  messages: Notification[];
  /** How many notifications each WebSocket message carried (a `batch=1` backlog comes as arrays). */
  frames: number[];
  /** Resolves once a message with this id (or a later one) has arrived. */
  until(id: number): Promise<Notification[]>;
  /** Resolves once `count` messages have arrived. */
  count(count: number): Promise<Notification[]>;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

function connect(server: TestServer, options: { token?: string; header?: string; after?: number; origin?: string; batch?: boolean } = {}): Client {
  const url = new URL('/v1/notifications', server.url.replace(/^http/, 'ws'));
  if (options.token !== undefined) url.searchParams.set('token', options.token);
  if (options.batch) url.searchParams.set(NOTIFICATION_BATCH_PARAM, '1');
  if (options.after !== undefined) url.searchParams.set('after', String(options.after));
  const headers: Record<string, string> = {};
  if (options.header) headers.authorization = `Bearer ${options.header}`;
  if (options.origin) headers.origin = options.origin;
  const ws = new WebSocket(url, { headers });
  const messages: Notification[] = [];
  const frames: number[] = [];
  const waiters = new Set<() => void>();
  let failure: Error | null = null;
  ws.on('message', (data) => {
    try {
      const json: unknown = JSON.parse(String(data));
      const notifications = options.batch && Array.isArray(json) ? z.parse(z.array(Notification), json) : [z.parse(Notification, json)];
      messages.push(...notifications);
      frames.push(notifications.length);
    } catch (error) {
      failure = error as Error;
    }
    for (const check of waiters) check();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => {
    resolve({ code, reason: String(reason) });
    for (const check of waiters) check();
  }));
  ws.on('error', () => {});
  const waitFor = (done: () => boolean, what: string) =>
    new Promise<Notification[]>((resolve, reject) => {
      const check = () => {
        if (failure) reject(failure);
        else if (done()) resolve([...messages]);
        else if (ws.readyState === WebSocket.CLOSED) reject(new Error(`socket closed while waiting for ${what}; got ${JSON.stringify(messages)}`));
        else return;
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return {
    ws,
    messages,
    frames,
    closed,
    until: (id) => waitFor(() => messages.some((m) => m.id >= id), `id ${id}`),
    count: (count) => waitFor(() => messages.length >= count, `${count} messages`),
    async close() {
      if (ws.readyState !== WebSocket.CLOSED) {
        ws.close();
        await closed;
      }
    },
  };
}

/** Settles like `promise`, or fails after `ms` (a generous bound: what it waits for happens at once unless broken). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Counts the bus subscriptions (one a served socket) the server holds for one customer, until `restore()`. */
function countSubscriptions(server: TestServer, customerId: string) {
  const { bus } = server.services;
  const subscribe = bus.subscribe;
  const counter = { live: 0, restore: () => void (bus.subscribe = subscribe) };
  bus.subscribe = (id, listener) => {
    const unsubscribe = subscribe.call(bus, id, listener);
    if (id === customerId) counter.live++;
    return () => {
      unsubscribe();
      if (id === customerId) counter.live--;
    };
  };
  return counter;
}

function assertIncreasing(messages: Notification[]) {
  for (let i = 1; i < messages.length; i++) assert.ok(messages[i]!.id > messages[i - 1]!.id, `ids increase: ${messages.map((m) => m.id).join(', ')}`);
}

for (const database of databases) describe(`notifications over WebSocket on ${database.name}`, { skip: database.name === 'postgres' && !database.url ? 'DATABASE_URL is not set to a PostgreSQL URL' : false }, () => {
  let server: TestServer;
  const products = Array.from({ length: 40 }, (_, i) => ({ id: `item-${i}`, title: `Item ${i}`, price: 1, currency: 'EUR', validity: 3600 }));
  before(async () => {
    server = await startTestServer({
      db: database.name,
      config: {
        // The burst test below holds 15 sockets of one reader.
        notifications: { socketsPerReader: 16 },
        catalog: {
          products: [
            { id: 'article-42', title: 'Night trains', price: 49, currency: 'EUR', validity: 3600 },
            { id: 'article-43', title: 'The bakery', price: 99, currency: 'EUR', validity: 3600 },
            { id: 'article-44', title: 'Rivers', price: 25, currency: 'EUR', validity: 3600 },
            ...products,
          ],
        },
      },
    });
  });
  after(() => server.close());

  const purchase = async (token: string, product: string) => {
    const { status, body } = await server.api('/v1/purchases', { token, body: { product, idempotencyKey: idempotencyKey() } });
    assert.equal(status, 200, JSON.stringify(body));
    return body;
  };
  const topUp = async (token: string, amount: number) => {
    const { status, body } = await server.api('/v1/top-ups', { token, headers: { origin: server.url }, body: { amount, currency: 'EUR', card: CARD, idempotencyKey: idempotencyKey() } });
    assert.equal(status, 200, JSON.stringify(body));
    return body;
  };
  test('sign-up credit, then a purchase arrive live as wallet.balance.changed and access.granted', async () => {
    const { token } = await server.signUp();
    const client = connect(server, { token });
    const [credit] = await client.count(1);
    assert.equal(credit!.type, 'wallet.balance.changed');
    assert.deepEqual(z.parse(WalletBalanceChangedResource, credit!.resource), { balance: 500, currency: 'EUR', delta: 500, reason: 'start_credit' });

    const bought = await purchase(token, 'article-42');
    const messages = await client.count(3);
    assert.deepEqual(messages.slice(1).map((m) => m.type), ['wallet.balance.changed', 'access.granted']);
    assert.deepEqual(z.parse(WalletBalanceChangedResource, messages[1]!.resource), { balance: 451, currency: 'EUR', delta: -49, reason: 'purchase' });
    assert.deepEqual(z.parse(AccessGrantedResource, messages[2]!.resource), { product: 'article-42', expiresAt: bought.entitlement.expiresAt });

    // A top-up is the fence: once it arrives, nothing else was sent before it.
    await topUp(token, 1000);
    const fenced = await client.count(4);
    assert.equal(fenced[3]!.type, 'wallet.balance.changed');
    assert.deepEqual(z.parse(WalletBalanceChangedResource, fenced[3]!.resource), { balance: 1451, currency: 'EUR', delta: 1000, reason: 'top_up' });
    assertIncreasing(fenced);
    await client.close();
    assert.equal(client.messages.length, 4);
  });

  test("an access answer's notificationCursor is the reader's newest notification: a socket resuming after it gets only what came later", async () => {
    const anonymous = await server.api('/v1/access', { body: { products: ['article-42'] } });
    assert.equal(anonymous.body.notificationCursor, undefined);

    const { token } = await server.signUp();
    await purchase(token, 'article-42');
    const history = connect(server, { token });
    const [, , granted] = await history.count(3);
    await history.close();
    const { body } = await server.api('/v1/access', { token, body: { products: ['article-42', 'article-43'] } });
    assert.deepEqual(body.access.map((a: { granted: boolean }) => a.granted), [true, false]);
    assert.equal(body.notificationCursor, granted!.id);

    const client = connect(server, { token, after: body.notificationCursor, batch: true });
    await purchase(token, 'article-43');
    const later = await client.count(2);
    assert.deepEqual(later.map((m) => m.type), ['wallet.balance.changed', 'access.granted']);
    assert.ok(later.every((m) => m.id > body.notificationCursor));
    await client.close();
  });

  test('a reconnect with after=<last id> receives exactly the missed notifications, in order', async () => {
    const { token } = await server.signUp();
    const first = connect(server, { token });
    const [credit] = await first.count(1);
    await first.close();

    await purchase(token, 'article-42');
    await purchase(token, 'article-43');

    const again = connect(server, { header: token, after: credit!.id });
    const missed = await again.count(4);
    assert.deepEqual(missed.map((m) => [m.type, m.resource.product ?? m.resource.reason]), [
      ['wallet.balance.changed', 'purchase'],
      ['access.granted', 'article-42'],
      ['wallet.balance.changed', 'purchase'],
      ['access.granted', 'article-43'],
    ]);
    assert.equal(missed[2]!.resource.balance, 500 - 49 - 99);
    assert.ok(missed[0]!.id > credit!.id);
    assertIncreasing(missed);

    // Live after the backlog, and nothing from the backlog twice.
    await purchase(token, 'article-44');
    const all = await again.count(6);
    assert.deepEqual(all.slice(4).map((m) => m.type), ['wallet.balance.changed', 'access.granted']);
    assertIncreasing(all);
    await again.close();
    assert.equal(again.messages.length, 6);

    // Resuming from the newest id sends nothing old; the next change is the first message.
    const caughtUp = connect(server, { token, after: all[5]!.id });
    await once(caughtUp.ws, 'open');
    const { wallet } = await topUp(token, 100);
    const [next] = await caughtUp.count(1);
    assert.equal(next!.resource.balance, wallet.balance);
    assert.equal(next!.resource.reason, 'top_up');
    await caughtUp.close();
    assert.equal(caughtUp.messages.length, 1);
  });

  test('with batch=1 the backlog arrives as one array per page, in order, and live notifications one a message', async () => {
    const { token } = await server.signUp();
    for (const product of ['article-42', 'article-43', 'article-44']) await purchase(token, product);
    const batched = connect(server, { token, batch: true });
    const backlog = await batched.count(7);
    assert.deepEqual(batched.frames, [7]);
    assert.deepEqual(backlog.map((m) => m.resource.reason ?? m.resource.product), ['start_credit', 'purchase', 'article-42', 'purchase', 'article-43', 'purchase', 'article-44']);
    assertIncreasing(backlog);
    const resumed = connect(server, { token, batch: true, after: backlog[4]!.id });
    await resumed.count(2);
    assert.deepEqual(resumed.frames, [2]);
    assert.deepEqual(resumed.messages.map((m) => m.id), backlog.slice(5).map((m) => m.id));

    await topUp(token, 100);
    await batched.count(8);
    await resumed.count(3);
    assert.deepEqual(batched.frames, [7, 1]);
    assert.deepEqual(resumed.frames, [2, 1]);
    assert.equal(batched.messages[7]!.resource.reason, 'top_up');
    await batched.close();
    await resumed.close();
  });

  test('a customer never receives another customer\'s notifications', async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const aliceSocket = connect(server, { token: alice.token });
    const bobSocket = connect(server, { token: bob.token });
    await Promise.all([aliceSocket.count(1), bobSocket.count(1)]);

    await purchase(alice.token, 'article-42');
    await topUp(alice.token, 300);
    await aliceSocket.count(4);
    // Bob's own top-up fences his socket: anything of Alice's would have arrived before it.
    await topUp(bob.token, 700);
    const bobs = await bobSocket.count(2);
    assert.deepEqual(bobs.map((m) => m.resource.reason), ['start_credit', 'top_up']);
    assert.deepEqual(bobs.map((m) => m.resource.balance), [500, 1200]);

    // Nor in a backlog, whatever `after` says.
    const backlog = connect(server, { token: bob.token, after: 0 });
    const replay = await backlog.until(bobs[1]!.id);
    assert.deepEqual(replay.map((m) => m.id), bobs.map((m) => m.id));
    await Promise.all([aliceSocket.close(), bobSocket.close(), backlog.close()]);
    assert.equal(bobSocket.messages.length, 2);
    assert.ok(aliceSocket.messages.every((m) => !bobs.some((b) => b.id === m.id)));
  });

  test('a missing, unknown or signed-out token closes the socket with 4401', async () => {
    for (const options of [{}, { token: '' }, { token: 'pws_not-a-real-token' }, { header: 'pws_not-a-real-token' }, { token: 'x'.repeat(300) }]) {
      const client = connect(server, options);
      const { code } = await client.closed;
      assert.equal(code, NOTIFICATION_CLOSE_UNAUTHORIZED, JSON.stringify(options));
      assert.equal(client.messages.length, 0);
    }
    const { token } = await server.signUp();
    assert.equal((await server.api('/v1/sessions/current', { method: 'DELETE', token })).status, 204);
    const signedOut = connect(server, { token });
    assert.equal((await signedOut.closed).code, NOTIFICATION_CLOSE_UNAUTHORIZED);
    assert.equal(signedOut.messages.length, 0);
  });

  test("signing out closes that session's open sockets with 4401 at once; they receive nothing more, the reader's other sessions keep theirs", async () => {
    const email = `two-sessions-${idempotencyKey()}@example.com`;
    const { token } = await server.signUp(email);
    const other = await server.api('/v1/sessions', { body: { email, password: 'correct horse battery' } });
    assert.equal(other.status, 200);
    const [first, second, kept] = [connect(server, { token }), connect(server, { token, batch: true }), connect(server, { token: other.body.token })];
    await Promise.all([first.count(1), second.count(1), kept.count(1)]);

    assert.equal((await server.api('/v1/sessions/current', { method: 'DELETE', token })).status, 204);
    for (const signedOut of [first, second]) assert.equal((await within(signedOut.closed, 5000, 'the close')).code, NOTIFICATION_CLOSE_UNAUTHORIZED);

    await purchase(other.body.token, 'article-42');
    await kept.count(3);
    assert.equal(first.messages.length, 1);
    assert.equal(second.messages.length, 1);
    await kept.close();
  });

  test('a sign-out while a socket\'s token is being checked still closes that socket with 4401', async () => {
    const { token } = await server.signUp();
    const { accounts } = server.services;
    const authenticate = accounts.authenticate;
    let signedOut = false;
    // The socket's check reads the session just before the sign-out deletes it, and answers after.
    accounts.authenticate = async (value) => {
      const auth = await authenticate.call(accounts, value);
      if (value === token && !signedOut) {
        signedOut = true;
        assert.equal((await server.api('/v1/sessions/current', { method: 'DELETE', token })).status, 204);
      }
      return auth;
    };
    try {
      const client = connect(server, { token });
      assert.equal((await within(client.closed, 5000, 'the close')).code, NOTIFICATION_CLOSE_UNAUTHORIZED);
      assert.equal(client.messages.length, 0);
    } finally {
      accounts.authenticate = authenticate;
    }
  });

  test("a customer's sessions ending all at once (an account closed or locked) closes all of that reader's sockets with 4401", async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const [aliceSocket, bobSocket] = [connect(server, { token: alice.token }), connect(server, { token: bob.token })];
    await Promise.all([aliceSocket.count(1), bobSocket.count(1)]);
    server.services.sessionEvents.publish({ customerId: alice.customerId });
    assert.equal((await within(aliceSocket.closed, 5000, 'the close')).code, NOTIFICATION_CLOSE_UNAUTHORIZED);
    await purchase(bob.token, 'article-42');
    await bobSocket.count(3);
    await bobSocket.close();
  });

  test('a socket from an origin outside the allowlist is closed with 4403; allowed origins connect', async () => {
    const { token } = await server.signUp();
    const evil = connect(server, { token, origin: 'https://evil.example' });
    assert.equal((await evil.closed).code, 4403);
    assert.equal(evil.messages.length, 0);
    for (const origin of [MERCHANT, server.url]) {
      const client = connect(server, { token, origin });
      assert.equal((await client.count(1))[0]!.resource.reason, 'start_credit');
      await client.close();
    }
  });

  test("one socket more than a reader may hold closes that reader's oldest with 4429; the others, and other readers', stay", async () => {
    const limit = server.config.notifications.socketsPerReader;
    const { token } = await server.signUp();
    const other = connect(server, { token: (await server.signUp()).token });
    await other.count(1);
    const sockets: Client[] = [];
    for (let i = 0; i < limit; i++) {
      sockets.push(connect(server, { token }));
      await sockets.at(-1)!.count(1);
    }
    const newest = connect(server, { token });
    await newest.count(1);
    const oldest = sockets.shift()!;
    assert.deepEqual(await within(oldest.closed, 5000, 'the close'), { code: NOTIFICATION_CLOSE_SUPERSEDED, reason: 'too many sockets for this reader' });

    await purchase(token, 'article-42');
    for (const client of [...sockets, newest]) await client.count(3);
    // One that leaves frees its place.
    await sockets.shift()!.close();
    const another = connect(server, { token });
    await another.count(3);
    await purchase(token, 'article-43');
    for (const client of [...sockets, newest, another]) assert.equal((await client.count(5)).length, 5);
    assert.equal(oldest.messages.length, 1);
    assert.equal(other.ws.readyState, WebSocket.OPEN);
    await Promise.all([...sockets, newest, another, other].map((client) => client.close()));
  });

  test("a reader's oldest socket still closing when the reader opens one more is dropped at once, so a reader holds about the limit however fast sockets come", async () => {
    const limit = server.config.notifications.socketsPerReader;
    const { token, customerId } = await server.signUp();
    const subscriptions = countSubscriptions(server, customerId);
    try {
      const stalled = connect(server, { token });
      await stalled.count(1);
      // This client does not answer the close it is sent.
      (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const sockets: Client[] = [];
      for (let i = 0; i < limit + 1; i++) {
        sockets.push(connect(server, { token }));
        await sockets.at(-1)!.count(1);
      }
      assert.equal((await within(sockets[0]!.closed, 5000, 'the close')).code, NOTIFICATION_CLOSE_SUPERSEDED);
      await server.api('/v1/catalog');
      assert.equal(subscriptions.live, limit, 'the stalled socket is gone, not waiting for its client to answer');
      stalled.ws.terminate();
      await Promise.all(sockets.map((client) => client.close()));
    } finally {
      subscriptions.restore();
    }
  });

  test('a client that stops reading is closed with 4408 once its send buffer passes the bound, in its backlog or live, and nothing more is read or sent for it', async () => {
    const { notifications, logger } = server.services;
    // 16 MB: well over what the kernel's socket buffers on both ends hold (about 4 MB on loopback here) and the bound.
    const count = 4000;
    const padding = 'x'.repeat(4000);
    assert.ok(count * padding.length > 2 * (4_000_000 + SEND_BUFFER_LIMIT_BYTES));
    const write = async (customerId: string) => {
      const pending: PendingNotification[] = Array.from({ length: count }, () => ({ customerId, type: 'wallet.balance.changed', resource: { balance: 500, currency: 'EUR', delta: 0, reason: 'top_up', padding } }));
      notifications.publish(await writeTransaction(server.database, (trx) => notifications.append(trx, pending, server.clock.now())));
    };
    const listAfter = notifications.listAfter;
    const warn = logger.warn;
    for (const when of ['backlog', 'live'] as const) {
      const { token, customerId } = await server.signUp();
      let reads = 0;
      let closedAsSlow!: () => void;
      const serverClosed = new Promise<void>((resolve) => (closedAsSlow = resolve));
      notifications.listAfter = async (id, afterId, limit) => {
        if (id === customerId) reads++;
        return listAfter.call(notifications, id, afterId, limit);
      };
      logger.warn = ((...args: unknown[]) => {
        if ((args[0] as { customerId?: string }).customerId === customerId && String(args[1]).includes('reads too slowly')) closedAsSlow();
      }) as typeof logger.warn;
      try {
        if (when === 'backlog') await write(customerId);
        const client = connect(server, { token, batch: true });
        // The client's end of the connection stops reading, as a stalled tab's or an attacker's does.
        const stopReading = () => (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
        if (when === 'backlog') await once(client.ws, 'open');
        else await client.count(1);
        stopReading().pause();
        if (when === 'live') await write(customerId);
        await within(serverClosed, 30_000, `${when}: the server closing the socket`);
        stopReading().resume();
        const { code } = await within(client.closed, 30_000, `${when}: the close reaching the client`);
        assert.equal(code, NOTIFICATION_CLOSE_TOO_SLOW, when);
        assert.ok(client.messages.length < count, `${when}: ${client.messages.length} of ${count + 1} sent`);
        if (when === 'backlog') assert.ok(reads < count / 500, `the backlog read stopped: ${reads} pages read`);
      } finally {
        notifications.listAfter = listAfter;
        logger.warn = warn;
      }
    }
  });

  test('an unknown path on the socket port is refused', async () => {
    const ws = new WebSocket(server.url.replace(/^http/, 'ws') + '/v1/elsewhere');
    const [error] = (await once(ws, 'error')) as [Error];
    assert.match(error.message, /404/);
  });

  test('notifications committed while the backlog is read are delivered exactly once, with no gaps', async () => {
    const { token } = await server.signUp();
    const sockets: Client[] = [];
    const purchases: Array<Promise<unknown>> = [];
    // Purchases run while sockets connect and read their backlogs at every stage of the burst.
    for (const [index, product] of products.entries()) {
      purchases.push(purchase(token, product.id));
      if (index % 4 === 0) sockets.push(connect(server, { token }));
      if (index % 8 === 3) sockets.push(connect(server, { token, after: 1 }));
      if (index % 10 === 5) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(purchases);
    const fence = await topUp(token, 50);
    assert.equal(fence.wallet.balance, 500 - products.length + 50);
    const expected = await server.database.db.selectFrom('notifications').select('id').where('customer_id', '=', (await server.api('/v1/me', { token })).body.customer.id).orderBy('id').execute();
    const ids = expected.map((row) => Number(row.id));
    assert.equal(ids.length, 1 + 2 * products.length + 1);
    for (const socket of sockets) {
      const received = await socket.until(ids.at(-1)!);
      const after = Number(new URL(socket.ws.url).searchParams.get('after') ?? 0);
      assert.deepEqual(received.map((m) => m.id), ids.filter((id) => id > after));
      assertIncreasing(received);
      await socket.close();
    }
  });

  test('a publish that arrives after a later commit\'s is neither lost nor sent out of order, live or while the store is read', async () => {
    for (const when of ['live', 'reading'] as const) {
      const { token, customerId } = await server.signUp();
      const { notifications } = server.services;
      const { publish, listAfter } = notifications;
      let late: WrittenNotification[] | undefined;
      let purchasedBoth!: () => void;
      const purchased = new Promise<void>((resolve) => (purchasedBoth = resolve));
      // Two purchases whose commits complete in the other order (on PostgreSQL a commit on one
      // connection can complete after a later one on another): the first is published last.
      const purchaseTwiceOutOfOrder = async () => {
        notifications.publish = (written) => (late ? publish.call(notifications, written) : void (late = written));
        try {
          await purchase(token, 'article-42');
          await purchase(token, 'article-43');
        } finally {
          notifications.publish = publish;
        }
        purchasedBoth();
      };
      let reads = 0;
      // The read that finds nothing after the sign-up credit began before both commits; the second
      // purchase is published while it runs.
      if (when === 'reading') notifications.listAfter = async (id, afterId, limit) => {
        const page = await listAfter.call(notifications, id, afterId, limit);
        if (id === customerId && ++reads === 2) await purchaseTwiceOutOfOrder();
        return page;
      };
      try {
        const client = connect(server, { token });
        if (when === 'live') {
          await client.count(1);
          await purchaseTwiceOutOfOrder();
        }
        await purchased;
        const idsOf = async () => (await server.database.db.selectFrom('notifications').select('id').where('customer_id', '=', customerId).orderBy('id').execute()).map((row) => Number(row.id));
        await client.until((await idsOf()).at(-1)!);
        publish.call(notifications, late!);
        await topUp(token, 10);
        const stored = await idsOf();
        const received = await client.until(stored.at(-1)!);
        assert.deepEqual(received.map((m) => m.id), stored, `${when}: every stored notification once, in order`);
        assert.deepEqual(received.map((m) => m.resource.reason ?? m.resource.product), ['start_credit', 'purchase', 'article-42', 'purchase', 'article-43', 'top_up']);
        await client.close();
      } finally {
        notifications.listAfter = listAfter;
      }
    }
  });

  test('a notification committed just before or just after a backlog page is read is delivered once', async () => {
    for (const when of ['before', 'after'] as const) {
      const { token, customerId } = await server.signUp();
      await purchase(token, 'article-42');
      const { notifications } = server.services;
      const listAfter = notifications.listAfter;
      let injected = false;
      // While the socket reads its first backlog page, another purchase commits (and is published).
      notifications.listAfter = async (id, afterId, limit) => {
        if (id !== customerId || injected) return listAfter.call(notifications, id, afterId, limit);
        injected = true;
        if (when === 'before') await purchase(token, 'article-43');
        const page = await listAfter.call(notifications, id, afterId, limit);
        if (when === 'after') await purchase(token, 'article-43');
        return page;
      };
      try {
        const client = connect(server, { token });
        await client.count(5);
        const fence = await topUp(token, 10);
        const stored = await server.database.db.selectFrom('notifications').select('id').where('customer_id', '=', customerId).orderBy('id').execute();
        const received = await client.until(Number(stored.at(-1)!.id));
        assert.equal(received.at(-1)!.resource.balance, fence.wallet.balance);
        assert.deepEqual(received.map((m) => m.id), stored.map((row) => Number(row.id)), `${when}: every stored notification once, in order`);
        assert.deepEqual(received.map((m) => m.resource.reason ?? m.resource.product), ['start_credit', 'purchase', 'article-42', 'purchase', 'article-43', 'top_up']);
        await client.close();
      } finally {
        notifications.listAfter = listAfter;
      }
    }
  });

  test('a client that leaves before its backlog is sent does not keep the server reading', async () => {
    const { token, customerId } = await server.signUp();
    for (const product of products.slice(0, 10)) await purchase(token, product.id);
    const { notifications, bus } = server.services;
    const listAfter = notifications.listAfter;
    const subscribe = bus.subscribe;
    let left!: () => void;
    const serverSawClose = new Promise<void>((resolve) => (left = resolve));
    let subscribed!: () => void;
    const serverSubscribed = new Promise<void>((resolve) => (subscribed = resolve));
    const reads: number[] = [];
    // Hold the backlog read until the server has seen the client go, then count what follows.
    bus.subscribe = (id, listener) => {
      const unsubscribe = subscribe.call(bus, id, listener);
      if (id === customerId) subscribed();
      return () => {
        unsubscribe();
        if (id === customerId) left();
      };
    };
    notifications.listAfter = async (id, afterId, limit) => {
      if (id === customerId) {
        reads.push(afterId);
        await serverSawClose;
        // A runaway loop over an in-process database never yields to the event loop: stop it
        // here, so the test fails instead of freezing the server.
        if (reads.length > 3) throw new Error('runaway backlog loop');
      }
      return listAfter.call(notifications, id, afterId, limit);
    };
    try {
      const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/v1/notifications?token=${token}`);
      ws.on('error', () => {});
      // Leave once the server has accepted the token and is about to read the backlog.
      await Promise.all([once(ws, 'open'), serverSubscribed]);
      ws.terminate();
      await serverSawClose;
      // Each round trip through the (single, first-come-first-served) SQLite connection gives a
      // runaway backlog loop the chance to read again.
      for (let round = 0; round < 5; round++) {
        await server.database.db.selectFrom('customers').select('id').limit(1).execute();
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.deepEqual(reads, [0], 'the backlog is read once, and not again after the client left');
    } finally {
      notifications.listAfter = listAfter;
      bus.subscribe = subscribe;
    }
    // The server still serves sockets and HTTP.
    const client = connect(server, { token });
    assert.equal((await client.count(21)).length, 21);
    await client.close();
    assert.equal((await server.api('/v1/catalog')).status, 200);
  });

  test('an oversized frame closes only that socket, whatever state it is in, and the server keeps serving', async () => {
    const { token } = await server.signUp();
    const cases: Array<[Parameters<typeof connect>[1], number[]]> = [
      [{ token, origin: 'https://evil.example' }, [4403]],
      // The frame may arrive while the token is still being checked: then it is refused as too big first.
      [{ token: 'pws_not-a-real-token' }, [NOTIFICATION_CLOSE_UNAUTHORIZED, 1009]],
      // A signed-in socket either sees the frame before or after its backlog; it is closed as too big.
      [{ token }, [1009]],
    ];
    for (const [options, codes] of cases) {
      const client = connect(server, options);
      client.ws.once('open', () => client.ws.send('x'.repeat(4096)));
      const { code } = await client.closed;
      assert.ok(codes.includes(code), `${JSON.stringify(options)}: closed with ${code}`);
      assert.equal((await server.api('/v1/catalog')).status, 200);
    }
    const healthy = connect(server, { token });
    assert.equal((await healthy.count(1))[0]!.resource.reason, 'start_credit');
    await healthy.close();
  });

  test('a client that leaves while its token is checked leaves no subscription behind', async () => {
    const { token, customerId } = await server.signUp();
    const { accounts } = server.services;
    const authenticate = accounts.authenticate;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let checking!: () => void;
    const checkStarted = new Promise<void>((resolve) => (checking = resolve));
    accounts.authenticate = async (value) => {
      checking();
      await released;
      return authenticate.call(accounts, value);
    };
    const subscriptions = countSubscriptions(server, customerId);
    try {
      const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/v1/notifications?token=${token}`);
      ws.on('error', () => {});
      await Promise.all([once(ws, 'open'), checkStarted]);
      ws.terminate();
      await once(ws, 'close');
      // An HTTP round trip after the client's close lets the server take in that close first.
      await server.api('/v1/catalog');
      release();
      await server.api('/v1/catalog');
      assert.equal(subscriptions.live, 0, 'subscriptions left for a socket that is gone');
    } finally {
      release();
      accounts.authenticate = authenticate;
      subscriptions.restore();
    }
  });
});
