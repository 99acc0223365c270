import { STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { ErrorBody } from '../src/protocol';
import { createApp } from './app';
import { systemClock, type Clock } from './clock';
import type { ServerConfig } from './config';
import { attachNotificationSockets } from './routes/notification-sockets';
import { InProcessNotificationBus, type NotificationBus } from './notifications/notification-bus';
import { InProcessSessionEvents, type SessionEvents } from './domain/session-events';
import { connectDatabase, migrate, type DatabaseHandle } from './store/connect';
import { createServices, type Services } from './services';
import { startBillingRunner } from './domain/billing-clock';

export interface StartOptions {
  config: ServerConfig;
  port?: number;
  host?: string;
  clock?: Clock;
  database?: DatabaseHandle;
  databaseUrl?: string | undefined;
  logger?: Logger;
  bus?: NotificationBus;
  sessionEvents?: SessionEvents;
  /** Run the billing clock on `config.billing.tickMs` inside this server (default true; tests turn it on when they need it). */
  billingRunner?: boolean;
}

export interface RunningServer {
  url: string;
  services: Services;
  close(): Promise<void>;
}

/** Logs never carry secrets: these paths are censored wherever they appear. */
export const REDACT = ['token', 'password', 'card', 'number', 'cvc', 'authorization', 'req.headers.authorization', '*.token', '*.password', '*.card', '*.cvc'];

/** The server's logger; `destination` (stdout by default) lets tests read what it writes. */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config, port = 8787, host = '127.0.0.1', clock = systemClock, logger = createLogger(), bus = new InProcessNotificationBus(), sessionEvents = new InProcessSessionEvents() } = options;
  const database = options.database ?? (await connectDatabase({ databaseUrl: options.databaseUrl, sqlitePath: config.sqlitePath }));
  await migrate(database);
  const services = createServices({ config, clock, database, logger, bus, sessionEvents });
  const app = createApp(services);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s as Server));
    (s as Server).once('error', reject);
  });
  server.on('clientError', answerClientError);
  const sockets = attachNotificationSockets(server, services);
  const billing = options.billingRunner !== false && config.billing.tickMs > 0 ? startBillingRunner(services.billing, config.billing.tickMs, logger) : null;
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  return {
    url,
    services,
    async close() {
      // A tick in progress finishes before the database closes; an interrupted one would be taken over anyway.
      await billing?.stop();
      sockets.close();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.database) await database.close();
    },
  };
}

/**
 * What Node's HTTP parser refuses (malformed requests, bytes beyond a Content-Length, oversized
 * headers) is answered like every other 4xx: a JSON error body with a code, then the connection
 * closes. As in Node's default, nothing is written once a response has started on the socket.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (error.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const message = status === 431 ? 'The request headers are too large.' : status === 408 ? 'The request took too long to arrive.' : 'The request is not valid HTTP.';
    const body = JSON.stringify({ error: { code: 'bad_request', message } } satisfies ErrorBody);
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}
