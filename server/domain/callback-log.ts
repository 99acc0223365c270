import type { Clock } from '../clock';
import type { DatabaseHandle } from '../store/connect';
import type { ProviderCallbacksTable } from '../store/schema';

/** What a rejected callback keeps of its query, body and reason: enough to see what it was, not enough to fill a disk. */
export const REJECTED_FIELD_CHARS = 1024;
/** Expired rejected callbacks are removed at most this often per process (any instance may do it: the delete is idempotent). */
const PRUNE_EVERY_MS = 60_000;

export type CallbackRecord = Omit<ProviderCallbacksTable, 'id' | 'received_at'>;

const cut = (text: string | null) => (text === null || text.length <= REJECTED_FIELD_CHARS ? text : `${text.slice(0, REJECTED_FIELD_CHARS)}…[cut]`);

/**
 * The audit log of provider callbacks. Applied, duplicate and ignored ones are kept whole and for
 * good (they are the record of what changed our books); rejected ones, which anyone can send, are
 * stored cut to `REJECTED_FIELD_CHARS` per field and deleted after `retentionMs`.
 */
export class CallbackLog {
  #prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly clock: Clock,
    private readonly retentionMs: number,
  ) {}

  async record(entry: CallbackRecord): Promise<void> {
    const now = this.clock.now().getTime();
    const rejected = entry.outcome === 'rejected';
    const row = rejected ? { ...entry, query: cut(entry.query) ?? '', body: cut(entry.body), detail: cut(entry.detail) } : entry;
    await this.database.db.insertInto('provider_callbacks').values({ ...row, received_at: now }).execute();
    if (rejected && now - this.#prunedAt >= PRUNE_EVERY_MS) await this.prune();
  }

  /** Deletes the rejected callbacks older than the retention; returns how many. */
  async prune(): Promise<number> {
    const now = this.clock.now().getTime();
    this.#prunedAt = now;
    const result = await this.database.db.deleteFrom('provider_callbacks').where('outcome', '=', 'rejected').where('received_at', '<', now - this.retentionMs).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
