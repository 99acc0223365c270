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
import type { NotificationBus } from './notifications/notification-bus';
import { NotificationStore } from './notifications/notification-store';

/** Everything a route or page needs, built once per server from its config, database and clock. */
export interface Services {
  config: ServerConfig;
  clock: Clock;
  database: DatabaseHandle;
  logger: Logger;
  bus: NotificationBus;
  ledger: Ledger;
  accounts: AccountService;
  entitlements: EntitlementStore;
  purchases: PurchaseService;
  topUps: TopUpService;
  notifications: NotificationStore;
  content: ContentLibrary;
  urls: HostedUrls;
}

export function createServices(deps: { config: ServerConfig; clock: Clock; database: DatabaseHandle; logger: Logger; bus: NotificationBus }): Services {
  const { config, clock, database, bus } = deps;
  const { db } = database;
  const ledger = new Ledger(database.dialect);
  const notifications = new NotificationStore(db, bus);
  const entitlements = new EntitlementStore(db, clock);
  const urls = new HostedUrls(config);
  return {
    ...deps,
    ledger,
    notifications,
    entitlements,
    urls,
    accounts: new AccountService(db, config, clock, ledger, notifications),
    purchases: new PurchaseService(db, config, clock, ledger, entitlements, notifications, urls),
    topUps: new TopUpService(db, clock, ledger, notifications),
    content: new ContentLibrary(config),
  };
}
