/**
 * MQTT intake. Embedded default: an aedes broker that checks device credentials and
 * commits each `pitwall/…` publish *before* the broker sends PUBACK (aedes calls
 * `authorizePublish` before acknowledging QoS 1). Scale-out: a subscription to an
 * external broker with a persistent session and shared subscriptions; there the device's
 * PUBACK comes from the broker, and Pitwall acks the broker only after its commit.
 *
 * Topics:
 * - `pitwall/devices/{deviceId}/senml`     SenML pack → sensor.reading
 * - `pitwall/devices/{deviceId}/telemetry` VSS signals → vehicle.signal
 * - `pitwall/shipments/{shipmentId}`       shipment event → shipment.*
 */
import { createServer, type Server } from 'node:net';
import { Aedes, type Client } from 'aedes';
import type { Logger } from 'pino';
import type { Config } from '../config/index.ts';
import type { Clock } from '../core/index.ts';
import { AppError } from '../core/index.ts';
import { checkDevicePassword, KeyAuthenticator } from '../govern/index.ts';
import { choosePort, redactUrl } from '../ops/index.ts';
import type { Store } from '../store/index.ts';
import type { IngestItem, Ingestor } from './ingest.ts';
import type { Channel, QuarantineContext } from './quarantine.ts';

export interface MqttInfo {
  mode: 'embedded' | 'external' | 'off';
  url: string | undefined;
  port: number | undefined;
  fellBack: boolean;
}

export interface MqttIngest {
  info: MqttInfo;
  close(): Promise<void>;
}

export interface Route {
  channel: Channel;
  ctx: QuarantineContext;
}

const ID = '[A-Za-z0-9][A-Za-z0-9._:-]{0,127}';
const DEVICE_TOPIC = new RegExp(`^pitwall/devices/(${ID})/(senml|telemetry)$`);
const SHIPMENT_TOPIC = new RegExp(`^pitwall/shipments/(${ID})$`);

/** Which door a topic leads to, or undefined for topics Pitwall does not ingest. */
export function routeTopic(topic: string): Route | undefined {
  const d = DEVICE_TOPIC.exec(topic);
  if (d) return { channel: d[2] === 'senml' ? 'mqtt-senml' : 'mqtt-telemetry', ctx: { deviceId: d[1], topic } };
  const s = SHIPMENT_TOPIC.exec(topic);
  if (s) return { channel: 'mqtt-shipment', ctx: { shipmentId: s[1], topic } };
  return undefined;
}

/** Parses a payload; a malformed one is still ingested (and so quarantined) as a string. */
function parsePayload(payload: Buffer): unknown {
  const text = payload.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return { $malformed: text };
  }
}

/**
 * Ingests publishes; each promise resolves after its commit (accepted, duplicate or
 * quarantined). Publishes that arrive in the same event-loop turn share one pipeline run
 * per door, which keeps per-message overhead small under load.
 */
export class PublishBatcher {
  private readonly queue = new Map<Channel, { item: IngestItem; resolve: () => void; reject: (e: unknown) => void }[]>();
  private scheduled = false;

  constructor(private readonly ingestor: Ingestor) {}

  /** False when the topic is not one Pitwall ingests. `route`: the topic's, when the caller has it already. */
  submit(topic: string, payload: Buffer, extra?: QuarantineContext, route = routeTopic(topic)): Promise<boolean> {
    if (!route) return Promise.resolve(false);
    const item = { raw: parsePayload(payload), ctx: extra ? { ...route.ctx, ...extra } : route.ctx };
    return new Promise<boolean>((resolve, reject) => {
      const list = this.queue.get(route.channel) ?? [];
      list.push({ item, resolve: () => resolve(true), reject });
      this.queue.set(route.channel, list);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batches = [...this.queue.entries()];
    this.queue.clear();
    for (const [channel, waiters] of batches) {
      // Only the callbacks wait for the commit; the items are not kept meanwhile.
      const items = waiters.map((w) => w.item);
      const settled = waiters.map(({ resolve, reject }) => ({ resolve, reject }));
      this.ingestor.ingest(channel, items).then(
        () => {
          for (const w of settled) w.resolve();
        },
        (e: unknown) => {
          for (const w of settled) w.reject(e);
        },
      );
    }
  }
}

export interface MqttDeps {
  config: Config;
  ingestor: Ingestor;
  store: Store;
  logger: Logger;
  clock: Clock;
}

export async function startMqtt(d: MqttDeps): Promise<MqttIngest> {
  if (d.config.mqttUrl) return startExternal(d, d.config.mqttUrl);
  if (d.config.mqttPort === 'off')
    return { info: { mode: 'off', url: undefined, port: undefined, fellBack: false }, close: async () => undefined };
  return startEmbedded(d, d.config.mqttPort);
}

async function startEmbedded(d: MqttDeps, wanted: number): Promise<MqttIngest> {
  const keys = new KeyAuthenticator(d.store.db, d.clock);
  /** What each connection authenticated with, re-checked (cached for a second) on every publish. */
  const identities = new WeakMap<Client, { deviceId: string; password: string } | { key: string }>();
  /** Device credential checks, cached briefly: a revoked device is cut off within a second. */
  const deviceOk = new Map<string, { ok: boolean; until: number }>();
  const checkDevice = async (id: string, password: string): Promise<boolean> => {
    const k = `${id}\u0000${password}`;
    const hit = deviceOk.get(k);
    if (hit && hit.until > d.clock.now()) return hit.ok;
    const ok = await checkDevicePassword(d.store.db, id, password);
    if (deviceOk.size > 10_000) deviceOk.clear();
    deviceOk.set(k, { ok, until: d.clock.now() + 1000 });
    return ok;
  };
  const stillValid = async (who: { deviceId: string; password: string } | { key: string }): Promise<boolean> => {
    if ('key' in who) {
      const key = await keys.authenticate(who.key);
      return key !== undefined && (key.scopes.includes('ingest') || key.scopes.includes('admin'));
    }
    return checkDevice(who.deviceId, who.password);
  };
  const batcher = new PublishBatcher(d.ingestor);
  // Before the broker exists: its timers would keep a failed start from exiting.
  const { port, fellBack } = await choosePort(d.config.host, wanted, d.config.mqttPortExplicit, 'PITWALL_MQTT_PORT', 'MQTT');
  const broker = await Aedes.createBroker({
    maxClientsIdLength: 128,
    authenticate: (client, username, password, done) => {
      const pw = password?.toString('utf8') ?? '';
      const fail = () => {
        const err = Object.assign(new Error('bad username or password'), { returnCode: 4 });
        done(err as Parameters<typeof done>[0], false);
      };
      (async () => {
        if (username && (await checkDevice(username, pw))) {
          identities.set(client, { deviceId: username, password: pw });
          return done(null, true);
        }
        const key = await keys.authenticate(pw);
        if (key && (key.scopes.includes('ingest') || key.scopes.includes('admin'))) {
          identities.set(client, { key: pw });
          return done(null, true);
        }
        fail();
      })().catch(fail);
    },
    authorizePublish: (client, packet, done) => {
      const route = routeTopic(packet.topic);
      if (!route) return done(null);
      const who = client ? identities.get(client) : undefined;
      if (!who) return done(new Error('not authenticated'));
      if ('deviceId' in who && route.ctx.deviceId && route.ctx.deviceId !== who.deviceId) {
        return done(new Error(`device ${who.deviceId} may not publish to ${packet.topic}`));
      }
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      stillValid(who)
        .then((valid) => {
          // A revoked key or device is disconnected (no PUBACK) at its next publish.
          if (!valid) throw new Error('credentials revoked');
          return batcher.submit(packet.topic, payload, undefined, route);
        })
        .then(
          () => done(null),
          (e: unknown) => {
            // No PUBACK: the client resends after reconnecting.
            d.logger.warn({ err: e, topic: packet.topic }, 'MQTT publish not committed');
            done(e instanceof Error ? e : new Error(String(e)));
          },
        );
    },
  });
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: d.config.host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (e: unknown) => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw e;
  });
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  const host = d.config.host.includes(':') ? `[${d.config.host}]` : d.config.host;
  return {
    info: { mode: 'embedded', url: `mqtt://${host}:${actual}`, port: actual, fellBack },
    async close() {
      // The broker first: it ends client connections, which server.close() waits for.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await closed;
    },
  };
}

async function startExternal(d: MqttDeps, url: string): Promise<MqttIngest> {
  const mqtt = await import('mqtt');
  const group = d.config.mqttShareGroup;
  const clientId = d.config.mqttClientId;
  const batcher = new PublishBatcher(d.ingestor);
  const client = mqtt.connect(url, { clientId, clean: false, reconnectPeriod: 1000, connectTimeout: 10_000, protocolVersion: 4 });
  // Without a listener an 'error' (broker restart, refused connack) would crash the process;
  // MQTT.js reconnects by itself.
  let startupError: ((e: Error) => void) | undefined;
  client.on('error', (e) => {
    d.logger.warn({ err: e, url: redact(url) }, 'MQTT client error');
    startupError?.(e);
  });
  client.handleMessage = (packet, callback) => {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    batcher.submit(packet.topic, payload).then(
      () => callback(),
      (e: unknown) => {
        // Without the callback MQTT.js sends no PUBACK; the broker redelivers on reconnect.
        d.logger.warn({ err: e, topic: packet.topic }, 'MQTT message not committed; reconnecting for redelivery');
        client.end(true, () => client.reconnect());
      },
    );
  };
  const topics = ['pitwall/devices/+/senml', 'pitwall/devices/+/telemetry', 'pitwall/shipments/+'].map((t) => `$share/${group}/${t}`);
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new AppError('PW_MQTT_UNREACHABLE', `cannot connect to the MQTT broker at ${redact(url)}`, { category: 'operational' })),
      10_000,
    );
    startupError = (e) => {
      clearTimeout(t);
      reject(
        new AppError('PW_MQTT_UNREACHABLE', `cannot connect to the MQTT broker at ${redact(url)}: ${e.message}`, {
          category: 'operational',
          cause: e,
        }),
      );
    };
    client.once('connect', (connack) => {
      const subscribe = () =>
        client.subscribe(topics, { qos: 1 }, (err) => {
          clearTimeout(t);
          startupError = undefined;
          if (err) reject(err);
          else resolve();
        });
      // A resumed session keeps its subscriptions; subscribing again is harmless.
      void connack;
      subscribe();
    });
  });
  d.logger.info({ url: redact(url), clientId, topics }, 'subscribed to external MQTT broker');
  return {
    info: { mode: 'external', url: redact(url), port: undefined, fellBack: false },
    async close() {
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    },
  };
}

function redact(url: string): string {
  return redactUrl(url);
}
