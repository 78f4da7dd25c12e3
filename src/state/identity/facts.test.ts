import { describe, expect, it } from 'vitest';
import { isAppError } from '../../core/index.ts';
import type { CloudEvent } from '../../events/index.ts';
import { DEFAULT_IDENTITY_SETTINGS, emailHash, extractFacts, isIdentityEvent, parseIdentifier, parseIdentitySettings } from './index.ts';

const at = '2026-03-02T10:00:00.000Z';
const event = (type: string, data: unknown, ext: Partial<CloudEvent> = {}): CloudEvent => ({
  specversion: '1.0',
  id: 'e1',
  source: 'shop',
  type,
  time: at,
  data,
  ...ext,
});

describe('identifiers', () => {
  it('hashes the trimmed, lower-cased email address with SHA-256', () => {
    expect(emailHash('  Mara.Keller@Example.COM ')).toBe(emailHash('mara.keller@example.com'));
    expect(emailHash('mara.keller@example.com')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('parses each identifier kind, and anything else as a user or anonymous id', () => {
    expect(parseIdentifier('cus_1042')).toEqual({ kind: 'id', value: 'cus_1042' });
    expect(parseIdentifier('auth0|abc:def')).toEqual({ kind: 'id', value: 'auth0|abc:def' });
    expect(parseIdentifier('id:order:7')).toEqual({ kind: 'id', value: 'order:7' });
    expect(parseIdentifier('email:A@B.de')).toEqual({ kind: 'email', value: emailHash('a@b.de') });
    expect(parseIdentifier(`email_sha256:${emailHash('a@b.de').toUpperCase()}`)).toEqual({ kind: 'email', value: emailHash('a@b.de') });
    expect(parseIdentifier('vin:wvwzzzauzhw123456')).toEqual({ kind: 'vin', value: 'WVWZZZAUZHW123456' });
    expect(parseIdentifier('device:dev-1')).toEqual({ kind: 'device', value: 'dev-1' });
    expect(parseIdentifier('serial:S-1')).toEqual({ kind: 'serial', value: 'S-1' });
    expect(parseIdentifier('order:o-1')).toEqual({ kind: 'order', value: 'o-1' });
    for (const bad of ['', 'vin:WVWZZZAUZHW12345O', 'email: ', 'email_sha256:abc', 'device:', 'id:'])
      expect(parseIdentifier(bad)).toBeUndefined();
  });
});

describe('facts of one event', () => {
  it('identify: merges both ids, hashes the email, keeps other traits, links garage VINs', () => {
    const f = extractFacts(
      event(
        'customer.identified',
        { traits: { email: 'M@X.de', firstName: 'Mara', garage_vin: ['WVWZZZAUZHW123456', 'nope'] } },
        { userid: 'u1', anonymousid: 'a1' },
      ),
      DEFAULT_IDENTITY_SETTINGS,
    );
    expect(f.ids).toEqual([
      { id: 'u1', user: true },
      { id: 'a1', user: false },
    ]);
    expect(f.merges).toEqual([['u1', 'a1']]);
    expect(f.subject).toBe('u1');
    expect(f.traits).toEqual([
      ['firstName', 'Mara'],
      ['garage_vin', ['WVWZZZAUZHW123456', 'nope']],
    ]);
    expect(f.links).toEqual([
      { kind: 'email', value: emailHash('m@x.de'), detail: {} },
      { kind: 'vin', value: 'WVWZZZAUZHW123456', detail: { via: 'trait', trait: 'garage_vin' } },
    ]);
  });

  it('alias: merges previousId into the envelope user id', () => {
    const f = extractFacts(event('customer.aliased', { previousId: 'old' }, { userid: 'new' }), DEFAULT_IDENTITY_SETTINGS);
    expect(f.merges).toEqual([['new', 'old']]);
    expect(f.ids).toContainEqual({ id: 'old', user: false });
  });

  it('device.registered: the registration names the customer; device, VIN and serial are linked', () => {
    const f = extractFacts(
      event('device.registered', { device_id: 'd1', customer_id: 'c1', vin: 'WVWZZZAUZHW123456', part_sku: 'BAT', part_serial: 'S1' }),
      DEFAULT_IDENTITY_SETTINGS,
    );
    expect(f.subject).toBe('c1');
    expect(f.ids).toEqual([{ id: 'c1', user: true }]);
    expect(f.links.map((l) => `${l.kind}:${l.value}`)).toEqual(['device:d1', 'vin:WVWZZZAUZHW123456', 'serial:S1']);
    expect(isIdentityEvent(event('device.registered', { device_id: 'd1' }))).toBe(true);
    expect(extractFacts(event('device.registered', { device_id: 'd1' }), DEFAULT_IDENTITY_SETTINGS).links).toEqual([]);
  });

  it('consent: context preferences and explicit purposes, lower-cased; the explicit one wins within an event', () => {
    const f = extractFacts(
      event(
        'customer.consent_updated',
        {
          purposes: { Advertising: true, email: 'yes' },
          context: { consent: { categoryPreferences: { advertising: false, Analytics: true } } },
        },
        { anonymousid: 'a1' },
      ),
      DEFAULT_IDENTITY_SETTINGS,
    );
    expect(Object.fromEntries(f.consent)).toEqual({ advertising: true, analytics: true });
  });

  it('ignores events that name no customer', () => {
    expect(isIdentityEvent(event('sensor.reading', { n: 'x', v: 1 }))).toBe(false);
    expect(isIdentityEvent(event('commerce.product_viewed', {}, { userid: '' }))).toBe(false);
  });
});

describe('detectors.identity settings', () => {
  it('defaults, and accepts a list of VIN trait names', () => {
    expect(parseIdentitySettings(undefined)).toEqual({ vinTraits: ['vin', 'garage_vin'] });
    expect(parseIdentitySettings({ vin_traits: ['my_car'] })).toEqual({ vinTraits: ['my_car'] });
  });

  it.each([
    [[], 'detectors.identity: must be an object'],
    [{ vin_trait: ['x'] }, 'detectors.identity.vin_trait: unknown setting'],
    [{ vin_traits: 'vin' }, 'detectors.identity.vin_traits: must be a list'],
    [{ vin_traits: ['email'] }, 'detectors.identity.vin_traits: must be a list'],
  ])('rejects %j with PW_CONFIG_INVALID', (raw, message) => {
    try {
      parseIdentitySettings(raw);
      expect.unreachable();
    } catch (e) {
      expect(isAppError(e) && e.code).toBe('PW_CONFIG_INVALID');
      expect((e as Error).message).toContain(message);
    }
  });
});
