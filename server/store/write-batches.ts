import { CompiledQuery, type Kysely } from 'kysely';
import type { Database } from './schema';

// Run for every write: compiled once.
const BEGIN = CompiledQuery.raw('begin immediate');
const SAVEPOINT = CompiledQuery.raw('savepoint batched_write');
const RELEASE = CompiledQuery.raw('release batched_write');
const ROLLBACK_TO = CompiledQuery.raw('rollback to batched_write');
const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');

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
        await connection.executeQuery(BEGIN);
      } catch (error) {
        for (const job of batch) job.reject(error);
        return;
      }
      const done: Array<{ job: Job; value: unknown }> = [];
      for (const [index, job] of batch.entries()) {
        await connection.executeQuery(SAVEPOINT);
        let value: unknown;
        try {
          value = await job.work(connection);
        } catch (error) {
          job.reject(error);
          try {
            await connection.executeQuery(ROLLBACK_TO);
            await connection.executeQuery(RELEASE);
            continue;
          } catch (lost) {
            // SQLite rolled the whole transaction back (a full disk, an I/O error): nothing in it holds.
            await connection.executeQuery(ROLLBACK).catch(() => {});
            for (const { job: earlier } of done) earlier.reject(lost);
            this.#queue.unshift(...batch.slice(index + 1));
            return;
          }
        }
        await connection.executeQuery(RELEASE);
        done.push({ job, value });
      }
      try {
        await connection.executeQuery(COMMIT);
      } catch (error) {
        await connection.executeQuery(ROLLBACK).catch(() => {});
        for (const { job } of done) job.reject(error);
        return;
      }
      for (const { job, value } of done) job.resolve(value);
    });
  }
}
