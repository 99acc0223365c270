import { sql, type Kysely } from 'kysely';
import type { Database } from './schema';

interface Job {
  work(trx: Kysely<Database>): Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Group commit for SQLite's single connection. With `synchronous = FULL` every COMMIT waits for
 * the disk (an fsync, milliseconds here), and the event loop waits with it. Write transactions
 * that arrive together therefore run one after another inside one BEGIN IMMEDIATE … COMMIT, each
 * in its own savepoint: one that throws is rolled back to its savepoint alone, and every other is
 * answered only once the shared COMMIT has succeeded, so none is reported before it is durable.
 * The effect is that of running them one at a time, which the one connection did anyway.
 */
export class WriteBatches {
  readonly #queue: Job[] = [];
  #draining = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxBatch = 32,
  ) {}

  run<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.#draining) return;
      this.#draining = true;
      // After this turn's I/O callbacks, so the requests that arrived together share one commit.
      setImmediate(() => void this.#drain());
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length) await this.#batch();
    } finally {
      this.#draining = false;
    }
  }

  async #batch(): Promise<void> {
    const batch = this.#queue.splice(0, this.maxBatch);
    await this.db.connection().execute(async (connection) => {
      try {
        await sql`begin immediate`.execute(connection);
      } catch (error) {
        for (const job of batch) job.reject(error);
        return;
      }
      const done: Array<{ job: Job; value: unknown }> = [];
      for (const [index, job] of batch.entries()) {
        await sql`savepoint batched_write`.execute(connection);
        let value: unknown;
        try {
          value = await job.work(connection);
        } catch (error) {
          job.reject(error);
          try {
            await sql`rollback to batched_write`.execute(connection);
            await sql`release batched_write`.execute(connection);
            continue;
          } catch (lost) {
            // SQLite rolled the whole transaction back (a full disk, an I/O error): nothing in it holds.
            await sql`rollback`.execute(connection).catch(() => {});
            for (const { job: earlier } of done) earlier.reject(lost);
            this.#queue.unshift(...batch.slice(index + 1));
            return;
          }
        }
        await sql`release batched_write`.execute(connection);
        done.push({ job, value });
      }
      try {
        await sql`commit`.execute(connection);
      } catch (error) {
        await sql`rollback`.execute(connection).catch(() => {});
        for (const { job } of done) job.reject(error);
        return;
      }
      for (const { job, value } of done) job.resolve(value);
    });
  }
}
