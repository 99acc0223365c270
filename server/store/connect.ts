import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { Database, Dialect } from './schema';
import { migrationsFor } from './migrations';
import { reusingStatements } from './statement-cache';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** PostgreSQL schema the tables live in, when not the default search path. */
  schema?: string;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** `postgres://…` selects PostgreSQL; otherwise the SQLite file (or `:memory:`). */
  databaseUrl?: string | undefined;
  sqlitePath?: string;
  /** PostgreSQL schema to use (created if missing); lets test runs stay apart. */
  pgSchema?: string;
  poolSize?: number;
}

export async function connectDatabase({ databaseUrl, sqlitePath = ':memory:', pgSchema, poolSize = 10 }: ConnectOptions): Promise<DatabaseHandle> {
  if (databaseUrl && /^postgres(ql)?:\/\//.test(databaseUrl)) {
    const pool = new pg.Pool({
      connectionString: databaseUrl,
      max: poolSize,
      ...(pgSchema ? { options: `-c search_path=${pgSchema}` } : {}),
      // Minor units and epoch milliseconds fit a double exactly; parse int8 as number, not string.
      types: { getTypeParser: ((oid: number, format?: any) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser },
    });
    if (pgSchema) {
      const client = await pool.connect();
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${pgSchema.replace(/"/g, '')}"`);
      } finally {
        client.release();
      }
    }
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', ...(pgSchema ? { schema: pgSchema } : {}), close: () => db.destroy() };
  }
  if (sqlitePath !== ':memory:') mkdirSync(dirname(sqlitePath), { recursive: true });
  const sqlite = new SQLite(sqlitePath);
  sqlite.pragma('journal_mode = WAL');
  // A commit is answered (a purchase, a top-up) only once it would survive a power cut; WAL's
  // default, NORMAL, leaves the last commits in the OS cache until a checkpoint.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Every write transaction runs in a savepoint (write-batches.ts), whose undo copies of the pages
  // it changes would otherwise go to a temporary file: two write calls per page, per purchase.
  sqlite.pragma('temp_store = MEMORY');
  sqlite.defaultSafeIntegers(false);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }) });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

export async function migrate(handle: DatabaseHandle): Promise<void> {
  // Without the schema named, Kysely looks for its migration tables anywhere on the search path.
  const migrator = new Migrator({ db: handle.db, provider: migrationsFor(handle.dialect), ...(handle.schema ? { migrationTableSchema: handle.schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${(error as Error)?.message ?? 'unknown error'}`);
}
