import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  NOTIFICATION_BATCH_PARAM, NOTIFICATION_CLOSE_SUPERSEDED, NOTIFICATION_CLOSE_TOO_SLOW, NOTIFICATION_CLOSE_UNAUTHORIZED, type Notification,
} from '../../src/protocol';
import type { AuthenticatedCustomer } from '../domain/accounts';
import { bearerToken } from '../http/auth';
import type { Services } from '../services';
import type { PublishedNotification } from '../notifications/notification-bus';
import { ReaderSockets } from '../notifications/reader-sockets';

export const NOTIFICATIONS_PATH = '/v1/notifications';
const HEARTBEAT_MS = 30_000;
const CLOSE_FORBIDDEN_ORIGIN = 4403;
/** What may wait to be sent to a socket, beyond what the kernel holds, before its client counts as too slow to keep. */
export const SEND_BUFFER_LIMIT_BYTES = 1024 * 1024;
/** How long a client has to answer the server's close before its connection is reset (ws would wait 30 s, then end it gently). */
const CLOSE_HANDSHAKE_MS = 5_000;

interface LiveSocket extends WebSocket {
  alive?: boolean;
  connection: Socket;
}

/**
 * Ends the connection with a TCP reset. What is still queued for a client that does not read is
 * dropped at once; a gentle end would leave it in the kernel (an orphan socket, about 4 MB on
 * loopback) for as long as the kernel keeps probing the client's closed window, minutes.
 */
function reset(ws: LiveSocket): void {
  if (ws.readyState !== ws.CLOSED) ws.connection.resetAndDestroy();
}

/** Closes with a code the client can act on, and resets the connection if the client has not answered in time. */
function closeSocket(ws: LiveSocket, code: number, reason: string): void {
  ws.close(code, reason);
  const timer = setTimeout(() => reset(ws), CLOSE_HANDSHAKE_MS).unref();
  ws.once('close', () => clearTimeout(timer));
}

/**
 * Pushes each customer's notifications over WebSocket on the HTTP server's port, in id order and
 * without gaps, so the last id a client received is where it resumes: with `after=<id>` it gets
 * every later notification once. The socket is subscribed before the store is read, so nothing
 * committed in between is lost, and ids already sent are skipped, so nothing is sent twice.
 * Publishes of different transactions can arrive out of commit order (on PostgreSQL a commit
 * can complete, and publish, after a later writer's): a live notification whose `previousId` was
 * not sent yet is not sent ahead of it. The store is read instead (it already holds the earlier
 * one, see NotificationStore), and the late publish is then skipped as sent.
 * A client that connects with `batch=1` receives the backlog as JSON arrays (a page at a time),
 * so a page that replays hundreds of notifications handles one message, not hundreds; live
 * notifications are one a message.
 * A reader keeps at most `config.notifications.socketsPerReader` sockets (a newer one closes the
 * oldest with 4429, or resets it if it is closing already), a client whose send buffer outgrows
 * SEND_BUFFER_LIMIT_BYTES is closed with 4408, and a session that ends (sign-out) closes its
 * sockets with 4401 at once.
 */
export function attachNotificationSockets(server: Server, { accounts, notifications, bus, sessionEvents, config, logger }: Services) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  const readers = new ReaderSockets<LiveSocket>(config.notifications.socketsPerReader);
  /** Counts ended sessions, so a token read while one ended is read again: that read may have begun before the end. */
  let revocations = 0;
  const stopRevocations = sessionEvents.subscribe((revocation) => {
    revocations++;
    for (const ws of readers.of(revocation)) if (ws.readyState === ws.OPEN) closeSocket(ws, NOTIFICATION_CLOSE_UNAUTHORIZED, 'session ended');
  });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== NOTIFICATIONS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const live: LiveSocket = Object.assign(ws, { connection: socket as Socket });
      void serve(live, request, url);
    });
  });

  async function serve(ws: LiveSocket, request: IncomingMessage, url: URL) {
    // Listen for errors first: a bad frame (e.g. one over maxPayload) emits 'error' at any time,
    // also while the token is checked or after a 4401/4403 close, and an unheard one is a crash.
    ws.on('error', (error) => logger.warn({ err: error.message }, 'notification socket error'));
    const origin = request.headers.origin;
    if (origin && origin !== config.ownOrigin && !config.merchantOrigins.includes(origin)) {
      closeSocket(ws, CLOSE_FORBIDDEN_ORIGIN, 'origin not allowed');
      return;
    }
    const token = url.searchParams.get('token') ?? bearerToken(request.headers.authorization);
    let auth: AuthenticatedCustomer | null;
    let seen: number;
    do {
      seen = revocations;
      auth = await accounts.authenticate(token).catch(() => null);
    } while (auth && seen !== revocations);
    if (!auth) {
      closeSocket(ws, NOTIFICATION_CLOSE_UNAUTHORIZED, 'unauthorized');
      return;
    }
    // The client may have left while its token was checked; its 'close' has then already fired,
    // so a subscription made now would never be removed.
    if (ws.readyState !== ws.OPEN) return;
    const customerId = auth.customer.id;
    // Registered in the same turn as the last token check, so no session end falls in between. One
    // beyond the limit that is closing already had its time to answer: its buffers go now.
    for (const oldest of readers.add(customerId, auth.tokenHash, ws)) {
      if (oldest.readyState === oldest.OPEN) closeSocket(oldest, NOTIFICATION_CLOSE_SUPERSEDED, 'too many sockets for this reader');
      else reset(oldest);
    }
    ws.on('close', () => readers.remove(customerId, ws));
    let lastSent = Math.max(0, Number.parseInt(url.searchParams.get('after') ?? '0', 10) || 0);
    const batches = url.searchParams.get(NOTIFICATION_BATCH_PARAM) === '1';
    /** Whether the store is being read (the backlog first); live notifications are then held, to go after what it returns. */
    let reading = true;
    const held: PublishedNotification[] = [];
    /** Sends what was not sent yet: one message each, or (a backlog page, for a client that asked) one array. */
    const send = (list: Notification[], asArray = false) => {
      if (ws.readyState !== ws.OPEN) return;
      const fresh = list.filter((n) => n.id > lastSent);
      if (!fresh.length) return;
      lastSent = fresh.at(-1)!.id;
      if (asArray && fresh.length > 1) ws.send(JSON.stringify(fresh));
      else for (const n of fresh) ws.send(JSON.stringify(n));
      // A client that does not read would have everything else buffered here, without end; closing
      // it also ends the backlog read.
      if (ws.bufferedAmount > SEND_BUFFER_LIMIT_BYTES) {
        logger.warn({ customerId, bufferedBytes: ws.bufferedAmount }, 'notification socket closed: its client reads too slowly');
        closeSocket(ws, NOTIFICATION_CLOSE_TOO_SLOW, 'reading too slowly');
      }
    };
    const follows = ({ previousId }: PublishedNotification) => previousId <= lastSent;
    /**
     * Sends the store's notifications after `lastSent`, then the held ones that follow on. One that
     * does not was held during a read that began before its predecessor was committed: the next
     * read sees that one. Only the backlog goes as arrays: what a late publish makes it read is live.
     */
    const catchUp = async (asArrays: boolean) => {
      try {
        // `send` skips everything once the client has gone, so `lastSent` would stop moving and the
        // same page would be read forever (never yielding to the event loop on SQLite): stop instead.
        while (ws.readyState === ws.OPEN) {
          const page = await notifications.listAfter(customerId, lastSent);
          if (page.length) {
            send(page, asArrays);
            continue;
          }
          held.sort((a, b) => a.notification.id - b.notification.id);
          let done = 0;
          for (; done < held.length && follows(held[done]!); done++) send([held[done]!.notification]);
          held.splice(0, done);
          if (!held.length) break;
        }
        reading = false;
      } catch (error) {
        logger.error({ err: error }, 'notification read failed');
        closeSocket(ws, 1011, 'notifications unavailable');
      }
    };
    const unsubscribe = bus.subscribe(customerId, (published) => {
      if (reading) held.push(published);
      else if (follows(published)) send([published.notification]);
      else {
        held.push(published);
        reading = true;
        void catchUp(false);
      }
    });
    ws.alive = true;
    ws.on('pong', () => (ws.alive = true));
    ws.on('close', unsubscribe);
    await catchUp(batches);
  }

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients as Set<LiveSocket>) {
      if (!ws.alive) reset(ws);
      else {
        ws.alive = false;
        ws.ping();
      }
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    wss,
    close() {
      clearInterval(heartbeat);
      stopRevocations();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
