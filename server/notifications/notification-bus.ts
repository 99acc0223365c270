import type { Notification } from '../../src/protocol';

/**
 * A committed notification as the bus carries it. `previousId` is the id of the customer's
 * notification committed just before it (0 for the first): publishes from different transactions
 * may arrive in any order, so a socket that has not sent `previousId` yet knows it would skip one.
 */
export interface PublishedNotification {
  notification: Notification;
  previousId: number;
}

export type NotificationListener = (published: PublishedNotification) => void;

/**
 * Fans committed notifications out to the sockets of this instance. An implementation over
 * Redis pub/sub can replace it to reach sockets on other instances.
 */
export interface NotificationBus {
  publish(customerId: string, published: PublishedNotification): void;
  subscribe(customerId: string, listener: NotificationListener): () => void;
}

export class InProcessNotificationBus implements NotificationBus {
  readonly #listeners = new Map<string, Set<NotificationListener>>();

  publish(customerId: string, published: PublishedNotification): void {
    for (const listener of this.#listeners.get(customerId) ?? []) listener(published);
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
