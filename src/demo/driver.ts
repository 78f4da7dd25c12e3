/**
 * Runs a World against a Pitwall through its public HTTP routes: loads the shop's reference data
 * and starter surveys, then advances the world to the server's clock on every tick (live), or
 * backfills history in history mode. A failing tick is reported and the next one tries again:
 * the demo never takes the server down with it.
 */
import { type ClockInfo, PitwallClient } from './client.ts';
import { referenceData } from './model.ts';
import { type Emission, plainStorefront, World, type WorldOptions } from './world.ts';

const DAY = 86_400_000;

export interface DemoOptions extends Omit<WorldOptions, 'startMs'> {
  url: string;
  key: string;
  /** Send device SenML and carrier messages over this MQTT broker (see ClientOptions.mqttUrl). */
  mqttUrl?: string;
  /** With `mqttUrl`: a device credential and connection per vehicle device (see ClientOptions.deviceCredentials). */
  deviceCredentials?: boolean;
  note?: (message: string) => void;
  fetch?: typeof fetch;
}

export class DemoRunner {
  readonly client: PitwallClient;
  world: World | undefined;
  private buffer: Emission[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: DemoOptions) {
    this.client = new PitwallClient({
      url: o.url,
      key: o.key,
      ...(o.note ? { note: o.note } : {}),
      ...(o.fetch ? { fetch: o.fetch } : {}),
      ...(o.mqttUrl ? { mqttUrl: o.mqttUrl } : {}),
      ...(o.deviceCredentials ? { deviceCredentials: true } : {}),
    });
  }

  /** The server's clock. */
  clock(): Promise<ClockInfo> {
    return this.client.clock();
  }

  /** Loads the catalogue, warehouses, carriers and lanes (the starter surveys are Pitwall's built-ins); starts the world at the server's time. */
  async setup(startMs?: number): Promise<World> {
    const start = startMs ?? (await this.client.clock()).nowMs;
    const world = new World({ ...this.o, startMs: start });
    await loadReference(this.client, world);
    await loadExitSurvey(this.client);
    this.world = world;
    return world;
  }

  /** Advances the world to the server's current time and sends what happened. */
  async tick(): Promise<void> {
    const world = this.world ?? (await this.setup());
    const { nowMs } = await this.client.clock();
    await world.advance(nowMs, { emit: (e) => this.buffer.push(e), storefront: this.client.storefront(() => this.flush()) });
    await this.flush();
  }

  /** Ticks every `intervalMs` of wall time until `stop()`; errors go to `note` and the next tick retries. */
  start(intervalMs = 1000): void {
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.tick().catch((e) => this.o.note?.(`demo tick failed (${(e as Error).message}); trying again`));
      await this.running;
      if (!this.stopped) this.timer = setTimeout(() => void loop(), intervalMs);
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.client.close();
  }

  private async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    await this.client.send(batch);
  }
}

export async function loadReference(client: PitwallClient, world: World): Promise<void> {
  const ref = referenceData(world.model);
  await client.importReference('/v1/warehouses', { warehouses: ref.warehouses });
  await client.importReference('/v1/carriers', { carriers: ref.carriers });
  await client.importReference('/v1/lanes', { lanes: ref.lanes });
  await client.importReference('/v1/catalog', { products: ref.products });
}

const EXIT_SURVEY = 'what-stopped-you';

/**
 * The starter exit survey: Pitwall's built-in `what-stopped-you`, shown automatically at checkout
 * for carts up to €50 (`PUT /v1/surveys/:id`), so a short run already hears a few shoppers' reasons.
 * Bigger carts are `delivery-concern-rescue`'s to ask about (its condition is `cart.value > 50`): the
 * survey cap (1 a day) would otherwise hold back the workflow's survey and offer. Left as it is when
 * it already has an automatic placement (a second run, or the operator's own); a refusal is noted.
 */
export async function loadExitSurvey(client: PitwallClient): Promise<void> {
  const r = await client.request('GET', '/v1/surveys');
  const survey = (r.json as { surveys?: Record<string, unknown>[] } | undefined)?.surveys?.find((x) => x.id === EXIT_SURVEY);
  if (r.status !== 200 || !survey) {
    client.noteOnce('exit survey', `GET /v1/surveys answered ${r.status} without ${EXIT_SURVEY}; no automatic exit survey`);
    return;
  }
  const placements = Array.isArray(survey.placements) ? (survey.placements as { type?: string; auto?: boolean }[]) : [];
  if (placements.some((p) => p.auto === true)) return;
  const { version: _v, source: _s, updatedAt: _u, responses: _r, lastResponseAt: _l, ...definition } = survey;
  const put = await client.request('PUT', `/v1/surveys/${EXIT_SURVEY}`, {
    ...definition,
    audience: 'cart_value > 0.0 && cart_value <= 50.0',
    placements: [...placements.filter((p) => p.type !== 'exit_intent'), { type: 'exit_intent', auto: true }],
  });
  if (put.status !== 200 && put.status !== 201)
    client.noteOnce(
      'exit survey',
      `PUT /v1/surveys/${EXIT_SURVEY} answered ${put.status} (${put.text.slice(0, 200)}); no automatic exit survey`,
    );
}

/**
 * Backfills `days` of history ending at the server's current time, in history mode (events keep
 * their timestamps, build state and metrics, and start no timers or actions). `progress(done, total)`
 * is called after each simulated day.
 */
export async function backfillHistory(
  o: DemoOptions & { days: number; progress?: (doneDays: number, totalDays: number, events: number) => void },
): Promise<{ events: number; rejected: number; world: World }> {
  const live = new PitwallClient({ url: o.url, key: o.key, ...(o.note ? { note: o.note } : {}), ...(o.fetch ? { fetch: o.fetch } : {}) });
  const { nowMs } = await live.clock();
  const client = new PitwallClient({
    url: o.url,
    key: o.key,
    history: true,
    ...(o.note ? { note: o.note } : {}),
    ...(o.fetch ? { fetch: o.fetch } : {}),
  });
  const start = nowMs - o.days * DAY;
  const world = new World({ ...o, startMs: start, sensorMinutes: o.sensorMinutes ?? 30 });
  await loadReference(live, world);
  let buffer: Emission[] = [];
  for (let d = 1; d <= o.days; d++) {
    await world.advance(Math.min(nowMs, start + d * DAY), { emit: (e) => buffer.push(e), storefront: plainStorefront });
    const batch = buffer;
    buffer = [];
    await client.send(batch);
    o.progress?.(d, o.days, client.counts.events);
  }
  return { events: client.counts.events, rejected: client.counts.rejected, world };
}

/** Whether a server's clock speed suits the demo: `undefined` if it does, else why not. */
export function clockMismatch(serverSpeed: number, wanted: number | undefined, minimum = 10): string | undefined {
  if (wanted !== undefined && serverSpeed !== wanted)
    return `the server's clock runs at ${serverSpeed}× but the demo was asked for ${wanted}×: restart the server with PITWALL_CLOCK_SPEED=${wanted} (or run pitwall start --demo --speed ${wanted}), or pass --speed ${serverSpeed}`;
  if (wanted === undefined && serverSpeed < minimum)
    return `the server's clock runs at ${serverSpeed}× — too slow to watch a shop's day (the demo needs at least ${minimum}×): restart it with PITWALL_CLOCK_SPEED=60 (an hour a minute), or pass --speed ${serverSpeed} to run the demo in that time anyway`;
  return undefined;
}
