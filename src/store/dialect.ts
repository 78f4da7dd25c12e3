/**
 * The only place where SQLite and PostgreSQL differ in schema. Shared code asks for
 * capabilities (`singleWriter`), not database names.
 */
export type Dialect = 'sqlite' | 'postgres';

export function int64(dialect: Dialect): 'integer' | 'bigint' {
  return dialect === 'postgres' ? 'bigint' : 'integer';
}
