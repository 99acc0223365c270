import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { SecretBox } from '../../server/providers/secret-box';
import { refused } from './config-refusal';
import { startTestServer, testConfig } from './harness';

const VEROTEL = { merchantId: '9804000000000000', shopId: '12345' };
const PAYMENTWALL = { projectKey: 'c22f895840bf2391f67a40da64bfed26' };
const ENCRYPTION_KEY = randomBytes(32).toString('base64');

const withEnv = (overrides: Record<string, unknown>, env: NodeJS.ProcessEnv) => testConfig(overrides, env);

describe('provider configuration', () => {
  test('a provider is named per product, per plan or per method; the default stays the sandbox', () => {
    const secrets = { VEROTEL_SIGNATURE_KEY: 'verotel-key', PAYMENTWALL_SECRET_KEY: 'pw-secret' };
    const config = withEnv({
      providers: { verotel: VEROTEL, paymentwall: PAYMENTWALL },
      payments: { card: 'verotel' },
      catalog: {
        products: [
          { id: 'article-42', title: 'Night trains', price: 49, currency: 'EUR', validity: 3600 },
          { id: 'article-43', title: 'The bakery', price: 99, currency: 'EUR', validity: 3600, provider: 'sandbox' },
        ],
        plans: [
          { id: 'gold-monthly', title: 'Gold monthly', price: 499, currency: 'EUR', periodUnit: 'month', products: ['article-42'], provider: 'paymentwall' },
          { id: 'silver', title: 'Silver', price: 199, currency: 'EUR', periodUnit: 'month', products: ['article-43'] },
        ],
      },
    }, secrets);
    assert.equal(config.products.get('article-42')!.provider, 'verotel');
    assert.equal(config.products.get('article-43')!.provider, 'sandbox');
    assert.equal(config.plans.get('gold-monthly')!.provider, 'paymentwall');
    assert.equal(config.plans.get('silver')!.provider, 'verotel');
    assert.equal(config.cardProvider, 'verotel');
    assert.equal(config.providers.verotel!.signatureKey, 'verotel-key');
    assert.equal(config.providers.verotel!.verifyStatus, true, 'the sale status is cross-checked by default');
    assert.equal(config.providers.paymentwall!.signVersion, 3);
    assert.equal(testConfig().products.get('article-42')!.provider, 'sandbox');
  });

  test('a secret missing from the environment is refused, naming the variable and never a value', () => {
    refused(() => withEnv({ providers: { verotel: VEROTEL } }, {}), 'providers.verotel.signatureKeyEnv', /VEROTEL_SIGNATURE_KEY/, /not set/);
    refused(() => withEnv({ providers: { paymentwall: { ...PAYMENTWALL, secretKeyEnv: 'PW_KEY' } } }, {}), 'providers.paymentwall.secretKeyEnv', /PW_KEY/);
  });

  test('a product or plan billed by a provider that is not configured, or by the sandbox when it is off', () => {
    refused(() => withEnv({ payments: { card: 'verotel' } }, {}), 'payments.card', /"verotel" is not configured/);
    const product = { id: 'article-42', title: 'Night trains', price: 49, currency: 'EUR', validity: 3600, provider: 'paymentwall' };
    refused(() => withEnv({ catalog: { products: [product] } }, {}), 'catalog.products.0.provider', /not configured/);
    const plain = { ...product, provider: 'sandbox' };
    refused(() => withEnv({ sandbox: false, catalog: { products: [plain] } }, {}), 'catalog.products.0.provider', /sandbox is off/);
    refused(() => withEnv({ catalog: { products: [{ ...product, provider: 'stripe' }] } }, {}), 'catalog.products.0.provider');
  });

  test('a trial cannot be billed by a provider (the billing clock runs trials)', () => {
    refused(() => withEnv({
      providers: { paymentwall: PAYMENTWALL },
      catalog: {
        products: [{ id: 'article-42', title: 'Night trains', price: 49, currency: 'EUR', validity: 3600 }],
        plans: [{ id: 'trial', title: 'Trial', price: 199, currency: 'EUR', periodUnit: 'week', trialDays: 7, products: ['article-42'], provider: 'paymentwall' }],
      },
    }, { PAYMENTWALL_SECRET_KEY: 'pw-secret' }), 'catalog.plans.0.trialDays', /trial/);
  });

  test('provider settings are validated like the rest of the config', () => {
    refused(() => withEnv({ providers: { verotel: { ...VEROTEL, merchantId: '1234' } } }, { VEROTEL_SIGNATURE_KEY: 'k' }), 'providers.verotel.merchantId', /16-digit/);
    refused(() => withEnv({ providers: { verotel: { ...VEROTEL, baseUrl: 'http://fake.test/' } } }, { VEROTEL_SIGNATURE_KEY: 'k' }), 'providers.verotel.baseUrl', /trailing slash/);
    refused(() => withEnv({ providers: { paymentwall: { ...PAYMENTWALL, ipAllowlist: ['not-an-ip'] } } }, { PAYMENTWALL_SECRET_KEY: 'k' }), 'providers.paymentwall.ipAllowlist.0', /IPv4/);
    refused(() => withEnv({ providers: { paypal: {} } }, {}), 'providers.paypal', /unknown field/);
  });

  test('the encryption key: 32 bytes in base64, required in production when a provider stores tokens', () => {
    refused(() => withEnv({}, { PAYWALL_ENCRYPTION_KEY: randomBytes(40).toString('base64') }), 'encryptionKeyEnv', /32 bytes/);
    refused(() => withEnv({ providers: { verotel: VEROTEL } }, { NODE_ENV: 'production', VEROTEL_SIGNATURE_KEY: 'k' }), 'encryptionKeyEnv', /PAYWALL_ENCRYPTION_KEY/, /not set/);
    assert.equal(withEnv({}, { NODE_ENV: 'production' }).encryptionKey, null, 'nothing to seal: no key needed');
    assert.deepEqual(withEnv({}, { PAYWALL_ENCRYPTION_KEY: ENCRYPTION_KEY }).encryptionKey, Buffer.from(ENCRYPTION_KEY, 'base64'));
    assert.equal(testConfig().encryptionKey?.length, 32, 'outside production a key is generated into the data folder');
  });

  test('the admin API key comes from the environment and must be long', () => {
    assert.equal(testConfig().adminApiKey, null);
    assert.equal(withEnv({}, { PAYWALL_ADMIN_API_KEY: 'a'.repeat(40) }).adminApiKey, 'a'.repeat(40));
    refused(() => withEnv({}, { PAYWALL_ADMIN_API_KEY: 'short' }), 'adminApiKeyEnv', /32/);
  });
});

describe('sealed provider tokens', () => {
  test('a sealed token opens only with the same key and context, and never shows the token', () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal('one-click-token-123', 'cus_1:verotel:one_click');
    assert.ok(!sealed.includes('one-click-token-123'));
    assert.notEqual(box.seal('one-click-token-123', 'cus_1:verotel:one_click'), sealed, 'a fresh nonce every time');
    assert.equal(box.open(sealed, 'cus_1:verotel:one_click'), 'one-click-token-123');
    assert.equal(box.open(sealed, 'cus_2:verotel:one_click'), null, 'copied to another customer: does not open');
    assert.equal(new SecretBox(randomBytes(32)).open(sealed, 'cus_1:verotel:one_click'), null, 'another key');
    const [version, nonce, ciphertext, tag] = sealed.split('.');
    const flipped = Buffer.from(ciphertext!, 'base64url');
    flipped[0]! ^= 1;
    assert.equal(box.open([version, nonce, flipped.toString('base64url'), tag].join('.'), 'cus_1:verotel:one_click'), null, 'tampered');
    assert.equal(box.open('garbage', 'cus_1:verotel:one_click'), null);
  });
});

describe('card methods follow the provider', () => {
  test('with the sandbox off, a plan billed by a configured provider still offers card; others offer wallet only', async () => {
    const server = await startTestServer({
      config: {
        sandbox: false,
        providers: { paymentwall: PAYMENTWALL },
        catalog: {
          products: [{ id: 'article-42', title: 'Night trains', price: 49, currency: 'EUR', validity: 3600, provider: 'paymentwall' }],
          plans: [
            { id: 'gold-monthly', title: 'Gold monthly', price: 499, currency: 'EUR', periodUnit: 'month', products: ['article-42'], provider: 'paymentwall' },
            { id: 'wallet-only', title: 'Wallet', price: 99, currency: 'EUR', periodUnit: 'month', products: ['article-42'], methods: ['wallet'] },
          ],
        },
      },
      env: { PAYMENTWALL_SECRET_KEY: 'pw-secret' },
    });
    try {
      const { body } = await server.api('/v1/catalog');
      assert.deepEqual(body.plans.map((p: { id: string; methods: string[] }) => [p.id, p.methods]), [['gold-monthly', ['wallet', 'card']], ['wallet-only', ['wallet']]]);
    } finally {
      await server.close();
    }
  });
});

describe('provider callbacks', () => {
  test('an oversized callback body is refused before it is read or recorded; an unknown provider is 404', async () => {
    const server = await startTestServer();
    try {
      const big = await fetch(new URL('/callbacks/sandbox', server.url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x='.padEnd(64 * 1024, 'a') });
      assert.deepEqual([big.status, await big.text()], [413, 'Payload too large']);
      const unknown = await fetch(new URL('/callbacks/stripe', server.url));
      assert.equal(unknown.status, 404);
      assert.deepEqual(await server.database.db.selectFrom('provider_callbacks').selectAll().execute(), []);
    } finally {
      await server.close();
    }
  });
});
