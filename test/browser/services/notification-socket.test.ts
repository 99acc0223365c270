import { expect } from '@open-wc/testing';
import type { WebSocketClientConnectionProtocol } from '@mswjs/interceptors/WebSocket';
import type { Notification } from '../../../src/protocol';
import { NotificationSocket } from '../../../src/services/notification-socket';
import { SessionStore } from '../../../src/services/session-store';
import { BACKEND, notificationsLink, sleep, until, useMockServiceWorker, worker } from '../helpers/mock-backend';

const TOKEN = 'notifications-token';

function note(id: number, balance = id): string {
  return JSON.stringify({ id, type: 'wallet.balance.changed', createdAt: new Date().toISOString(), resource: { balance, currency: 'EUR', delta: -1, reason: 'purchase' } });
}

/** Every connection the mock notification server accepted, with the URL it was opened with. */
function serve(onConnect: (socket: WebSocketClientConnectionProtocol, index: number) => void = () => undefined) {
  const connections: { url: URL; at: number; socket: WebSocketClientConnectionProtocol }[] = [];
  worker.use(notificationsLink.addEventListener('connection', ({ client }) => {
    connections.push({ url: new URL(client.url), at: performance.now(), socket: client });
    onConnect(client, connections.length - 1);
  }));
  return connections;
}

describe('NotificationSocket', () => {
  useMockServiceWorker();
  let session: SessionStore;
  const sockets: NotificationSocket[] = [];
  const stops: (() => void)[] = [];

  function socket(options: ConstructorParameters<typeof NotificationSocket>[2] = {}) {
    const created = new NotificationSocket(BACKEND, session, { minDelay: 10, maxDelay: 40, ...options });
    sockets.push(created);
    return created;
  }
  function listen(target: NotificationSocket, into: Notification[] = []) {
    stops.push(target.subscribe((n) => into.push(n)));
    return into;
  }

  beforeEach(() => {
    session = new SessionStore(BACKEND, 'memory');
  });
  afterEach(() => {
    for (const stop of stops.splice(0)) stop();
    sockets.length = 0;
  });

  it('opens one socket for all subscribers, only when signed in, and closes it with the last one', async () => {
    const connections = serve((client) => client.send(note(1)));
    const notifications = socket();
    const first = notifications.subscribe(() => undefined);
    const second = notifications.subscribe(() => undefined);
    await sleep(50);
    expect(connections).to.have.length(0);

    session.set(TOKEN);
    await until(() => notifications.connected, 2000, 'the socket to open');
    const third = notifications.subscribe(() => undefined);
    await sleep(50);
    expect(connections).to.have.length(1);
    expect(connections[0]!.url.searchParams.get('token')).to.equal(TOKEN);
    expect(connections[0]!.url.pathname).to.equal('/v1/notifications');

    first();
    second();
    expect(notifications.connected).to.equal(true);
    third();
    await until(() => !notifications.connected, 2000, 'the socket to close');
    await sleep(50);
    expect(connections).to.have.length(1);
  });

  it('reconnects after a drop and resumes after the last id, handling each id once', async () => {
    session.set(TOKEN);
    const connections = serve((client, index) => {
      if (index === 0) {
        client.send(note(1));
        client.send(note(2));
        client.send(note(2)); // delivered twice
        setTimeout(() => client.close(1011, 'going away'), 20);
      } else {
        // The server resends what it is unsure the client saw.
        client.send(note(2));
        client.send(note(3));
      }
    });
    const received = listen(socket());
    await until(() => received.length === 3, 3000, 'three notifications');
    await sleep(50);
    expect(received.map((n) => n.id)).to.deep.equal([1, 2, 3]);
    expect(connections).to.have.length(2);
    expect(connections[0]!.url.searchParams.has('after')).to.equal(false);
    expect(connections[1]!.url.searchParams.get('after')).to.equal('2');
  });

  it('asks for its backlog in batches and handles each notification of an array once, in order', async () => {
    session.set(TOKEN);
    const connections = serve((client) => {
      client.send(`[${[note(1), note(2), 'null', note(2), note(3)].join(',')}]`);
      client.send(note(4));
    });
    const received = listen(socket());
    await until(() => received.length === 4, 3000, 'four notifications');
    await sleep(50);
    expect(received.map((n) => n.id)).to.deep.equal([1, 2, 3, 4]);
    expect(connections[0]!.url.searchParams.get('batch')).to.equal('1');
  });

  it('ignores messages that are not notifications', async () => {
    session.set(TOKEN);
    serve((client) => {
      client.send('not json');
      client.send(JSON.stringify({ id: 5, type: 'made.up', createdAt: new Date().toISOString(), resource: {} }));
      client.send(note(6));
    });
    const received = listen(socket());
    await until(() => received.length === 1, 2000, 'the valid notification');
    expect(received[0]!.id).to.equal(6);
  });

  it('backs off between failed attempts, with jitter', async () => {
    session.set(TOKEN);
    const connections = serve((client) => client.close(1011, 'unavailable'));
    listen(socket({ minDelay: 20, maxDelay: 160, random: () => 0.5 }));
    await until(() => connections.length >= 5, 3000, 'five attempts');
    const gaps = connections.slice(1, 5).map((c, i) => c.at - connections[i]!.at);
    // Ceilings 20, 40, 80, 160 ms; with random 0.5 each wait is three quarters of its ceiling.
    expect(gaps[0]).to.be.within(10, 60);
    expect(gaps[3]!).to.be.greaterThan(gaps[0]! * 3);
    expect(gaps[3]).to.be.within(100, 250);
  });

  it('clears the session on close code 4401 and does not retry', async () => {
    session.set(TOKEN);
    const connections = serve((client) => client.close(4401, 'unauthorized'));
    const notifications = socket();
    listen(notifications);
    await until(() => !session.signedIn, 2000, 'the session to be cleared');
    await sleep(150);
    expect(connections).to.have.length(1);
    expect(notifications.connected).to.equal(false);
  });

  it('replaced by a newer socket of the reader (4429), reconnects only once the page is focused or shown again, after the last id', async () => {
    session.set(TOKEN);
    const connections = serve((client, index) => {
      client.send(note(index + 1));
      if (index < 2) setTimeout(() => client.close(4429, 'too many sockets for this reader'), 20);
    });
    const notifications = socket();
    const received = listen(notifications);
    await until(() => connections.length === 1 && !notifications.connected && received.length === 1, 2000, 'the first socket to be replaced');
    // Many backoff periods (10–40 ms): another tab's socket is not replaced in turn.
    await sleep(300);
    expect(connections).to.have.length(1);
    expect(session.signedIn).to.equal(true);

    window.dispatchEvent(new Event('focus'));
    await until(() => connections.length === 2, 2000, 'the reconnect on focus');
    expect(connections[1]!.url.searchParams.get('after')).to.equal('1');
    await until(() => received.length === 2 && !notifications.connected, 2000, 'the second socket to be replaced');
    await sleep(300);
    expect(connections).to.have.length(2);

    document.dispatchEvent(new Event('visibilitychange'));
    await until(() => notifications.connected && received.length === 3, 2000, 'the reconnect when shown');
    expect(connections[2]!.url.searchParams.get('after')).to.equal('2');
  });

  it('closed for reading too slowly (4408), reconnects with backoff and resumes after the last id', async () => {
    session.set(TOKEN);
    const connections = serve((client, index) => {
      client.send(note(index + 1));
      if (index === 0) setTimeout(() => client.close(4408, 'reading too slowly'), 20);
    });
    const received = listen(socket());
    await until(() => connections.length === 2 && received.length === 2, 2000, 'the reconnect');
    expect(connections[1]!.url.searchParams.get('after')).to.equal('1');
  });

  it('waits for a promised id before a first connection, starts after the lowest id, and hands each subscriber only ids after its own', async () => {
    session.set(TOKEN);
    const connections = serve((client, index) => {
      if (index === 0) {
        for (const id of [4, 5, 6]) client.send(note(id));
        setTimeout(() => client.close(1011, 'going away'), 20);
      }
    });
    const notifications = socket();
    let answer!: (id: number) => void;
    const promised: Notification[] = [];
    const bounded: Notification[] = [];
    stops.push(notifications.subscribe((n) => promised.push(n), { after: new Promise<number>((resolve) => (answer = resolve)) }));
    stops.push(notifications.subscribe((n) => bounded.push(n), { after: 5 }));
    await sleep(50);
    expect(connections).to.have.length(0);

    answer(3);
    await until(() => connections.length === 2, 2000, 'the reconnect');
    expect(connections[0]!.url.searchParams.get('after')).to.equal('3');
    expect(promised.map((n) => n.id)).to.deep.equal([4, 5, 6]);
    expect(bounded.map((n) => n.id)).to.deep.equal([6]);
    expect(connections[1]!.url.searchParams.get('after')).to.equal('6');
  });

  it('replays the whole history to a subscriber whose promised id did not come (null or a failure)', async () => {
    session.set(TOKEN);
    const connections = serve();
    const notifications = socket();
    stops.push(notifications.subscribe(() => undefined, { after: Promise.resolve(12) }));
    stops.push(notifications.subscribe(() => undefined, { after: Promise.reject(new Error('no answer')) }));
    await until(() => connections.length === 1, 2000, 'the connection');
    expect(connections[0]!.url.searchParams.has('after')).to.equal(false);
  });

  it('reconnects with the new token when the reader changes, starting from the beginning', async () => {
    session.set(TOKEN);
    const connections = serve((client, index) => {
      if (index === 0) client.send(note(7));
    });
    const received = listen(socket());
    await until(() => received.length === 1, 2000, 'the first notification');
    session.set('another-token');
    await until(() => connections.length === 2, 2000, 'the second connection');
    expect(connections[1]!.url.searchParams.get('token')).to.equal('another-token');
    expect(connections[1]!.url.searchParams.has('after')).to.equal(false);
    session.clear();
    await sleep(50);
    expect(sockets[0]!.connected).to.equal(false);
  });
});
