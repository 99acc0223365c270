import type { Notification, Subscription } from '../protocol';
import type { BackendClient } from './backend-client';
import { notify } from './listeners';
import type { NotificationSocket } from './notification-socket';
import type { SessionStore } from './session-store';

/** Statuses in which a subscription still matters to the reader: it renews, waits for them, or still gives access. */
const LIVE = new Set<Subscription['status']>(['active', 'incomplete', 'past_due', 'canceled']);

/** Whether `subscription` is current: live, and (when canceled) not yet past its paid period. */
export function isCurrentSubscription(subscription: Subscription, now = Date.now()): boolean {
  if (!LIVE.has(subscription.status)) return false;
  if (subscription.status === 'canceled') return subscription.currentPeriodEnd !== null && Date.parse(subscription.currentPeriodEnd) > now;
  return true;
}

/**
 * The signed-in reader's subscriptions (GET /v1/subscriptions). Loaded by the first subscriber,
 * kept current by subscribe and cancel answers and reloaded on every `subscribe.*` and `access.*` notification
 * while anyone listens. Null when signed out or not loaded yet.
 */
export class SubscriptionStore {
  readonly #client: BackendClient;
  readonly #session: SessionStore;
  readonly #notifications: NotificationSocket;
  readonly #listeners = new Set<(subscriptions: Subscription[] | null) => void>();
  #subscriptions: Subscription[] | null = null;
  /** Bumped by every change, so a slower load never overwrites a newer answer. */
  #version = 0;
  #stopNotifications: (() => void) | null = null;
  #loading: { token: string; promise: Promise<Subscription[] | null> } | null = null;

  constructor(client: BackendClient, session: SessionStore, notifications: NotificationSocket) {
    this.#client = client;
    this.#session = session;
    this.#notifications = notifications;
    session.subscribe((token) => {
      this.#set(null);
      if (token && this.#listeners.size) this.refresh().catch(() => undefined);
    });
  }

  get subscriptions(): Subscription[] | null {
    return this.#subscriptions;
  }

  /** The newest current subscription to one of `plans` (any plan when omitted), or null. */
  current(plans?: readonly string[]): Subscription | null {
    return this.#subscriptions?.find((s) => (!plans || plans.includes(s.plan)) && isCurrentSubscription(s)) ?? null;
  }

  /** Loads the list; null without a session (and no request). Calls for one session share a load. */
  refresh(signal?: AbortSignal): Promise<Subscription[] | null> {
    const token = this.#session.token;
    if (!token) {
      this.#set(null);
      return Promise.resolve(null);
    }
    if (!signal && this.#loading?.token === token) return this.#loading.promise;
    const version = this.#version;
    const promise = this.#client.subscriptions(signal).then((list) => {
      if (this.#version === version && this.#session.token === token) this.#set(list);
      return this.#subscriptions;
    });
    if (!signal) {
      const loading = { token, promise };
      this.#loading = loading;
      const done = () => void (this.#loading === loading && (this.#loading = null));
      promise.then(done, done);
    }
    return promise;
  }

  /** Records one subscription the server answered with (a new one goes first: the list is newest first). */
  upsert(subscription: Subscription): void {
    const list = [...(this.#subscriptions ?? [])];
    const at = list.findIndex((s) => s.id === subscription.id);
    if (at >= 0) list[at] = subscription;
    else list.unshift(subscription);
    this.#set(list);
  }

  /** Cancels at the end of the paid period (DELETE /v1/subscriptions/:id) and records the answer. */
  async cancel(id: string, signal?: AbortSignal): Promise<Subscription> {
    const subscription = await this.#client.cancelSubscription(id, signal);
    this.upsert(subscription);
    return subscription;
  }

  /** Calls `listener` with every new list; the first subscriber loads it and opens the live feed. */
  subscribe(listener: (subscriptions: Subscription[] | null) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#stopNotifications) {
      this.#stopNotifications = this.#notifications.subscribe((n) => this.#fromNotification(n));
      if (!this.#subscriptions && this.#session.token) this.refresh().catch(() => undefined);
    }
    return () => {
      this.#listeners.delete(listener);
      if (!this.#listeners.size && this.#stopNotifications) {
        this.#stopNotifications();
        this.#stopNotifications = null;
      }
    };
  }

  #set(list: Subscription[] | null) {
    this.#version++;
    if (list === this.#subscriptions) return;
    this.#subscriptions = list;
    notify(this.#listeners, list);
  }

  #fromNotification(notification: Notification) {
    // The resources name the subscription but not its new dates and state: the list is asked again.
    // Access changes too: a renewal that failed with retries left only extends access (past_due).
    if (notification.type.startsWith('subscribe.') || notification.type.startsWith('access.')) this.refresh().catch(() => undefined);
  }
}
