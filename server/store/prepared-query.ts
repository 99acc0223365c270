import { CompiledQuery, type Compilable, type Kysely } from 'kysely';
import type { Database } from './schema';

/** Stands, in a query built once, for a value given each time the query runs (or one item of a list). */
class Parameter {
  constructor(
    readonly name: string,
    readonly index?: number,
  ) {}
}

type ListNames<Params> = { [K in keyof Params & string]: Params[K] extends readonly unknown[] ? K : never }[keyof Params & string];
type Item<List> = List extends readonly (infer Item)[] ? Item : never;

/**
 * What a query builder calls where a value goes, `param('name')`, or item `i` of a list value,
 * `param.at('names', i)`; typed as the value, so the builder type-checks as usual.
 */
export type Param<Params> = (<K extends keyof Params & string>(name: K) => Params[K]) & {
  at<K extends ListNames<Params>>(name: K, index: number): Item<Params[K]>;
};

function parameters<Params>(): Param<Params> {
  const param = ((name: string) => new Parameter(name)) as unknown as Param<Params>;
  param.at = ((name: string, index: number) => new Parameter(name, index)) as Param<Params>['at'];
  return param;
}

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
    const compiled = build(db, parameters<Params>()).compile();
    this.#sql = compiled.sql;
    this.#slots = compiled.parameters;
  }

  async rows(db: Kysely<Database>, params: Params): Promise<Row[]> {
    const values = this.#slots.map((slot) => (slot instanceof Parameter ? valueOf(params, slot) : slot));
    return (await db.executeQuery<Row>(CompiledQuery.raw(this.#sql, values))).rows;
  }

  async first(db: Kysely<Database>, params: Params): Promise<Row | undefined> {
    return (await this.rows(db, params))[0];
  }
}

/**
 * Prepared queries whose text depends on how long a list is (`IN (…)`, a multi-row insert): one
 * per length, built the first time that length runs.
 */
export class PreparedQueriesByLength<Params extends object, Row> {
  readonly #byLength = new Map<number, PreparedQuery<Params, Row>>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly build: (db: Kysely<Database>, param: Param<Params>, length: number) => Compilable<Row>,
  ) {}

  of(length: number): PreparedQuery<Params, Row> {
    let query = this.#byLength.get(length);
    if (!query) this.#byLength.set(length, (query = new PreparedQuery<Params, Row>(this.db, (db, param) => this.build(db, param, length))));
    return query;
  }
}

/** A missing value is a bug in the caller; PostgreSQL would silently bind it as null. */
function valueOf(params: object, { name, index }: Parameter): unknown {
  const given = (params as Record<string, unknown>)[name];
  const value = index === undefined ? given : Array.isArray(given) ? given[index] : undefined;
  if (value === undefined) throw new TypeError(`No value for query parameter "${index === undefined ? name : `${name}[${index}]`}"`);
  return value;
}
