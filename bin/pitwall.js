#!/usr/bin/env node
// The `pitwall` bin. No build step: the TypeScript sources are compiled file by file into a cache
// (bin/compile.js, only what changed) and Node runs the JavaScript — about twice as quick to start
// as a TypeScript loader (ADR 0021). PITWALL_TSX=1 runs the sources through tsx instead, for stack
// traces with the sources' own line numbers; so does a cache that cannot be written.
import { compiledEntry } from './compile.js';

const entry = process.env.PITWALL_TSX === '1' ? undefined : await compiledEntry();
if (entry) await import(entry);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/index.ts');
}
