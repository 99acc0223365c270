import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { Hono } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { AppEnv } from '../http/context';

/** The demo pages (demo/ in the repository). */
export const DEMO_FOLDER = fileURLToPath(new URL('../../demo', import.meta.url));

/** The demo pages a newcomer opens first, served beside the API (and the kit) so `npm start` is all it takes. */
export function demoRoutes() {
  // serveStatic resolves its root against the working directory; find the folder wherever the server starts.
  return new Hono<AppEnv>().get('/*', serveStatic({ root: relative(process.cwd(), DEMO_FOLDER) || '.' }));
}
