import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig, resolveConfig } from '../../server/config';
import { refused } from './config-refusal';
import { OFFER_SECRET } from './harness';

const ROOT = resolve(import.meta.dirname, '../..');

function validFile() {
  return {
    merchantOrigins: ['https://news.example', 'http://localhost:5173'],
    startCredit: { amount: 500, currency: 'EUR' },
    catalog: {
      products: [
        { id: 'article-42', title: 'Night trains', price: 49, currency: 'EUR', validity: 3600, content: 'content/article-42.html' },
        { id: 'day-pass', title: 'Day pass', price: 199, currency: 'EUR', validity: 86_400 },
      ],
    },
  };
}

/** A config folder of its own: the file, its content file and a data folder. */
function folder(config: unknown, { raw }: { raw?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'paywall-config-'));
  mkdirSync(join(dir, 'content'));
  writeFileSync(join(dir, 'content', 'article-42.html'), '<p>Night trains</p>');
  const path = join(dir, 'paywall.config.json');
  writeFileSync(path, raw ?? JSON.stringify(config, null, 2));
  return { dir, path, dataDir: join(dir, 'data') };
}

function load(config: unknown, env: NodeJS.ProcessEnv = { PAYWALL_OFFER_SECRET: OFFER_SECRET }, options: { raw?: string } = {}) {
  const { path, dataDir } = folder(config, options);
  return loadConfig({ path, env, dataDir });
}

const edit = (change: (file: ReturnType<typeof validFile>) => void) => {
  const file = validFile();
  change(file);
  return file;
};

describe('config: a bad config stops the server with one clear message naming the field', () => {
  test('a valid file resolves: content next to the file, origins deduplicated, the secret from the environment', () => {
    const { path, dataDir, dir } = folder(edit((f) => f.merchantOrigins.push('https://news.example')));
    const config = loadConfig({ path, env: { PAYWALL_OFFER_SECRET: OFFER_SECRET }, dataDir, listenUrl: 'http://127.0.0.1:9999' });
    assert.deepEqual(config.merchantOrigins, ['https://news.example', 'http://localhost:5173']);
    assert.equal(config.products.get('article-42')?.contentPath, join(dir, 'content', 'article-42.html'));
    assert.equal(config.products.get('day-pass')?.price, 199);
    assert.equal(config.offerSecret, OFFER_SECRET);
    assert.equal(config.publicBaseUrl, 'http://127.0.0.1:9999');
    assert.equal(config.ownOrigin, 'http://127.0.0.1:9999');
  });

  test('outside production a missing secret is generated once into the data folder and reused', () => {
    const { path, dataDir } = folder(validFile());
    const first = loadConfig({ path, env: {}, dataDir });
    assert.ok(first.offerSecret.length >= 32);
    assert.equal(readFileSync(join(dataDir, 'offer-secret'), 'utf8'), first.offerSecret);
    assert.equal(loadConfig({ path, env: {}, dataDir }).offerSecret, first.offerSecret);
  });

  test('a missing file names the file', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'paywall-config-')), 'nowhere.json');
    refused(() => loadConfig({ path, env: { PAYWALL_OFFER_SECRET: OFFER_SECRET } }), null, /nowhere\.json/, /no such file/i);
  });

  test('invalid JSON names the file and stays on one line even when the parser quotes several', () => {
    refused(() => load(null, undefined, { raw: '{ "merchantOrigins": [' }), null, /paywall\.config\.json/, /JSON/);
    refused(() => load(null, undefined, { raw: '{\n  "merchantOrigins": x\n}\n' }), null, /paywall\.config\.json/, /JSON/);
    refused(() => load(null, undefined, { raw: '' }), null, /JSON/);
  });

  test('missing merchantOrigins', () => {
    refused(() => load(edit((f) => delete (f as Partial<typeof f>).merchantOrigins)), 'merchantOrigins', /required/);
    refused(() => load(edit((f) => (f.merchantOrigins = []))), 'merchantOrigins', />=\s*1/);
  });

  test('an origin with a path, a trailing slash or no scheme', () => {
    for (const origin of ['https://news.example/articles', 'https://news.example/', 'news.example', 'ftp://news.example']) {
      refused(() => load(edit((f) => (f.merchantOrigins = ['http://localhost:5173', origin]))), 'merchantOrigins.1', /origin/);
    }
  });

  test('a negative or non-integer price, and other bad numbers', () => {
    refused(() => load(edit((f) => (f.catalog.products[1]!.price = -1))), 'catalog.products.1.price', />=\s*0/);
    refused(() => load(edit((f) => (f.catalog.products[0]!.price = 4.99))), 'catalog.products.0.price', /int/);
    refused(() => load(edit((f) => ((f.catalog.products[0] as Record<string, unknown>).price = '49'))), 'catalog.products.0.price', /number/);
    refused(() => load(edit((f) => (f.catalog.products[0]!.validity = 0))), 'catalog.products.0.validity');
    refused(() => load(edit((f) => (f.startCredit.amount = 0.5))), 'startCredit.amount', /int/);
  });

  test('notification sockets per reader: 10 unless set, a whole number from 1 to 100', () => {
    assert.equal(load(validFile()).notifications.socketsPerReader, 10);
    assert.equal(load({ ...validFile(), notifications: { socketsPerReader: 3 } }).notifications.socketsPerReader, 3);
    refused(() => load({ ...validFile(), notifications: { socketsPerReader: 0 } }), 'notifications.socketsPerReader', />\s*0/);
    refused(() => load({ ...validFile(), notifications: { socketsPerReader: 2.5 } }), 'notifications.socketsPerReader', /int/);
    refused(() => load({ ...validFile(), notifications: { socketsPerReader: 1000 } }), 'notifications.socketsPerReader', /100/);
    refused(() => load({ ...validFile(), notifications: { socketsPerTab: 3 } }), 'notifications.socketsPerTab', /unknown/);
  });

  test('a duplicate product id', () => {
    refused(() => load(edit((f) => (f.catalog.products[1]!.id = 'article-42'))), 'catalog.products.1.id', /duplicate/, /article-42/);
  });

  test('a content file that does not exist', () => {
    refused(() => load(edit((f) => (f.catalog.products[0]!.content = 'content/missing.html'))), 'catalog.products.0.content', /missing\.html/);
  });

  test('an unknown field, at any depth', () => {
    refused(() => load({ ...validFile(), merchantOrigin: ['https://news.example'] }), 'merchantOrigin', /unknown/);
    refused(() => load(edit((f) => Object.assign(f.startCredit, { amout: 5 }))), 'startCredit.amout', /unknown/);
    refused(() => load(edit((f) => Object.assign(f.catalog.products[1]!, { prize: 5 }))), 'catalog.products.1.prize', /unknown/);
  });

  test('a product priced in another currency than the wallets', () => {
    refused(() => load(edit((f) => (f.catalog.products[1]!.currency = 'USD'))), 'catalog.products.1.currency', /EUR/);
    refused(() => load(edit((f) => (f.startCredit.currency = 'eur'))), 'startCredit.currency', /ISO 4217/);
  });

  test('production without the offer secret, and a secret that is too short', () => {
    refused(() => load(validFile(), { NODE_ENV: 'production' }), 'offerSecretEnv', /PAYWALL_OFFER_SECRET/, /not set/);
    refused(() => load({ ...validFile(), offerSecretEnv: 'NEWS_OFFER_KEY' }, { NODE_ENV: 'production', PAYWALL_OFFER_SECRET: OFFER_SECRET }), 'offerSecretEnv', /NEWS_OFFER_KEY/);
    refused(() => load(validFile(), { PAYWALL_OFFER_SECRET: 'short-secret' }), 'offerSecretEnv', /PAYWALL_OFFER_SECRET/, /32/);
    refused(() => load(validFile(), { NODE_ENV: 'production', PAYWALL_OFFER_SECRET: '' }), 'offerSecretEnv', /32/);
    // The message names the variable, never its value.
    const message = refused(() => load(validFile(), { PAYWALL_OFFER_SECRET: 'tiny-but-secret' }), 'offerSecretEnv');
    assert.ok(!message.includes('tiny-but-secret'));
    const production = load(validFile(), { NODE_ENV: 'production', PAYWALL_OFFER_SECRET: OFFER_SECRET });
    assert.equal(production.offerSecret, OFFER_SECRET);
  });

  test('a root that is not an object', () => {
    for (const root of [null, [], 'config', 42]) refused(() => resolveConfig(root, { baseDir: ROOT, env: { PAYWALL_OFFER_SECRET: OFFER_SECRET } }), '(root)', /object/);
  });

  test('the real entry point exits non-zero with exactly one line naming the field', async () => {
    const cases: Array<[string, RegExp]> = [
      [JSON.stringify(edit((f) => (f.catalog.products[1]!.price = -5))), /field "catalog\.products\.1\.price"/],
      [JSON.stringify({ ...validFile(), merchantOrigin: [] }), /field "merchantOrigin"/],
      ['{\n  "merchantOrigins": nope\n}\n', /not valid JSON/],
    ];
    await Promise.all(
      cases.map(async ([raw, expected]) => {
        const { path } = folder(null, { raw });
        const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
          cwd: ROOT,
          env: { ...process.env, PAYWALL_CONFIG: path, PORT: '0', PAYWALL_OFFER_SECRET: OFFER_SECRET, DATABASE_URL: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.stderr.on('data', (chunk) => (stderr += chunk));
        const code = await new Promise<number | null>((done) => child.on('close', (status) => done(status)));
        assert.notEqual(code, 0);
        const lines = stderr.split('\n').filter((line) => line.trim());
        assert.equal(lines.length, 1, `exactly one line on stderr:\n${stderr}`);
        assert.match(lines[0]!, expected);
        assert.ok(lines[0]!.includes(path), 'names the file');
        assert.doesNotMatch(stdout, /listening/);
      }),
    );
  });
});
