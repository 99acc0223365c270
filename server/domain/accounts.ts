import { sql, type Kysely } from 'kysely';
import type { Customer, SessionResponse } from '../../src/protocol';
import type { Clock } from '../clock';
import type { ServerConfig } from '../config';
import { ApiError } from '../errors';
import type { Database } from '../store/schema';
import type { DatabaseHandle } from '../store/connect';
import { isUniqueViolation, writeTransaction } from './write-transaction';
import type { NotificationStore } from '../notifications/notification-store';
import type { Ledger } from './ledger';
import { decoyHash, hashPassword, passwordWeakness, verifyPassword } from './passwords';
import { RecentReads } from './recent-reads';
import type { SessionEvents } from './session-events';
import { newId, newSessionToken, sha256 } from './tokens';

const SESSION_LIFETIME_MS = 90 * 24 * 3600 * 1000;
const LOCKOUT_WINDOW_MS = 15 * 60 * 1000;
const LOCKOUT_FAILURES = 5;
/** Keeps the advisory locks on sign-in emails apart from other advisory locks on the database (the notification store's are 1314). */
const LOCK_SIGN_IN_EMAIL = 423;
/** How long this instance trusts a session it has read; bounds how late it sees a sign-out made on another instance. */
export const SESSION_CACHE_MS = 2_000;
const EMAIL = /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/;

export interface AuthenticatedCustomer {
  customer: Customer;
  tokenHash: string;
}

export class AccountService {
  readonly #sessions = new RecentReads<AuthenticatedCustomer>(SESSION_CACHE_MS);

  constructor(
    private readonly database: DatabaseHandle,
    private readonly config: ServerConfig,
    private readonly clock: Clock,
    private readonly ledger: Ledger,
    private readonly notifications: NotificationStore,
    private readonly sessionEvents: SessionEvents,
  ) {}

  /** Creates the account, its wallet with the start credit, and a first session. */
  async signUp(emailInput: string, password: string): Promise<SessionResponse> {
    const email = emailInput.trim().toLowerCase();
    if (!EMAIL.test(email)) throw new ApiError(400, 'invalid_email', 'Enter a valid email address, like reader@example.com.');
    const weakness = passwordWeakness(password, email);
    if (weakness) throw new ApiError(400, 'weak_password', weakness);
    const passwordHash = await hashPassword(password);
    const now = this.clock.now();
    const id = newId('cus');
    const { currency, amount } = this.config.startCredit;
    const { written, token } = await writeTransaction(this.database, async (trx) => {
      const existing = await trx.selectFrom('customers').select('id').where('email', '=', email).executeTakeFirst();
      if (existing) throw new ApiError(409, 'email_taken', 'An account with this email already exists. Sign in instead.');
      await trx.insertInto('customers').values({ id, email, password_hash: passwordHash, created_at: now.getTime() }).execute();
      await this.ledger.openWallet(trx, id, currency);
      const pending = [];
      if (amount > 0) {
        const { wallet } = await this.ledger.post(trx, { kind: 'start_credit', customerId: id, currency, amount, from: 'start_credit', to: 'wallet', at: now });
        pending.push({ customerId: id, type: 'wallet.balance.changed' as const, resource: { ...wallet, delta: amount, reason: 'start_credit' } });
      }
      const token = await this.#openSession(trx, id, now);
      return { written: await this.notifications.append(trx, pending, now), token };
    }).catch((error) => {
      // Two sign-ups racing for one email: the unique index decides.
      if (isUniqueViolation(error)) throw new ApiError(409, 'email_taken', 'An account with this email already exists. Sign in instead.');
      throw error;
    });
    this.notifications.publish(written);
    return { token, customer: { id, email, createdAt: now.toISOString() }, wallet: { balance: amount, currency } };
  }

  /**
   * At most {@link LOCKOUT_FAILURES} password checks per email in any {@link LOCKOUT_WINDOW_MS},
   * however the attempts arrive: each reserves its check before running it ({@link #reserveCheck}),
   * a wrong password keeps its reservation as a failure, and a right one releases only its own, so
   * it neither counts nor clears the failures around it (they expire after the window).
   */
  async signIn(emailInput: string, password: string): Promise<SessionResponse> {
    const email = emailInput.trim().toLowerCase();
    const now = this.clock.now();
    const reservation = await this.#reserveCheck(email, now);
    if (reservation === null) throw new ApiError(423, 'account_locked', 'Too many failed sign-ins. Try again in 15 minutes.');
    const row = await this.database.db.selectFrom('customers').selectAll().where('email', '=', email).executeTakeFirst();
    const ok = await verifyPassword(password, row?.password_hash ?? (await decoyHash));
    if (!row || !ok) throw new ApiError(401, 'invalid_credentials', 'The email or password is not correct.');
    const token = await writeTransaction(this.database, async (trx) => {
      await trx.deleteFrom('sign_in_failures').where('id', '=', reservation).execute();
      return this.#openSession(trx, row.id, now);
    });
    const wallet = await this.ledger.wallet(this.database.db, row.id);
    return { token, customer: toCustomer(row), wallet: wallet ?? { balance: 0, currency: this.config.startCredit.currency } };
  }

  /**
   * Counts the email's checks in the window and records one more in the same transaction, or
   * answers null when the limit is reached. On SQLite the write transaction holds the database's
   * write lock from its first read; on PostgreSQL a lock on the email orders the transactions.
   */
  #reserveCheck(email: string, now: Date): Promise<number | null> {
    return writeTransaction(this.database, async (trx) => {
      if (this.database.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${LOCK_SIGN_IN_EMAIL}, hashtext(${email}))`.execute(trx);
      // A statement after the lock: its snapshot holds what the lock's previous holder committed.
      const { checks } = await trx
        .selectFrom('sign_in_failures')
        .select((eb) => eb.fn.countAll<number>().as('checks'))
        .where('email', '=', email)
        .where('at', '>', now.getTime() - LOCKOUT_WINDOW_MS)
        .executeTakeFirstOrThrow();
      if (Number(checks) >= LOCKOUT_FAILURES) return null;
      const { id } = await trx.insertInto('sign_in_failures').values({ email, at: now.getTime() }).returning('id').executeTakeFirstOrThrow();
      return Number(id);
    });
  }

  async signOut({ customer, tokenHash }: AuthenticatedCustomer): Promise<void> {
    this.#sessions.forget(tokenHash);
    await this.database.db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
    // A request that read the session while the row was being deleted may have remembered it.
    this.#sessions.forget(tokenHash);
    this.sessionEvents.publish({ customerId: customer.id, tokenHash });
  }

  /** The customer a bearer token belongs to, or null for a missing, unknown or expired token. */
  async authenticate(token: string | undefined | null): Promise<AuthenticatedCustomer | null> {
    if (!token || token.length > 256) return null;
    const tokenHash = sha256(token);
    const readAt = this.clock.now().getTime();
    const cached = this.#sessions.get(tokenHash, readAt);
    if (cached) return cached;
    const generation = this.#sessions.generation;
    const row = await this.database.db
      .selectFrom('sessions')
      .innerJoin('customers', 'customers.id', 'sessions.customer_id')
      .select(['customers.id', 'customers.email', 'customers.created_at', 'sessions.expires_at'])
      .where('sessions.token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!row || Number(row.expires_at) <= this.clock.now().getTime()) return null;
    const auth: AuthenticatedCustomer = Object.freeze({ customer: Object.freeze(toCustomer(row)), tokenHash });
    this.#sessions.remember(tokenHash, auth, Number(row.expires_at), readAt, generation);
    return auth;
  }

  async #openSession(db: Kysely<Database>, customerId: string, now: Date): Promise<string> {
    const token = newSessionToken();
    await db.insertInto('sessions').values({ token_hash: sha256(token), customer_id: customerId, created_at: now.getTime(), expires_at: now.getTime() + SESSION_LIFETIME_MS }).execute();
    return token;
  }
}

function toCustomer(row: { id: string; email: string; created_at: number }): Customer {
  return { id: row.id, email: row.email, createdAt: new Date(Number(row.created_at)).toISOString() };
}
