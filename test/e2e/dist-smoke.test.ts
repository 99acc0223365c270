import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { KIT_VERSION } from '../../server/routes/kit';
import { ROOT, useDemo } from './demo-harness';

/**
 * The built file a `<script type="module">` tag loads (dist/paywall-kit.js, served by the server
 * at /kit/), in a real browser, on a merchant page of another origin: a build that compiles but
 * breaks in the browser (unlowered decorators, a missing chunk) fails here, and so does a kit the
 * browser may not load cross-origin. `npm run test:e2e` builds it first.
 */

/**
 * A merchant page as an editor writes it, loading the kit with `scripts` (URLs, or a tag's
 * attributes); the merchant site points its root-relative backend URLs at the server.
 */
function merchantPage(lang: string, scripts: string[]): string {
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<title>dist smoke</title>
<link rel="icon" href="data:,">
<meta name="paywall-backend" content="/">
${scripts.map((script) => `<script type="module" ${script.startsWith('/') ? `src="${script}"` : script}></script>`).join('\n')}
</head>
<body>
<paywall-content product="article-42"><p slot="teaser">Teaser</p></paywall-content>
<paywall-button product="article-42" price="49" currency="EUR"></paywall-button>
</body>
</html>`;
}

describe('the built kit (dist/paywall-kit.js) in the browser', { timeout: 30_000 }, () => {
  before(() => {
    assert.ok(existsSync(join(ROOT, 'dist/paywall-kit.js')), 'dist/paywall-kit.js is missing: run `vite build` (npm run test:e2e does)');
  });
  const pages = mkdtempSync(join(tmpdir(), 'paywall-smoke-pages-'));
  after(() => rmSync(pages, { recursive: true, force: true }));
  const demo = useDemo({ dataDirPrefix: 'paywall-smoke-', offerSecret: 'smoke-offer-secret-0123456789abcdef0123456789', siteFolder: pages });

  /** Opens `html` as the page `name` of the merchant's site and collects what it logs. */
  async function open(name: string, html: string): Promise<{ page: Page; problems: string[]; kitLoads: string[]; kitAnswers: Map<string, Record<string, string>> }> {
    writeFileSync(join(pages, name), html);
    const context = await demo.browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    const kitLoads: string[] = [];
    /** The headers of each kit file the page loaded, by path. */
    const kitAnswers = new Map<string, Record<string, string>>();
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (url.origin === demo.server.url && url.pathname.startsWith('/kit/')) kitAnswers.set(url.pathname, response.headers());
      if (url.origin === demo.server.url && url.pathname === '/kit/paywall-kit.js') {
        assert.equal(response.status(), 200);
        kitLoads.push(url.search);
      }
    });
    page.setDefaultTimeout(10_000);
    await page.goto(`${demo.site.url}/${name}`);
    // A bundle that fails to evaluate never defines its elements: say why instead of timing out later.
    const defined = await page.evaluate(() => Promise.race([
      customElements.whenDefined('paywall-button').then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000)),
    ]));
    assert.ok(defined, `<paywall-button> was never defined by the built kit: ${problems.join('; ') || 'no error logged'}`);
    return { page, problems, kitLoads, kitAnswers };
  }

  test('renders <paywall-button> with a localized price', async () => {
    const { page, problems } = await open('en.html', merchantPage('en', ['/kit/paywall-kit.js']));
    const button = page.locator('paywall-button').getByRole('button', { name: 'Buy for €0.49' });
    await button.waitFor();
    assert.equal(await page.locator('paywall-button').getAttribute('state'), 'idle');
    assert.equal(await page.locator('paywall-content').getAttribute('state'), 'locked');
    assert.deepEqual(problems, []);
    await page.context().close();

    const german = await open('de.html', merchantPage('de', ['/kit/paywall-kit.js']));
    await german.page.locator('paywall-button').getByRole('button', { name: 'Für 0,49 € kaufen' }).waitFor();
    assert.deepEqual(german.problems, []);
    await german.page.context().close();
  });

  test('the versioned URL with the integrity hash the build printed, as the README shows it', async () => {
    const { files } = JSON.parse(readFileSync(join(ROOT, 'dist/integrity.json'), 'utf8')) as { files: Record<string, string> };
    const tag = `src="/kit/${KIT_VERSION}/paywall-kit.js" integrity="${files['paywall-kit.js']}" crossorigin`;
    const { page, problems, kitAnswers } = await open('pinned.html', merchantPage('en', [tag]));
    await page.locator('paywall-button').getByRole('button', { name: 'Buy for €0.49' }).waitFor();
    const entry = kitAnswers.get(`/kit/${KIT_VERSION}/paywall-kit.js`);
    assert.ok(entry, `the page loaded the pinned URL (${[...kitAnswers.keys()].join(', ')})`);
    assert.equal(entry['access-control-allow-origin'], '*');
    assert.equal(entry['content-encoding'], 'br', 'Chromium accepts brotli');
    assert.equal(entry['cache-control'], 'public, max-age=31536000, immutable');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('a page that loads the kit twice logs no error and still works', async () => {
    // Two URLs, so the browser really evaluates two copies (one URL would be one module).
    const { page, problems, kitLoads } = await open('twice.html', merchantPage('en', ['/kit/paywall-kit.js', '/kit/paywall-kit.js?copy=2']));
    const button = page.locator('paywall-button').getByRole('button', { name: 'Buy for €0.49' });
    await button.waitFor();
    assert.deepEqual(kitLoads.sort(), ['', '?copy=2']);
    assert.equal(await page.locator('paywall-button').getAttribute('state'), 'idle');

    // Still works: a click opens exactly one hosted window (one copy handles it), the sign-up page.
    const popups: Page[] = [];
    page.context().on('page', (opened) => popups.push(opened));
    const [popup] = await Promise.all([page.waitForEvent('popup'), button.click()]);
    await popup.getByRole('heading', { name: 'Create an account' }).waitFor();
    assert.equal(await page.locator('paywall-button').getAttribute('state'), 'window-open');
    assert.equal(popups.length, 1);
    await popup.close();
    await page.locator('paywall-button[state="idle"]').waitFor();
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
