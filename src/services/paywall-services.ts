import type { Wallet } from '../protocol';
import { BackendClient, resolveBaseUrl } from './backend-client';
import { ContentLoader } from './content-loader';
import { AccountJourney } from './account-journey';
import { EntitlementStore } from './entitlement-store';
import { HostedJourneys } from './hosted-journey';
import { NotificationSocket } from './notification-socket';
import { PurchaseJourney } from './purchase-journey';
import { ScaFlow } from './sca-flow';
import { SessionStore, type StorageKind } from './session-store';
import { SubscriptionJourney } from './subscription-journey';
import { SubscriptionStore } from './subscription-store';
import { WalletConnectionStore } from './wallet-connection-store';
import { WalletStore } from './wallet-store';

export interface PaywallServicesOptions {
  storage?: StorageKind;
  locale?: () => string;
  /** For tests and embedders: the page's fetch, WebSocket and same-tab navigation. */
  fetch?: typeof fetch;
  WebSocket?: typeof WebSocket;
  navigate?: (url: string) => void;
}

const REGISTRY = Symbol.for('paywall-kit.services');

/** Shared by every copy of the kit on the page, so two bundles still use one socket and one session per backend. */
function registry(): Map<string, PaywallServices> {
  const holder = globalThis as typeof globalThis & { [REGISTRY]?: Map<string, PaywallServices> };
  return (holder[REGISTRY] ??= new Map());
}

/**
 * The origin each backend string resolves to. Every element asks on every update, and parsing a
 * URL each time costs more than all the rest of the lookup; a relative backend resolves to the
 * page's origin, which never changes, so the answer holds for the page's lifetime.
 */
const origins = new Map<string, string>();

/**
 * Everything the elements share for one backend: session, client, entitlements, notification
 * socket, wallet and purchases. One instance per backend origin per page (`PaywallServices.for`);
 * the first caller's options win.
 */
export class PaywallServices {
  readonly backend: string;
  readonly session: SessionStore;
  readonly client: BackendClient;
  readonly notifications: NotificationSocket;
  readonly entitlements: EntitlementStore;
  /** Paid fragments, loaded together when many parts unlock at once. */
  readonly content: ContentLoader;
  readonly wallet: WalletStore;
  /** The hosted journeys on their way (one window each), for joining and bringing a window back. */
  readonly journeys: HostedJourneys;
  readonly purchases: PurchaseJourney;
  readonly subscribing: SubscriptionJourney;
  /** Sign-in and top-up. */
  readonly account: AccountJourney;
  /** The reader's subscriptions, live. */
  readonly subscriptions: SubscriptionStore;
  /** The reader's wallet connections (Milkipay), one load shared by every `<wallet-connect>`. */
  readonly walletConnections: WalletConnectionStore;
  /** 3-D Secure: requires-action notifications, intent confirmation and `?payment_intent=` returns. */
  readonly sca: ScaFlow;

  /** The services of `backend` (absolute, or relative to the page); throws BackendError configuration_error for a bad URL. */
  static for(backend: string, options: PaywallServicesOptions = {}): PaywallServices {
    const services = registry();
    const origin = origins.get(backend);
    let found = origin === undefined ? undefined : services.get(origin);
    if (!found) {
      const url = resolveBaseUrl(backend);
      origins.set(backend, url.origin);
      found = services.get(url.origin);
      if (!found) services.set(url.origin, (found = new PaywallServices(url.href, options)));
    }
    return found;
  }

  /** Sends the access checks every backend has queued (see `EntitlementStore.sendQueued`). */
  static sendQueuedChecks(): void {
    for (const services of registry().values()) services.entitlements.sendQueued();
  }

  protected constructor(backend: string, options: PaywallServicesOptions) {
    this.backend = backend;
    const origin = new URL(backend).origin;
    this.session = new SessionStore(origin, options.storage);
    this.client = new BackendClient({ baseUrl: backend, session: this.session, ...(options.fetch && { fetch: options.fetch }), ...(options.locale && { locale: options.locale }) });
    this.notifications = new NotificationSocket(backend, this.session, options.WebSocket ? { WebSocket: options.WebSocket } : {});
    // The notification feed reaches entitlements and wallet here; each listens only while it has subscribers.
    this.content = new ContentLoader(this.client);
    // The fragments an answer unlocks come with it (asked for by the elements that show them), or
    // leave right after it for the rest, not after 400 elements have rendered it.
    this.entitlements = new EntitlementStore(this.client, this.session, {
      notifications: this.notifications,
      fragments: (fragments) => this.content.offer(fragments),
      afterAnswer: () => this.content.sendQueued(),
    });
    this.wallet = new WalletStore(this.client, this.session, this.notifications);
    this.subscriptions = new SubscriptionStore(this.client, this.session, this.notifications);
    this.walletConnections = new WalletConnectionStore(this.client, this.session);
    this.journeys = new HostedJourneys({ client: this.client, session: this.session, ...(options.navigate && { navigate: options.navigate }) });
    this.sca = new ScaFlow({
      client: this.client,
      session: this.session,
      notifications: this.notifications,
      entitlements: this.entitlements,
      subscriptions: this.subscriptions,
      // A checkout shows its own 3-D Secure step in its window; the page-level handler leaves it alone.
      ownWindowOpen: () => this.journeys.checkoutOpen,
      ...(options.navigate && { navigate: options.navigate }),
    });
    const journeys = { journeys: this.journeys, entitlements: this.entitlements, wallet: this.wallet };
    this.purchases = new PurchaseJourney({ ...journeys, sca: this.sca });
    this.subscribing = new SubscriptionJourney({ ...journeys, subscriptions: this.subscriptions });
    this.account = new AccountJourney(journeys);
    // A purchase that left through the redirect fallback completes on return even if no element
    // asks; elements that call resumePending() get this same promise, errors included.
    this.purchases.resumePending().catch(() => undefined);
  }

  /** Opens the hosted sign-in (default for readers seen before) or sign-up; call it inside a click. */
  signIn(mode?: 'sign-in' | 'sign-up'): Promise<void> {
    return this.account.signIn(mode);
  }

  /** Signs out here at once (elements re-lock), and on the server when it can be reached. */
  async signOut(): Promise<void> {
    try {
      await this.client.signOut();
    } catch {
      // The local session is gone either way; an unreachable server only keeps a token nobody holds.
    }
  }

  /** Opens the hosted top-up window; call it inside a click. Resolves with the new balance. */
  async openTopUp(): Promise<Wallet | null> {
    await this.account.topUp();
    return this.wallet.wallet;
  }

  /** Removes these services from the page registry (tests, single-page apps switching backends). */
  dispose(): void {
    const services = registry();
    const origin = new URL(this.backend).origin;
    if (services.get(origin) === this) services.delete(origin);
    this.entitlements.dispose();
  }
}
