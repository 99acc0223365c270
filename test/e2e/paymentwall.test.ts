import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import type { Locator, Page } from 'playwright-core';
import { content, signUpOn, throughPopup, unlocked, useDemo } from './demo-harness';
import { startPaymentwallFake, type PaymentwallFake } from '../fakes/paymentwall-fake';

/**
 * A Paymentwall subscription as a reader meets it: demo/subscribe.html against the real server,
 * with Gold monthly billed by Paymentwall (the local fake of its widget, which sends pingbacks
 * from 127.0.0.1), and the Delivery Confirmation API mocked with msw.
 */

const SECRET = 'e2e-paymentwall-secret-0123456789abcdef';

describe('Paymentwall subscription on the demo page', { timeout: 90_000 }, () => {
  let fake: PaymentwallFake;
  const deliveries: string[] = [];
  const mock = setupServer(http.post('https://api.paymentwall.com/api/delivery', async ({ request }) => {
    deliveries.push(new URLSearchParams(await request.text()).get('status') ?? '');
    return HttpResponse.json({ success: 1 });
  }));

  // Registered before useDemo's hooks: the fake listens before the server's config names it.
  before(async () => {
    fake = await startPaymentwallFake({ secret: SECRET });
    mock.listen({ onUnhandledRequest: 'bypass' });
  });
  const demo = useDemo({
    dataDirPrefix: 'paywall-e2e-pw-',
    env: { PAYMENTWALL_SECRET_KEY: SECRET },
    configure: (file) => {
      file.catalog.plans = file.catalog.plans.map((plan: Record<string, unknown>) => (plan.id === 'gold-monthly' ? { ...plan, provider: 'paymentwall' } : plan));
      file.providers = { paymentwall: { projectKey: 'e2e-project-key', widgetBaseUrl: `${fake.url}/api`, ipAllowlist: ['127.0.0.1'] } };
    },
    events: ['paywall-access', 'paywall-denied', 'paywall-error', 'paywall-window', 'paywall-subscription'],
  });
  before(() => {
    fake.pingbackUrl = `${demo.server.url}/callbacks/paymentwall`;
  });
  after(async () => {
    mock.close();
    await fake?.close();
  });

  const form = (page: Page): Locator => page.locator('subscribe-form');
  /** Asks the fake, over HTTP, to send Paymentwall's next pingback for the payment; the backend's answer. */
  const pingback = async (fields: Record<string, string>) => (await fetch(`${fake.url}/pingbacks`, { method: 'POST', body: new URLSearchParams(fields) })).json();

  test('subscribe by card on Paymentwall → type 0 opens the report; type 12 keeps it to the period end, shown canceled live; type 2 locks it live', async () => {
    const reader = await demo.newReader('/subscribe.html');
    const { page } = reader;
    await form(page).and(page.locator('[state="ready"]')).waitFor();
    await signUpOn(page, 'pw-sub');
    assert.equal(await content(page, 'report-2026').getAttribute('state'), 'locked');

    const card = form(page).getByRole('listitem').filter({ hasText: 'Gold monthly' }).getByRole('button', { name: 'Subscribe with card' });
    await throughPopup(page, card, async (popup) => {
      await popup.getByRole('heading', { name: 'Paymentwall' }).waitFor();
      await popup.getByText('4.99 EUR / 1 month').waitFor();
      await popup.getByRole('button', { name: 'Pay' }).click();
    });
    await form(page).and(page.locator('[state="subscribed"]')).waitFor();
    await form(page).locator('[part="subscription-state"]').getByText('Active').waitFor();
    await unlocked(page, 'report-2026', /Annual report 2026/);
    assert.equal(fake.payments.length, 1);
    for (let i = 0; i < 100 && deliveries.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(deliveries, ['order_placed', 'delivered']);

    let documents = 0;
    page.on('framenavigated', (frame) => frame === page.mainFrame() && documents++);
    assert.deepEqual(await pingback({ type: '12' }), { status: 200, body: 'OK' });
    await form(page).locator('[part="subscription-state"]').getByText('Canceled').waitFor();
    await form(page).locator('[part="next-billing"]').getByText(/^Access until /).waitFor();
    await form(page).locator('[part="payment-method"]').getByText('Billed by Paymentwall').waitFor();
    await unlocked(page, 'report-2026', /Annual report 2026/);
    assert.equal(documents, 0, 'shown canceled without a reload');
    assert.deepEqual(await pingback({ type: '2', reason: '1' }), { status: 200, body: 'OK' });
    await content(page, 'report-2026').and(page.locator('[state="locked"]')).waitFor({ timeout: 10_000 });
    assert.equal(documents, 0, 'locked without a reload');
    assert.deepEqual(reader.errors, []);
  });
});
