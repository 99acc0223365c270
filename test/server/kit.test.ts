import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { kitRoutes } from '../../server/routes/kit';

/** The kit as a page on another origin loads it: `/kit/*` over real HTTP, from a built folder of files. */

const ENTRY = `import('./chunk-a1b2c3.js');\n${'export const greeting = "a module script, loaded cross-origin";\n'.repeat(200)}`;
const CHUNK = `export const sanitize = (html) => html;\n${'// a lazily imported chunk\n'.repeat(100)}`;
const MAP = JSON.stringify({ version: 3, sources: ['src/index.ts'], mappings: 'AAAA'.repeat(500) });
const SECRET = 'the server must never serve this';

interface Answer { status: number; headers: IncomingHttpHeaders; body: Buffer }

describe('the kit at /kit/ for pages on any origin', () => {
  let root: string;
  let kit: string;
  let server: ServerType;
  let base: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'paywall-kit-dist-'));
    kit = join(root, 'dist');
    mkdirSync(kit);
    writeFileSync(join(kit, 'paywall-kit.js'), ENTRY);
    writeFileSync(join(kit, 'chunk-a1b2c3.js'), CHUNK);
    writeFileSync(join(kit, 'paywall-kit.js.map'), MAP);
    writeFileSync(join(kit, '.hidden.js'), SECRET);
    writeFileSync(join(kit, 'notes.txt'), SECRET);
    writeFileSync(join(root, 'secret.js'), SECRET);
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: kitRoutes({ folder: kit, version: '1.2.3' }).fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  /** A GET with the path exactly as written (no client-side normalization) and the raw, still encoded body. */
  function get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      request(`${base}${path}`, { headers, path }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      }).on('error', reject).end();
    });
  }

  test('every file (entry, chunk, sourcemap) may be read by any origin and embedded cross-origin', async () => {
    for (const path of ['/kit/paywall-kit.js', '/kit/chunk-a1b2c3.js', '/kit/paywall-kit.js.map', '/kit/1.2.3/paywall-kit.js', '/kit/1.2.3/chunk-a1b2c3.js']) {
      const answer = await get(path, { origin: 'http://merchant.test' });
      assert.equal(answer.status, 200, path);
      assert.equal(answer.headers['access-control-allow-origin'], '*', path);
      assert.equal(answer.headers['access-control-allow-credentials'], undefined, path);
      assert.equal(answer.headers['cross-origin-resource-policy'], 'cross-origin', path);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff', path);
    }
    assert.equal((await get('/kit/paywall-kit.js')).headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal((await get('/kit/paywall-kit.js.map')).headers['content-type'], 'application/json; charset=utf-8');
  });

  test('compressed as the browser accepts: brotli, else gzip, else as is; always Vary: Accept-Encoding', async () => {
    const br = await get('/kit/paywall-kit.js', { 'accept-encoding': 'gzip, deflate, br, zstd' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(brotliDecompressSync(br.body).toString(), ENTRY);
    assert.ok(br.body.length < ENTRY.length / 4, `brotli: ${br.body.length} bytes of ${ENTRY.length}`);

    const gzip = await get('/kit/chunk-a1b2c3.js', { 'accept-encoding': 'gzip, br;q=0' });
    assert.equal(gzip.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gzip.body).toString(), CHUNK);

    const map = await get('/kit/paywall-kit.js.map', { 'accept-encoding': 'gzip' });
    assert.equal(gunzipSync(map.body).toString(), MAP);

    const plain = await get('/kit/paywall-kit.js', { 'accept-encoding': 'identity' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), ENTRY);
    assert.equal((await get('/kit/paywall-kit.js')).body.toString(), ENTRY, 'no Accept-Encoding: as is');

    for (const answer of [br, gzip, plain]) assert.equal(answer.headers.vary, 'Accept-Encoding');
    assert.equal(br.headers.etag, plain.headers.etag, 'one validator for every encoding of the same file');
  });

  test('the versioned URL is cached for a year and never revalidated; the unversioned one for five minutes', async () => {
    assert.equal((await get('/kit/1.2.3/paywall-kit.js')).headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal((await get('/kit/1.2.3/chunk-a1b2c3.js')).headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal((await get('/kit/paywall-kit.js')).headers['cache-control'], 'public, max-age=300');
  });

  test('the unversioned URL revalidates with its ETag: 304 while unchanged, the new file once it changed', async () => {
    const first = await get('/kit/paywall-kit.js', { 'accept-encoding': 'br' });
    const etag = first.headers.etag;
    assert.ok(etag, 'an ETag');
    const unchanged = await get('/kit/paywall-kit.js', { 'accept-encoding': 'br', 'if-none-match': etag });
    assert.equal(unchanged.status, 304);
    assert.equal(unchanged.body.length, 0);
    assert.equal(unchanged.headers.etag, etag);
    assert.equal(unchanged.headers['cache-control'], 'public, max-age=300');
    assert.equal(unchanged.headers['access-control-allow-origin'], '*');
    assert.equal((await get('/kit/paywall-kit.js', { 'if-none-match': `"other", ${etag}` })).status, 304);
    assert.equal((await get('/kit/paywall-kit.js', { 'if-none-match': 'W/"other"' })).status, 200);

    // A new build of the same file (as `vite build` writes it while the server runs).
    const rebuilt = `${ENTRY}export const rebuilt = true;\n`;
    writeFileSync(join(kit, 'paywall-kit.js'), rebuilt);
    utimesSync(join(kit, 'paywall-kit.js'), new Date(), new Date(Date.now() + 5_000));
    const changed = await get('/kit/paywall-kit.js', { 'accept-encoding': 'br', 'if-none-match': etag });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.etag, etag);
    assert.equal(brotliDecompressSync(changed.body).toString(), rebuilt);
    writeFileSync(join(kit, 'paywall-kit.js'), ENTRY);
  });

  test('404 for another version, a file that is not there or not the kit\'s, and any way out of the folder', async () => {
    const refused = [
      '/kit/1.2.4/paywall-kit.js', '/kit/0.0.1/paywall-kit.js', '/kit/missing.js', '/kit/notes.txt', '/kit/.hidden.js', '/kit/',
      '/kit/../secret.js', '/kit/%2e%2e/secret.js', '/kit/%2E%2E%2Fsecret.js', '/kit/..%2fsecret.js', '/kit/..%5csecret.js',
      '/kit/1.2.3/../../secret.js', '/kit/1.2.3/%2e%2e/secret.js', '/kit/1.2.3/..%2F..%2Fsecret.js', '/kit/%00paywall-kit.js', '/kit/%E0%A4%A.js',
    ];
    for (const path of refused) {
      const answer = await get(path);
      assert.equal(answer.status, 404, path);
      assert.ok(!answer.body.toString().includes(SECRET), path);
    }
    const other = await get('/kit/1.2.4/paywall-kit.js');
    assert.equal(JSON.parse(other.body.toString()).error.code, 'not_found');
    assert.equal(other.headers['access-control-allow-origin'], '*', 'a missing chunk reads as 404 in the merchant page, not as a CORS error');
  });
});
