import type { MiddlewareHandler } from 'hono';

export interface CorsPolicy {
  /** The origin to allow for a request's Origin header, or null. */
  allowOrigin(origin: string): string | null;
  allowMethods: string[];
  allowHeaders: string[];
  maxAgeSeconds: number;
}

/**
 * CORS with the headers of Hono's `cors()` for this policy, written onto the final response only.
 * Hono's middleware touches `c.res` before the route runs and appends Vary through `c.header()`
 * after it, which makes @hono/node-server turn every answer into a streamed web Response.
 */
export function cors(policy: CorsPolicy): MiddlewareHandler {
  const methods = policy.allowMethods.join(',');
  const headers = policy.allowHeaders.join(',');
  const maxAge = String(policy.maxAgeSeconds);
  return async (c, next) => {
    const origin = policy.allowOrigin(c.req.header('origin') ?? '');
    if (c.req.method === 'OPTIONS') {
      const preflight = new Headers({ Vary: 'Origin, Access-Control-Request-Headers', 'Access-Control-Max-Age': maxAge, 'Access-Control-Allow-Methods': methods, 'Access-Control-Allow-Headers': headers });
      if (origin) preflight.set('Access-Control-Allow-Origin', origin);
      return new Response(null, { status: 204, headers: preflight });
    }
    await next();
    const answer = c.res.headers;
    if (origin) answer.set('Access-Control-Allow-Origin', origin);
    answer.append('Vary', 'Origin');
  };
}
