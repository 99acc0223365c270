import * as z from 'zod/mini';
import { WalletBalanceChangedResource, type Notification, type Wallet } from '../protocol';
import type { BackendClient } from './backend-client';
import type { NotificationSocket } from './notification-socket';
import { ReaderResource } from './reader-resource';
import type { SessionStore } from './session-store';

/**
 * The signed-in reader's wallet balance: loaded from GET /v1/me, kept current by purchase answers
 * (`set`) and `wallet.balance.changed` notifications.
 */
export class WalletStore extends ReaderResource<Wallet> {
  readonly #client: BackendClient;

  constructor(client: BackendClient, session: SessionStore, notifications: NotificationSocket) {
    super(session, notifications);
    this.#client = client;
  }

  get wallet(): Wallet | null {
    return this.value;
  }

  /** Records a balance the server reported (a purchase answer, a notification). */
  override set(wallet: Wallet | null): void {
    super.set(wallet && { balance: wallet.balance, currency: wallet.currency });
  }

  protected override async load(signal?: AbortSignal): Promise<Wallet> {
    return (await this.#client.me(signal)).wallet;
  }

  protected override same(current: Wallet, next: Wallet): boolean {
    return current.balance === next.balance && current.currency === next.currency;
  }

  protected override onNotification(notification: Notification): void {
    if (notification.type !== 'wallet.balance.changed') return;
    const resource = z.safeParse(WalletBalanceChangedResource, notification.resource);
    if (resource.success) this.set({ balance: resource.data.balance, currency: resource.data.currency });
  }
}
