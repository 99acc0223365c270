import { readFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import { Currency, MinorUnits, PaymentMethod, PeriodUnit, PlanId, PositiveMinorUnits, ProductId } from '../src/protocol';
import { CheckoutProviderName, EnvName, ProvidersConfig, type MilkipayConfig, type PaymentwallConfig, type VerotelConfig } from './providers/provider-config';
import { verotelCatalogProblem } from './providers/verotel/verotel-catalog';

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
  /** Who takes card payments for this product; defaults to `payments.card`. */
  provider: z.optional(CheckoutProviderName),
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
  /** Who bills this plan by card; defaults to `payments.card`. */
  provider: z.optional(CheckoutProviderName),
});

const Billing = z.strictObject({
  /** Time between a failed renewal and its retry (two retries, three attempts in all). */
  retryIntervalHours: z.optional(z.number().check(z.positive(), z.lte(24 * 90))),
  /** How often the server runs the billing clock itself; 0 leaves it to `npm run billing:tick` (cron). */
  tickSeconds: z.optional(z.number().check(z.nonnegative(), z.lte(86_400))),
});

/** Proxies in front of the server that append the address they received from to X-Forwarded-For: `true` is one. */
export const TrustProxy = z.union([z.boolean(), z.int().check(z.minimum(0), z.maximum(8))]);
export const proxyHops = (trust: z.output<typeof TrustProxy> | undefined): number => (trust === true ? 1 : trust === false || trust === undefined ? 0 : trust);

const Callbacks = z.strictObject({
  /** Unauthenticated callback requests one client address may send per minute; more answer 429 before anything is written. */
  perMinute: z.optional(z.int().check(z.minimum(1), z.maximum(100_000))),
  /** Days a rejected callback is kept for audit (applied ones are kept); it is stored cut to 1 kB. */
  rejectedRetentionDays: z.optional(z.number().check(z.positive(), z.lte(3650))),
});

export const ConfigFile = z.strictObject({
  publicBaseUrl: z.optional(z.url()),
  merchantOrigins: z.array(Origin).check(z.minLength(1)),
  startCredit: z.strictObject({ amount: MinorUnits, currency: Currency }),
  /** Name of the environment variable that holds the offer-signing secret. */
  offerSecretEnv: z._default(EnvName, 'PAYWALL_OFFER_SECRET'),
  /** Name of the environment variable that holds the key (32 bytes, base64) encrypting provider tokens at rest. */
  encryptionKeyEnv: z._default(EnvName, 'PAYWALL_ENCRYPTION_KEY'),
  /** Name of the environment variable that holds the merchant's key for the /v1/admin API (payouts). */
  adminApiKeyEnv: z._default(EnvName, 'PAYWALL_ADMIN_API_KEY'),
  database: z.optional(z.strictObject({ sqlitePath: z.optional(z.string()) })),
  catalog: z.strictObject({ products: z.array(CatalogProduct), plans: z.optional(z.array(CatalogPlan)) }),
  /** The built-in sandbox card provider: test cards, the hosted bank page, the readable email outbox. */
  sandbox: z.optional(z.boolean()),
  billing: z.optional(Billing),
  /** How many proxies of yours stand in front of the server (see TrustProxy); the client address is then the one the outermost of them saw. */
  trustProxy: z.optional(TrustProxy),
  callbacks: z.optional(Callbacks),
  notifications: z.optional(z.strictObject({
    /** Open notification sockets a reader may hold on one instance (tabs, windows); one more closes the oldest. */
    socketsPerReader: z.optional(z.int().check(z.positive(), z.lte(100))),
  })),
  /** Real payment providers; their secrets come from the environment variables they name. */
  providers: z.optional(ProvidersConfig),
  /** The default provider per payment method (per product or plan: its own `provider`). */
  payments: z.optional(z.strictObject({ card: z.optional(CheckoutProviderName) })),
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
  /** Who bills it by card. */
  provider: CheckoutProviderName;
}

/** A provider's settings with the secrets its config names read from the environment. */
export interface ResolvedProviders {
  verotel?: z.output<typeof VerotelConfig> & { signatureKey: string };
  paymentwall?: z.output<typeof PaymentwallConfig> & { secretKey: string };
  milkipay?: z.output<typeof MilkipayConfig> & { clientToken: string };
}

export interface ServerConfig {
  publicBaseUrl: string;
  /** Origin of the backend itself: hosted pages and same-origin-only endpoints. */
  ownOrigin: string;
  merchantOrigins: string[];
  startCredit: { amount: number; currency: string };
  offerSecret: string;
  products: Map<string, CatalogProduct & { contentPath?: string; provider: CheckoutProviderName }>;
  plans: Map<string, CatalogPlan>;
  providers: ResolvedProviders;
  /** AES-256-GCM key for provider tokens stored per customer (Verotel one-click, Milkipay processor tokens); null when no provider stores any. */
  encryptionKey: Buffer | null;
  /** The merchant's bearer key for /v1/admin; null turns the admin API off. */
  adminApiKey: string | null;
  /** The built-in sandbox card provider is on (the default). */
  sandbox: boolean;
  /** Who takes card payments for items without a provider of their own (signed offers). */
  cardProvider: CheckoutProviderName;
  billing: { retryIntervalMs: number; tickMs: number };
  /** Proxies of the operator's in front of the server; 0: the socket's peer is the client. */
  proxyHops: number;
  callbacks: { perMinute: number; rejectedRetentionMs: number };
  notifications: { socketsPerReader: number };
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
  const sandbox = file.sandbox ?? true;
  const providers = resolveProviders(file.providers, env, source);
  const defaultCardProvider = file.payments?.card ?? 'sandbox';
  const checkProvider = (name: CheckoutProviderName, field: string) => {
    if (!cardProviderAvailable({ sandbox, providers }, name)) {
      throw new ConfigError(`Invalid config ${source}: field "${field}": ${name === 'sandbox' ? 'the sandbox is off ("sandbox": false)' : `provider "${name}" is not configured under "providers"`}`);
    }
    return name;
  };
  if (file.payments?.card) checkProvider(file.payments.card, 'payments.card');
  const products = new Map<string, CatalogProduct & { contentPath?: string; provider: CheckoutProviderName }>();
  file.catalog.products.forEach((product, index) => {
    if (products.has(product.id)) throw new ConfigError(`Invalid config ${source}: field "catalog.products.${index}.id": duplicate product id "${product.id}"`);
    if (product.currency !== file.startCredit.currency) {
      throw new ConfigError(`Invalid config ${source}: field "catalog.products.${index}.currency": wallets hold ${file.startCredit.currency}, so products must be priced in it`);
    }
    const contentPath = product.content ? resolve(baseDir, product.content) : undefined;
    if (contentPath && !existsSync(contentPath)) {
      throw new ConfigError(`Invalid config ${source}: field "catalog.products.${index}.content": file not found: ${contentPath}`);
    }
    const provider = product.provider ? checkProvider(product.provider, `catalog.products.${index}.provider`) : defaultCardProvider;
    products.set(product.id, { ...product, provider, ...(contentPath ? { contentPath } : {}) });
  });
  const plans = new Map<string, CatalogPlan>();
  (file.catalog.plans ?? []).forEach((plan, index) => {
    const at = (field: string) => `Invalid config ${source}: field "catalog.plans.${index}.${field}"`;
    if (plans.has(plan.id)) throw new ConfigError(`${at('id')}: duplicate plan id "${plan.id}"`);
    if (plan.trialDays && (plan.provider ?? defaultCardProvider) !== 'sandbox' && (plan.methods ?? ['card']).includes('card')) {
      throw new ConfigError(`${at('trialDays')}: trials are run by the billing clock, so a plan billed by a provider cannot have one`);
    }
    if (plan.currency !== file.startCredit.currency) throw new ConfigError(`${at('currency')}: wallets hold ${file.startCredit.currency}, so plans must be priced in it`);
    plan.products.forEach((product, i) => {
      if (!products.has(product)) throw new ConfigError(`${at(`products.${i}`)}: there is no product "${product}" in catalog.products`);
    });
    const { trialDays, methods, periodLength, provider, ...rest } = plan;
    plans.set(plan.id, {
      ...rest, products: [...new Set(plan.products)], periodLength: periodLength ?? 1, methods: [...new Set<PaymentMethod>(methods ?? ['wallet', 'card'])], ...(trialDays ? { trialDays } : {}),
      provider: provider ? checkProvider(provider, `catalog.plans.${index}.provider`) : defaultCardProvider,
    });
  });
  const verotelProblem = verotelCatalogProblem(products.values(), plans.values());
  if (verotelProblem) throw new ConfigError(`Invalid config: ${verotelProblem}`);
  const publicBaseUrl = (file.publicBaseUrl ?? listenUrl).replace(/\/$/, '');
  return {
    publicBaseUrl,
    ownOrigin: new URL(publicBaseUrl).origin,
    merchantOrigins: [...new Set(file.merchantOrigins)],
    startCredit: file.startCredit,
    offerSecret: resolveDevelopmentSecret({ name: file.offerSecretEnv, field: 'offerSecretEnv', file: 'offer-secret', env, dataDir, source }),
    products,
    plans,
    providers,
    encryptionKey: resolveEncryptionKey(file.encryptionKeyEnv, env, dataDir, source, Boolean(providers.verotel || providers.milkipay)),
    adminApiKey: resolveAdminKey(file.adminApiKeyEnv, env, source),
    sandbox,
    cardProvider: defaultCardProvider,
    billing: {
      retryIntervalMs: Math.round((file.billing?.retryIntervalHours ?? 24) * 3_600_000),
      tickMs: Math.round((file.billing?.tickSeconds ?? 60) * 1000),
    },
    // Paymentwall's own `trustProxy` came first and still counts.
    proxyHops: Math.max(proxyHops(file.trustProxy), proxyHops(file.providers?.paymentwall?.trustProxy)),
    callbacks: {
      perMinute: file.callbacks?.perMinute ?? 600,
      rejectedRetentionMs: Math.round((file.callbacks?.rejectedRetentionDays ?? 30) * 86_400_000),
    },
    notifications: { socketsPerReader: file.notifications?.socketsPerReader ?? 10 },
    sqlitePath: resolve(baseDir, file.database?.sqlitePath ?? `${dataDir}/paywall.sqlite`),
  };
}

/**
 * The secret comes from the environment. Outside production a missing one is generated once
 * into the data folder, so a fresh clone starts and `npm run sign-offer` signs with the same key.
 */
function resolveDevelopmentSecret({ name, field, file: fileName, env, dataDir, source, generate = () => randomBytes(32).toString('base64url') }: {
  name: string; field: string; file: string; env: NodeJS.ProcessEnv; dataDir: string; source: string; generate?: () => string;
}): string {
  const fromEnv = env[name];
  if (fromEnv !== undefined) {
    if (fromEnv.length < 32) throw new ConfigError(`Invalid config ${source}: field "${field}": ${name} must hold at least 32 characters`);
    return fromEnv;
  }
  if (env.NODE_ENV === 'production') {
    throw new ConfigError(`Invalid config ${source}: field "${field}": environment variable ${name} is not set`);
  }
  const file = resolve(dataDir, fileName);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = generate();
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

function resolveEncryptionKey(name: string, env: NodeJS.ProcessEnv, dataDir: string, source: string, needed: boolean): Buffer | null {
  if (!needed && env[name] === undefined && env.NODE_ENV === 'production') return null;
  const encoded = resolveDevelopmentSecret({ name, field: 'encryptionKeyEnv', file: 'encryption-key', env, dataDir, source, generate: () => randomBytes(32).toString('base64') });
  const key = Buffer.from(encoded, 'base64');
  if (key.length !== 32) throw new ConfigError(`Invalid config ${source}: field "encryptionKeyEnv": ${name} must be 32 bytes in base64 (openssl rand -base64 32)`);
  return key;
}

function resolveAdminKey(name: string, env: NodeJS.ProcessEnv, source: string): string | null {
  const key = env[name];
  if (key === undefined) return null;
  if (key.length < 32) throw new ConfigError(`Invalid config ${source}: field "adminApiKeyEnv": ${name} must hold at least 32 characters`);
  return key;
}

/** A provider is on when its section is present; each secret it names must then be set. */
function resolveProviders(file: z.output<typeof ProvidersConfig> | undefined, env: NodeJS.ProcessEnv, source: string): ResolvedProviders {
  const secret = (provider: string, field: string, name: string) => {
    const value = env[name];
    if (!value) throw new ConfigError(`Invalid config ${source}: field "providers.${provider}.${field}": environment variable ${name} is not set`);
    return value;
  };
  const resolved: ResolvedProviders = {};
  if (file?.verotel) resolved.verotel = { ...file.verotel, signatureKey: secret('verotel', 'signatureKeyEnv', file.verotel.signatureKeyEnv) };
  if (file?.paymentwall) resolved.paymentwall = { ...file.paymentwall, secretKey: secret('paymentwall', 'secretKeyEnv', file.paymentwall.secretKeyEnv) };
  if (file?.milkipay) resolved.milkipay = { ...file.milkipay, clientToken: secret('milkipay', 'clientTokenEnv', file.milkipay.clientTokenEnv) };
  return resolved;
}

/** Verotel's limits, refused at start rather than at a reader's checkout: FlexPay's currencies, and card plans renewed every 7 days at the least. */
/** Whether card payments can be taken by `provider`: the sandbox only while it is on; a configured provider always. */
export function cardProviderAvailable(config: Pick<ServerConfig, 'sandbox' | 'providers'>, provider: CheckoutProviderName): boolean {
  return provider === 'sandbox' ? config.sandbox : config.providers[provider] !== undefined;
}
