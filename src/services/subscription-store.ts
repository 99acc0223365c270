import type { Notification, Subscription } from '../protocol';
import type { BackendClient } from './backend-client';
import type { NotificationSocket } from './notification-socket';
import { ReaderResource } from './reader-resource';
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
export class SubscriptionStore extends ReaderResource<Subscription[]> {
  readonly #client: BackendClient;

  constructor(client: BackendClient, session: SessionStore, notifications: NotificationSocket) {
    super(session, notifications);
    this.#client = client;
  }

  get subscriptions(): Subscription[] | null {
    return this.value;
  }

  /** The newest current subscription to one of `plans` (any plan when omitted), or null. */
  current(plans?: readonly string[]): Subscription | null {
    return this.value?.find((s) => (!plans || plans.includes(s.plan)) && isCurrentSubscription(s)) ?? null;
  }

  /** Records one subscription the server answered with (a new one goes first: the list is newest first). */
  upsert(subscription: Subscription): void {
    const list = [...(this.value ?? [])];
    const at = list.findIndex((s) => s.id === subscription.id);
    if (at >= 0) list[at] = subscription;
    else list.unshift(subscription);
    this.set(list);
  }

  /** Cancels at the end of the paid period (DELETE /v1/subscriptions/:id) and records the answer. */
  async cancel(id: string, signal?: AbortSignal): Promise<Subscription> {
    const subscription = await this.#client.cancelSubscription(id, signal);
    this.upsert(subscription);
    return subscription;
  }

  protected override load(signal?: AbortSignal): Promise<Subscription[]> {
    return this.#client.subscriptions(signal);
  }

  protected override onNotification(notification: Notification): void {
    // The resources name the subscription but not its new dates and state: the list is asked again.
    // Access changes too: a renewal that failed with retries left only extends access (past_due).
    if (notification.type.startsWith('subscribe.') || notification.type.startsWith('access.')) this.refresh().catch(() => undefined);
  }
}
