import { describe, expect, it } from 'vitest';
import { capRule, DEFAULT_POLICY_SETTINGS, parseDuration, parsePolicySettings } from './index.ts';

const D = 24 * 3_600_000;

function problem(raw: unknown): string {
  try {
    parsePolicySettings(raw);
  } catch (e) {
    expect((e as { code?: string }).code).toBe('PW_CONFIG_INVALID');
    return (e as Error).message;
  }
  throw new Error('expected PW_CONFIG_INVALID');
}

describe('automation.policy settings', () => {
  it('has documented defaults when the section is absent', () => {
    const s = parsePolicySettings(undefined);
    expect(s).toEqual(DEFAULT_POLICY_SETTINGS);
    expect(s.defaultTimezone).toBe('UTC');
    expect(s.quietHours).toEqual({ startMinute: 21 * 60, endMinute: 8 * 60, channels: ['email', 'webhook', 'reminder'] });
    expect(s.caps.all).toEqual([{ limit: 5, periodMs: 7 * D, text: '5 per 7d' }]);
    expect(s.caps.email).toEqual([{ limit: 2, periodMs: 7 * D, text: '2 per 7d' }]);
    expect(s.caps.survey).toEqual([{ limit: 1, periodMs: D, text: '1 per 1d' }]);
    expect(s.consentDefaults).toEqual({ transactional: true, service: true, marketing: false });
    expect(s.exemptPurposes).toEqual(['transactional']);
    // The defaults are a copy: changing one parse does not change the next.
    s.exemptPurposes.push('x');
    expect(parsePolicySettings(null).exemptPurposes).toEqual(['transactional']);
  });

  it('merges caps over the defaults: lists, off to remove one, and every unit', () => {
    const s = parsePolicySettings({
      timezone: 'Europe/Berlin',
      quiet_hours: { start: '22:30', end: '07:00', channels: ['email'] },
      caps: { survey: ['1 per 1d', '3 per 30d'], email: 'off', onsite: '10 per 12h', webhook: '1 per 1w' },
      consent_defaults: { Surveys: true, marketing: false },
      exempt_purposes: ['Transactional', 'security'],
    });
    expect(s.defaultTimezone).toBe('Europe/Berlin');
    expect(s.quietHours).toEqual({ startMinute: 22 * 60 + 30, endMinute: 7 * 60, channels: ['email'] });
    expect(s.caps.email).toBeUndefined();
    expect(s.caps.all?.[0]?.text).toBe('5 per 7d');
    expect(s.caps.survey?.map((r) => r.periodMs)).toEqual([D, 30 * D]);
    expect(s.caps.onsite?.[0]?.periodMs).toBe(12 * 3_600_000);
    expect(s.caps.webhook?.[0]?.periodMs).toBe(7 * D);
    expect(s.consentDefaults).toEqual({ transactional: true, service: true, marketing: false, surveys: true });
    expect(s.exemptPurposes).toEqual(['transactional', 'security']);
    expect(parsePolicySettings({ quiet_hours: 'off' }).quietHours).toBeUndefined();
    expect(parsePolicySettings({ quiet_hours: { end: '09:00' } }).quietHours?.startMinute).toBe(21 * 60);
  });

  it('parses durations and caps, refusing what is out of range', () => {
    expect(parseDuration('30m')).toBe(30 * 60_000);
    expect(parseDuration('2h')).toBe(2 * 3_600_000);
    expect(parseDuration('7d')).toBe(7 * D);
    expect(parseDuration('7 days')).toBeUndefined();
    expect(parseDuration('0d')).toBeUndefined();
    expect(capRule('2 per 7d')).toEqual({ limit: 2, periodMs: 7 * D, text: '2 per 7d' });
    expect(capRule('0 per 7d')).toBeUndefined();
    expect(capRule('2 per 30s')).toBeUndefined();
    expect(capRule('2 per 400d')).toBeUndefined();
    expect(capRule('2/7d')).toBeUndefined();
  });

  it('names the bad field', () => {
    expect(problem('yes')).toContain('automation.policy: expected an object');
    expect(problem({ quiet: {} })).toContain('automation.policy.quiet: unknown setting');
    expect(problem({ timezone: 'Europe/Atlantis' })).toContain('automation.policy.timezone: must be an IANA time zone');
    expect(problem({ quiet_hours: { start: '25:00' } })).toContain('automation.policy.quiet_hours.start');
    expect(problem({ quiet_hours: { start: '08:00', end: '08:00' } })).toContain('start and end must differ');
    expect(problem({ quiet_hours: { channels: ['email', 'ops'] } })).toContain('automation.policy.quiet_hours.channels[1]');
    expect(problem({ quiet_hours: { start: '21:00', stop: '08:00' } })).toContain('automation.policy.quiet_hours.stop: unknown');
    expect(problem({ caps: { ops: '1 per 1d' } })).toContain('automation.policy.caps.ops: unknown channel');
    expect(problem({ caps: { email: '2 a week' } })).toContain('automation.policy.caps.email: must be "<n> per <period>"');
    expect(problem({ caps: { survey: ['1 per 1d', 3] } })).toContain('automation.policy.caps.survey[1]');
    expect(problem({ caps: { survey: [] } })).toContain('automation.policy.caps.survey: must name at least one cap');
    expect(problem({ consent_defaults: { marketing: 'yes' } })).toContain('automation.policy.consent_defaults.marketing');
    expect(problem({ exempt_purposes: 'transactional' })).toContain('automation.policy.exempt_purposes: must be a list');
    expect(problem({ exempt_purposes: ['ok', 'not ok'] })).toContain('automation.policy.exempt_purposes[1]');
  });
});
