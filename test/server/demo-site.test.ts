import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startDemoSite, type DemoSite } from '../../server/demo-site';

/** The demo as a merchant's site: demo/ on an origin of its own, every backend URL in its pages pointing at the backend. */
describe('the demo as a merchant site', () => {
  const BACKEND = 'http://127.0.0.1:9';
  let site: DemoSite;
  before(async () => (site = await startDemoSite({ backendUrl: BACKEND, host: '127.0.0.2', port: 0, pageHeaders: { 'Content-Security-Policy': "default-src 'self'" } })));
  after(() => site?.close());

  /** A GET with the path exactly as written. */
  const get = (path: string) => new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    request(`${site.url}${path}`, { path }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    }).on('error', reject).end();
  });

  test('listens on its own loopback origin', () => {
    assert.match(site.url, /^http:\/\/127\.0\.0\.2:\d+$/);
  });

  test('its pages load the kit, the API and the hosted pages from the backend, with the page headers', async () => {
    const article = await get('/article.html');
    assert.equal(article.status, 200);
    assert.ok(article.body.includes(`<meta name="paywall-backend" content="${BACKEND}">`));
    assert.ok(article.body.includes(`<script type="module" src="${BACKEND}/kit/paywall-kit.js"></script>`));
    assert.ok(!/["']\/(kit|v1|hosted)\//.test(article.body), 'no backend URL is left relative to the merchant site');
    assert.equal(article.headers['content-security-policy'], "default-src 'self'");
    const index = await get('/');
    assert.ok(index.body.includes(`href="${BACKEND}/v1/openapi.json"`) && index.body.includes(`href="${BACKEND}/hosted/sign-up?return=/"`));
    const jsApi = await get('/js-api.html');
    assert.ok(jsApi.body.includes(`from '${BACKEND}/kit/paywall-kit.js'`));
    const css = await get('/demo.css');
    assert.equal(css.status, 200);
    assert.equal(css.headers['content-security-policy'], undefined);
  });

  test('serves nothing but the demo pages and their assets', async () => {
    for (const path of ['/tools/generate-stories.ts', '/../package.json', '/%2e%2e/package.json', '/..%2fpaywall.config.json', '/kit/paywall-kit.js', '/missing.html']) {
      assert.equal((await get(path)).status, 404, path);
    }
  });
});
