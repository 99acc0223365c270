import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setupServer } from 'msw/node';
import type { Page } from 'playwright-core';
import { FakeMilkipay, MILKIPAY_CLIENT_ID, MILKIPAY_CLIENT_TOKEN } from '../fakes/milkipay-fake';
import { signUpOn, useDemo, type Reader } from './demo-harness';

/**
 * Connecting a Milkipay wallet and paying out, as a reader and a merchant meet them: the real
 * server serving demo/wallet-connect.html in Chromium; the window goes to a local fake of Milkipay's
 * authorize page (127.0.0.1) and back; Milkipay's server-to-server API is msw in this process.
 */

const API = 'https://api.milkipay.test';
const ADMIN_KEY = 'e2e-admin-key-0123456789abcdef0123456789';

describe('Milkipay on the demo page, against the real server', { timeout: 90_000 }, () => {
  const fake = new FakeMilkipay(API);
  const msw = setupServer(...fake.handlers());
  let authorizePage: Awaited<ReturnType<FakeMilkipay['startAuthorizePage']>>;
  // Before the demo's own hooks: the server's config points at the fake page.
  before(async () => {
    msw.listen({ onUnhandledRequest: 'bypass' });
    authorizePage = await fake.startAuthorizePage();
  });
  after(async () => {
    msw.close();
    await authorizePage.close();
  });
  const demo = useDemo({
    dataDirPrefix: 'paywall-e2e-milkipay-',
    events: ['paywall-wallet-connect', 'paywall-error', 'paywall-window'],
    configure: (file) => {
      file.providers = { milkipay: { clientId: MILKIPAY_CLIENT_ID, oauthUrl: authorizePage.url, baseUrl: API } };
    },
    env: { MILKIPAY_CLIENT_TOKEN, PAYWALL_ADMIN_API_KEY: ADMIN_KEY },
  });

  const element = (page: Page) => page.locator('wallet-connect');

  /** Signs up on the page and connects the wallet through the fake authorize page. */
  async function connectedReader(label: string): Promise<{ reader: Reader; customer: string }> {
    const reader = await demo.newReader('/wallet-connect.html');
    const { page } = reader;
    await signUpOn(page, label);
    const [popup] = await Promise.all([page.waitForEvent('popup'), element(page).getByRole('button', { name: 'Connect Milkipay wallet' }).click()]);
    const closed = popup.waitForEvent('close');
    await popup.getByRole('link', { name: 'Allow' }).click();
    await closed;
    await element(page).getByText('Milkipay wallet connected').first().waitFor();
    const token = await page.evaluate((key) => localStorage.getItem(key), `paywall-kit:session:${demo.server.url}`);
    const me = await (await fetch(`${demo.server.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).json();
    return { reader, customer: me.customer.id };
  }

  const payout = async (body: Record<string, unknown>) => {
    const response = await fetch(`${demo.server.url}/v1/admin/payouts`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: await response.json() };
  };

  test('connect → connected state in the page, announced; the client token never reaches the merchant page', async () => {
    const { reader } = await connectedReader('mk-connect');
    const states = reader.events.filter((e) => e.type === 'paywall-wallet-connect').map((e) => e.status);
    assert.deepEqual(states, ['not_connected', 'connected']);
    assert.deepEqual(reader.events.filter((e) => e.type === 'paywall-window').map((e) => e.state), ['opened', 'completed', 'opened', 'completed']);
    assert.equal(await element(reader.page).locator('[role="status"]').textContent(), 'Milkipay wallet connected');
    assert.deepEqual(fake.callsTo('/api/clients/processor-token').length, 1);
    assert.ok(reader.requests.every((r) => !JSON.stringify(r).includes(MILKIPAY_CLIENT_TOKEN)), 'no request of the merchant page carries the client token');
    assert.deepEqual(reader.errors, []);
  });

  test('a locked account at connect time shows the mapped error in the page', async () => {
    const reader = await demo.newReader('/wallet-connect.html');
    const { page } = reader;
    await signUpOn(page, 'mk-locked');
    fake.account = { refusal: 'CAI-100-04' };
    try {
      const [popup] = await Promise.all([page.waitForEvent('popup'), element(page).getByRole('button', { name: 'Connect Milkipay wallet' }).click()]);
      await popup.getByRole('link', { name: 'Allow' }).click();
      await element(page).getByText('This wallet account is locked.').waitFor();
    } finally {
      fake.account = { status: 'active' };
    }
    assert.ok(reader.events.some((e) => e.type === 'paywall-wallet-connect' && e.status === 'error' && e.code === 'account_locked'));
  });

  test('a payout with each error code answers the mapped error; account problems show on the reader page', async () => {
    const { reader, customer } = await connectedReader('mk-payout');
    const paid = await payout({ customer, amount: 700, currency: 'EUR', transactionId: 'e2e-paid-1' });
    assert.deepEqual([paid.status, paid.body.payout.status, paid.body.payout.amount], [200, 'completed', 700]);

    const cases: Array<[string, string, number, string | null]> = [
      ['CAI-200-05', 'merchant_balance_too_low', 402, null],
      ['CAI-200-42', 'milkipay_payment_error', 402, null],
      ['CAI-900-01', 'milkipay_error', 502, null],
      ['CAI-100-04', 'account_locked', 423, 'This wallet account is locked.'],
      ['CAI-100-31', 'milkipay_account_error', 422, 'Milkipay cannot use this wallet account.'],
    ];
    for (const [cai, code, status, shown] of cases) {
      fake.payoutRefusal = cai;
      const refused = await payout({ customer, amount: 100, currency: 'EUR', transactionId: `e2e-${cai}` });
      assert.deepEqual([refused.status, refused.body.error.code, refused.body.error.providerCode], [status, code, cai], cai);
      if (!shown) continue;
      await reader.page.reload();
      await element(reader.page).getByText(shown).waitFor();
    }
    fake.payoutRefusal = null;
  });
});
