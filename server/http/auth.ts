import type { MiddlewareHandler } from 'hono';
import type { AccountService, AuthenticatedCustomer } from '../domain/accounts';
import { ApiError } from '../errors';
import type { AppEnv } from './context';

export function bearerToken(header: string | undefined | null): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1] ?? null;
}

/** Sets `auth` to the caller's customer, or null when anonymous; a present but bad token is a 401. */
export function authenticate(accounts: AccountService): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const token = bearerToken(header);
    const auth = token ? await accounts.authenticate(token) : null;
    if (header && !auth) throw new ApiError(401, 'unauthenticated', 'Your session has ended. Sign in again.');
    c.set('auth', auth);
    await next();
  };
}

export function requireAuth(auth: AuthenticatedCustomer | null): AuthenticatedCustomer {
  if (!auth) throw new ApiError(401, 'unauthenticated', 'Sign in to continue.');
  return auth;
}
