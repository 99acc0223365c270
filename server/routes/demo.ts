import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { Hono } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { AppEnv } from '../http/context';

// serveStatic resolves its root against the working directory; find the folders wherever the server starts.
const folder = (name: string) => relative(process.cwd(), fileURLToPath(new URL(`../../${name}`, import.meta.url))) || '.';

/**
 * The demo pages a newcomer opens first, and the built kit they load from `/kit/paywall-kit.js`,
 * served beside the API so `npm start` is all it takes.
 */
export function demoRoutes() {
  return new Hono<AppEnv>()
    .get('/kit/*', serveStatic({ root: folder('dist'), rewriteRequestPath: (path) => path.replace(/^\/kit/, '') }))
    .get('/*', serveStatic({ root: folder('demo') }));
}
