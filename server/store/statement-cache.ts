import type { Database as SQLiteDatabase, Statement } from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/**
 * better-sqlite3 as Kysely's SQLite driver sees it, except that each SQL text is prepared once and
 * its statement reused: Kysely's driver prepares every query anew, which costs more than running
 * the short queries the server makes. Kysely passes values as parameters, so the texts are few.
 * SQLite re-prepares a statement by itself when the schema changes (a migration, a dropped and
 * recreated table), so a cached statement never runs against a stale schema. Kysely runs one
 * query at a time on the one connection, so a statement is never used twice at once.
 */
export function reusingStatements(sqlite: SQLiteDatabase, limit = 1000): SqliteDatabase {
  const statements = new Map<string, Statement>();
  return {
    prepare(sql: string) {
      const cached = statements.get(sql);
      if (cached) return cached;
      const statement = sqlite.prepare(sql);
      // Texts that vary with a list's length could grow without bound: forget the oldest.
      if (statements.size >= limit) statements.delete(statements.keys().next().value!);
      statements.set(sql, statement);
      return statement;
    },
    close() {
      statements.clear();
      sqlite.close();
    },
  };
}
