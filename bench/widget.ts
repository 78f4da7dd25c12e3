/**
 * `npm run bench -- widget`: the widget bundle as `npm start` serves it — raw and gzipped bytes
 * beside the 15 KB gzipped budget, and how long esbuild takes to build it in memory.
 */
import { bundleWidget } from '../src/storefront/index.ts';

export async function runWidgetBench(_opts: { quick: boolean }): Promise<Record<string, unknown>> {
  const started = performance.now();
  const b = await bundleWidget();
  const buildMs = Math.round(performance.now() - started);
  const budget = 15 * 1024;
  console.log(`widget.js: ${b.bytes} bytes, ${b.gzipBytes} gzipped (budget ${budget}), built in ${buildMs} ms`);
  return {
    widget_bytes: b.bytes,
    widget_gzip_bytes: b.gzipBytes,
    budget_gzip_bytes: budget,
    ratio: Math.round((b.gzipBytes / budget) * 1000) / 1000,
    build_ms: buildMs,
  };
}
