/**
 * `ingest`: 20 connections posting 100-event mixed batches to /v1/batch, end to end
 * (validated, deduplicated, durably committed, appended), with time-ordered and with
 * random ids, beside a same-run floor (bare node:http + one SQLite transaction per request).
 * `track`: single events on /v1/track against the same floor with one event per request.
 * The servers run side by side and are measured in interleaved rounds (see `interleave`);
 * each line also gives the server's CPU time per event, the figure least moved by noise.
 */
import {
  type Contender,
  type ContenderResult,
  interleave,
  load,
  orderedId,
  randomId,
  roundRatio,
  segmentMessage,
  startChild,
} from './lib.ts';

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

/** A started server and the load to put on it. */
async function contender(
  kind: 'pitwall' | 'floor',
  name: string,
  path: string,
  body: () => Buffer,
  perRequest: number,
  connections: number,
): Promise<{ c: Contender; stop: () => Promise<void> }> {
  const child = await startChild<PitwallInfo>(kind);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (kind === 'pitwall') headers.authorization = `Basic ${Buffer.from(`${child.info.key}:`).toString('base64')}`;
  const run = (durationMs: number) => load({ url: child.info.url, path, headers, body, connections, durationMs });
  // Warm up (JIT, page cache) before measuring.
  await run(1000);
  return { c: { name, pid: child.proc.pid, perRequest, run }, stop: () => child.stop() };
}

async function measure(specs: (() => Promise<{ c: Contender; stop: () => Promise<void> }>)[], quick: boolean): Promise<ContenderResult[]> {
  const started: { c: Contender; stop: () => Promise<void> }[] = [];
  try {
    for (const spec of specs) started.push(await spec());
    // Full: 3 rounds of 4 s each; quick: one round of 2 s.
    return await interleave(
      started.map((s) => s.c),
      quick ? 1 : 3,
      quick ? 2000 : 4000,
    );
  } finally {
    for (const s of started) await s.stop();
  }
}

function report(r: ContenderResult, unit: string): void {
  const cpu = r.cpu_us_per_event === undefined ? '' : `  server CPU ${r.cpu_us_per_event} µs/${unit === 'events/s' ? 'event' : 'req'}`;
  console.log(
    `${r.name.padEnd(28)} ${Math.round(r.rate).toString().padStart(8)} ${unit}  p50 ${r.p50_ms} ms  p99 ${r.p99_ms} ms${cpu}  rounds ${JSON.stringify(r.rates)}  failed ${r.failed}  statuses ${JSON.stringify(r.statuses)}`,
  );
}

export async function runIngestBench(opts: { quick: boolean }): Promise<Record<string, unknown>> {
  const conns = 20;
  const [floor, ordered, random] = (await measure(
    [
      () => contender('floor', 'floor (bare http+sqlite)', '/v1/batch', batchBody(100, orderedId), 100, conns),
      () => contender('pitwall', 'pitwall, time-ordered ids', '/v1/batch', batchBody(100, orderedId), 100, conns),
      () => contender('pitwall', 'pitwall, random UUIDv4 ids', '/v1/batch', batchBody(100, randomId), 100, conns),
    ],
    opts.quick,
  )) as [ContenderResult, ContenderResult, ContenderResult];
  for (const r of [floor, ordered, random]) report(r, 'events/s');
  return {
    bench: 'ingest',
    events_per_s: Math.round(ordered.rate),
    random_ids_events_per_s: Math.round(random.rate),
    p50_ms: ordered.p50_ms,
    p99_ms: ordered.p99_ms,
    random_ids_p99_ms: random.p99_ms,
    floor_events_per_s: Math.round(floor.rate),
    ratio: roundRatio(ordered, floor),
    random_ids_ratio: roundRatio(random, floor),
    cpu_us_per_event: ordered.cpu_us_per_event,
    floor_cpu_us_per_event: floor.cpu_us_per_event,
  };
}

export async function runTrackBench(opts: { quick: boolean }): Promise<Record<string, unknown>> {
  const conns = 20;
  const [floor, track] = (await measure(
    [
      () => contender('floor', 'floor (fsync per request)', '/v1/track', singleBody(orderedId), 1, conns),
      () => contender('pitwall', 'pitwall /v1/track', '/v1/track', singleBody(orderedId), 1, conns),
    ],
    opts.quick,
  )) as [ContenderResult, ContenderResult];
  for (const r of [floor, track]) report(r, 'req/s');
  return {
    bench: 'track',
    req_per_s: Math.round(track.rate),
    p50_ms: track.p50_ms,
    p99_ms: track.p99_ms,
    floor_req_per_s: Math.round(floor.rate),
    ratio: roundRatio(track, floor),
    cpu_us_per_req: track.cpu_us_per_event,
    floor_cpu_us_per_req: floor.cpu_us_per_event,
  };
}
