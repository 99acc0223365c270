import type { Context } from 'hono';

/** Paid content and access answers are the reader's own: no shared cache may keep them or serve them to another token. */
export function forThisReaderOnly(c: Context) {
  c.header('Cache-Control', 'private, no-store');
  c.header('Vary', 'Authorization');
}
