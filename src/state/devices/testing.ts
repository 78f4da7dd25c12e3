/**
 * Test support for the devices module (used by its *.test.ts only): the module alone, run the
 * way `startStateConsumer` runs every module (consumer group `state`: projections in one
 * transaction, then detectors, then the ack) plus the conditions projection, on a FakeClock.
 * Running only this module keeps its tests independent of the other modules.
 */
import type { FakeClock } from '../../core/index.ts';
import {
  createConditionsProjection,
  type DecideModule,
  openTimerStore,
  type Projection,
  type TickResult,
  type TimerHandler,
  TimerRunner,
  type TimerStore,
} from '../../detect/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { type AppendOutcome, type EventLog, openEventLog, type Subscription, subscribe } from '../../log/index.ts';
import type { Store } from '../../store/index.ts';
import { applyProjections } from '../index.ts';
import { createDevicesModule } from './index.ts';

export class DevicesHarness {
  readonly log: EventLog;
  readonly timers: TimerStore;
  readonly module: DecideModule;
  readonly projections: readonly Projection[];
  readonly runner: TimerRunner;
  private readonly sub: Subscription;
  private failure: unknown;

  constructor(
    readonly store: Store,
    readonly clock: FakeClock,
    settings: unknown,
  ) {
    this.log = openEventLog(store, clock);
    this.timers = openTimerStore(store, clock);
    this.module = createDevicesModule({ log: this.log, store, timers: this.timers, clock }, settings);
    const conditions = createConditionsProjection(this.module.detectors.flatMap((d) => d.conditions ?? []));
    this.projections = [...this.module.projections, conditions];
    this.runner = new TimerRunner(this.timers, clock, this.fire);
    this.sub = subscribe(this.log, 'state', (batch) => this.handle(batch), {
      pollMs: 20,
      onError: (e) => {
        this.failure = e;
      },
    });
  }

  /** What the consumer does with a batch. */
  readonly handle = async (batch: Parameters<typeof applyProjections>[2]): Promise<void> => {
    await applyProjections(this.store, this.projections, batch);
    for (const d of this.module.detectors) await d.onEvents?.(batch);
  };

  /** The TimerRunner handler: the detector owning the key's prefix. */
  readonly fire: TimerHandler = async (t) => {
    const owner = this.module.detectors.find((d) => d.timerPrefix !== undefined && t.key.startsWith(d.timerPrefix));
    await owner?.fire?.(t);
  };

  /** Appends at the clock's time and waits until everything (derived events too) is folded. */
  async send(...events: CloudEvent[]): Promise<AppendOutcome[]> {
    const out = await this.log.append(events.map((event) => ({ event, receivedAt: this.clock.now() })));
    await this.settle();
    return out;
  }

  /** Waits until the group has folded the whole log, including what its detectors appended. */
  async settle(): Promise<void> {
    for (;;) {
      const head = await this.log.head();
      // Only wait when something is unacked: `caughtUp` right after `subscribe` starts, for a
      // position acked before, is not resolved until a new batch comes (src/log/consumer.ts).
      if (((await this.log.position('state')) ?? 0) < head) await this.caughtUp(head);
      if ((await this.log.head()) === head) return;
    }
  }

  /** `caughtUp`, failing (instead of hanging) when a batch throws. */
  private caughtUp(seq: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const poll = setInterval(() => {
        if (this.failure === undefined) return;
        clearInterval(poll);
        reject(this.failure);
      }, 10);
      void this.sub.caughtUp(seq).then(() => {
        clearInterval(poll);
        resolve();
      });
    });
  }

  /** Sets the clock, fires what is due, and waits until the result is folded. */
  async at(ms: number): Promise<TickResult> {
    this.clock.set(ms);
    const r = await this.runner.tick();
    await this.settle();
    return r;
  }

  /** Stops the consumer; `drain` then folds by hand (to interleave appends and firings exactly). */
  async pause(): Promise<void> {
    await this.sub.stop();
  }

  /** Folds everything after the group's position, batch by batch, as the consumer would. */
  async drain(batchSize = 100): Promise<void> {
    let pos = (await this.log.position('state')) ?? 0;
    for (;;) {
      const batch = await this.log.read(pos, batchSize);
      const last = batch[batch.length - 1];
      if (!last) return;
      await this.handle(batch);
      pos = last.seq;
      await this.log.ack('state', pos);
    }
  }

  async derived(type: string): Promise<CloudEvent[]> {
    return (await this.log.query({ type, order: 'asc', limit: 10_000 })).map((l) => l.event);
  }

  /** Stops the consumer and closes the log (the store stays open). */
  async stop(): Promise<void> {
    await this.sub.stop();
    await this.log.close();
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A resolved SenML reading from a device, as the MQTT door makes it. */
export function reading(
  id: string,
  deviceId: string | undefined,
  n: string,
  atMs: number,
  value: { v?: number; vs?: string; u?: string },
  ext: Partial<CloudEvent> = {},
): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: deviceId !== undefined ? `pitwall:device/${deviceId}` : 'pitwall:senml',
    type: 'sensor.reading',
    time: iso(atMs),
    subject: deviceId ?? n,
    ...(deviceId !== undefined ? { deviceid: deviceId } : {}),
    data: { n, t: atMs / 1000, ...value },
    ...ext,
  };
}

export function registration(
  id: string,
  deviceId: string,
  atMs: number,
  data: Record<string, unknown>,
  ext: Partial<CloudEvent> = {},
): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: 'shop-backend',
    type: 'device.registered',
    time: iso(atMs),
    data: { device_id: deviceId, ...data },
    ...ext,
  };
}

export function vehicleSignal(
  id: string,
  deviceId: string,
  signal: string,
  atMs: number,
  value: number | string,
  unit?: string,
): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: `pitwall:device/${deviceId}`,
    type: 'vehicle.signal',
    time: iso(atMs),
    deviceid: deviceId,
    data: { signal, value, ...(unit !== undefined ? { unit } : {}), device_id: deviceId },
  };
}
