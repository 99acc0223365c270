import type { Notification } from '../../src/protocol';

export type NotificationListener = (notification: Notification) => void;

/**
 * Fans committed notifications out to the sockets of this instance. An implementation over
 * Redis pub/sub can replace it to reach sockets on other instances.
 */
export interface NotificationBus {
  publish(customerId: string, notification: Notification): void;
  subscribe(customerId: string, listener: NotificationListener): () => void;
}

export class InProcessNotificationBus implements NotificationBus {
  readonly #listeners = new Map<string, Set<NotificationListener>>();

  publish(customerId: string, notification: Notification): void {
    for (const listener of this.#listeners.get(customerId) ?? []) listener(notification);
  }

  subscribe(customerId: string, listener: NotificationListener): () => void {
    let set = this.#listeners.get(customerId);
    if (!set) this.#listeners.set(customerId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(customerId);
    };
  }
}
