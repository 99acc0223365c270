import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock, type Clock } from '../clock';
import { ConfigError, loadConfig } from '../config';
import { InProcessSessionEvents } from '../domain/session-events';
import { InProcessNotificationBus } from '../notifications/notification-bus';
import { createLogger } from '../server';
import { createServices } from '../services';
import { connectDatabase, migrate } from '../store/connect';

const usage = `Usage: npm run billing:tick -- [--config FILE] [--database-url URL] [--schema NAME] [--now ISO-8601]

Runs the billing clock once against the backend's database and prints what it did as JSON, for
cron. Safe to run while servers run their own clocks: every charge is taken exactly once.
--config defaults to $PAYWALL_CONFIG or paywall.config.json; --database-url to $DATABASE_URL
(otherwise the SQLite file the config names); --schema is a PostgreSQL schema; --now replaces
the current time (a time source for tests and for replaying a missed run).`;

try {
  const { values } = parseArgs({
    options: { config: { type: 'string' }, 'database-url': { type: 'string' }, schema: { type: 'string' }, now: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  let clock: Clock = systemClock;
  if (values.now !== undefined) {
    const at = new Date(values.now);
    if (Number.isNaN(at.getTime())) throw new Error(`--now must be an ISO-8601 time, got ${values.now}`);
    clock = { now: () => new Date(at) };
  }
  const config = loadConfig({ path: resolve(values.config ?? process.env.PAYWALL_CONFIG ?? 'paywall.config.json') });
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr);
  const database = await connectDatabase({ databaseUrl: values['database-url'] ?? process.env.DATABASE_URL, sqlitePath: config.sqlitePath, ...(values.schema ? { pgSchema: values.schema } : {}) });
  try {
    await migrate(database);
    // Notifications are stored for the sockets to deliver; a bus shared with the servers (Redis) would push them live.
    const services = createServices({ config, clock, database, logger, bus: new InProcessNotificationBus(), sessionEvents: new InProcessSessionEvents() });
    const report = await services.billing.tick();
    console.log(JSON.stringify({ at: clock.now().toISOString(), ...report }));
  } finally {
    await database.close();
  }
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `${(error as Error).message}\n\n${usage}`);
  process.exit(1);
}
