import type { Notification } from '../protocol';
import { notify } from './listeners';
import type { NotificationSocket } from './notification-socket';
import type { SessionStore } from './session-store';

/**
 * Something of the signed-in reader's that the server holds (the wallet, the subscriptions):
 * loaded by the first subscriber, one load shared by every caller of a session, kept current by
 * the answers it is handed (`set`) and by notifications while anyone listens. Null when signed
 * out or not loaded yet.
 */
export abstract class ReaderResource<T> {
  readonly #session: SessionStore;
  /** Null for a resource no notification reports: its subscribers then open no socket. */
  readonly #notifications: NotificationSocket | null;
  readonly #listeners = new Set<(value: T | null) => void>();
  #value: T | null = null;
  /** Bumped by every change, so a slower load never overwrites a newer answer. */
  #version = 0;
  #stopNotifications: (() => void) | null = null;
  #loading: { token: string; promise: Promise<T | null> } | null = null;

  constructor(session: SessionStore, notifications: NotificationSocket | null) {
    this.#session = session;
    this.#notifications = notifications;
    session.subscribe((token) => {
      this.set(null);
      if (token && this.#listeners.size) this.refresh().catch(() => undefined);
    });
  }

  /** Asks the server. */
  protected abstract load(signal?: AbortSignal): Promise<T>;
  /** Applies a notification that concerns this resource; others are ignored (all, unless overridden). */
  protected onNotification(_notification: Notification): void {}

  /** Whether `next` says nothing new, so listeners are not called. */
  protected same(current: T, next: T): boolean {
    return current === next;
  }

  protected get value(): T | null {
    return this.#value;
  }

  /**
   * Loads from the server; null without a session (and no request). Calls without a signal while
   * a load for the same session is on its way share it: a sign-in reaches the store and every
   * element at once, and one request answers them all.
   */
  refresh(signal?: AbortSignal): Promise<T | null> {
    const token = this.#session.token;
    if (!token) {
      this.set(null);
      return Promise.resolve(null);
    }
    if (!signal && this.#loading?.token === token) return this.#loading.promise;
    const version = this.#version;
    const promise = this.load(signal).then((value) => {
      if (this.#version === version && this.#session.token === token) this.set(value);
      return this.#value;
    });
    if (!signal) {
      const loading = { token, promise };
      this.#loading = loading;
      const done = () => void (this.#loading === loading && (this.#loading = null));
      promise.then(done, done);
    }
    return promise;
  }

  /** Records what the server reported (an answer, a notification). */
  protected set(value: T | null): void {
    this.#version++;
    const current = this.#value;
    if (current === value || (current !== null && value !== null && this.same(current, value))) return;
    this.#value = value;
    notify(this.#listeners, value);
  }

  /** Calls `listener` with every new value; the first subscriber loads it and opens the live feed. */
  subscribe(listener: (value: T | null) => void): () => void {
    const first = this.#listeners.size === 0;
    this.#listeners.add(listener);
    if (first) {
      this.#stopNotifications = this.#notifications?.subscribe((n) => this.onNotification(n)) ?? null;
      if (!this.#value && this.#session.token) this.refresh().catch(() => undefined);
    }
    return () => {
      this.#listeners.delete(listener);
      if (!this.#listeners.size && this.#stopNotifications) {
        this.#stopNotifications();
        this.#stopNotifications = null;
      }
    };
  }
}
