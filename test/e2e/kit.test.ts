import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { balance, button, content, newEmail, payWithTestCard, sent, signIn, signUp, throughPopup, unlocked, useDemo } from './demo-harness';

/**
 * The kit as readers meet it: the real demo pages on a merchant's origin, loading the built kit and
 * talking to the real server (real paywall.config.json, a temporary SQLite file) on its own
 * origin, driven in Chromium. Every test starts in a fresh
 * browser context, i.e. a fresh browser profile: no session, no storage.
 */

describe('paywall-kit on the demo pages, against the real server', { timeout: 90_000 }, () => {
  const demo = useDemo({ dataDirPrefix: 'paywall-e2e-' });
  const { newReader } = demo;
  /** The account of the first test, reused by the "another device" test. */
  let firstReader: { email: string } | null = null;

  test('a reader signs up in the popup, buys with the start credit, and reads on without a reload; reloading restores access with one request', async () => {
    const reader = await newReader('/article.html');
    const { page } = reader;
    // The second page, open in another tab: access bought on the article shows there too, live.
    const other = await reader.context.newPage();
    await other.goto(demo.site.url + '/continue.html');
    await button(other, 'article-42').and(other.locator('[state="idle"]')).waitFor();

    // What an editor writes: one script tag loading the kit from the backend, the backend meta tag and the paywall tags, no code.
    assert.notEqual(new URL(page.url()).origin, demo.server.url, 'the page is on the merchant\'s origin');
    assert.deepEqual(await page.locator('script').evaluateAll((scripts) => scripts.map((s) => `${s.getAttribute('type')} ${s.getAttribute('src')} ${s.textContent?.trim().length}`)), [`module ${demo.server.url}/kit/paywall-kit.js 0`]);
    assert.equal(await page.locator('meta[name="paywall-backend"]').getAttribute('content'), demo.server.url);

    const buy = button(page, 'article-42');
    await buy.and(page.locator('[state="idle"]')).waitFor();
    // The editor's label with the price beside it, as a screen reader announces it.
    await buy.getByRole('button', { name: /^Read for\s*€0\.49$/ }).waitFor();
    assert.equal(sent(reader, 'POST', '/v1/access').length, 0, 'signed out, nothing is asked');
    let documents = 0;
    page.on('framenavigated', (frame) => frame === page.mainFrame() && documents++);

    const email = newEmail('first');
    await throughPopup(page, buy.getByRole('button'), async (popup) => {
      await popup.getByRole('heading', { name: 'Create an account' }).waitFor();
      await signUp(popup, email);
    });
    firstReader = { email };

    await unlocked(page, 'article-42', /Night trains were written off twice/);
    assert.equal(await buy.getAttribute('state'), 'granted');
    assert.equal(await buy.isVisible(), false, 'the button hides once access is granted');
    await balance(page).getByText('€4.51').waitFor(); // €5.00 start credit − €0.49
    assert.equal(documents, 0, 'the article opened without a reload');
    const purchases = sent(reader, 'POST', '/v1/purchases');
    assert.equal(purchases.length, 1);
    assert.equal((purchases[0]!.body as { product: string }).product, 'article-42');
    // The clicked button reports its own purchase, even when the notification of the grant or the
    // other tab's broadcast arrives before the purchase answer.
    assert.ok(reader.events.some((e) => e.page === '/article.html' && e.target === 'paywall-button' && e.type === 'paywall-access' && e.product === 'article-42' && e.source === 'purchase'));

    // The other tab follows without a reload.
    await unlocked(other, 'article-42', /Night trains were written off twice/);
    await other.close();

    reader.requests.length = 0;
    await page.reload();
    await unlocked(page, 'article-42', /Night trains were written off twice/);
    await button(page, 'article-43').and(page.locator('[state="idle"]')).waitFor();
    const checks = sent(reader, 'POST', '/v1/access');
    assert.equal(checks.length, 1, 'one access request for the whole page');
    assert.deepEqual([...(checks[0]!.body as { products: string[] }).products].sort(), ['article-42', 'article-43', 'report-2026']);
    assert.equal(sent(reader, 'POST', '/v1/purchases').length, 0, 'nothing is bought twice');
    assert.deepEqual(reader.errors, []);
  });

  test('another device (a fresh browser profile) regains access after signing in', async () => {
    assert.ok(firstReader, 'needs the account of the first test');
    const reader = await newReader('/article.html');
    const { page } = reader;
    await button(page, 'article-42').and(page.locator('[state="idle"]')).waitFor();
    await throughPopup(page, page.locator('wallet-balance').getByRole('button', { name: 'Sign in' }), async (popup) => {
      await popup.getByRole('heading', { name: 'Sign in' }).waitFor();
      await signIn(popup, firstReader!.email);
    });
    await unlocked(page, 'article-42', /Night trains were written off twice/);
    assert.equal(await button(page, 'article-42').getAttribute('state'), 'granted');
    await balance(page).getByText('€4.51').waitFor();
    assert.equal(sent(reader, 'POST', '/v1/purchases').length, 0, 'access is restored, not bought again');
    assert.deepEqual(reader.errors, []);
  });

  test('insufficient funds: the top-up popup opens, closing it charges nothing, topping up resumes the purchase', async () => {
    const reader = await newReader('/article.html');
    const { page } = reader;
    await throughPopup(page, page.locator('wallet-balance').getByRole('button', { name: 'Create account' }), (popup) => signUp(popup, newEmail('short')));
    await balance(page).getByText('€5.00').waitFor();

    // The report (€9.00) is sold through a plain link with data-paywall-product, as CMS markup.
    const link = page.locator('a[data-paywall-product="report-2026"]');
    await link.and(page.locator('[data-paywall-state="idle"]')).waitFor();

    // First the reader changes their mind: closing the top-up window charges nothing.
    const [abandoned] = await Promise.all([page.waitForEvent('popup'), link.click()]);
    await abandoned.getByRole('heading', { name: 'Top up your wallet' }).waitFor();
    await abandoned.close();
    await link.and(page.locator('[data-paywall-state="idle"]')).waitFor();
    assert.equal(sent(reader, 'POST', '/v1/purchases').length, 0, 'no purchase is attempted');
    assert.match((await balance(page).textContent()) ?? '', /€5\.00/);
    assert.ok(reader.events.some((e) => e.type === 'paywall-window' && e.state === 'closed' && e.product === 'report-2026'));

    // Then they top up with the test card, and the purchase continues by itself.
    await throughPopup(page, link, async (popup) => {
      await popup.getByRole('heading', { name: 'Top up your wallet' }).waitFor();
      assert.ok(await popup.getByLabel('€5.00').isChecked(), 'the smallest amount covering the missing €4.00 is preselected');
      await payWithTestCard(popup);
    });
    await unlocked(page, 'report-2026', /Annual report 2026/);
    assert.equal(await link.isVisible(), false, 'the link hides once access is granted');
    await balance(page).getByText('€1.00').waitFor(); // €5.00 + €5.00 − €9.00
    const purchases = sent(reader, 'POST', '/v1/purchases');
    assert.ok(purchases.length >= 1);
    assert.equal(new Set(purchases.map((p) => (p.body as { idempotencyKey: string }).idempotencyKey)).size, 1, 'one idempotency key for the whole attempt');
    assert.deepEqual(reader.errors, []);
  });

  test('the reader closes the popup: nothing is charged and the button returns to idle', async () => {
    const reader = await newReader('/article.html');
    const { page } = reader;
    const buy = button(page, 'article-43');
    await buy.and(page.locator('[state="idle"]')).waitFor();
    const [popup] = await Promise.all([page.waitForEvent('popup'), buy.getByRole('button').click()]);
    await popup.getByRole('heading', { name: 'Create an account' }).waitFor();
    assert.equal(await buy.getAttribute('state'), 'window-open');
    await popup.close();
    await buy.and(page.locator('[state="idle"]')).waitFor();
    await buy.locator('[part="status"]').getByText('The window was closed. Nothing was charged.').waitFor({ state: 'attached' });
    assert.equal(sent(reader, 'POST', '/v1/purchases').length, 0, 'no purchase was sent');
    assert.equal(sent(reader, 'POST', '/hosted/sign-up').length, 0, 'no account was created');
    assert.equal(await content(page, 'article-43').getAttribute('state'), 'locked');
    const { events } = reader;
    assert.ok(events.some((e) => e.type === 'paywall-window' && e.state === 'closed' && e.product === 'article-43'));
    assert.ok(!events.some((e) => e.type === 'paywall-access'));
    // Still usable: the next click opens the window again.
    const [again] = await Promise.all([page.waitForEvent('popup'), buy.getByRole('button').click()]);
    await again.getByRole('heading', { name: 'Create an account' }).waitFor();
    await again.close();
    await buy.and(page.locator('[state="idle"]')).waitFor();
    assert.deepEqual(reader.errors, []);
  });

  test('popup blocked: the purchase continues in the same tab through the hosted page and completes on return', async () => {
    const reader = await newReader('/article.html', { blockPopups: true });
    const { page } = reader;
    const buy = button(page, 'article-42');
    await buy.and(page.locator('[state="idle"]')).waitFor();
    let popups = 0;
    reader.context.on('page', () => popups++);

    await Promise.all([page.waitForURL((url) => url.pathname === '/hosted/sign-up'), buy.getByRole('button').click()]);
    const hosted = new URL(page.url());
    assert.equal(new URL(hosted.searchParams.get('return') ?? '').pathname, '/article.html', 'the hosted page knows where to come back to');
    await signUp(page, newEmail('blocked'));

    await page.waitForURL((url) => url.pathname === '/article.html');
    await unlocked(page, 'article-42', /Night trains were written off twice/);
    assert.equal(await buy.getAttribute('state'), 'granted');
    await balance(page).getByText('€4.51').waitFor();
    assert.equal(new URL(page.url()).hash, '', 'the session token does not stay in the address bar');
    assert.equal(popups, 0);
    assert.ok(reader.events.some((e) => e.type === 'paywall-window' && e.state === 'blocked' && e.product === 'article-42'), 'the page was told the window was blocked');
    assert.ok(reader.events.some((e) => e.page === '/article.html' && e.type === 'paywall-access' && e.product === 'article-42'));
    assert.equal(sent(reader, 'POST', '/v1/purchases').filter((p) => (p.body as { product: string }).product === 'article-42').length, 1);
    assert.deepEqual(reader.errors, []);
  });

  test('the JS API page buys with Product and paywall.purchase(), and checks access in one request', async () => {
    const reader = await newReader('/js-api.html');
    const { page } = reader;
    await page.locator('#access li').first().waitFor();
    await throughPopup(page, page.getByRole('button', { name: 'Buy a day pass for €1.99' }), (popup) => signUp(popup, newEmail('js-api')));
    await page.locator('#day-pass-content').getByText('Your day pass is active: every article').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Buy a day pass for €1.99' }).isVisible(), false);
    await page.locator('#access').getByText(/^day-pass: open until/).waitFor();

    reader.requests.length = 0;
    await page.getByRole('button', { name: /with paywall\.purchase\(\)/ }).click();
    await page.locator('#access').getByText(/^article-43: open until/).waitFor();
    assert.equal(sent(reader, 'POST', '/v1/purchases').length, 1, 'signed in with enough balance: one click, no window');
    assert.ok(reader.events.some((e) => e.page === '/js-api.html' && e.target === 'document' && e.type === 'paywall-access' && e.product === 'article-43' && e.source === 'purchase'));

    reader.requests.length = 0;
    await page.reload();
    await page.locator('#day-pass-content').getByText('Your day pass is active: every article').waitFor();
    await page.locator('#access').getByText(/^article-43: open until/).waitFor();
    assert.equal(sent(reader, 'POST', '/v1/access').length, 1, 'tryAccessOnLoad() and checkAccess() share one request');
    assert.deepEqual(reader.errors, []);
  });

  test('the JS API page shows a purchase that completed after the redirect fallback', async () => {
    const reader = await newReader('/js-api.html', { blockPopups: true });
    const { page } = reader;
    await page.locator('#access li').first().waitFor();
    await Promise.all([page.waitForURL((url) => url.pathname === '/hosted/sign-up'), page.getByRole('button', { name: 'Buy a day pass for €1.99' }).click()]);
    await signUp(page, newEmail('js-api-blocked'));
    await page.waitForURL((url) => url.pathname === '/js-api.html');
    await page.waitForFunction(() => document.querySelectorAll('#access li').length > 0);
    for (let waited = 0; sent(reader, 'POST', '/v1/purchases').length === 0 && waited < 3_000; waited += 50) await page.waitForTimeout(50);
    assert.equal(sent(reader, 'POST', '/v1/purchases').length, 1, 'the purchase was made on return');
    // The reader paid: the page must say so without a reload.
    await page.locator('#day-pass-content').getByText('Your day pass is active: every article').waitFor({ timeout: 3_000 });
  });

  test('the same pages on the backend\'s own origin (as npm start also serves them) work too', async () => {
    const reader = await newReader('/article.html');
    const { page } = reader;
    await page.goto(`${demo.server.url}/article.html`);
    await button(page, 'article-42').and(page.locator('[state="idle"]')).waitFor();
    await page.goto(`${demo.server.url}/js-api.html`);
    await page.locator('#access').getByText('article-42: locked').waitFor();
    assert.deepEqual(reader.errors, []);
  });

  test('the page of 200 products asks about all of them with exactly one access request', async () => {
    const reader = await newReader('/many.html');
    const { page } = reader;
    const idle = () => page.waitForFunction(() => document.querySelectorAll('paywall-button[state="idle"]').length === 200);
    await idle();
    assert.equal(await page.locator('paywall-button').count(), 200);
    assert.equal(sent(reader, 'POST', '/v1/access').length, 0, 'signed out, nothing is asked');

    await throughPopup(page, page.locator('wallet-balance').getByRole('button', { name: 'Create account' }), (popup) => signUp(popup, newEmail('many')));
    await balance(page).getByText('€5.00').waitFor();

    reader.requests.length = 0;
    await page.reload();
    await idle();
    // Let anything late arrive before counting.
    await page.waitForTimeout(300);
    const checks = sent(reader, 'POST', '/v1/access');
    assert.equal(checks.length, 1, `one access request, not ${checks.length}`);
    const asked = (checks[0]!.body as { products: string[] }).products;
    assert.equal(asked.length, 200);
    assert.equal(new Set(asked).size, 200);
    assert.ok(asked.includes('story-001') && asked.includes('story-200'));

    // Each one is a real product: buying one opens that one only.
    await button(page, 'story-007').getByRole('button').click();
    await unlocked(page, 'story-007', /one of two hundred/);
    assert.equal(await page.locator('paywall-content[state="unlocked"]').count(), 1);
    await balance(page).getByText('€4.81').waitFor();
    assert.deepEqual(reader.errors, []);
  });
});
