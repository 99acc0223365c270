import { readFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import { Currency, MinorUnits, PaymentMethod, PeriodUnit, PlanId, PositiveMinorUnits, ProductId } from '../src/protocol';

const Origin = z.string().check(
  z.refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
    } catch {
      return false;
    }
  }, 'must be an origin such as https://news.example (scheme, host and port only, no trailing slash)'),
);

const CatalogProduct = z.strictObject({
  id: ProductId,
  title: z.string().check(z.minLength(1)),
  price: MinorUnits,
  currency: Currency,
  validity: z.int().check(z.positive()),
  /** HTML fragment served by GET /v1/content/:product, relative to the config file. */
  content: z.optional(z.string()),
});

const CatalogPlan = z.strictObject({
  id: PlanId,
  title: z.string().check(z.minLength(1)),
  price: PositiveMinorUnits,
  currency: Currency,
  periodLength: z.optional(z.int().check(z.positive(), z.lte(1000))),
  periodUnit: PeriodUnit,
  /** Catalog products a live subscription gives access to. */
  products: z.array(ProductId).check(z.minLength(1)),
  trialDays: z.optional(z.int().check(z.positive(), z.lte(366))),
  /** Defaults to both; card needs a card provider (the sandbox). */
  methods: z.optional(z.array(PaymentMethod).check(z.minLength(1))),
});

const Billing = z.strictObject({
  /** Time between a failed renewal and its retry (two retries, three attempts in all). */
  retryIntervalHours: z.optional(z.number().check(z.positive(), z.lte(24 * 90))),
  /** How often the server runs the billing clock itself; 0 leaves it to `npm run billing:tick` (cron). */
  tickSeconds: z.optional(z.number().check(z.nonnegative(), z.lte(86_400))),
});

export const ConfigFile = z.strictObject({
  publicBaseUrl: z.optional(z.url()),
  merchantOrigins: z.array(Origin).check(z.minLength(1)),
  startCredit: z.strictObject({ amount: MinorUnits, currency: Currency }),
  /** Name of the environment variable that holds the offer-signing secret. */
  offerSecretEnv: z._default(z.string().check(z.regex(/^[A-Z_][A-Z0-9_]*$/)), 'PAYWALL_OFFER_SECRET'),
  database: z.optional(z.strictObject({ sqlitePath: z.optional(z.string()) })),
  catalog: z.strictObject({ products: z.array(CatalogProduct), plans: z.optional(z.array(CatalogPlan)) }),
  /** The built-in sandbox card provider: test cards, the hosted bank page, the readable email outbox. */
  sandbox: z.optional(z.boolean()),
  billing: z.optional(Billing),
});
export type ConfigFile = z.infer<typeof ConfigFile>;
export type CatalogProduct = z.infer<typeof CatalogProduct>;

/** A plan as the server uses it: every optional field resolved. */
export interface CatalogPlan {
  id: string;
  title: string;
  price: number;
  currency: string;
  periodLength: number;
  periodUnit: PeriodUnit;
  products: string[];
  trialDays?: number;
  methods: PaymentMethod[];
}

export interface ServerConfig {
  publicBaseUrl: string;
  /** Origin of the backend itself: hosted pages and same-origin-only endpoints. */
  ownOrigin: string;
  merchantOrigins: string[];
  startCredit: { amount: number; currency: string };
  offerSecret: string;
  products: Map<string, CatalogProduct & { contentPath?: string }>;
  plans: Map<string, CatalogPlan>;
  /** The built-in sandbox card provider is on (the default). */
  sandbox: boolean;
  billing: { retryIntervalMs: number; tickMs: number };
  sqlitePath: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';

  /** The message is printed as the one line a failed start shows: never more than one. */
  constructor(message: string) {
    super(message.replace(/\s*[\r\n]+\s*/g, ' '));
  }
}

export interface LoadConfigOptions {
  path: string;
  env?: NodeJS.ProcessEnv;
  /** Base URL the server listens on when the file does not name one. */
  listenUrl?: string;
  /** Folder for the embedded database and the development offer secret. */
  dataDir?: string;
}

/** Reads, validates and resolves `paywall.config.json`; any problem is one message naming the field. */
export function loadConfig({ path, env = process.env, listenUrl = 'http://127.0.0.1:8787', dataDir = 'data' }: LoadConfigOptions): ServerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read config ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`Invalid config ${path}: not valid JSON: ${(error as Error).message}`);
  }
  return resolveConfig(raw, { baseDir: dirname(resolve(path)), env, listenUrl, dataDir, source: path });
}

export function resolveConfig(
  raw: unknown,
  { baseDir, env = process.env, listenUrl = 'http://127.0.0.1:8787', dataDir = 'data', source = 'config' }: { baseDir: string; env?: NodeJS.ProcessEnv; listenUrl?: string; dataDir?: string; source?: string },
): ServerConfig {
  // zod/mini has no messages of its own ("Invalid input"): the English ones say what was expected.
  const parsed = z.safeParse(ConfigFile, raw, { error: z.locales.en().localeError, reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // An unknown field is reported on the object that holds it: name the field itself.
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
    const field = path.length ? path.map(String).join('.') : '(root)';
    const message =
      issue.code === 'unrecognized_keys' ? 'unknown field (check its spelling)'
      : issue.code === 'invalid_type' && issue.input === undefined ? `required (${issue.expected})`
      : issue.message;
    throw new ConfigError(`Invalid config ${source}: field "${field}": ${message}`);
  }
  const file = parsed.data;
  const products = new Map<string, CatalogProduct & { contentPath?: string }>();
  file.catalog.products.forEach((product, index) => {
    if (products.has(product.id)) throw new ConfigError(`Invalid config ${source}: field "catalog.products.${index}.id": duplicate product id "${product.id}"`);
    if (product.currency !== file.startCredit.currency) {
      throw new ConfigError(`Invalid config ${source}: field "catalog.products.${index}.currency": wallets hold ${file.startCredit.currency}, so products must be priced in it`);
    }
    const contentPath = product.content ? resolve(baseDir, product.content) : undefined;
    if (contentPath && !existsSync(contentPath)) {
      throw new ConfigError(`Invalid config ${source}: field "catalog.products.${index}.content": file not found: ${contentPath}`);
    }
    products.set(product.id, contentPath ? { ...product, contentPath } : product);
  });
  const plans = new Map<string, CatalogPlan>();
  (file.catalog.plans ?? []).forEach((plan, index) => {
    const at = (field: string) => `Invalid config ${source}: field "catalog.plans.${index}.${field}"`;
    if (plans.has(plan.id)) throw new ConfigError(`${at('id')}: duplicate plan id "${plan.id}"`);
    if (plan.currency !== file.startCredit.currency) throw new ConfigError(`${at('currency')}: wallets hold ${file.startCredit.currency}, so plans must be priced in it`);
    plan.products.forEach((product, i) => {
      if (!products.has(product)) throw new ConfigError(`${at(`products.${i}`)}: there is no product "${product}" in catalog.products`);
    });
    const { trialDays, methods, periodLength, ...rest } = plan;
    plans.set(plan.id, { ...rest, products: [...new Set(plan.products)], periodLength: periodLength ?? 1, methods: [...new Set<PaymentMethod>(methods ?? ['wallet', 'card'])], ...(trialDays ? { trialDays } : {}) });
  });
  const publicBaseUrl = (file.publicBaseUrl ?? listenUrl).replace(/\/$/, '');
  return {
    publicBaseUrl,
    ownOrigin: new URL(publicBaseUrl).origin,
    merchantOrigins: [...new Set(file.merchantOrigins)],
    startCredit: file.startCredit,
    offerSecret: resolveOfferSecret(file.offerSecretEnv, env, dataDir, source),
    products,
    plans,
    sandbox: file.sandbox ?? true,
    billing: {
      retryIntervalMs: Math.round((file.billing?.retryIntervalHours ?? 24) * 3_600_000),
      tickMs: Math.round((file.billing?.tickSeconds ?? 60) * 1000),
    },
    sqlitePath: resolve(baseDir, file.database?.sqlitePath ?? `${dataDir}/paywall.sqlite`),
  };
}

/**
 * The secret comes from the environment. Outside production a missing one is generated once
 * into the data folder, so a fresh clone starts and `npm run sign-offer` signs with the same key.
 */
function resolveOfferSecret(name: string, env: NodeJS.ProcessEnv, dataDir: string, source: string): string {
  const fromEnv = env[name];
  if (fromEnv !== undefined) {
    if (fromEnv.length < 32) throw new ConfigError(`Invalid config ${source}: field "offerSecretEnv": ${name} must hold at least 32 characters`);
    return fromEnv;
  }
  if (env.NODE_ENV === 'production') {
    throw new ConfigError(`Invalid config ${source}: field "offerSecretEnv": environment variable ${name} is not set`);
  }
  const file = resolve(dataDir, 'offer-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
