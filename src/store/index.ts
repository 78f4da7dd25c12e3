export type { Dialect } from './dialect.ts';
export type { Database } from './schema.ts';
export { openSqlite, openStore, type Store, type StoreOptions, sqliteFileIn } from './store.ts';
