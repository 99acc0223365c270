import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { Hono } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { AppEnv } from '../http/context';

// serveStatic resolves its root against the working directory; find the folders wherever the server starts.
const folder = (name: string) => relative(process.cwd(), fileURLToPath(new URL(`../../${name}`, import.meta.url))) || '.';

/** The demo pages a newcomer opens first, served beside the API (and the kit) so `npm start` is all it takes. */
export function demoRoutes() {
  return new Hono<AppEnv>().get('/*', serveStatic({ root: folder('demo') }));
}
