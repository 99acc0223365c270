import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, resolveConfig } from '../../server/config';
import { OFFER_SECRET, testConfigFile } from './harness';

const ROOT = resolve(import.meta.dirname, '../..');
const resolveWith = (change: (file: any) => void) => {
  const file: any = structuredClone(testConfigFile());
  change(file);
  return resolveConfig(file, { baseDir: ROOT, env: { PAYWALL_OFFER_SECRET: OFFER_SECRET } });
};
const refused = (change: (file: any) => void, pattern: RegExp) => {
  assert.throws(() => resolveWith(change), (error: unknown) => error instanceof ConfigError && pattern.test(error.message) && !/[\r\n]/.test(error.message));
};

describe('config: plans, sandbox and billing', () => {
  test('defaults: one-period plans, both methods, the sandbox on, retries 24 h apart, a tick a minute', () => {
    const config = resolveWith(() => {});
    const plan = config.plans.get('gold-monthly')!;
    assert.deepEqual([plan.periodLength, plan.methods, plan.trialDays], [1, ['wallet', 'card'], undefined]);
    assert.equal(config.plans.get('wallet-only')!.periodLength, 3);
    assert.equal(config.sandbox, true);
    assert.deepEqual(config.billing, { retryIntervalMs: 24 * 3600 * 1000, tickMs: 60_000 });
    const tuned = resolveWith((f) => (f.billing = { retryIntervalHours: 0.5, tickSeconds: 0 }));
    assert.deepEqual(tuned.billing, { retryIntervalMs: 1_800_000, tickMs: 0 });
  });

  test('a mistake in a plan names the field', () => {
    refused((f) => (f.catalog.plans[0].products = ['article-404']), /field "catalog\.plans\.0\.products\.0": there is no product "article-404"/);
    refused((f) => f.catalog.plans.push({ ...f.catalog.plans[0] }), /field "catalog\.plans\.4\.id": duplicate plan id "gold-monthly"/);
    refused((f) => (f.catalog.plans[1].currency = 'USD'), /field "catalog\.plans\.1\.currency": wallets hold EUR/);
    refused((f) => (f.catalog.plans[0].periodUnit = 'fortnight'), /field "catalog\.plans\.0\.periodUnit"/);
    refused((f) => (f.catalog.plans[0].price = 0), /field "catalog\.plans\.0\.price"/);
    refused((f) => (f.catalog.plans[0].methods = []), /field "catalog\.plans\.0\.methods"/);
    refused((f) => (f.catalog.plans[0].interval = 'month'), /field "catalog\.plans\.0\.interval": unknown field/);
    refused((f) => (f.billing = { retryIntervalHours: -1 }), /field "billing\.retryIntervalHours"/);
    refused((f) => (f.sandbox = 'yes'), /field "sandbox"/);
  });
});
