import type { Logger } from 'pino';
import type { AuthenticatedCustomer } from '../domain/accounts';

/** Per-request values set by middleware, typed for every route. */
export interface AppEnv {
  Variables: {
    auth: AuthenticatedCustomer | null;
    logger: Logger;
  };
}
