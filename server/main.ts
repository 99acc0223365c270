import { resolve } from 'node:path';
import { ConfigError, loadConfig } from './config';
import { startDemoSite } from './demo-site';
import { KIT_VERSION, kitIntegrity } from './routes/kit';
import { createLogger, startServer } from './server';

const logger = createLogger();
const port = Number(process.env.PORT ?? 8787);
const host = process.env.HOST ?? '127.0.0.1';
const configPath = resolve(process.env.PAYWALL_CONFIG ?? 'paywall.config.json');

try {
  const config = loadConfig({ path: configPath, listenUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}` });
  const server = await startServer({ config, port, host, logger, databaseUrl: process.env.DATABASE_URL });
  logger.info({ url: server.url, database: server.services.database.dialect, config: configPath }, `paywall-kit backend and its demo on ${server.url}/`);
  const kit = `${config.publicBaseUrl}/kit/${KIT_VERSION}/paywall-kit.js`;
  logger.info({ kit, integrity: kitIntegrity() }, `the kit for any page: ${kit}`);
  const site = await startDemoSite({ backendUrl: config.publicBaseUrl, host: process.env.DEMO_HOST ?? '127.0.0.2', port: Number(process.env.DEMO_PORT ?? 8788) }).catch((error: Error) => {
    logger.warn(`The demo as a merchant site did not start (${error.message}); DEMO_HOST and DEMO_PORT choose where it listens.`);
    return null;
  });
  if (site) {
    logger.info({ url: site.url }, `the demo as a merchant's site, on its own origin: ${site.url}/`);
    if (!config.merchantOrigins.includes(site.url)) logger.warn(`${site.url} is not in merchantOrigins of ${configPath}: its pages cannot use the backend until it is.`);
  }
  const stop = async () => {
    await site?.close();
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
