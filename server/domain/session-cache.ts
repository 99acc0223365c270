/**
 * Recently authenticated sessions by token hash, so a request does not read its session row again
 * within `maxAgeMs`. What this instance does is exact: a sign-out here forgets the session before
 * it answers, and an entry past the session's expiry is never used. A sign-out on another instance
 * sharing the database is seen here at the latest `maxAgeMs` later, when the entry is read again.
 */
export class SessionCache<T> {
  readonly #entries = new Map<string, { value: T; expiresAt: number; readAt: number }>();
  #forgotten = 0;

  constructor(
    readonly maxAgeMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** Counts sign-outs; a read that began before one may not be remembered (it could be the session just ended). */
  get generation(): number {
    return this.#forgotten;
  }

  get(tokenHash: string, now: number): T | undefined {
    const entry = this.#entries.get(tokenHash);
    if (!entry) return undefined;
    const age = now - entry.readAt;
    if (entry.expiresAt > now && age >= 0 && age < this.maxAgeMs) return entry.value;
    this.#entries.delete(tokenHash);
    return undefined;
  }

  remember(tokenHash: string, value: T, expiresAt: number, readAt: number, generation: number): void {
    if (generation !== this.#forgotten) return;
    this.#entries.delete(tokenHash);
    if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(tokenHash, { value, expiresAt, readAt });
  }

  forget(tokenHash: string): void {
    this.#forgotten++;
    this.#entries.delete(tokenHash);
  }
}
