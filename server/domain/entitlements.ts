import type { Kysely } from 'kysely';
import type { AccessGrant, AccessResponse } from '../../src/protocol';
import type { Clock } from '../clock';
import { PreparedQueriesByLength, PreparedQuery } from '../store/prepared-query';
import type { Database } from '../store/schema';
import { RecentReads } from './recent-reads';

/**
 * How long a grant read by an access check is believed without reading it again. Only grants are
 * kept, never their absence, so a purchase on any instance opens the content at once; a grant
 * taken back (refund, chargeback, a subscription ending) on another instance sharing the
 * database is seen here at most this late, as a sign-out is (on PostgreSQL, so is one taken back
 * here while a check reads it: the change forgets the grant before it commits).
 */
export const GRANT_CACHE_MS = 2_000;

const grantKey = (customerId: string, product: string) => `${customerId}\n${product}`;

/** Where the notification ids stand: an access answer is current up to the newest one read before it. */
export interface NotificationCursor {
  latestId(customerId: string): Promise<number>;
}

/** A grant as an access check read it, with the customer's notification cursor read just before. */
interface GrantRead {
  expiresAt: number;
  cursor: number;
}

/** (customer, product, expiresAt): who may read what until when. */
export class EntitlementStore {
  /** The access check, by the number of products asked about: it runs on every page view. */
  readonly #check: PreparedQueriesByLength<{ customerId: string; products: string[]; now: number }, { product: string; expires_at: number }>;
  // Every purchase runs these.
  readonly #expiry: PreparedQuery<{ customerId: string; product: string }, { expires_at: number }>;
  readonly #grant: PreparedQuery<{ customerId: string; product: string; grantedAt: number; expiresAt: number }, unknown>;
  readonly #setExpiry: PreparedQuery<{ customerId: string; product: string; expiresAt: number }, unknown>;
  /** Grant expiries by customer and product, as the last access checks read them. */
  readonly #recent = new RecentReads<GrantRead>(GRANT_CACHE_MS, 50_000);

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly notifications: NotificationCursor,
  ) {
    this.#check = new PreparedQueriesByLength(db, (db, param, length) => db
      .selectFrom('entitlements')
      .select(['product', 'expires_at'])
      .where('customer_id', '=', param('customerId'))
      .where('product', 'in', Array.from({ length }, (_, i) => param.at('products', i)))
      .where('expires_at', '>', param('now')));
    this.#expiry = new PreparedQuery(db, (db, param) => db.selectFrom('entitlements').select('expires_at').where('customer_id', '=', param('customerId')).where('product', '=', param('product')));
    this.#grant = new PreparedQuery(db, (db, param) => db
      .insertInto('entitlements')
      .values({ customer_id: param('customerId'), product: param('product'), granted_at: param('grantedAt'), expires_at: param('expiresAt') })
      .onConflict((oc) => oc.columns(['customer_id', 'product']).doUpdateSet({ granted_at: param('grantedAt'), expires_at: param('expiresAt') })));
    this.#setExpiry = new PreparedQuery(db, (db, param) => db
      .updateTable('entitlements')
      .set({ expires_at: param('expiresAt') })
      .where('customer_id', '=', param('customerId'))
      .where('product', '=', param('product')));
  }

  async check(customerId: string | null, products: string[]): Promise<AccessGrant[]> {
    return (await this.answer(customerId, products)).access;
  }

  /** The answer to POST /v1/access: each product's access, and (signed in) the notification cursor it is current to. */
  async answer(customerId: string | null, products: string[]): Promise<AccessResponse> {
    const now = this.clock.now().getTime();
    const read = customerId ? await this.#expiries(customerId, [...new Set(products)], now) : null;
    const access = products.map((product) => {
      const at = read?.expiry.get(product);
      return { product, granted: at !== undefined, expiresAt: at === undefined ? null : new Date(at).toISOString() };
    });
    return read ? { access, notificationCursor: read.cursor } : { access };
  }

  /**
   * When access to each of `products` that the customer holds ends; grants read just now are not
   * read again. The cursor is the oldest one the answer relies on: each read's cursor is taken
   * before it, so every notification up to it is reflected (one replayed again changes nothing).
   */
  async #expiries(customerId: string, products: string[], now: number): Promise<{ expiry: Map<string, number>; cursor: number }> {
    const expiry = new Map<string, number>();
    const unknown: string[] = [];
    let cursor = Infinity;
    for (const product of products) {
      const read = this.#recent.get(grantKey(customerId, product), now);
      if (read === undefined) unknown.push(product);
      else {
        expiry.set(product, read.expiresAt);
        cursor = Math.min(cursor, read.cursor);
      }
    }
    if (!unknown.length) return { expiry, cursor };
    const generation = this.#recent.generation;
    const latest = await this.notifications.latestId(customerId);
    for (const row of await this.#check.of(unknown.length).rows(this.db, { customerId, products: unknown, now })) {
      const at = Number(row.expires_at);
      expiry.set(row.product, at);
      this.#recent.remember(grantKey(customerId, row.product), { expiresAt: at, cursor: latest }, at, now, generation);
    }
    return { expiry, cursor: Math.min(cursor, latest) };
  }

  async current(db: Kysely<Database>, customerId: string, product: string): Promise<number | null> {
    const row = await this.#expiry.first(db, { customerId, product });
    const at = row ? Number(row.expires_at) : null;
    return at !== null && at > this.clock.now().getTime() ? at : null;
  }

  async grant(db: Kysely<Database>, customerId: string, product: string, grantedAt: number, expiresAt: number): Promise<void> {
    this.#recent.forget(grantKey(customerId, product));
    await this.#grant.rows(db, { customerId, product, grantedAt, expiresAt });
  }

  /** A one-off payment's access: `validity` seconds from now, never shortening access held for longer. Returns its end. */
  async grantFor(db: Kysely<Database>, customerId: string, product: string, validity: number, now: Date): Promise<number> {
    const held = await this.current(db, customerId, product);
    const expiresAt = Math.max(held ?? 0, now.getTime() + validity * 1000);
    await this.grant(db, customerId, product, now.getTime(), expiresAt);
    return expiresAt;
  }

  /** Moves the end of an existing grant: earlier to take access back, later to extend it. */
  async setExpiry(db: Kysely<Database>, customerId: string, product: string, expiresAt: number): Promise<void> {
    this.#recent.forget(grantKey(customerId, product));
    await this.#setExpiry.rows(db, { customerId, product, expiresAt });
  }
}
