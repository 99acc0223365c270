/** The wire contract, for pages and backends that speak it directly. Elements register here as they land. */
export * from './protocol';
