import type { Clock } from '../clock';

/**
 * At most `limit` requests per key (a client address) in each window of `windowMs`, counted in
 * this process. Windows that have ended are swept once a window, so the map holds only the keys
 * seen in the current one.
 */
export class RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();
  #sweptAt = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly clock: Clock,
  ) {}

  /** Counts one request of `key`; false when it is over the limit (then nothing else should be done for it). */
  take(key: string): boolean {
    const now = this.clock.now().getTime();
    if (now - this.#sweptAt >= this.windowMs) {
      for (const [k, w] of this.#windows) if (now - w.start >= this.windowMs) this.#windows.delete(k);
      this.#sweptAt = now;
    }
    const window = this.#windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      this.#windows.set(key, { start: now, count: 1 });
      return true;
    }
    window.count++;
    return window.count <= this.limit;
  }

  /** Seconds until `key` may send again. */
  retryAfterSeconds(key: string): number {
    const window = this.#windows.get(key);
    return window ? Math.max(1, Math.ceil((window.start + this.windowMs - this.clock.now().getTime()) / 1000)) : 1;
  }
}
