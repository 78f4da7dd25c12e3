/**
 * The config file's `automation.policy` section, validated with documented defaults
 * (docs/act/policy.md). Every bad value throws `PW_CONFIG_INVALID` naming the field.
 */
import { AppError } from '../../core/index.ts';
import { CUSTOMER_CHANNELS, type CustomerChannel, isCustomerChannel } from './channel.ts';
import { isTimeZone } from './zone.ts';

/** At most `limit` contacts in any rolling window of `periodMs`. */
export interface CapRule {
  limit: number;
  periodMs: number;
  /** As configured, e.g. `2 per 7d` (for reasons and docs). */
  text: string;
}

/** A cap counts one channel's contacts, or `all` of a customer's contacts across channels. */
export type CapScope = CustomerChannel | 'all';

/** A daily quiet period in the customer's local time; `start > end` wraps past midnight. */
export interface QuietHours {
  /** Minutes after local midnight. */
  startMinute: number;
  endMinute: number;
  channels: CustomerChannel[];
}

export interface ContactPolicySettings {
  /** IANA zone for customers without a valid `timezone` trait. */
  defaultTimezone: string;
  quietHours: QuietHours | undefined;
  caps: Partial<Record<CapScope, CapRule[]>>;
  /** Purpose → allowed when the customer never stated consent for it; unlisted purposes need consent. */
  consentDefaults: Record<string, boolean>;
  /** Purposes that caps and quiet hours neither hold nor count (suppression and consent still apply). */
  exemptPurposes: string[];
}

const SEC = 1000;
const MIN = 60 * SEC;
const DAY = 24 * 60 * MIN;
const UNITS: Record<string, number> = { s: SEC, m: MIN, h: 60 * MIN, d: DAY, w: 7 * DAY };

const DEFAULT_CAPS = { all: '5 per 7d', email: '2 per 7d', survey: '1 per 1d' } as const;

/** The settings when `automation.policy` is absent. */
export const DEFAULT_POLICY_SETTINGS: ContactPolicySettings = {
  defaultTimezone: 'UTC',
  quietHours: { startMinute: 21 * 60, endMinute: 8 * 60, channels: ['email', 'webhook', 'reminder'] },
  caps: Object.fromEntries(Object.entries(DEFAULT_CAPS).map(([k, v]) => [k, [capRule(v) as CapRule]])),
  consentDefaults: { transactional: true, service: true, marketing: false },
  exemptPurposes: ['transactional'],
};

/** The consent purposes these settings know (what a workflow step's `purpose:` may name). */
export function policyPurposes(settings: ContactPolicySettings): string[] {
  return [
    ...new Set(['marketing', 'service', 'transactional', ...Object.keys(settings.consentDefaults), ...settings.exemptPurposes]),
  ].sort();
}

const KEYS = ['timezone', 'quiet_hours', 'caps', 'consent_defaults', 'exempt_purposes'] as const;

function fail(field: string, what: string): never {
  throw new AppError('PW_CONFIG_INVALID', `automation.policy${field === '' ? '' : `.${field}`}: ${what}`, { category: 'user' });
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const isOff = (v: unknown) => v === null || v === false || v === 'off';

/** `30m`, `2h`, `7d`, `1w`, `45s` → milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([smhdw])\s*$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]) * (UNITS[m[2] as string] as number);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

/** `2 per 7d` → a cap rule; undefined when malformed or out of range (1–10000 per 1m–366d). */
export function capRule(text: string): CapRule | undefined {
  const m = /^\s*(\d+)\s+per\s+(\S+)\s*$/.exec(text);
  if (!m) return undefined;
  const limit = Number(m[1]);
  const periodMs = parseDuration(m[2] as string);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) return undefined;
  if (periodMs === undefined || periodMs < MIN || periodMs > 366 * DAY) return undefined;
  return { limit, periodMs, text: `${limit} per ${(m[2] as string).trim()}` };
}

function clock(v: unknown, field: string): number {
  const m = typeof v === 'string' ? /^(\d{2}):(\d{2})$/.exec(v) : null;
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) fail(field, 'must be a local time "HH:MM" (00:00–23:59)');
  return Number(m[1]) * 60 + Number(m[2]);
}

function channelList(v: unknown, field: string): CustomerChannel[] {
  if (!Array.isArray(v)) fail(field, `must be a list of channels (${CUSTOMER_CHANNELS.join(', ')})`);
  return v.map((c, i) => {
    if (typeof c !== 'string' || !isCustomerChannel(c))
      fail(`${field}[${i}]`, `must be a channel that reaches a customer (${CUSTOMER_CHANNELS.join(', ')})`);
    return c;
  });
}

function quietHours(v: unknown): QuietHours | undefined {
  if (isOff(v)) return undefined;
  if (!isObj(v)) fail('quiet_hours', 'must be { start: "21:00", end: "08:00", channels: [email, …] } or off');
  for (const k of Object.keys(v))
    if (!['start', 'end', 'channels'].includes(k)) fail(`quiet_hours.${k}`, 'unknown setting (known: start, end, channels)');
  const d = DEFAULT_POLICY_SETTINGS.quietHours as QuietHours;
  const q: QuietHours = {
    startMinute: v.start === undefined ? d.startMinute : clock(v.start, 'quiet_hours.start'),
    endMinute: v.end === undefined ? d.endMinute : clock(v.end, 'quiet_hours.end'),
    channels: v.channels === undefined ? [...d.channels] : channelList(v.channels, 'quiet_hours.channels'),
  };
  if (q.startMinute === q.endMinute) fail('quiet_hours', 'start and end must differ (use quiet_hours: off for none)');
  return q;
}

function caps(v: unknown): Partial<Record<CapScope, CapRule[]>> {
  const out: Partial<Record<CapScope, CapRule[]>> = { ...DEFAULT_POLICY_SETTINGS.caps };
  if (v === undefined) return out;
  if (!isObj(v)) fail('caps', 'must map a channel or `all` to a cap like "2 per 7d", a list of them, or off');
  for (const [scope, rules] of Object.entries(v)) {
    if (scope !== 'all' && !isCustomerChannel(scope))
      fail(`caps.${scope}`, `unknown channel (known: all, ${CUSTOMER_CHANNELS.join(', ')}; ops and internal never reach a customer)`);
    if (isOff(rules)) {
      delete out[scope];
      continue;
    }
    const list = Array.isArray(rules) ? rules : [rules];
    if (list.length === 0) fail(`caps.${scope}`, 'must name at least one cap (or be off)');
    out[scope] = list.map((r, i) => {
      const rule = typeof r === 'string' ? capRule(r) : undefined;
      if (!rule)
        fail(
          Array.isArray(rules) ? `caps.${scope}[${i}]` : `caps.${scope}`,
          'must be "<n> per <period>" with n from 1 to 10000 and a period from 1m to 366d (units s, m, h, d, w), e.g. "2 per 7d"',
        );
      return rule;
    });
  }
  return out;
}

function purposeName(v: unknown, field: string): string {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(v.trim()))
    fail(field, 'must be a purpose name (letters, digits, _ . : -; at most 64)');
  return v.trim().toLowerCase();
}

/** Validates `automation.policy` (undefined or null: all defaults). */
export function parsePolicySettings(raw: unknown): ContactPolicySettings {
  if (raw === undefined || raw === null) return structuredClone(DEFAULT_POLICY_SETTINGS);
  if (!isObj(raw)) fail('', 'expected an object of settings');
  for (const k of Object.keys(raw)) if (!(KEYS as readonly string[]).includes(k)) fail(k, `unknown setting (known: ${KEYS.join(', ')})`);
  let defaultTimezone = DEFAULT_POLICY_SETTINGS.defaultTimezone;
  if (raw.timezone !== undefined) {
    if (typeof raw.timezone !== 'string' || !isTimeZone(raw.timezone))
      fail('timezone', 'must be an IANA time zone such as Europe/Berlin or UTC');
    defaultTimezone = raw.timezone;
  }
  const consentDefaults = { ...DEFAULT_POLICY_SETTINGS.consentDefaults };
  if (raw.consent_defaults !== undefined) {
    if (!isObj(raw.consent_defaults))
      fail('consent_defaults', 'must map a purpose to true (allowed unless refused) or false (needs consent)');
    for (const [p, v] of Object.entries(raw.consent_defaults)) {
      if (typeof v !== 'boolean') fail(`consent_defaults.${p}`, 'must be true (allowed unless refused) or false (needs consent)');
      consentDefaults[purposeName(p, `consent_defaults.${p}`)] = v;
    }
  }
  let exemptPurposes = [...DEFAULT_POLICY_SETTINGS.exemptPurposes];
  if (raw.exempt_purposes !== undefined) {
    if (!Array.isArray(raw.exempt_purposes)) fail('exempt_purposes', 'must be a list of purposes, e.g. [transactional]');
    exemptPurposes = raw.exempt_purposes.map((p, i) => purposeName(p, `exempt_purposes[${i}]`));
  }
  return {
    defaultTimezone,
    quietHours: raw.quiet_hours === undefined ? structuredClone(DEFAULT_POLICY_SETTINGS.quietHours) : quietHours(raw.quiet_hours),
    caps: caps(raw.caps),
    consentDefaults,
    exemptPurposes,
  };
}
