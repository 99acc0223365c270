import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import pino, { type Logger } from 'pino';
import { createApp } from './app';
import { systemClock, type Clock } from './clock';
import type { ServerConfig } from './config';
import { attachNotificationSockets } from './notifications/socket-server';
import { InProcessNotificationBus, type NotificationBus } from './notifications/notification-bus';
import { connectDatabase, migrate, type DatabaseHandle } from './store/connect';
import { createServices, type Services } from './services';

export interface StartOptions {
  config: ServerConfig;
  port?: number;
  host?: string;
  clock?: Clock;
  database?: DatabaseHandle;
  databaseUrl?: string | undefined;
  logger?: Logger;
  bus?: NotificationBus;
}

export interface RunningServer {
  url: string;
  services: Services;
  close(): Promise<void>;
}

/** Logs never carry secrets: these paths are censored wherever they appear. */
export const REDACT = ['token', 'password', 'card', 'number', 'cvc', 'authorization', 'req.headers.authorization', '*.token', '*.password', '*.card', '*.cvc'];

export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' } });
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config, port = 8787, host = '127.0.0.1', clock = systemClock, logger = createLogger(), bus = new InProcessNotificationBus() } = options;
  const database = options.database ?? (await connectDatabase({ databaseUrl: options.databaseUrl, sqlitePath: config.sqlitePath }));
  await migrate(database);
  const services = createServices({ config, clock, database, logger, bus });
  const app = createApp(services);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s as Server));
    (s as Server).once('error', reject);
  });
  const sockets = attachNotificationSockets(server, services);
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  return {
    url,
    services,
    async close() {
      sockets.close();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.database) await database.close();
    },
  };
}
