/**
 * Configuration: environment variables over an optional file (JSON or YAML), validated
 * at start with one clear message per bad value.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AppError } from '../core/index.ts';

export interface Config {
  host: string;
  httpPort: number;
  /** True when the port was set by the user (then a busy port is an error, not a fallback). */
  httpPortExplicit: boolean;
  /** Embedded MQTT broker port; `off` disables it; 0 picks a free port. */
  mqttPort: number | 'off';
  mqttPortExplicit: boolean;
  /** Subscribe to this external broker instead of running the embedded one. */
  mqttUrl: string | undefined;
  mqttClientId: string;
  mqttShareGroup: string;
  dataDir: string;
  /** A postgres:// URL switches the store to PostgreSQL. */
  databaseUrl: string | undefined;
  /** PostgreSQL schema to use (created when missing); undefined = the connection's search_path. */
  databaseSchema: string | undefined;
  clockSpeed: number;
  logLevel: string;
  dedupeRetentionDays: number;
  /** Events waiting for commit above which ingestion answers 429. */
  maxPendingEvents: number;
  /** Run the Decide stage (state consumer + timer runner) in this process. */
  decide: boolean;
  /**
   * Run Decide, Act and Learn on a worker thread of their own (default), not on the thread that
   * serves HTTP and MQTT (ADR 0022). A server started with an injected clock (tests) runs them inline.
   */
  decideThread: boolean;
  /**
   * Serve the demo shop at /demo/shop (on with `pitwall start --demo`). Off by default: its pages
   * carry an ingest write key for the shop's analytics, so anyone who can open them can send events.
   */
  demoShop: boolean;
  /**
   * Whose `X-Forwarded-For` to believe for the client address (`req.ip`, which rate limits use):
   * `false` (default: the socket's address), `true` (any — only behind a proxy that overwrites
   * it), a hop count, or a comma list of proxy addresses / CIDRs (Fastify's `trustProxy`).
   */
  trustProxy: boolean | number | string;
  /** The URL shoppers and browsers use to reach Pitwall (behind a proxy); the demo shop binds its keys to its origin. */
  publicUrl: string | undefined;
  /** A cart idle this long without an order is `cart.abandoned`. */
  cartAbandonMinutes: number;
  /**
   * Detector settings from the file's `detectors:` section, one object per Decide module
   * (`carts`, `shipments`, `assets`, `quality`, …); each module validates its own section at
   * start (see docs/decide.md). File only: no environment variable.
   */
  detectors: Record<string, unknown>;
  /** The file's `automation:` section (`policy:` for the contact policy); validated by src/automate at start. */
  automation: Record<string, unknown>;
  /** The file's `storefront:` section (rate limits, caches); validated by src/storefront at start. */
  storefront: Record<string, unknown>;
  /** Where file-backed workflows live (`*.yaml`, recursive). */
  workflowsDir: string;
  /** Act settings as given; src/act's `parseActSettings` validates them at start. */
  webhookAllow: string | undefined;
  smtpUrl: string | undefined;
  mailFrom: string | undefined;
  configFile: string | undefined;
}

/** The keys accepted in the file, each with the environment variable that overrides it. */
const KEYS = {
  host: 'PITWALL_HOST',
  httpPort: 'PITWALL_HTTP_PORT',
  mqttPort: 'PITWALL_MQTT_PORT',
  mqttUrl: 'PITWALL_MQTT_URL',
  mqttClientId: 'PITWALL_MQTT_CLIENT_ID',
  mqttShareGroup: 'PITWALL_MQTT_SHARE_GROUP',
  dataDir: 'PITWALL_DATA_DIR',
  databaseUrl: 'PITWALL_DATABASE_URL',
  databaseSchema: 'PITWALL_DATABASE_SCHEMA',
  clockSpeed: 'PITWALL_CLOCK_SPEED',
  logLevel: 'PITWALL_LOG_LEVEL',
  dedupeRetentionDays: 'PITWALL_DEDUPE_RETENTION_DAYS',
  maxPendingEvents: 'PITWALL_MAX_PENDING_EVENTS',
  cartAbandonMinutes: 'PITWALL_CART_ABANDON_MINUTES',
  decide: 'PITWALL_DECIDE',
  decideThread: 'PITWALL_DECIDE_THREAD',
  demoShop: 'PITWALL_DEMO_SHOP',
  trustProxy: 'PITWALL_TRUST_PROXY',
  publicUrl: 'PITWALL_PUBLIC_URL',
  workflowsDir: 'PITWALL_WORKFLOWS_DIR',
  webhookAllow: 'PITWALL_WEBHOOK_ALLOW',
  smtpUrl: 'PITWALL_SMTP_URL',
  mailFrom: 'PITWALL_MAIL_FROM',
} as const;
type Key = keyof typeof KEYS;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function readFile(file: string): Record<string, unknown> {
  const text = readFileSync(file, 'utf8');
  const parsed: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AppError('PW_CONFIG_INVALID', `${file}: expected an object of settings`);
  }
  return parsed as Record<string, unknown>;
}

/** Loads and validates configuration; throws one AppError listing every bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  let fileValues: Record<string, unknown> = {};
  const explicitFile = env.PITWALL_CONFIG;
  const defaultFile = ['pitwall.config.yaml', 'pitwall.config.yml', 'pitwall.config.json']
    .map((f) => path.join(cwd, f))
    .find((f) => existsSync(f));
  const configFile = explicitFile ? path.resolve(cwd, explicitFile) : defaultFile;
  if (configFile) {
    try {
      fileValues = readFile(configFile);
      for (const k of Object.keys(fileValues)) {
        if (!(k in KEYS) && k !== 'detectors' && k !== 'automation' && k !== 'storefront')
          problems.push(`${configFile}: unknown setting "${k}" (known: ${Object.keys(KEYS).join(', ')})`);
      }
    } catch (e) {
      problems.push(`${configFile}: cannot be read: ${(e as Error).message}`);
    }
  }

  const raw = (k: Key): { value: string | undefined; from: string } => {
    const ev = env[KEYS[k]];
    if (ev !== undefined && ev !== '') return { value: ev, from: KEYS[k] };
    const fv = fileValues[k];
    if (fv !== undefined && fv !== null) return { value: String(fv), from: `${configFile}: ${k}` };
    return { value: undefined, from: KEYS[k] };
  };
  const int = (k: Key, def: number, min: number, max: number, allow: string[] = []): number | string => {
    const { value, from } = raw(k);
    if (value === undefined) return def;
    if (allow.includes(value)) return value;
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      problems.push(
        `${from}="${value}" is not valid: expected an integer from ${min} to ${max}${allow.length ? ` or ${allow.map((a) => `"${a}"`).join(', ')}` : ''}`,
      );
      return def;
    }
    return Number(value);
  };
  const str = (k: Key, def: string): string => raw(k).value ?? def;
  const onOff = (k: Key, def: boolean): boolean => {
    const { value, from } = raw(k);
    if (value === undefined) return def;
    if (['on', 'true', '1'].includes(value)) return true;
    if (['off', 'false', '0'].includes(value)) return false;
    problems.push(`${from}="${value}" is not valid: expected on or off`);
    return def;
  };

  const httpPort = int('httpPort', 3000, 0, 65535) as number;
  const mqttPort = int('mqttPort', 1883, 0, 65535, ['off']) as number | 'off';
  const clockRaw = raw('clockSpeed');
  let clockSpeed = 1;
  if (clockRaw.value !== undefined) {
    const n = Number(clockRaw.value);
    if (!Number.isFinite(n) || n <= 0 || n > 100_000)
      problems.push(`${clockRaw.from}="${clockRaw.value}" is not valid: expected a number greater than 0 (1 = real time)`);
    else clockSpeed = n;
  }
  const databaseUrl = raw('databaseUrl').value;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`${raw('databaseUrl').from} must be a postgres:// URL (leave it unset for the embedded SQLite store)`);
  }
  const databaseSchema = raw('databaseSchema').value;
  if (databaseSchema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(databaseSchema)) {
    problems.push(
      `${raw('databaseSchema').from}="${databaseSchema}" may hold only letters, digits and _ (not starting with a digit, at most 63)`,
    );
  }
  const mqttUrl = raw('mqttUrl').value;
  if (mqttUrl !== undefined && !/^(mqtts?|wss?|tcp):\/\//.test(mqttUrl)) {
    problems.push(`${raw('mqttUrl').from}="${mqttUrl}" must be an mqtt://, mqtts://, ws:// or wss:// URL`);
  }
  const logLevel = str('logLevel', 'info');
  if (!LOG_LEVELS.includes(logLevel))
    problems.push(`${raw('logLevel').from}="${logLevel}" is not valid: expected one of ${LOG_LEVELS.join(', ')}`);
  const shareGroup = str('mqttShareGroup', 'pitwall');
  if (!/^[A-Za-z0-9_-]+$/.test(shareGroup))
    problems.push(`${raw('mqttShareGroup').from}="${shareGroup}" may hold only letters, digits, _ and -`);

  let trustProxy: boolean | number | string = false;
  const tp = raw('trustProxy');
  if (tp.value !== undefined) {
    const v = tp.value.trim();
    if (['on', 'true'].includes(v)) trustProxy = true;
    else if (['off', 'false'].includes(v)) trustProxy = false;
    else if (/^\d{1,2}$/.test(v)) trustProxy = Number(v);
    else if (
      v
        .split(',')
        .every((p) => /^[0-9A-Fa-f.:]+(\/\d{1,3})?$/.test(p.trim()) || ['loopback', 'linklocal', 'uniquelocal'].includes(p.trim()))
    )
      trustProxy = v;
    else
      problems.push(
        `${tp.from}="${tp.value}" is not valid: expected off, on, a hop count, or proxy addresses / CIDRs like 10.0.0.0/8,127.0.0.1`,
      );
  }
  const publicUrl = raw('publicUrl').value;
  if (publicUrl !== undefined) {
    let ok = false;
    try {
      const u = new URL(publicUrl);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
    } catch {
      ok = false;
    }
    if (!ok) problems.push(`${raw('publicUrl').from}="${publicUrl}" must be an http(s) URL like https://pitwall.example.com`);
  }

  const detectorsRaw = fileValues.detectors ?? {};
  let detectors: Record<string, unknown> = {};
  if (detectorsRaw === null || typeof detectorsRaw !== 'object' || Array.isArray(detectorsRaw))
    problems.push(`${configFile}: detectors must be an object with one section per module (e.g. detectors: { shipments: { … } })`);
  else detectors = detectorsRaw as Record<string, unknown>;
  const automationRaw = fileValues.automation ?? {};
  let automation: Record<string, unknown> = {};
  if (automationRaw === null || typeof automationRaw !== 'object' || Array.isArray(automationRaw))
    problems.push(`${configFile}: automation must be an object (e.g. automation: { policy: { … } })`);
  else automation = automationRaw as Record<string, unknown>;
  const storefrontRaw = fileValues.storefront ?? {};
  let storefront: Record<string, unknown> = {};
  if (storefrontRaw === null || typeof storefrontRaw !== 'object' || Array.isArray(storefrontRaw))
    problems.push(`${configFile}: storefront must be an object (e.g. storefront: { rate_limits: { … } })`);
  else storefront = storefrontRaw as Record<string, unknown>;

  if (problems.length > 0) {
    throw new AppError('PW_CONFIG_INVALID', `Invalid configuration:\n  - ${problems.join('\n  - ')}`, {
      category: 'user',
      extra: { problems },
    });
  }
  return {
    host: str('host', '127.0.0.1'),
    httpPort,
    httpPortExplicit: raw('httpPort').value !== undefined,
    mqttPort,
    mqttPortExplicit: raw('mqttPort').value !== undefined,
    mqttUrl,
    mqttClientId: str('mqttClientId', `pitwall-${hostname()}`),
    mqttShareGroup: shareGroup,
    dataDir: path.resolve(cwd, str('dataDir', './data')),
    databaseUrl,
    databaseSchema,
    clockSpeed,
    logLevel,
    dedupeRetentionDays: int('dedupeRetentionDays', 7, 1, 3650) as number,
    maxPendingEvents: int('maxPendingEvents', 50_000, 100, 10_000_000) as number,
    cartAbandonMinutes: int('cartAbandonMinutes', 30, 1, 100_000) as number,
    decide: onOff('decide', true),
    decideThread: onOff('decideThread', true),
    demoShop: onOff('demoShop', false),
    trustProxy,
    publicUrl,
    detectors,
    automation,
    storefront,
    workflowsDir: path.resolve(cwd, str('workflowsDir', './workflows')),
    webhookAllow: raw('webhookAllow').value,
    smtpUrl: raw('smtpUrl').value,
    mailFrom: raw('mailFrom').value,
    configFile,
  };
}
