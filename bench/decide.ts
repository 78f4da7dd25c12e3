/**
 * `decide`: `POST /v1/decide/product` (publishable key, allowed Origin, a customer and region,
 * 1–3 SKUs) on loopback while batch ingest runs at a fixed 10,000 events/s into the same
 * server (Decide on: the state consumer folds it meanwhile), beside a bare Fastify route that
 * answers a fixed body of similar size, measured in interleaved rounds in the same run.
 * Knobs: `PITWALL_DECIDE=off` (the serving process does not fold the ingest: the scale-out
 * layout, where another process runs Decide), `BENCH_NO_INGEST=1` (no ingest load).
 */
import { Pool } from 'undici';
import { type Contender, type ContenderResult, interleave, load, orderedId, round, roundRatio, segmentMessage, startChild } from './lib.ts';

interface DecideInfo {
  url: string;
  key: string;
  pk: string;
  origin: string;
}

const SKUS = ['BRK-PAD-F150-F', 'BAT-AGM-70AH', 'FLT-OIL-5W30', 'WIP-600MM', 'SPK-IRIDIUM-4', 'UNKNOWN-1'];

function decideBodies(): () => Buffer {
  const bodies = Array.from({ length: 1000 }, (_, i) =>
    Buffer.from(
      JSON.stringify({
        skus: SKUS.slice(i % SKUS.length, (i % SKUS.length) + 1 + (i % 3)),
        customer: { anonymousId: `anon-${i % 500}` },
        region: 'DE',
        placement: 'page',
        page: { type: 'product' },
      }),
    ),
  );
  let i = 0;
  return () => bodies[i++ % bodies.length] as Buffer;
}

/** Posts a 100-event batch every 10 ms (10,000 events/s) until stopped; counts acknowledged events. */
function ingestAtFixedRate(url: string, key: string): { stop(): Promise<void>; acked(): number } {
  const pool = new Pool(url, { connections: 4 });
  const auth = `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
  let acked = 0;
  let n = 0;
  const inflight = new Set<Promise<void>>();
  const send = () => {
    const sentAt = new Date().toISOString();
    const batch = Array.from({ length: 100 }, () => segmentMessage(n++, orderedId(), sentAt));
    const p = pool
      .request({
        path: '/v1/batch',
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ batch, sentAt }),
      })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode === 200) acked += 100;
      })
      .catch(() => undefined)
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };
  // A timer per 10 ms drifts under load; catch up from the wall clock instead.
  const start = performance.now();
  let sent = 0;
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - start) / 10);
    while (sent < due && inflight.size < 64) {
      send();
      sent++;
    }
    if (sent < due) sent = due; // over capacity: drop the backlog rather than burst
  }, 5);
  return {
    acked: () => acked,
    async stop() {
      clearInterval(timer);
      await Promise.all([...inflight]);
      await pool.close();
    },
  };
}

function report(r: ContenderResult): void {
  console.log(
    `${r.name.padEnd(34)} ${Math.round(r.rate).toString().padStart(8)} req/s  p50 ${r.p50_ms} ms  p99 ${r.p99_ms} ms  rounds ${JSON.stringify(r.rates)}  failed ${r.failed}  statuses ${JSON.stringify(r.statuses)}`,
  );
}

export async function runDecideBench(opts: { quick: boolean }): Promise<Record<string, unknown>> {
  const conns = 16;
  const pitwall = await startChild<DecideInfo>('decide');
  const bare = await startChild<{ url: string }>('bare-fastify');
  const ingest = process.env.BENCH_NO_INGEST
    ? { acked: () => 0, stop: async () => undefined }
    : ingestAtFixedRate(pitwall.info.url, pitwall.info.key);
  try {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${pitwall.info.pk}`, origin: pitwall.info.origin };
    const decide: Contender = {
      name: 'pitwall /v1/decide/product',
      pid: pitwall.proc.pid,
      perRequest: 1,
      run: (durationMs) =>
        load({ url: pitwall.info.url, path: '/v1/decide/product', headers, body: decideBodies(), connections: conns, durationMs }),
    };
    const floor: Contender = {
      name: 'bare fastify (fixed answer)',
      pid: bare.proc.pid,
      perRequest: 1,
      run: (durationMs) =>
        load({
          url: bare.info.url,
          path: '/v1/decide/product',
          headers: { 'content-type': 'application/json' },
          body: decideBodies(),
          connections: conns,
          durationMs,
        }),
    };
    await decide.run(1000); // warm up: JIT, caches
    await floor.run(1000);
    const t0 = performance.now();
    const a0 = ingest.acked();
    const [d, b] = (await interleave([decide, floor], opts.quick ? 1 : 3, opts.quick ? 2000 : 4000)) as [ContenderResult, ContenderResult];
    const ingestRate = ((ingest.acked() - a0) * 1000) / (performance.now() - t0);
    for (const r of [d, b]) report(r);
    console.log(`batch ingest meanwhile: ${Math.round(ingestRate)} events/s acknowledged (target 10000)`);
    return {
      bench: 'decide',
      req_per_s: Math.round(d.rate),
      p99_ms: d.p99_ms,
      p50_ms: d.p50_ms,
      bare_req_per_s: Math.round(b.rate),
      bare_p99_ms: b.p99_ms,
      failed: d.failed,
      ratio: roundRatio(d, b),
      ingest_events_per_s: round(ingestRate, 0),
    };
  } finally {
    await ingest.stop();
    await pitwall.stop();
    await bare.stop();
  }
}
