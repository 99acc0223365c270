import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config';
import { signOffer } from '../domain/offers';

const usage = `Usage: npm run sign-offer -- --product ID --price MINOR_UNITS --currency EUR --validity SECONDS [--title TEXT] [--expires-in SECONDS]

Prints an offer token for <paywall-button offer="…">, signed with the backend's offer secret.
--price is in integer minor units (49 = €0.49). --expires-in defaults to 86400 (the offer can be bought for a day).`;

function integer(name: string, value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new Error(`--${name} must be a non-negative integer, got ${value ?? 'nothing'}`);
  return Number(value);
}

try {
  const { values } = parseArgs({
    options: {
      product: { type: 'string' }, title: { type: 'string' }, price: { type: 'string' }, currency: { type: 'string' },
      validity: { type: 'string' }, 'expires-in': { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  if (!values.product || !values.currency) throw new Error('--product and --currency are required');
  const config = loadConfig({ path: resolve(values.config ?? process.env.PAYWALL_CONFIG ?? 'paywall.config.json') });
  const expiresIn = values['expires-in'] === undefined ? 86_400 : integer('expires-in', values['expires-in']);
  console.log(signOffer(config.offerSecret, {
    product: values.product,
    title: values.title ?? values.product,
    price: integer('price', values.price),
    currency: values.currency.toUpperCase(),
    validity: integer('validity', values.validity),
    expiresAt: Math.floor(Date.now() / 1000) + expiresIn,
  }));
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `${(error as Error).message}\n\n${usage}`);
  process.exit(1);
}
