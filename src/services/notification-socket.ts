import * as z from 'zod/mini';
import { NOTIFICATION_BATCH_PARAM, NOTIFICATION_CLOSE_UNAUTHORIZED, Notification } from '../protocol';
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

/**
 * The backend's notification WebSocket, one per backend per page and shared by every element.
 * It is open only while someone subscribes and the reader is signed in; it reconnects with
 * exponential backoff and jitter, resumes with `after=<last id>` so nothing sent while it was down
 * is lost, and hands each message id to subscribers once.
 */
export class NotificationSocket {
  readonly url: string;
  readonly #session: SessionStore;
  readonly #WebSocket: () => typeof WebSocket;
  readonly #minDelay: number;
  readonly #maxDelay: number;
  readonly #random: () => number;
  readonly #listeners = new Set<(n: Notification) => void>();
  #socket: WebSocket | null = null;
  #retry: ReturnType<typeof setTimeout> | null = null;
  #attempt = 0;
  /** Highest id handled for the current token; ids are increasing per customer. */
  #lastId = 0;
  #seen = new Set<number>();
  /** Ids at or below this were forgotten from `#seen` and count as handled. */
  #floor = 0;
  #token: string | null;
  /** Set when the server refused for good (origin not allowed): no more attempts until the token changes. */
  #refused = false;

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
      // Ids count per customer: another reader starts from the beginning.
      this.#lastId = 0;
      this.#seen.clear();
      this.#floor = 0;
      this.#refused = false;
      this.#disconnect();
      this.#update();
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
    }
  }

  get connected(): boolean {
    return this.#socket?.readyState === 1;
  }

  /** Receives every notification from now on; the first subscriber opens the socket, the last one leaving closes it. */
  subscribe(listener: (n: Notification) => void): () => void {
    this.#listeners.add(listener);
    this.#update();
    return () => {
      this.#listeners.delete(listener);
      this.#update();
    };
  }

  /** Opens or closes the socket to match: wanted while someone listens and a reader is signed in. */
  #update() {
    const wanted = this.#listeners.size > 0 && this.#token !== null && !this.#refused;
    if (!wanted) this.#disconnect();
    else if (!this.#socket && this.#retry === null) this.#connect();
  }

  #connect() {
    const token = this.#token;
    if (!token) return;
    const url = new URL(this.url);
    url.searchParams.set('token', token);
    url.searchParams.set(NOTIFICATION_BATCH_PARAM, '1');
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
    notify(this.#listeners, notification);
  }
}
