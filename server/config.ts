import { readFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import { Currency, MinorUnits, ProductId } from '../src/protocol';

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

export const ConfigFile = z.strictObject({
  publicBaseUrl: z.optional(z.url()),
  merchantOrigins: z.array(Origin).check(z.minLength(1)),
  startCredit: z.strictObject({ amount: MinorUnits, currency: Currency }),
  /** Name of the environment variable that holds the offer-signing secret. */
  offerSecretEnv: z._default(z.string().check(z.regex(/^[A-Z_][A-Z0-9_]*$/)), 'PAYWALL_OFFER_SECRET'),
  database: z.optional(z.strictObject({ sqlitePath: z.optional(z.string()) })),
  catalog: z.strictObject({ products: z.array(CatalogProduct) }),
});
export type ConfigFile = z.infer<typeof ConfigFile>;
export type CatalogProduct = z.infer<typeof CatalogProduct>;

export interface ServerConfig {
  publicBaseUrl: string;
  /** Origin of the backend itself: hosted pages and same-origin-only endpoints. */
  ownOrigin: string;
  merchantOrigins: string[];
  startCredit: { amount: number; currency: string };
  offerSecret: string;
  products: Map<string, CatalogProduct & { contentPath?: string }>;
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
  const publicBaseUrl = (file.publicBaseUrl ?? listenUrl).replace(/\/$/, '');
  return {
    publicBaseUrl,
    ownOrigin: new URL(publicBaseUrl).origin,
    merchantOrigins: [...new Set(file.merchantOrigins)],
    startCredit: file.startCredit,
    offerSecret: resolveOfferSecret(file.offerSecretEnv, env, dataDir, source),
    products,
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
