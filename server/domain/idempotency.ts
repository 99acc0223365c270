import { ApiError } from '../errors';
import { sha256 } from './tokens';

/**
 * The hash an idempotency key is stored with: the fields that make a retry the same request. A key
 * sent again with the same fields answers the first result; with other fields it is refused.
 */
export function requestHash(fields: readonly unknown[]): string {
  return sha256(JSON.stringify(fields));
}

/**
 * The record a key was first stored with, when this request repeats it (`sameKind` false: the key
 * was used for another kind of request, e.g. a subscription's for a payment), or null for a new
 * key. A key sent with another body is `idempotency_conflict`, and nothing is written.
 */
export function replayed<R extends { request_hash: string }>(previous: R | undefined, hash: string, what: string, sameKind = true): R | null {
  if (!previous) return null;
  if (previous.request_hash !== hash || !sameKind) {
    throw new ApiError(409, 'idempotency_conflict', `This idempotency key was already used for a different request. Use a new key for a new ${what}.`);
  }
  return previous;
}
