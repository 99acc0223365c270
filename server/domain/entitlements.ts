import { CompiledQuery, type Kysely } from 'kysely';
import type { AccessGrant } from '../../src/protocol';
import type { Clock } from '../clock';
import { PreparedQuery } from '../store/prepared-query';
import type { Database } from '../store/schema';

/** (customer, product, expiresAt): who may read what until when. */
export class EntitlementStore {
  /** The access check's SQL by the number of products asked about; only the values change per request. */
  readonly #checkSql = new Map<number, string>();
  // Every purchase runs these.
  readonly #expiry: PreparedQuery<{ customerId: string; product: string }, { expires_at: number }>;
  readonly #grant: PreparedQuery<{ customerId: string; product: string; grantedAt: number; expiresAt: number }, unknown>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {
    this.#expiry = new PreparedQuery(db, (db, param) => db.selectFrom('entitlements').select('expires_at').where('customer_id', '=', param('customerId')).where('product', '=', param('product')));
    this.#grant = new PreparedQuery(db, (db, param) => db
      .insertInto('entitlements')
      .values({ customer_id: param('customerId'), product: param('product'), granted_at: param('grantedAt'), expires_at: param('expiresAt') })
      .onConflict((oc) => oc.columns(['customer_id', 'product']).doUpdateSet({ granted_at: param('grantedAt'), expires_at: param('expiresAt') })));
  }

  async check(customerId: string | null, products: string[]): Promise<AccessGrant[]> {
    const unique = [...new Set(products)];
    const now = this.clock.now().getTime();
    const rows = customerId ? (await this.db.executeQuery<{ product: string; expires_at: number }>(CompiledQuery.raw(this.#checkQuery(unique.length), [customerId, ...unique, now]))).rows : [];
    const expiry = new Map(rows.map((r) => [r.product, Number(r.expires_at)]));
    return products.map((product) => {
      const at = expiry.get(product);
      return { product, granted: at !== undefined, expiresAt: at === undefined ? null : new Date(at).toISOString() };
    });
  }

  /** Built once per list length: the access check runs on every page view, and building it costs more than running it. */
  #checkQuery(products: number): string {
    let text = this.#checkSql.get(products);
    if (text === undefined) {
      const placeholders = Array.from({ length: products }, () => '');
      text = this.db.selectFrom('entitlements').select(['product', 'expires_at']).where('customer_id', '=', '').where('product', 'in', placeholders).where('expires_at', '>', 0).compile().sql;
      this.#checkSql.set(products, text);
    }
    return text;
  }

  async current(db: Kysely<Database>, customerId: string, product: string): Promise<number | null> {
    const row = await this.#expiry.first(db, { customerId, product });
    const at = row ? Number(row.expires_at) : null;
    return at !== null && at > this.clock.now().getTime() ? at : null;
  }

  async grant(db: Kysely<Database>, customerId: string, product: string, grantedAt: number, expiresAt: number): Promise<void> {
    await this.#grant.rows(db, { customerId, product, grantedAt, expiresAt });
  }
}
