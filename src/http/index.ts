export { buildApp } from './app.ts';
export type { HttpDeps } from './deps.ts';
