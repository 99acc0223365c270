import * as z from 'zod/mini';
import { NOTIFICATION_BATCH_PARAM, NOTIFICATION_CLOSE_SUPERSEDED, NOTIFICATION_CLOSE_UNAUTHORIZED, Notification } from '../protocol';
import { resolveBaseUrl } from './backend-client';
import { notify } from './listeners';
import type { SessionStore } from './session-store';

export interface NotificationSocketOptions {
  WebSocket?: typeof WebSocket;
  /** First reconnect delay in ms (default 1000); doubles per failed attempt up to `maxDelay`. */
  minDelay?: number;
  /** Longest reconnect delay in ms (default 30000). */
  maxDelay?: number;
  /** Jitter source in [0, 1); tests make it predictable. */
  random?: () => number;
}

/** The server refuses the page's origin: a configuration problem that retrying cannot fix. */
const CLOSE_FORBIDDEN_ORIGIN = 4403;
/** How many recent ids are remembered to drop a message delivered twice. */
const SEEN_LIMIT = 1000;

export interface NotificationSubscribeOptions {
  /**
   * The id up to which the subscriber's state already reflects every notification (an access
   * answer's `notificationCursor`), or a promise of it (null: not known, replay everything). Older
   * ids are not handed to this subscriber, and a first connection asks only for what came after
   * the lowest of its subscribers' ids; until a promised id is known, a first connection waits.
   */
  after?: number | Promise<number | null>;
}

interface Subscriber {
  /** Ids at or below this reach the subscriber no more; undefined: every id. */
  after: number | undefined;
  waiting: boolean;
}

/**
 * The backend's notification WebSocket, one per backend per page and shared by every element.
 * It is open only while someone subscribes and the reader is signed in; it reconnects with
 * exponential backoff and jitter, resumes with `after=<last id>` so nothing sent while it was down
 * is lost, and hands each message id to subscribers once. When the backend closes it for a newer
 * socket of the same reader (more tabs than it allows), it reconnects only once the reader comes
 * back to this page (shown or focused): at once, it would close another tab's, which would do the same.
 */
export class NotificationSocket {
  readonly url: string;
  readonly #session: SessionStore;
  readonly #WebSocket: () => typeof WebSocket;
  readonly #minDelay: number;
  readonly #maxDelay: number;
  readonly #random: () => number;
  readonly #listeners = new Map<(n: Notification) => void, Subscriber>();
  #socket: WebSocket | null = null;
  #retry: ReturnType<typeof setTimeout> | null = null;
  #attempt = 0;
  /** Highest id handled (or asked to start after) for the current token; ids only increase. */
  #lastId = 0;
  /** Whether the current token's first connection was made: later ones resume after `#lastId`. */
  #started = false;
  #seen = new Set<number>();
  /** Ids at or below this were forgotten from `#seen` and count as handled. */
  #floor = 0;
  #token: string | null;
  /** Set when the server refused for good (origin not allowed): no more attempts until the token changes. */
  #refused = false;
  /** Set when a newer socket of the reader replaced this one: no attempt until the page is shown or focused again. */
  #superseded = false;

  constructor(baseUrl: string, session: SessionStore, options: NotificationSocketOptions = {}) {
    const url = resolveBaseUrl(baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/notifications`;
    this.url = url.href;
    this.#session = session;
    // Looked up at connect time, so a WebSocket patched after construction (mocks) is used.
    this.#WebSocket = () => options.WebSocket ?? globalThis.WebSocket;
    this.#minDelay = options.minDelay ?? 1000;
    this.#maxDelay = Math.max(options.maxDelay ?? 30_000, this.#minDelay);
    this.#random = options.random ?? Math.random;
    this.#token = session.token;
    session.subscribe((token) => {
      if (token === this.#token) return;
      this.#token = token;
      // Another reader's socket starts over; the subscribers' ids stay valid bounds (ids only increase).
      this.#lastId = 0;
      this.#started = false;
      this.#seen.clear();
      this.#floor = 0;
      this.#refused = false;
      this.#superseded = false;
      this.#disconnect();
      // Once every listener of the session has heard of it: a store that re-subscribes to wait for
      // its next answer's cursor does so before the new reader's socket opens.
      queueMicrotask(() => this.#update());
    });
    if (typeof window !== 'undefined') {
      // Back online: try now instead of waiting out the backoff.
      window.addEventListener('online', () => {
        if (this.#retry === null) return;
        clearTimeout(this.#retry);
        this.#retry = null;
        this.#attempt = 0;
        this.#update();
      });
      const comeBack = () => {
        if (!this.#superseded || document.visibilityState === 'hidden') return;
        this.#superseded = false;
        this.#update();
      };
      window.addEventListener('focus', comeBack);
      document.addEventListener('visibilitychange', comeBack);
    }
  }

  get connected(): boolean {
    return this.#socket?.readyState === 1;
  }

  /**
   * Receives every notification from now on (after `options.after`); the first subscriber opens
   * the socket, the last one leaving closes it.
   */
  subscribe(listener: (n: Notification) => void, options: NotificationSubscribeOptions = {}): () => void {
    const { after } = options;
    const subscriber: Subscriber = { after: typeof after === 'number' ? after : undefined, waiting: after instanceof Promise };
    this.#listeners.set(listener, subscriber);
    if (after instanceof Promise) {
      const known = (id: number | null) => {
        subscriber.after = id ?? undefined;
        subscriber.waiting = false;
        if (this.#listeners.get(listener) === subscriber) this.#update();
      };
      after.then(known, () => known(null));
    }
    this.#update();
    return () => {
      if (this.#listeners.get(listener) === subscriber) this.#listeners.delete(listener);
      this.#update();
    };
  }

  /** Opens or closes the socket to match: wanted while someone listens and a reader is signed in. */
  #update() {
    const wanted = this.#listeners.size > 0 && this.#token !== null && !this.#refused && !this.#superseded;
    if (!wanted) this.#disconnect();
    else if (!this.#socket && this.#retry === null && (this.#started || ![...this.#listeners.values()].some((s) => s.waiting))) this.#connect();
  }

  /** Where the current token's first connection starts: after what every subscriber already reflects. */
  #firstAfter(): number {
    const ids = [...this.#listeners.values()].map((s) => s.after ?? 0);
    return ids.length ? Math.min(...ids) : 0;
  }

  #connect() {
    const token = this.#token;
    if (!token) return;
    const url = new URL(this.url);
    url.searchParams.set('token', token);
    url.searchParams.set(NOTIFICATION_BATCH_PARAM, '1');
    if (!this.#started) this.#lastId = Math.max(this.#lastId, this.#firstAfter());
    this.#started = true;
    if (this.#lastId > 0) url.searchParams.set('after', String(this.#lastId));
    let socket: WebSocket;
    try {
      socket = new (this.#WebSocket())(url.href);
    } catch {
      this.#scheduleRetry();
      return;
    }
    this.#socket = socket;
    let openedAt = 0;
    socket.onopen = () => {
      openedAt = Date.now();
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.#socket === socket) this.#receive(event.data);
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      // Only a connection that stayed up a while resets the backoff: a server that accepts and
      // drops at once must not be hammered at the shortest delay.
      if (openedAt && Date.now() - openedAt >= this.#maxDelay) this.#attempt = 0;
      if (event.code === NOTIFICATION_CLOSE_UNAUTHORIZED) {
        // The token is no good: the reader is signed out (which closes everything), never retried.
        if (this.#session.token === token) this.#session.clear();
        return;
      }
      if (event.code === CLOSE_FORBIDDEN_ORIGIN) {
        this.#refused = true;
        console.error(`paywall-kit: ${this.url} refuses notifications for ${typeof location === 'undefined' ? 'this page' : location.origin}; add it to the backend's merchantOrigins.`);
        return;
      }
      if (event.code === NOTIFICATION_CLOSE_SUPERSEDED) {
        this.#superseded = true;
        return;
      }
      // Anything else (a drop, 4408 for reading too slowly) is retried with backoff, resuming after the last id.
      this.#scheduleRetry();
    };
  }

  #scheduleRetry() {
    if (this.#retry !== null || !this.#listeners.size || !this.#token) return;
    const ceiling = Math.min(this.#maxDelay, this.#minDelay * 2 ** this.#attempt);
    this.#attempt++;
    // "Equal jitter": at least half the backoff, so reconnecting pages spread out but never hammer.
    const delay = ceiling / 2 + (this.#random() * ceiling) / 2;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#update();
    }, delay);
  }

  #disconnect() {
    if (this.#retry !== null) clearTimeout(this.#retry);
    this.#retry = null;
    this.#attempt = 0;
    const socket = this.#socket;
    this.#socket = null;
    if (socket && socket.readyState < 2) socket.close(1000, 'not needed');
  }

  #receive(data: unknown) {
    let json: unknown;
    try {
      json = typeof data === 'string' ? JSON.parse(data) : undefined;
    } catch {
      json = undefined;
    }
    // The backlog comes as arrays (`batch=1`); each notification in one is handled as if it came alone.
    if (Array.isArray(json)) json.forEach((item) => this.#handle(item));
    else this.#handle(json);
  }

  #handle(json: unknown) {
    const parsed = z.safeParse(Notification, json);
    if (!parsed.success) return;
    const notification = parsed.data;
    if (notification.id <= this.#floor || this.#seen.has(notification.id)) return;
    this.#seen.add(notification.id);
    if (this.#seen.size > SEEN_LIMIT) {
      const oldest = this.#seen.values().next().value!;
      this.#seen.delete(oldest);
      this.#floor = Math.max(this.#floor, oldest);
    }
    this.#lastId = Math.max(this.#lastId, notification.id);
    const listeners = [...this.#listeners].filter(([, s]) => s.after === undefined || notification.id > s.after).map(([listener]) => listener);
    notify(listeners, notification);
  }
}
