import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** A bearer token: 256 random bits. Only its hash is stored, so a leaked database opens no session. */
export function newSessionToken(): string {
  return `pws_${randomBytes(32).toString('base64url')}`;
}

export function sha256(value: string, encoding: 'base64url' | 'hex' = 'base64url'): string {
  return createHash('sha256').update(value).digest(encoding);
}

export function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, '')}`;
}
