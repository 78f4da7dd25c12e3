/**
 * Pitwall as the demo world reaches it: public HTTP routes only, with one key. Routes that do not
 * exist on this server (yet) degrade: the first failure of each is reported once through `note`,
 * later calls return `null` quietly.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { CheckoutDecision, Emission, ProductDecision, Storefront } from './world.ts';

export interface ClockInfo {
  nowMs: number;
  speed: number;
}

export interface ClientOptions {
  url: string;
  key: string;
  /** Called once per route that is missing or failing, with a sentence for the operator. */
  note?: (message: string) => void;
  /** History mode: events keep their timestamps and start no timers or actions (docs/events.md). */
  history?: boolean;
  /**
   * An MQTT broker Pitwall ingests from (e.g. the embedded one, `mqtt://127.0.0.1:1883`): warehouse
   * SenML goes to `pitwall/devices/{id}/senml` and carrier messages to `pitwall/shipments/{id}`
   * (QoS 1, the key as password), as devices and trackers would send them. Without it, or in
   * history mode (MQTT has no history flag), everything goes over HTTP.
   */
  mqttUrl?: string;
  /**
   * With `mqttUrl`: each connected-vehicle device gets its own credential (`POST /v1/devices`, admin
   * scope) and connection, and publishes on `pitwall/devices/{id}/telemetry` as itself — the embedded
   * broker checks it. Without it vehicles publish over the shared connection (an external broker has
   * its own credentials).
   */
  deviceCredentials?: boolean;
  fetch?: typeof fetch;
}

type Telemetry = Extract<Emission, { kind: 'telemetry' }>;

export class DemoHttpError extends Error {
  constructor(
    readonly status: number,
    readonly route: string,
    readonly body: string,
  ) {
    super(`${route} answered ${status}: ${body.slice(0, 300)}`);
  }
}

export class PitwallClient {
  private readonly base: string;
  private readonly noted = new Set<string>();
  private readonly fetchFn: typeof fetch;
  /** Counts of what was sent and what failed, for the progress line and tests. */
  readonly counts = { events: 0, rejected: 0, decisions: 0, surveyAnswers: 0, degraded: 0 };

  private mqttClient: Promise<MqttClient | undefined> | undefined;
  /** One connection per vehicle device (with `deviceCredentials`); undefined: that device reports over HTTP. */
  private readonly deviceClients = new Map<string, Promise<MqttClient | undefined>>();

  constructor(private readonly o: ClientOptions) {
    this.base = o.url.replace(/\/+$/, '');
    this.fetchFn = o.fetch ?? fetch;
  }

  /** The MQTT connection, made at first use; undefined (noted once) when there is none or it fails. */
  private broker(): Promise<MqttClient | undefined> {
    if (!this.o.mqttUrl || this.o.history) return Promise.resolve(undefined);
    this.mqttClient ??= mqtt
      .connectAsync(this.o.mqttUrl, {
        username: 'demo-world',
        password: this.o.key,
        clientId: `pitwall-demo-${process.pid}-${Math.floor(Math.random() * 1e9)}`,
        protocolVersion: 4,
        reconnectPeriod: 1000,
        connectTimeout: 10_000,
      })
      .then((c) => {
        // An EventEmitter error without a listener would crash the process that hosts the server.
        c.on('error', (e) => this.noteOnce('mqtt error', `MQTT connection error (${e.message}); reconnecting`));
        return c;
      })
      .catch((e: unknown) => {
        this.noteOnce('mqtt', `MQTT ${this.o.mqttUrl} is not reachable (${(e as Error).message}); devices and carriers report over HTTP`);
        return undefined;
      });
    return this.mqttClient;
  }

  /**
   * The connection a vehicle device publishes on: its own, made with a credential Pitwall issues
   * (`POST /v1/devices`), or the shared one. Undefined (noted once): the device reports over HTTP.
   */
  private deviceBroker(device: string): Promise<MqttClient | undefined> {
    if (!this.o.deviceCredentials) return this.broker();
    let c = this.deviceClients.get(device);
    if (!c) {
      c = (async () => {
        if (!(await this.broker())) return undefined;
        const r = await this.request('POST', '/v1/devices', { id: device });
        const cred = r.json as { mqtt_username?: string; mqtt_password?: string } | undefined;
        if (r.status !== 201 || !cred?.mqtt_username || !cred.mqtt_password) {
          this.noteOnce(
            'device credential',
            `POST /v1/devices answered ${r.status} (${r.text.slice(0, 200)}); vehicles without a device credential report over HTTP`,
          );
          return undefined;
        }
        const client = await mqtt.connectAsync(this.o.mqttUrl as string, {
          username: cred.mqtt_username,
          password: cred.mqtt_password,
          clientId: `pitwall-demo-${device}-${process.pid}-${Math.floor(Math.random() * 1e9)}`,
          protocolVersion: 4,
          reconnectPeriod: 1000,
          connectTimeout: 10_000,
        });
        client.on('error', (e) =>
          this.noteOnce('mqtt device error', `MQTT connection error of a vehicle device (${e.message}); reconnecting`),
        );
        return client;
      })().catch((e: unknown) => {
        this.noteOnce('mqtt device', `a vehicle device could not connect to MQTT (${(e as Error).message}); it reports over HTTP`);
        return undefined;
      });
      this.deviceClients.set(device, c);
    }
    return c;
  }

  /** Closes the MQTT connections, if any. */
  async close(): Promise<void> {
    const all = await Promise.all([this.mqttClient, ...this.deviceClients.values()]);
    this.deviceClients.clear();
    await Promise.all(all.map((c) => c?.endAsync().catch(() => undefined)));
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: unknown; text: string }> {
    const res = await this.fetchFn(`${this.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.o.key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.o.history ? { 'pitwall-history': 'true' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  }

  /** The server's clock (GET /v1/clock). */
  async clock(): Promise<ClockInfo> {
    const r = await this.request('GET', '/v1/clock');
    if (r.status === 401 || r.status === 403)
      throw new DemoHttpError(r.status, 'GET /v1/clock', 'the key was refused (it needs the read scope)');
    if (r.status !== 200) throw new DemoHttpError(r.status, 'GET /v1/clock', r.text);
    const j = r.json as { now_ms?: number; speed?: number };
    return { nowMs: Number(j.now_ms), speed: Number(j.speed ?? 1) };
  }

  /** A reference-data import (PUT /v1/catalog, /v1/warehouses, …); throws on a refused import. */
  async importReference(path: string, body: unknown): Promise<void> {
    const r = await this.request('PUT', path, body);
    if (r.status !== 200) throw new DemoHttpError(r.status, `PUT ${path}`, r.text);
  }

  /** Sends one tick's emissions: Segment calls in batches, CloudEvents in batches, one SenML pack per request. */
  async send(emissions: readonly Emission[]): Promise<void> {
    const segment: Record<string, unknown>[] = [];
    const events: Record<string, unknown>[] = [];
    const packs: { device: string; pack: Record<string, unknown>[] }[] = [];
    const broker = await this.broker();
    const byShipment = new Map<string, Record<string, unknown>[]>();
    const telemetry: { e: Telemetry; via: MqttClient }[] = [];
    const devices = broker ? [...new Set(emissions.flatMap((e) => (e.kind === 'telemetry' ? [e.device] : [])))] : [];
    const vias = new Map(await Promise.all(devices.map(async (d) => [d, await this.deviceBroker(d)] as const)));
    for (const e of emissions) {
      if (e.kind === 'segment') segment.push(e.message);
      else if (e.kind === 'telemetry') {
        const via = vias.get(e.device);
        if (via) telemetry.push({ e, via });
        else for (const ev of vehicleSignals(e)) events.push(this.o.history ? { ...ev, pitwallhistory: true } : ev);
      } else if (e.kind === 'cloudevent') {
        const type = String(e.event.type);
        const data = e.event.data as Record<string, unknown>;
        if (broker && type.startsWith('shipment.') && typeof data.shipment_id === 'string') {
          const list = byShipment.get(data.shipment_id) ?? [];
          list.push({ event: type.slice('shipment.'.length), time: e.event.time, id: e.event.id, ...data });
          byShipment.set(data.shipment_id, list);
        } else events.push(this.o.history ? { ...e.event, pitwallhistory: true } : e.event);
      } else packs.push(e);
    }
    if (broker) {
      // QoS 1: the embedded broker acknowledges after Pitwall's commit, so a publish that resolves is stored.
      const publish = async (topic: string, payload: unknown, n: number, via = broker) => {
        try {
          await via.publishAsync(topic, JSON.stringify(payload), { qos: 1 });
          this.counts.events += n;
        } catch (e) {
          this.counts.rejected += n;
          this.noteOnce('mqtt publish', `an MQTT publish to ${topic} failed (${(e as Error).message}); the demo goes on`);
        }
      };
      const sends: Promise<void>[] = [];
      for (const [id, list] of byShipment) sends.push(publish(`pitwall/shipments/${id}`, list, list.length));
      for (const p of packs.splice(0)) sends.push(publish(`pitwall/devices/${p.device}/senml`, p.pack, p.pack.length));
      // One device's reports in order, the devices side by side.
      const byDevice = new Map<string, { e: Telemetry; via: MqttClient }[]>();
      for (const t of telemetry) byDevice.set(t.e.device, [...(byDevice.get(t.e.device) ?? []), t]);
      for (const [device, list] of byDevice)
        sends.push(
          (async () => {
            for (const { e, via } of list)
              await publish(
                `pitwall/devices/${device}/telemetry`,
                { vin: e.vin, ts: e.at, signals: Object.fromEntries(e.signals.map((x) => [x.name, x.value])) },
                e.signals.length,
                via,
              );
          })(),
        );
      await Promise.all(sends);
    }
    // Each kind in order (a shipment's created before its statuses), the kinds and devices side by side.
    const shopper = async () => {
      for (let i = 0; i < segment.length; i += 400)
        await this.ingest('POST', '/v1/batch', { batch: segment.slice(i, i + 400) }, Math.min(400, segment.length - i));
    };
    const carriers = async () => {
      for (let i = 0; i < events.length; i += 500)
        await this.ingest('POST', '/v1/events', events.slice(i, i + 500), Math.min(500, events.length - i), {
          'content-type': 'application/cloudevents-batch+json',
        });
    };
    const sensors = packs.map((p) =>
      this.ingest('POST', `/v1/senml?device=${encodeURIComponent(p.device)}`, p.pack, p.pack.length, {
        'content-type': 'application/senml+json',
      }),
    );
    await Promise.all([shopper(), carriers(), ...sensors]);
  }

  private async ingest(method: string, path: string, body: unknown, n: number, headers: Record<string, string> = {}): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.request(method, path, body, headers);
      if (r.status === 429 && attempt < 20) {
        await new Promise((res) => setTimeout(res, 200 * (attempt + 1)));
        continue;
      }
      if (r.status >= 200 && r.status < 300) {
        const rejected = Number((r.json as { rejected?: number } | undefined)?.rejected ?? 0);
        this.counts.events += n - rejected;
        this.counts.rejected += rejected;
        if (rejected > 0)
          this.noteOnce(
            `rejected ${path}`,
            `some events sent to ${path.split('?')[0]} were rejected (see pitwall quarantine list); the demo goes on`,
          );
        return;
      }
      this.counts.rejected += n;
      this.noteOnce(
        `fail ${path.split('?')[0]}`,
        `${method} ${path.split('?')[0]} answered ${r.status}: ${r.text.slice(0, 200)}; the demo goes on`,
      );
      return;
    }
  }

  /** The storefront as shoppers see it: the decision API and survey responses, degrading to "nothing to show". */
  storefront(beforeCall: () => Promise<void>): Storefront {
    const decide = async <T>(path: string, body: Record<string, unknown>, flush: boolean): Promise<T | null> => {
      if (this.noted.has(`missing ${path}`)) return null;
      if (flush) await beforeCall();
      try {
        const r = await this.request('POST', path, body);
        if (r.status === 200) {
          this.counts.decisions++;
          return r.json as T;
        }
        if (r.status === 404 || r.status === 405) {
          this.noteOnce(
            `missing ${path}`,
            `POST ${path} is not available on this Pitwall (${r.status}); shoppers see the shop's static promise and no offers`,
          );
          this.counts.degraded++;
        } else this.noteOnce(`fail ${path}`, `POST ${path} answered ${r.status}: ${r.text.slice(0, 200)}`);
      } catch (e) {
        this.noteOnce(`fail ${path}`, `POST ${path} failed: ${(e as Error).message}`);
      }
      return null;
    };
    return {
      // A product answer does not depend on the page view just sent; a checkout answer needs the cart.
      decideProduct: (req) => decide<ProductDecision>('/v1/decide/product', req, false),
      decideCheckout: (req) => decide<CheckoutDecision>('/v1/decide/checkout', req, true),
      answerSurvey: async (surveyId, body) => {
        await beforeCall();
        try {
          const r = await this.request('POST', `/v1/surveys/${encodeURIComponent(surveyId)}/responses`, body);
          if (r.status === 201 || r.status === 200) this.counts.surveyAnswers++;
          else this.noteOnce(`survey ${r.status}`, `a survey answer was refused (${r.status}): ${r.text.slice(0, 200)}`);
        } catch (e) {
          this.noteOnce('survey fail', `a survey answer failed: ${(e as Error).message}`);
        }
      },
    };
  }

  noteOnce(key: string, message: string): void {
    if (this.noted.has(key)) return;
    this.noted.add(key);
    this.o.note?.(message);
  }
}

/** A vehicle report as `vehicle.signal` CloudEvents (the HTTP path): one per signal, with its unit. */
function vehicleSignals(e: Telemetry): Record<string, unknown>[] {
  return e.signals.map((x, i) => ({
    specversion: '1.0',
    id: `${e.id}-${i}`,
    source: `urn:pitwall-demo:device/${e.device}`,
    type: 'vehicle.signal',
    time: new Date(e.at).toISOString(),
    deviceid: e.device,
    data: { signal: x.name, value: x.value, unit: x.unit, vin: e.vin, device_id: e.device },
  }));
}
