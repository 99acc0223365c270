import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { verifyOffer } from '../../server/domain/offers';
import { OFFER_SECRET } from './harness';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

function configFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'paywall-cli-'));
  const path = join(dir, 'paywall.config.json');
  writeFileSync(path, JSON.stringify({ merchantOrigins: ['https://news.example'], startCredit: { amount: 0, currency: 'EUR' }, catalog: { products: [] } }));
  return path;
}

const signOffer = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'server/cli/sign-offer.ts', '--config', configFile(), ...args], { cwd: root, env: { ...process.env, PAYWALL_OFFER_SECRET: OFFER_SECRET } });

test('npm run sign-offer prints an offer the server accepts at the given price', async () => {
  const { stdout } = await signOffer(['--product', 'live-7', '--title', 'Live match', '--price', '150', '--currency', 'eur', '--validity', '3600', '--expires-in', '600']);
  const offer = verifyOffer(OFFER_SECRET, stdout.trim(), new Date());
  assert.equal(offer.product, 'live-7');
  assert.equal(offer.title, 'Live match');
  assert.equal(offer.price, 150);
  assert.equal(offer.currency, 'EUR');
  assert.equal(offer.validity, 3600);
  assert.ok(Math.abs(offer.expiresAt - (Date.now() / 1000 + 600)) < 60);
});

test('sign-offer refuses a price that is not integer minor units and prints the usage', async () => {
  await assert.rejects(signOffer(['--product', 'live-7', '--price', '1.50', '--currency', 'EUR', '--validity', '3600']), (error: any) => {
    assert.equal(error.code, 1);
    assert.match(error.stderr, /--price must be a non-negative integer/);
    assert.match(error.stderr, /Usage: npm run sign-offer/);
    return true;
  });
});
