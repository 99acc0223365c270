/**
 * Rows read in the last `maxAgeMs`, by key, so a hot request does not read the same row again: a
 * session by its token hash, a grant by customer and product. What this instance does is exact:
 * whoever changes a row here forgets its entry before it answers, an entry past the row's own
 * expiry is never used, and a read that began before a change is not remembered. A change made
 * by another instance sharing the database is seen here at the latest `maxAgeMs` later.
 */
export class RecentReads<T> {
  readonly #entries = new Map<string, { value: T; expiresAt: number; readAt: number }>();
  #forgotten = 0;

  constructor(
    readonly maxAgeMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** Counts changes; a read that began before one may not be remembered (it could be of the row just changed). */
  get generation(): number {
    return this.#forgotten;
  }

  get(key: string, now: number): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    const age = now - entry.readAt;
    if (entry.expiresAt > now && age >= 0 && age < this.maxAgeMs) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  remember(key: string, value: T, expiresAt: number, readAt: number, generation: number): void {
    if (generation !== this.#forgotten) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { value, expiresAt, readAt });
  }

  forget(key: string): void {
    this.#forgotten++;
    this.#entries.delete(key);
  }
}
