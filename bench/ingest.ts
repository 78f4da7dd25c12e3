/**
 * `ingest`: 20 connections posting 100-event mixed batches to /v1/batch, end to end
 * (validated, deduplicated, durably committed, appended), with time-ordered and with
 * random ids, beside a same-run floor (bare node:http + one SQLite transaction per request).
 * `track`: single events on /v1/track against the same floor with one event per request.
 */
import { type LoadResult, load, orderedId, randomId, round, segmentMessage, startChild } from './lib.ts';

interface PitwallInfo {
  url: string;
  key: string;
}

/**
 * Bodies are built from pre-serialised message templates with the id spliced in, so the
 * load generator (which shares the machine's two cores) stays cheap.
 */
function templates(): string[][] {
  return Array.from({ length: 20 }, (_, i) => JSON.stringify(segmentMessage(i * 37 + (i % 10), '\u0000', '\u0001')).split(/\\u000[01]/));
}

function fill(parts: string[], id: string, sentAt: string): string {
  // parts: [before id, between id and timestamp, after timestamp]
  return `${parts[0]}${id}${parts[1]}${sentAt}${parts[2]}`;
}

function batchBody(size: number, id: () => string): () => Buffer {
  const t = templates();
  let i = 0;
  return () => {
    const sentAt = new Date().toISOString();
    const items: string[] = new Array(size);
    for (let k = 0; k < size; k++) items[k] = fill(t[i++ % t.length] as string[], id(), sentAt);
    return Buffer.from(`{"batch":[${items.join(',')}],"sentAt":"${sentAt}"}`);
  };
}

function singleBody(id: () => string): () => Buffer {
  const t = templates().filter((parts) => parts.join('').includes('"type":"track"'));
  let i = 0;
  return () => {
    const sentAt = new Date().toISOString();
    const m = fill(t[i++ % t.length] as string[], id(), sentAt);
    return Buffer.from(`${m.slice(0, -1)},"sentAt":"${sentAt}"}`);
  };
}

async function against(
  kind: 'pitwall' | 'floor',
  path: string,
  body: () => Buffer,
  connections: number,
  durationMs: number,
): Promise<LoadResult> {
  const child = await startChild<PitwallInfo>(kind);
  try {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (kind === 'pitwall') headers.authorization = `Basic ${Buffer.from(`${child.info.key}:`).toString('base64')}`;
    // Warm up (JIT, page cache) before measuring.
    await load({ url: child.info.url, path, headers, body, connections, durationMs: Math.min(1000, durationMs / 4) });
    return await load({ url: child.info.url, path, headers, body, connections, durationMs });
  } finally {
    await child.stop();
  }
}

function report(name: string, r: LoadResult, perRequest: number): number {
  const rate = ((r.requests - r.failed) * perRequest) / r.seconds;
  console.log(
    `${name.padEnd(28)} ${Math.round(rate).toString().padStart(8)} events/s  p50 ${r.p50_ms} ms  p99 ${r.p99_ms} ms  requests ${r.requests}  failed ${r.failed}  statuses ${JSON.stringify(r.statuses)}`,
  );
  return rate;
}

export async function runIngestBench(opts: { quick: boolean }): Promise<Record<string, unknown>> {
  const duration = opts.quick ? 2000 : 10_000;
  const conns = 20;
  const floor = report('floor (bare http+sqlite)', await against('floor', '/v1/batch', batchBody(100, orderedId), conns, duration), 100);
  const ordered = await against('pitwall', '/v1/batch', batchBody(100, orderedId), conns, duration);
  const orderedRate = report('pitwall, time-ordered ids', ordered, 100);
  const random = await against('pitwall', '/v1/batch', batchBody(100, randomId), conns, duration);
  const randomRate = report('pitwall, random UUIDv4 ids', random, 100);
  return {
    bench: 'ingest',
    events_per_s: Math.round(orderedRate),
    random_ids_events_per_s: Math.round(randomRate),
    p50_ms: ordered.p50_ms,
    p99_ms: ordered.p99_ms,
    random_ids_p99_ms: random.p99_ms,
    floor_events_per_s: Math.round(floor),
    ratio: round(orderedRate / floor),
  };
}

export async function runTrackBench(opts: { quick: boolean }): Promise<Record<string, unknown>> {
  const duration = opts.quick ? 2000 : 10_000;
  const conns = 20;
  const floor = report('floor (fsync per request)', await against('floor', '/v1/track', singleBody(orderedId), conns, duration), 1);
  const r = await against('pitwall', '/v1/track', singleBody(orderedId), conns, duration);
  const rate = report('pitwall /v1/track', r, 1);
  return {
    bench: 'track',
    req_per_s: Math.round(rate),
    p50_ms: r.p50_ms,
    p99_ms: r.p99_ms,
    floor_req_per_s: Math.round(floor),
    ratio: round(rate / floor),
  };
}
