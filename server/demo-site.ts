import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { fileInFolder } from './http/folder-path';
import { DEMO_FOLDER } from './routes/demo';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * A demo page as it reads on a merchant's own site: every URL of the backend (the kit, the API,
 * the hosted pages), written root-relative in demo/ so the page also works on the backend's own
 * origin, made absolute.
 */
export function pointAtBackend(html: string, backendUrl: string): string {
  const backend = backendUrl.replace(/\/$/, '');
  return html
    .replace(/<meta name="paywall-backend" content="\/">/g, `<meta name="paywall-backend" content="${backend}">`)
    .replace(/(["'])\/(kit|v1|hosted)\//g, `$1${backend}/$2/`);
}

export interface DemoSiteOptions {
  backendUrl: string;
  host?: string;
  port?: number;
  /** The pages; demo/ by default. */
  folder?: string;
  /** Headers sent with every page, as a merchant's server adds them (a Content-Security-Policy, say). */
  pageHeaders?: Record<string, string>;
}

export interface DemoSite {
  /** Its origin, e.g. http://127.0.0.2:8788. */
  url: string;
  close(): Promise<void>;
}

/**
 * The demo pages served as a merchant serves them: on an origin of their own (another loopback
 * address by default), loading the kit, the API and the hosted pages from the backend at
 * `backendUrl`, which must list this origin among its merchant origins.
 */
export async function startDemoSite(options: DemoSiteOptions): Promise<DemoSite> {
  const { backendUrl, host = '127.0.0.2', port = 8788, folder = DEMO_FOLDER, pageHeaders = {} } = options;
  const app = new Hono().get('/*', async (c) => {
    const { pathname } = new URL(c.req.url);
    const path = pathname.endsWith('/') ? `${pathname}index.html` : pathname;
    const type = CONTENT_TYPES[extname(path)];
    const file = type ? fileInFolder(folder, path.slice(1)) : null;
    const bytes = file ? await readFile(file).catch(() => null) : null;
    if (!type || !bytes) return c.text('Not found', 404);
    const headers = { 'Content-Type': type, 'Cache-Control': 'no-cache' };
    if (type.startsWith('text/html')) return c.body(pointAtBackend(bytes.toString('utf8'), backendUrl), 200, { ...headers, ...pageHeaders });
    return c.body(new Uint8Array(bytes), 200, headers);
  });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port, hostname: host }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    close: () => new Promise<void>((resolve) => {
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}
