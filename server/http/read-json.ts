import type { Context } from 'hono';
import * as z from 'zod/mini';
import { ApiError } from '../errors';

/** Parses a JSON body against a contract schema; anything else is a 4xx with a code, before any write. */
export async function readJson<T extends z.ZodMiniType>(c: Context, schema: T): Promise<z.infer<T>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) throw new ApiError(415, 'unsupported_media_type', 'Send the request body as application/json.');
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw new ApiError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
  return parseWith(schema, body);
}

export function parseWith<T extends z.ZodMiniType>(schema: T, value: unknown): z.infer<T> {
  const parsed = z.safeParse(schema, value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 20).map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message }));
  throw new ApiError(400, 'validation_failed', `The request is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
}
