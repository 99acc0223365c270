import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import type { SecretBox } from './secret-box';

/** Tokens a provider hands us per customer (Verotel one-click, Milkipay processor token), stored sealed. */
export class ProviderTokens {
  constructor(private readonly box: SecretBox | null) {}

  async store(db: Kysely<Database>, ref: TokenRef, token: string, now: Date): Promise<void> {
    // The config requires the key whenever a provider that hands out tokens is on.
    if (!this.box) throw new Error('No encryption key is configured for provider tokens');
    const sealed = this.box.seal(token, contextOf(ref));
    const at = now.getTime();
    await db.insertInto('customer_provider_tokens')
      .values({ customer_id: ref.customerId, provider: ref.provider, kind: ref.kind, sealed, created_at: at, updated_at: at })
      .onConflict((oc) => oc.columns(['customer_id', 'provider', 'kind']).doUpdateSet({ sealed, updated_at: at }))
      .execute();
  }

  /** The token, or null when there is none (or it was sealed under another key). */
  async read(db: Kysely<Database>, ref: TokenRef): Promise<string | null> {
    const row = await db.selectFrom('customer_provider_tokens').select('sealed')
      .where('customer_id', '=', ref.customerId).where('provider', '=', ref.provider).where('kind', '=', ref.kind).executeTakeFirst();
    return row && this.box ? this.box.open(row.sealed, contextOf(ref)) : null;
  }
}

export interface TokenRef {
  customerId: string;
  provider: string;
  kind: string;
}

const contextOf = (ref: TokenRef) => `${ref.customerId}:${ref.provider}:${ref.kind}`;
