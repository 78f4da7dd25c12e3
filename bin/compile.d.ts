/** Types of bin/compile.js (plain JS: it runs before anything can load TypeScript). */
export function cacheRoot(): string;
export function compiledEntry(entry?: string): Promise<string | undefined>;
