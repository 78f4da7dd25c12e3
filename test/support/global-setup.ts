/**
 * Once per `vitest run`: brings the compiled CLI (bin/compile.js, ADR 0021) and the dashboard's
 * build cache up to date, so the many tests that spawn `pitwall` or open the dashboard do not each
 * compile or build the same thing at the same moment.
 */
import { compiledEntry } from '../../bin/compile.js';
import { dashboardBuild } from '../../src/dashboard/index.ts';

export default async function setup(): Promise<void> {
  await Promise.all([compiledEntry(), dashboardBuild()]);
}
