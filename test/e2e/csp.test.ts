import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { balance, button, newEmail, sent, signUp, throughPopup, unlocked, useDemo } from './demo-harness';

/**
 * Merchant pages under the Content-Security-Policy the README asks for: scripts and connections
 * only from the backend (its API and its socket), nothing inline, no frames, and the page's own
 * origin for everything else. The kit must work there with no violation at all.
 */

/** The README's policy for the backend at `backendUrl`. */
function readmePolicy(backendUrl: string): string {
  const backend = new URL(backendUrl);
  return [
    "default-src 'self'",
    `script-src ${backend.origin}`,
    `connect-src ${backend.origin} ws://${backend.host}`,
    "frame-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
  ].join('; ');
}

describe('the kit under the README\'s Content-Security-Policy on the merchant page', { timeout: 90_000 }, () => {
  const demo = useDemo({ dataDirPrefix: 'paywall-e2e-csp-', sitePageHeaders: (backend) => ({ 'Content-Security-Policy': readmePolicy(backend) }) });

  test('sign-up in the popup, purchase and reveal, and a purchase in another tab shown live, with no CSP violation and no console error', async () => {
    const reader = await demo.newReader('/article.html');
    const { page } = reader;
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(new URL(socket.url()).pathname));
    const buy = button(page, 'article-42');
    await buy.and(page.locator('[state="idle"]')).waitFor();
    await throughPopup(page, buy.getByRole('button'), (popup) => signUp(popup, newEmail('csp')));
    await unlocked(page, 'article-42', /Night trains were written off twice/);
    await balance(page).getByText('€4.51').waitFor();
    assert.equal(sent(reader, 'POST', '/v1/purchases').length, 1);

    // The notification socket is allowed too; what another tab buys opens here live.
    const other = await reader.context.newPage();
    await other.goto(`${demo.site.url}/article.html`);
    await button(other, 'article-43').and(other.locator('[state="idle"]')).waitFor();
    await button(other, 'article-43').getByRole('button').click();
    await unlocked(page, 'article-43', /bakery/i);
    assert.ok(sockets.includes('/v1/notifications'), `the page opened its notification socket (${sockets.join(', ')})`);

    assert.deepEqual(reader.cspViolations, []);
    assert.deepEqual(reader.errors, []);
  });
});

describe('a policy that leaves the backend out of connect-src', { timeout: 90_000 }, () => {
  const demo = useDemo({
    dataDirPrefix: 'paywall-e2e-csp-refused-',
    sitePageHeaders: (backend) => ({ 'Content-Security-Policy': readmePolicy(backend).replace(/connect-src [^;]+/, "connect-src 'self'") }),
  });

  test('is reported: the test above would see a violation the kit caused', async () => {
    const reader = await demo.newReader('/article.html');
    const { page } = reader;
    await page.locator('paywall-button[product="article-42"]').waitFor();
    await page.locator('wallet-balance').getByRole('button', { name: 'Create account' }).waitFor();
    await throughPopup(page, page.locator('wallet-balance').getByRole('button', { name: 'Create account' }), (popup) => signUp(popup, newEmail('csp-refused')));
    for (let waited = 0; !reader.cspViolations.length && waited < 5_000; waited += 50) await page.waitForTimeout(50);
    assert.ok(reader.cspViolations.some((v) => v.startsWith('connect-src ') && v.includes(new URL(demo.server.url).host)), reader.cspViolations.join('; ') || 'no violation recorded');
  });
});
