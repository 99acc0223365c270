import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';

/** How long a hosted checkout link can be used. */
export const CHECKOUT_LIFETIME_MS = 3600 * 1000;

/** An unused checkout link that ran out is opened again for the same request: same id, a new expiry. */
export async function reopenIfExpired<T extends { id: string; expires_at: number }>(trx: Kysely<Database>, checkout: T, now: Date): Promise<T> {
  if (Number(checkout.expires_at) > now.getTime()) return checkout;
  const expiresAt = now.getTime() + CHECKOUT_LIFETIME_MS;
  await trx.updateTable('checkouts').set({ expires_at: expiresAt }).where('id', '=', checkout.id).execute();
  return { ...checkout, expires_at: expiresAt };
}
