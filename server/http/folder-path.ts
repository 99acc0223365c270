import { join } from 'node:path';

/** A name a published file may have: no `..`, no hidden file, no encoded slash or backslash. */
const PLAIN_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/**
 * The file a URL path names inside `folder`, or null when any of its segments is not a plain name,
 * so nothing outside the folder (or hidden in it) can ever be named. `urlPath` is still
 * percent-encoded, as in the request line.
 */
export function fileInFolder(folder: string, urlPath: string): string | null {
  const segments: string[] = [];
  for (const raw of urlPath.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (!PLAIN_NAME.test(segment)) return null;
    segments.push(segment);
  }
  return segments.length ? join(folder, ...segments) : null;
}
