/**
 * Test harness for the quality module: the module alone (plus the conditions projection) run the
 * way `startStateConsumer` runs every module, on a FakeClock. Only tests import this file (it is
 * not exported from index.ts).
 */
import { type FakeClock, isoTime } from '../core/index.ts';
import {
  createConditionsProjection,
  type Detector,
  listConditions,
  openTimerStore,
  type Projection,
  TimerRunner,
  type TimerStore,
  writeTransaction,
} from '../detect/index.ts';
import type { CloudEvent } from '../events/index.ts';
import { type EventLog, type LoggedEvent, openEventLog, type Subscription, subscribe } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import { createQualityModule, listSourceQuality, QUALITY_CONDITIONS, type SourceQuality } from './index.ts';

/** What the harness needs of a test backend (test/support/backends.ts). */
export interface BackendLike {
  open(): Promise<Store>;
  reopen(): Promise<Store>;
}

export const SEC = 1000;
export const MIN = 60 * SEC;
export const T0 = Date.parse('2026-01-05T09:00:00Z');

export interface Harness {
  store: Store;
  log: EventLog;
  timers: TimerStore;
  runner: TimerRunner;
  projections: Projection[];
  detector: Detector;
  /** Folds a batch the way the state consumer does (projections only). */
  applyBatch(batch: readonly LoggedEvent[]): Promise<void>;
  /** Appends at the clock's time and waits until everything (derived events too) is folded. */
  send(...events: CloudEvent[]): Promise<void>;
  /** Sets the clock, runs the timer runner once, and waits for what it appended to be folded. */
  at(ms: number): Promise<{ claimed: number }>;
  settle(): Promise<void>;
  derived(type?: string): Promise<CloudEvent[]>;
  rows(): Promise<SourceQuality[]>;
  openConditions(): Promise<{ key: string; status: string }[]>;
  /** A quarantined item, as ingest writes it. */
  quarantine(
    id: string,
    receivedMs: number,
    opts: { deviceId?: string; source?: string; channel?: string; type?: string | null },
  ): Promise<void>;
  /** Stops the consumer (no ack of a batch in flight) and closes the store. */
  close(): Promise<void>;
}

export async function openHarness(
  backend: BackendLike,
  clock: FakeClock,
  settings: unknown,
  opts: { reopen?: boolean; consume?: boolean } = {},
): Promise<Harness> {
  const store = opts.reopen ? await backend.reopen() : await backend.open();
  const log = openEventLog(store, clock);
  const timers = openTimerStore(store, clock);
  const mod = createQualityModule({ log, store, timers, clock }, settings);
  const projections = [...mod.projections, createConditionsProjection(QUALITY_CONDITIONS)];
  const detector = mod.detectors[0] as Detector;
  const applyBatch = async (batch: readonly LoggedEvent[]) => {
    const work = projections.map((p) => ({ p, events: batch.filter((le) => p.handles(le.event)) })).filter((w) => w.events.length > 0);
    if (work.length === 0) return;
    await writeTransaction(store, async (db) => {
      for (const { p, events } of work) await p.apply(db, events, store.dialect);
    });
  };
  let sub: Subscription | undefined;
  if (opts.consume !== false) {
    sub = subscribe(
      log,
      'state',
      async (batch) => {
        await applyBatch(batch);
        await detector.onEvents?.(batch);
      },
      { pollMs: 20 },
    );
  }
  const runner = new TimerRunner(timers, clock, async (t) => detector.fire?.(t));
  const settle = async () => {
    for (;;) {
      const head = await log.head();
      await sub?.caughtUp(head);
      if ((await log.head()) === head) return;
    }
  };
  return {
    store,
    log,
    timers,
    runner,
    projections,
    detector,
    applyBatch,
    settle,
    async send(...events) {
      await log.append(events.map((event) => ({ event, receivedAt: clock.now() })));
      await settle();
    },
    async at(ms) {
      clock.set(ms);
      const r = await runner.tick();
      await settle();
      return r;
    },
    async derived(type) {
      const all = await log.query({ type: type ?? 'quality.*', order: 'asc', limit: 1000 });
      return all.map((l) => l.event);
    },
    rows: () => listSourceQuality(store.db, { limit: 1000 }),
    async openConditions() {
      const list = await listConditions(store.db, { status: 'open', kind: 'quality.degraded', limit: 100 });
      return list.map((c) => ({ key: c.key, status: c.status }));
    },
    async quarantine(id, receivedMs, o) {
      await store.db
        .insertInto('quarantine')
        .values({
          id,
          received_ms: receivedMs,
          channel: o.channel ?? 'mqtt-senml',
          source: o.source ?? (o.deviceId ? `pitwall:device/${o.deviceId}` : null),
          type: o.type === undefined ? 'sensor.reading' : o.type,
          code: 'PW_EVENT_SCHEMA',
          reason: 'test',
          pointer: null,
          payload: '{}',
          context: JSON.stringify(o.deviceId ? { deviceId: o.deviceId } : {}),
          status: 'pending',
          replayed_seq: null,
          updated_ms: receivedMs,
        })
        .execute();
    },
    async close() {
      await sub?.stop();
      await log.close();
      await store.close();
    },
  };
}

let n = 0;
/** A unique, time-ordered-enough event id. */
export const nextId = (p: string) => `${p}-${++n}`;

/** A GPS fix of shipment `shp-1` from tracker `device`, taken at `atMs`. */
export function fix(device: string, lat: number, lon: number, atMs: number, ext: Partial<CloudEvent> = {}): CloudEvent {
  return {
    specversion: '1.0',
    id: nextId('fix'),
    source: 'urn:carrier:acme',
    type: 'shipment.position',
    time: isoTime(atMs),
    deviceid: device,
    data: { shipment_id: 'shp-1', lat, lon },
    ...ext,
  };
}

/** A resolved SenML record from `device`. */
export function reading(device: string, n: string, v: number, unit: string, atMs: number, ext: Partial<CloudEvent> = {}): CloudEvent {
  return {
    specversion: '1.0',
    id: nextId('r'),
    source: `pitwall:device/${device}`,
    type: 'sensor.reading',
    time: isoTime(atMs),
    deviceid: device,
    data: { n, u: unit, v, t: atMs / 1000 },
    ...ext,
  };
}
