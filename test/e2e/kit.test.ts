import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import pino from 'pino';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { loadConfig } from '../../server/config';
import { startServer, type RunningServer } from '../../server/server';

/**
 * The kit as readers meet it: the real server (real paywall.config.json, a temporary SQLite file)
 * serving the real demo pages and the built kit, driven in Chromium. Every test starts in a fresh
 * browser context, i.e. a fresh browser profile: no session, no storage.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const PASSWORD = 'correct horse battery';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

interface SentRequest {
  method: string;
  path: string;
  body: unknown;
}

interface Reader {
  context: BrowserContext;
  page: Page;
  /** Every request of every page in the context (popups included), in order. */
  requests: SentRequest[];
  /** Uncaught exceptions and console errors of every page in the context. */
  errors: string[];
  /** `paywall-*` events dispatched on the merchant pages of the context, in order. */
  events: PaywallEventRecord[];
}

interface PaywallEventRecord {
  /** Path of the page it was dispatched on. */
  page: string;
  type: string;
  /** The element that dispatched it (`paywall-button`, `a`, …) or `document`. */
  target: string;
  product?: string;
  state?: string;
  code?: string;
  source?: string;
}

/** Requests of one kind: `POST /v1/access`, say. */
const sent = (reader: Reader, method: string, path: string) => reader.requests.filter((r) => r.method === method && r.path === path);

describe('paywall-kit on the demo pages, against the real server', { timeout: 90_000 }, () => {
  let dataDir: string;
  let server: RunningServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** The account of the first test, reused by the "another device" test. */
  let firstReader: { email: string } | null = null;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'paywall-e2e-'));
    const config = loadConfig({
      path: join(ROOT, 'paywall.config.json'),
      dataDir,
      listenUrl: 'http://127.0.0.1:0',
      env: { PAYWALL_OFFER_SECRET: 'e2e-offer-secret-0123456789abcdef0123456789' },
    });
    config.sqlitePath = join(dataDir, 'paywall.sqlite');
    server = await startServer({ config, port: 0, host: '127.0.0.1', logger: pino({ level: 'silent' }) });
    // The port is known only now: the server's own origin (which it always allows) is the demo's.
    Object.assign(config, { publicBaseUrl: server.url, ownOrigin: server.url });
    browser = await chromium.launch({ executablePath: '/usr/lib/chromium/chromium', args: CHROMIUM_ARGS });
  });

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function newReader(path: string, options: { blockPopups?: boolean } = {}): Promise<Reader> {
    const context = await browser.newContext();
    contexts.push(context);
    const requests: SentRequest[] = [];
    const errors: string[] = [];
    context.on('request', (request) => {
      const url = new URL(request.url());
      if (url.origin !== server.url) return;
      let body: unknown = request.postData();
      try {
        body = body ? JSON.parse(body as string) : undefined;
      } catch {
        /* a form post */
      }
      requests.push({ method: request.method(), path: url.pathname, body });
    });
    context.on('page', (page) => {
      page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
      page.on('console', (message) => {
        // The browser's own favicon request (hosted pages declare no icon) is not the kit's business.
        if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) errors.push(`${page.url()}: ${message.text()} (${message.location().url})`);
      });
    });
    // Events are recorded in the test, so they survive reloads and the redirect fallback.
    const events: PaywallEventRecord[] = [];
    await context.exposeBinding('__paywallEvent', ({ page }, event: Omit<PaywallEventRecord, 'page'>) => {
      events.push({ ...event, page: new URL(page.url()).pathname });
    });
    await context.addInitScript(() => {
      for (const type of ['paywall-access', 'paywall-denied', 'paywall-error', 'paywall-window', 'paywall-balance']) {
        document.addEventListener(type, (event) => {
          const { product, state, code, source } = event as Event & Record<string, string | undefined>;
          const target = (event.composedPath()[0] as Element | undefined)?.localName ?? 'document';
          (window as unknown as { __paywallEvent(record: unknown): void }).__paywallEvent({ type, target, product, state, code, source });
        });
      }
    });
    if (options.blockPopups) {
      // As a popup blocker does: window.open returns null.
      await context.addInitScript(() => {
        window.open = () => null;
      });
    }
    const page = await context.newPage();
    await page.goto(server.url + path);
    return { context, page, requests, errors, events };
  }

  const button = (page: Page, product: string): Locator => page.locator(`paywall-button[product="${product}"]`);
  const content = (page: Page, product: string): Locator => page.locator(`paywall-content[product="${product}"]`);
  const balance = (page: Page): Locator => page.locator('wallet-balance').locator('[part="balance"]');

  async function unlocked(page: Page, product: string, text: string | RegExp) {
    await content(page, product).and(page.locator('[state="unlocked"]')).waitFor();
    await content(page, product).getByText(text).first().waitFor();
  }

  async function signUp(popup: Page, email: string) {
    await popup.getByLabel('Email address').fill(email);
    await popup.getByLabel('Password').fill(PASSWORD);
    await popup.getByLabel('I agree to the terms of use and the privacy policy.').check();
    await popup.getByRole('button', { name: 'Create account' }).click();
  }

  async function signIn(popup: Page, email: string) {
    await popup.getByLabel('Email address').fill(email);
    await popup.getByLabel('Password').fill(PASSWORD);
    await popup.getByRole('button', { name: 'Sign in' }).click();
  }

  async function payWithTestCard(popup: Page) {
    await popup.getByLabel('Card number').fill('4242 4242 4242 4242');
    await popup.getByLabel('Month (MM)').fill('12');
    await popup.getByLabel('Year (YYYY)').fill('2030');
    await popup.getByLabel('Security code (CVC)').fill('123');
    await popup.getByRole('button', { name: 'Pay and top up' }).click();
  }

  /** Clicks `target`, waits for the hosted popup it opens, runs `fill` in it and waits until it closed itself. */
  async function throughPopup(page: Page, target: Locator, fill: (popup: Page) => Promise<void>): Promise<void> {
    const [popup] = await Promise.all([page.waitForEvent('popup'), target.click()]);
    const closed = popup.waitForEvent('close');
    await fill(popup);
    await closed;
  }

  const newEmail = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;

  test('a reader signs up in the popup, buys with the start credit, and reads on without a reload; reloading restores access with one request', async () => {
    const reader = await newReader('/article.html');
    const { page } = reader;
    // The second page, open in another tab: access bought on the article shows there too, live.
    const other = await reader.context.newPage();
    await other.goto(server.url + '/continue.html');
    await button(other, 'article-42').and(other.locator('[state="idle"]')).waitFor();

    // What an editor writes: one script tag, the backend meta tag and the paywall tags, no code.
    assert.deepEqual(await page.locator('script').evaluateAll((scripts) => scripts.map((s) => `${s.getAttribute('type')} ${s.getAttribute('src')} ${s.textContent?.trim().length}`)), ['module /kit/paywall-kit.js 0']);
    assert.equal(await page.locator('meta[name="paywall-backend"]').getAttribute('content'), '/');

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
