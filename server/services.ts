import type { Logger } from 'pino';
import type { Clock } from './clock';
import type { ServerConfig } from './config';
import type { DatabaseHandle } from './store/connect';
import { AccountService } from './domain/accounts';
import { EntitlementStore } from './domain/entitlements';
import { HostedUrls } from './domain/hosted-urls';
import { Ledger } from './domain/ledger';
import { PurchaseService } from './domain/purchases';
import { TopUpService } from './domain/top-ups';
import { ContentLibrary } from './domain/content';
import { CallbackLog } from './domain/callback-log';
import { PaymentIntentService } from './domain/payment-intents';
import { BillingClock } from './domain/billing-clock';
import { CardPaymentService } from './domain/card-payments';
import { EmailOutbox } from './domain/outbox';
import { PaymentLinks } from './domain/payment-links';
import { SubscriptionLifecycle } from './domain/subscription-lifecycle';
import { SubscriptionService } from './domain/subscriptions';
import type { SessionEvents } from './domain/session-events';
import type { NotificationBus } from './notifications/notification-bus';
import { NotificationStore } from './notifications/notification-store';
import { createPaymentProviders, type PaymentProviders } from './providers/payment-providers';
import { ProviderEventProcessor } from './domain/provider-event-processor';
import { ProviderTokens } from './providers/provider-tokens';
import { SecretBox } from './providers/secret-box';
import { MilkipayService } from './providers/milkipay/milkipay-service';

/** Everything a route or page needs, built once per server from its config, database and clock. */
export interface Services {
  config: ServerConfig;
  clock: Clock;
  database: DatabaseHandle;
  logger: Logger;
  bus: NotificationBus;
  sessionEvents: SessionEvents;
  ledger: Ledger;
  accounts: AccountService;
  entitlements: EntitlementStore;
  purchases: PurchaseService;
  topUps: TopUpService;
  notifications: NotificationStore;
  content: ContentLibrary;
  urls: HostedUrls;
  links: PaymentLinks;
  outbox: EmailOutbox;
  lifecycle: SubscriptionLifecycle;
  subscriptions: SubscriptionService;
  cardPayments: CardPaymentService;
  /** Payment intents and their 3-D Secure step. */
  paymentIntents: PaymentIntentService;
  billing: BillingClock;
  providerTokens: ProviderTokens;
  providerEvents: ProviderEventProcessor;
  /** The audit log of provider callbacks (rejected ones cut and expired). */
  callbackLog: CallbackLog;
  providers: PaymentProviders;
  /** Wallet connections and payouts; null when `providers.milkipay` is not configured. */
  milkipay: MilkipayService | null;
}

export function createServices(deps: { config: ServerConfig; clock: Clock; database: DatabaseHandle; logger: Logger; bus: NotificationBus; sessionEvents: SessionEvents }): Services {
  const { config, clock, database, bus, sessionEvents } = deps;
  const { db } = database;
  const ledger = new Ledger(db, database.dialect);
  const notifications = new NotificationStore(db, database.dialect, bus);
  const entitlements = new EntitlementStore(db, clock, notifications);
  const urls = new HostedUrls(config);
  const links = new PaymentLinks(config);
  const outbox = new EmailOutbox(db);
  const purchases = new PurchaseService(database, config, clock, ledger, entitlements, notifications, urls);
  const lifecycle = new SubscriptionLifecycle(database.dialect, ledger, entitlements, outbox, links);
  const providerTokens = new ProviderTokens(config.encryptionKey && new SecretBox(config.encryptionKey));
  const providers = createPaymentProviders({ config, clock, logger: deps.logger, database, tokens: providerTokens });
  const paymentIntents = new PaymentIntentService(database, clock, lifecycle, entitlements, notifications, links);
  const cardPayments = new CardPaymentService(database, config, clock, lifecycle, entitlements, notifications, purchases, urls, links, providers, paymentIntents);
  const providerEvents = new ProviderEventProcessor(database, config, clock, ledger, entitlements, lifecycle, notifications, providerTokens);
  return {
    ...deps,
    ledger,
    notifications,
    entitlements,
    urls,
    links,
    outbox,
    lifecycle,
    accounts: new AccountService(database, config, clock, ledger, notifications, sessionEvents),
    purchases,
    topUps: new TopUpService(database, clock, ledger, notifications),
    content: new ContentLibrary(config),
    subscriptions: new SubscriptionService(database, config, clock, lifecycle, ledger, notifications, urls, links, providers, deps.logger),
    cardPayments,
    paymentIntents,
    billing: new BillingClock(database, config, clock, lifecycle, paymentIntents, notifications, urls, links, deps.logger),
    providerTokens,
    providerEvents,
    callbackLog: new CallbackLog(database, clock, config.callbacks.rejectedRetentionMs),
    providers,
    milkipay: config.providers.milkipay ? new MilkipayService(config, database, clock, providerTokens, deps.logger) : null,
  };
}
