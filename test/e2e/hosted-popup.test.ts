import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../server/harness';
import { launchChromium, payWithTestCard, signUp } from './demo-harness';

/** A tiny merchant page on its own origin: opens a hosted popup on click and records the messages it accepts. */
function merchantPage(backend: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Merchant</title></head>
<body>
<button id="sign-up">Create an account</button>
<button id="sign-in">Sign in</button>
<button id="top-up">Top up</button>
<button id="sign-up-then-top-up">Create an account and top up</button>
<ol id="messages"></ol>
<script>
  const BACKEND = ${JSON.stringify(backend)};
  let popup = null;
  /** The hosted page the popup goes on to after it reports, as a flow with a next step does. */
  let next = null;
  function openHosted(page, extra) {
    const url = BACKEND + '/hosted/' + page + '?origin=' + encodeURIComponent(location.origin) + '&lang=en' + (extra || '');
    popup = window.open(url, 'paywall-kit', 'popup,width=480,height=720');
  }
  document.getElementById('sign-up').addEventListener('click', () => openHosted('sign-up'));
  document.getElementById('sign-in').addEventListener('click', () => openHosted('sign-in'));
  document.getElementById('top-up').addEventListener('click', () => openHosted('top-up', '&amount=700&currency=EUR'));
  document.getElementById('sign-up-then-top-up').addEventListener('click', () => {
    openHosted('sign-up');
    next = BACKEND + '/hosted/top-up?origin=' + encodeURIComponent(location.origin) + '&lang=en&amount=700&currency=EUR';
  });
  window.addEventListener('message', (event) => {
    if (event.origin !== BACKEND || event.source !== popup) return;
    const item = document.createElement('li');
    item.textContent = JSON.stringify(event.data);
    document.getElementById('messages').append(item);
    if (next && event.data.type !== 'cancelled') {
      // The same window, navigated on: allowed for a window this page opened, even cross-origin.
      popup.location = next;
      next = null;
    }
  });
</script>
</body>
</html>`;
}

describe('hosted pages in a popup', { timeout: 90_000 }, () => {
  let backend: TestServer;
  let merchant: Server;
  let merchantOrigin: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const cspViolations: string[] = [];

  before(async () => {
    merchant = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(merchantPage(backend.url));
    });
    await new Promise<void>((resolve) => merchant.listen(0, '127.0.0.1', resolve));
    merchantOrigin = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}`;
    backend = await startTestServer({ config: { merchantOrigins: [merchantOrigin] } });
    browser = await launchChromium();
    context = await browser.newContext();
    context.on('page', (opened) => {
      opened.on('console', (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
      });
    });
    page = await context.newPage();
    await page.goto(merchantOrigin + '/');
  });

  after(async () => {
    await browser?.close();
    await backend?.close();
    await new Promise<void>((resolve) => merchant.close(() => resolve()));
  });

  /** Clicks a merchant button, lets `fill` work in the popup, and returns the message the merchant accepted. */
  async function throughPopup(button: string, fill: (popup: Page) => Promise<void>): Promise<any> {
    const seen = await page.locator('#messages li').count();
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.click(button)]);
    await popup.waitForLoadState('domcontentloaded');
    const closed = popup.waitForEvent('close');
    await fill(popup);
    await closed;
    assert.ok(popup.isClosed(), 'the popup closed itself');
    await page.locator('#messages li').nth(seen).waitFor();
    return JSON.parse((await page.locator('#messages li').nth(seen).textContent()) ?? 'null');
  }

  async function me(token: string) {
    const response = await backend.api('/v1/me', { token });
    assert.equal(response.status, 200);
    return response.body;
  }

  test('sign-up in the popup hands the token to the merchant page, then top-up raises the wallet', async () => {
    const email = `popup-${randomUUID().slice(0, 8)}@example.com`;
    const signedUp = await throughPopup('#sign-up', (popup) => signUp(popup, email));
    assert.equal(signedUp.source, 'paywall-kit');
    assert.equal(signedUp.type, 'signed-up');
    assert.equal(typeof signedUp.token, 'string');
    const account = await me(signedUp.token);
    assert.equal(account.customer.email, email);
    assert.equal(account.wallet.balance, 500);

    // The hosted session from the sign-up carries over: the top-up form comes straight up.
    const toppedUp = await throughPopup('#top-up', async (popup) => {
      await popup.getByRole('heading', { name: 'Top up your wallet' }).waitFor();
      assert.ok(await popup.getByLabel('€10.00').isChecked(), 'the smallest amount covering the missing €7.00 is preselected');
      await payWithTestCard(popup);
    });
    assert.deepEqual(toppedUp, { source: 'paywall-kit', type: 'topped-up' });
    assert.equal((await me(signedUp.token)).wallet.balance, 1500);
    assert.deepEqual(cspViolations, []);
  });

  test('after reporting, the popup stays open while the opener navigates it to the next step; left alone, it closes by itself', async () => {
    const seen = await page.locator('#messages li').count();
    const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('#sign-up-then-top-up')]);
    await popup.waitForLoadState('domcontentloaded');
    let closedAt = 0;
    popup.on('close', () => (closedAt = Date.now()));
    await signUp(popup, `handover-${randomUUID().slice(0, 8)}@example.com`);
    await page.locator('#messages li').nth(seen).waitFor();
    const signedUp = JSON.parse((await page.locator('#messages li').nth(seen).textContent()) ?? 'null');
    assert.equal(signedUp.type, 'signed-up');

    // The opener sent the same window on to the top-up page, and it stays open there.
    await popup.getByRole('heading', { name: 'Top up your wallet' }).waitFor();
    assert.match(popup.url(), /\/hosted\/top-up\?/);
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    assert.ok(!popup.isClosed(), 'the navigated popup is still open after the hand-over delay');
    assert.equal(context.pages().filter((p) => p !== page).length, 1, 'one popup for both steps');

    await payWithTestCard(popup);
    await page.locator('#messages li').nth(seen + 1).waitFor();
    const reportedAt = Date.now();
    assert.deepEqual(JSON.parse((await page.locator('#messages li').nth(seen + 1).textContent()) ?? 'null'), { source: 'paywall-kit', type: 'topped-up' });
    // No instruction this time: "Done" is shown meanwhile, then the window closes by itself.
    if (!popup.isClosed()) assert.match((await popup.locator('#paywall-status').textContent()) ?? '', /Done/);
    if (!popup.isClosed()) await popup.waitForEvent('close', { timeout: 10_000 });
    assert.ok(popup.isClosed(), 'the popup closed itself');
    assert.ok(closedAt - reportedAt >= 1_500, `it waited for the opener before closing (${closedAt - reportedAt} ms)`);
    assert.deepEqual(cspViolations, []);
  });

  test('Cancel reports `cancelled` and closes the popup', async () => {
    const cancelled = await throughPopup('#sign-in', async (popup) => {
      await popup.getByRole('heading', { name: 'Sign in' }).waitFor();
      await popup.getByRole('button', { name: 'Cancel' }).click();
    });
    assert.deepEqual(cancelled, { source: 'paywall-kit', type: 'cancelled' });
    assert.deepEqual(cspViolations, []);
  });
});
