import type { Context } from 'hono';
import * as z from 'zod/mini';
import { ApiError } from '../errors';

/** Parses a JSON body against a contract schema; anything else is a 4xx with a code, before any write. */
export async function readJson<T extends z.ZodMiniType>(c: Context, schema: T): Promise<z.infer<T>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new ApiError(415, 'unsupported_media_type', 'Send the request body as application/json.');
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw new ApiError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
  return parseWith(schema, body);
}

/** zod/mini carries no messages of its own ("Invalid input"); the English ones say what was expected. */
const english = z.locales.en().localeError;

export function parseWith<T extends z.ZodMiniType>(schema: T, value: unknown): z.infer<T> {
  const parsed = z.safeParse(schema, value, { error: english });
  if (parsed.success) return parsed.data;
  const issues = closestIssues(parsed.error.issues).slice(0, 20).map(({ path, message }) => ({ path: path.map(String).join('.') || '(body)', message }));
  throw new ApiError(400, 'validation_failed', `The request is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
}

type Issue = z.core.$ZodIssue;

/** A union that matches no branch says only "Invalid input": report the issues of the branch that came closest. */
function closestIssues(issues: readonly Issue[], prefix: PropertyKey[] = []): Array<{ path: PropertyKey[]; message: string }> {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length) {
      return closestIssues(issue.errors.reduce((best, branch) => (branch.length < best.length ? branch : best)), path);
    }
    return [{ path, message: issue.message }];
  });
}
