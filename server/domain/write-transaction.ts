import type { Kysely } from 'kysely';
import type { DatabaseHandle } from '../store/connect';
import type { Database } from '../store/schema';
import { WriteBatches } from '../store/write-batches';

/**
 * A transaction that is going to write. On SQLite it starts with BEGIN IMMEDIATE, so it holds the
 * write lock from its first read: two server processes on one database file then queue on the
 * busy timeout instead of failing with SQLITE_BUSY when a read-then-write transaction tries to
 * upgrade. (Within one process Kysely's SQLite driver runs one statement or transaction at a time.)
 * Transactions that arrive together share one commit ({@link WriteBatches}); each is still all or
 * nothing, and resolves only once its writes are committed.
 * On PostgreSQL it is an ordinary transaction; rows are locked with {@link forUpdate}.
 *
 * Inside `work`, use only `trx`: on SQLite the one connection is taken until the transaction ends.
 */
export async function writeTransaction<T>(database: DatabaseHandle, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (database.dialect === 'postgres') return database.db.transaction().execute(work);
  let batches = sqliteBatches.get(database.db);
  if (!batches) sqliteBatches.set(database.db, (batches = new WriteBatches(database.db)));
  return batches.run(work);
}

const sqliteBatches = new WeakMap<Kysely<Database>, WriteBatches>();

/** Whether a database error is a unique-constraint violation (both dialects). */
export function isUniqueViolation(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || /unique constraint|UNIQUE constraint failed|duplicate key/i.test(message ?? '');
}

/**
 * Runs `work` again once when it lost a race on a unique key (two requests with one idempotency
 * key, on PostgreSQL): the second run sees what the winner committed and answers from it.
 */
export async function retryOnUniqueViolation<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    return work();
  }
}
