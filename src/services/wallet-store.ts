import * as z from 'zod/mini';
import { WalletBalanceChangedResource, type Notification, type Wallet } from '../protocol';
import type { BackendClient } from './backend-client';
import { notify } from './listeners';
import type { NotificationSocket } from './notification-socket';
import type { SessionStore } from './session-store';

/**
 * The signed-in reader's wallet balance. Loaded from GET /v1/me, then kept current by purchase
 * answers (`set`) and `wallet.balance.changed` notifications, which it listens to while it has
 * subscribers. Null when signed out or not loaded yet.
 */
export class WalletStore {
  readonly #client: BackendClient;
  readonly #session: SessionStore;
  readonly #notifications: NotificationSocket;
  readonly #listeners = new Set<(wallet: Wallet | null) => void>();
  #wallet: Wallet | null = null;
  /** Bumped by every change, so a slower refresh never overwrites a newer balance. */
  #version = 0;
  #stopNotifications: (() => void) | null = null;
  #loading: { token: string; promise: Promise<Wallet | null> } | null = null;

  constructor(client: BackendClient, session: SessionStore, notifications: NotificationSocket) {
    this.#client = client;
    this.#session = session;
    this.#notifications = notifications;
    session.subscribe((token) => {
      this.set(null);
      if (token && this.#listeners.size) this.refresh().catch(() => undefined);
    });
  }

  get wallet(): Wallet | null {
    return this.#wallet;
  }

  /**
   * Loads the balance from the server; null without a session (and no request). Calls without a
   * signal while a load for the same session is on its way share it: a sign-in reaches the store
   * and every element at once, and one request answers them all.
   */
  refresh(signal?: AbortSignal): Promise<Wallet | null> {
    const token = this.#session.token;
    if (!token) {
      this.set(null);
      return Promise.resolve(null);
    }
    if (!signal && this.#loading?.token === token) return this.#loading.promise;
    const version = this.#version;
    const promise = this.#client.me(signal).then(({ wallet }) => {
      if (this.#version === version && this.#session.token === token) this.set(wallet);
      return this.#wallet;
    });
    if (!signal) {
      const loading = { token, promise };
      this.#loading = loading;
      const done = () => void (this.#loading === loading && (this.#loading = null));
      promise.then(done, done);
    }
    return promise;
  }

  /** Records a balance the server reported (a purchase answer, a notification). */
  set(wallet: Wallet | null): void {
    this.#version++;
    const previous = this.#wallet;
    if (previous === wallet || (previous && wallet && previous.balance === wallet.balance && previous.currency === wallet.currency)) return;
    this.#wallet = wallet ? { balance: wallet.balance, currency: wallet.currency } : null;
    notify(this.#listeners, this.#wallet);
  }

  /** Calls `listener` with every new balance; the first subscriber loads it and opens the live feed. */
  subscribe(listener: (wallet: Wallet | null) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#stopNotifications) {
      this.#stopNotifications = this.#notifications.subscribe((n) => this.#fromNotification(n));
      if (!this.#wallet && this.#session.token) this.refresh().catch(() => undefined);
    }
    return () => {
      this.#listeners.delete(listener);
      if (!this.#listeners.size && this.#stopNotifications) {
        this.#stopNotifications();
        this.#stopNotifications = null;
      }
    };
  }

  #fromNotification(notification: Notification) {
    if (notification.type !== 'wallet.balance.changed') return;
    const resource = z.safeParse(WalletBalanceChangedResource, notification.resource);
    if (resource.success) this.set({ balance: resource.data.balance, currency: resource.data.currency });
  }
}
