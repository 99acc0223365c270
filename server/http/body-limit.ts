import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/**
 * Refuses request bodies over `maxBytes` with `onTooLarge`. A body with a Content-Length is
 * judged by the header alone (Node's parser never reads past it), which leaves the body unread
 * for the route to take straight from the socket; Hono's own middleware would first turn every
 * request into a web stream, on GETs too. Only a chunked body is counted as it arrives.
 */
export function limitBody(maxBytes: number, onTooLarge: (c: Context) => Response | Promise<Response>): MiddlewareHandler {
  const counting = bodyLimit({ maxSize: maxBytes, onError: onTooLarge });
  return async (c, next) => {
    const { method } = c.req;
    if (method === 'GET' || method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) return Number(length) > maxBytes ? onTooLarge(c) : next();
    return counting(c, next);
  };
}
