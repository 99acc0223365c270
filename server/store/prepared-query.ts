import { CompiledQuery, type Compilable, type Kysely } from 'kysely';
import type { Database } from './schema';

/** Stands, in a query built once, for a value given each time the query runs. */
class Parameter {
  constructor(readonly name: string) {}
}

/** What a query builder calls where a value goes; typed as the value, so the builder type-checks as usual. */
export type Param<Params> = <K extends keyof Params & string>(name: K) => Params[K];

/**
 * A Kysely query built and compiled once for one database, then run with new values: building
 * and compiling a short query costs more than SQLite takes to run it, and a purchase runs about
 * ten. The query is written with Kysely as usual, with `param('name')` where a value goes; the
 * values are passed by name when it runs, on the database or on a transaction of it.
 */
export class PreparedQuery<Params extends object, Row> {
  readonly #sql: string;
  /** The compiled parameters in order: a {@link Parameter} is filled in per run, anything else is fixed. */
  readonly #slots: readonly unknown[];

  constructor(db: Kysely<Database>, build: (db: Kysely<Database>, param: Param<Params>) => Compilable<Row>) {
    const param = ((name: string) => new Parameter(name)) as unknown as Param<Params>;
    const { sql, parameters } = build(db, param).compile();
    this.#sql = sql;
    this.#slots = parameters;
  }

  async rows(db: Kysely<Database>, params: Params): Promise<Row[]> {
    const parameters = this.#slots.map((slot) => (slot instanceof Parameter ? valueOf(params, slot.name) : slot));
    return (await db.executeQuery<Row>(CompiledQuery.raw(this.#sql, parameters))).rows;
  }

  async first(db: Kysely<Database>, params: Params): Promise<Row | undefined> {
    return (await this.rows(db, params))[0];
  }
}

/** A missing value is a bug in the caller; PostgreSQL would silently bind it as null. */
function valueOf(params: object, name: string): unknown {
  const value = (params as Record<string, unknown>)[name];
  if (value === undefined) throw new TypeError(`No value for query parameter "${name}"`);
  return value;
}
