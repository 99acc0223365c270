import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { z } from 'zod';
import { ApiError } from '../errors';
import type { AppEnv } from '../http/context';
import { CompressedFiles, matchesEtag, preferredEncoding } from '../http/compressed-files';
import { fileInFolder } from '../http/folder-path';

/** The built kit (vite's output folder). */
export const KIT_FOLDER = fileURLToPath(new URL('../../dist', import.meta.url));

/** The kit's version: the package's, the one in `/kit/<version>/…`. */
export const KIT_VERSION = z.object({ version: z.string() }).parse(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))).version;

/** The entry's Subresource Integrity hash from the build's integrity.json, or null before a build. */
export function kitIntegrity(folder = KIT_FOLDER): string | null {
  try {
    const written = z.object({ files: z.record(z.string(), z.string()) }).parse(JSON.parse(readFileSync(join(folder, 'integrity.json'), 'utf8')));
    return written.files['paywall-kit.js'] ?? null;
  } catch {
    return null;
  }
}

/** What the browser loads from the kit: its modules and their sourcemaps (and the build's integrity.json). */
const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

const VERSIONED = /^\/kit\/(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\/(.+)$/;

/** A versioned URL never changes; the unversioned one follows new releases within five minutes. */
const KIT_CACHE = { versioned: 'public, max-age=31536000, immutable', unversioned: 'public, max-age=300' };

/** Shared by every server in the process: each file is compressed once, not once per server. */
const files = new CompressedFiles();

/**
 * The built kit for pages on any origin. A module script is fetched in CORS mode, so every file
 * (the entry, each chunk it imports, their sourcemaps) is readable by any origin: it is public code
 * and no credential ever travels with it. `/kit/<version>/…` is the immutable URL merchants pin
 * (with an integrity hash), `/kit/…` always the newest build.
 */
export function kitRoutes({ folder = KIT_FOLDER, version = KIT_VERSION }: { folder?: string; version?: string } = {}) {
  return new Hono<AppEnv>()
    .use('/kit/*', async (c, next) => {
      await next();
      c.res.headers.set('Access-Control-Allow-Origin', '*');
      c.res.headers.set('Cross-Origin-Resource-Policy', 'cross-origin');
      c.res.headers.set('X-Content-Type-Options', 'nosniff');
    })
    .get('/kit/*', async (c) => {
      // The path as sent, still encoded: an encoded `..` or slash is refused, not decoded into one.
      const { pathname } = new URL(c.req.url);
      const versioned = VERSIONED.exec(pathname);
      const path = versioned ? versioned[2]! : pathname.slice('/kit/'.length);
      const type = CONTENT_TYPES[extname(path)];
      const location = type && (!versioned || versioned[1] === version) ? fileInFolder(folder, path) : null;
      const file = location ? await files.get(location) : null;
      if (!type || !file) {
        const error = new ApiError(404, 'not_found', versioned && versioned[1] !== version ? `This server has paywall-kit ${version}, not ${versioned[1]}.` : `No kit file ${pathname}.`);
        return c.json(error.toBody(), 404);
      }
      const headers: Record<string, string> = {
        'Content-Type': type,
        'Cache-Control': versioned ? KIT_CACHE.versioned : KIT_CACHE.unversioned,
        ETag: file.etag,
        Vary: 'Accept-Encoding',
      };
      if (matchesEtag(c.req.header('if-none-match'), file.etag)) return new Response(null, { status: 304, headers });
      const encoding = preferredEncoding(c.req.header('accept-encoding'));
      if (encoding !== 'identity') headers['Content-Encoding'] = encoding;
      return new Response(await file.bytes(encoding), { headers });
    });
}
