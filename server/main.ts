import { resolve } from 'node:path';
import { ConfigError, loadConfig } from './config';
import { createLogger, startServer } from './server';

const logger = createLogger();
const port = Number(process.env.PORT ?? 8787);
const host = process.env.HOST ?? '127.0.0.1';
const configPath = resolve(process.env.PAYWALL_CONFIG ?? 'paywall.config.json');

try {
  const config = loadConfig({ path: configPath, listenUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}` });
  const server = await startServer({ config, port, host, logger, databaseUrl: process.env.DATABASE_URL });
  logger.info({ url: server.url, database: server.services.database.dialect, config: configPath }, `paywall-kit backend listening on ${server.url}`);
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  // One line a person can act on (port taken, database unreachable), not a stack trace.
  console.error(error instanceof ConfigError ? error.message : `Cannot start the paywall-kit backend: ${(error as Error).message}`);
  process.exit(error instanceof ConfigError ? 78 : 1);
}
