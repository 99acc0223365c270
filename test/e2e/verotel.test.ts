import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../server/clock';
import { startVerotelFake, type VerotelFake } from '../fakes/verotel-fake';
import { balance, signUpOn, throughPopup, unlocked, useDemo } from './demo-harness';

/**
 * A Verotel purchase as a reader meets it: demo/card-purchase.html with article-43 billed by
 * Verotel, whose hosted pages are a local fake (test/fakes/verotel-fake.ts) that sends the signed
 * postback and redirects back to the backend's return page; /salestatus is answered by the fake.
 */

const KEY = 'e2e-verotel-signature-key';
const SHOP = '54321';

describe('Verotel FlexPay in the hosted window, against the real server and a local Verotel', { timeout: 90_000 }, () => {
  let fake: VerotelFake;
  before(async () => (fake = await startVerotelFake({ signatureKey: KEY, shopId: SHOP })));
  after(() => fake?.close());
  const demo = useDemo({
    dataDirPrefix: 'paywall-e2e-verotel-',
    clock: new ManualClock(new Date()),
    env: { VEROTEL_SIGNATURE_KEY: KEY },
    configure(file) {
      file.providers = { verotel: { merchantId: '9804000000000001', shopId: SHOP, baseUrl: fake.url } };
      const products = file.catalog.products as Array<{ id: string; provider?: string }>;
      for (const product of products) if (product.id === 'article-43' || product.id === 'report-2026') product.provider = 'verotel';
    },
  });

  test('pay on Verotel\'s page: the postback unlocks the content in the page; the next purchase is one click', async () => {
    fake.postbackUrl = `${demo.server.url}/callbacks/verotel`;
    const reader = await demo.newReader('/card-purchase.html');
    const { page } = reader;
    await signUpOn(page, 'verotel');
    const buy = page.locator('paywall-button[product="article-43"][method="card"]');
    await buy.and(page.locator('[state="idle"]')).waitFor();
    let startorder = '';
    await throughPopup(page, buy.getByRole('button'), async (popup) => {
      await popup.getByRole('heading', { name: 'How a village saved its bakery' }).waitFor({ timeout: 10_000 });
      startorder = popup.url();
      assert.equal(await popup.getByText('One-click').count(), 0, 'the first purchase has no saved card');
      await popup.getByRole('button', { name: 'Pay' }).click();
    });
    await unlocked(page, 'article-43', /bakery/i);
    await balance(page).getByText('€5.00').waitFor(); // paid at Verotel, not from the wallet
    assert.equal(new URL(startorder).origin, fake.url);
    assert.deepEqual(fake.postbackAnswers, [{ status: 200, body: 'OK' }]);
    assert.equal(fake.sales[0]!.usedToken, null);
    assert.deepEqual(reader.errors, []);

    // The second Verotel purchase (report-2026, from the JS API of the same page) carries the one-click token of the first.
    const second = await page.evaluate(async (server) => {
      const token = localStorage.getItem(`paywall-kit:session:${server}`);
      const response = await fetch(`${server}/v1/payments`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ product: 'report-2026', idempotencyKey: crypto.randomUUID() }) });
      return (await response.json()).checkoutUrl as string;
    }, demo.server.url);
    const opened = await fetch(second, { redirect: 'manual' });
    assert.equal(opened.status, 303);
    const url = new URL(opened.headers.get('location')!);
    assert.deepEqual([url.searchParams.get('paymentMethod'), url.searchParams.get('oneClickToken')], ['CC', fake.sales[0]!.issuedToken]);
    assert.equal(new URL(startorder).searchParams.get('oneClickToken'), null);
    const hosted = await reader.context.newPage();
    await hosted.goto(url.href);
    await hosted.getByText('One-click: your saved card').waitFor();
    await hosted.getByRole('button', { name: 'Pay' }).click();
    await hosted.waitForURL((u) => u.pathname === '/hosted/providers/verotel/return');
    assert.equal(fake.sales[1]!.usedToken, fake.sales[0]!.issuedToken, 'paid with the token of the first postback');
    assert.deepEqual(fake.postbackAnswers.at(-1), { status: 200, body: 'OK' });
  });
});
