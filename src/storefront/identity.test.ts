/**
 * Identity verification: the user hash (a known HMAC vector), the constant-time comparison, and
 * each store's identity secret on SQLite and PostgreSQL — made once and shared by every process,
 * rotated with and without a grace period.
 */
import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { FakeClock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { hashMatches, IdentitySecrets, userHash } from './identity.ts';

// Spy on the comparison the check uses, keeping its behaviour.
const compare = vi.hoisted(() => ({ calls: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return {
    ...real,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      compare.calls++;
      return real.timingSafeEqual(a, b);
    },
  };
});

const T0 = Date.parse('2026-11-20T09:00:00Z');
const H = 3_600_000;

it('computes hex(HMAC-SHA256(secret, userId)) as a shop server would', () => {
  // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
  expect(userHash('Jefe', 'what do ya want for nothing?')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  expect(userHash('s', 'u-1')).toBe(createHmac('sha256', 's').update('u-1').digest('hex'));
});

it('compares hashes in constant time, whatever the input, and accepts upper-case hex', () => {
  const good = userHash('secret', 'u-1');
  const cases: [string, boolean][] = [
    [good, true],
    [good.toUpperCase(), true],
    [`0${good.slice(1)}` === good ? `1${good.slice(1)}` : `0${good.slice(1)}`, false], // first character differs
    [`${good.slice(0, -1)}${good.endsWith('0') ? '1' : '0'}`, false], // last character differs
    [good.slice(0, 32), false], // too short
    [`${good}00`, false], // too long
    ['z'.repeat(64), false], // not hex
    ['', false],
  ];
  for (const [given, want] of cases) {
    const before = compare.calls;
    expect(hashMatches('secret', 'u-1', given), given).toBe(want);
    expect(compare.calls - before, `one constant-time comparison for ${JSON.stringify(given)}`).toBe(1);
  }
});

describeEachBackend('storefront identity secrets', (make) => {
  let backend: Backend;
  let store: Store;
  let clock: FakeClock;

  beforeEach(async () => {
    backend = make();
    store = await backend.open();
    clock = new FakeClock(T0);
  });
  afterEach(async () => {
    await store.close();
    await backend.cleanup();
  });

  it('makes one secret per store on first use, shared by every process', async () => {
    const [a, b] = [new IdentitySecrets(store.db, clock), new IdentitySecrets(store.db, clock)];
    const [sa, sb] = await Promise.all([a.show('main'), b.show('main')]);
    expect(sa.secret).toBe(sb.secret);
    expect(sa.secret).toMatch(/^pwid_[A-Za-z0-9_-]{43}$/);
    expect((await a.show('outlet')).secret).not.toBe(sa.secret);
    const hash = userHash(sa.secret, 'u-1');
    expect(await b.check('main', 'u-1', hash)).toEqual({ status: 'verified', userId: 'u-1' });
    expect((await b.check('outlet', 'u-1', hash)).status).toBe('unverified');
    expect((await b.check('main', 'u-2', hash)).status).toBe('unverified');
    expect(await b.check('main', undefined, undefined)).toEqual({ status: 'anonymous' });
    expect(await b.check('main', 'u-1', undefined)).toMatchObject({ status: 'unverified', reason: expect.stringContaining('missing') });
  });

  it('keeps the previous secret verifying through the grace period of a rotation, and not after', async () => {
    const server = new IdentitySecrets(store.db, clock, 5000);
    const cli = new IdentitySecrets(store.db, clock, 0);
    const old = (await cli.show('main')).secret;
    const oldHash = userHash(old, 'u-1');
    expect((await server.check('main', 'u-1', oldHash)).status).toBe('verified');

    const r = await cli.rotate('main', 24 * H);
    expect(r.secret).not.toBe(old);
    expect(r.previousUntil).toBe(T0 + 24 * H);
    clock.advance(5001); // the server's cache
    expect((await server.check('main', 'u-1', oldHash)).status).toBe('verified');
    expect((await server.check('main', 'u-1', userHash(r.secret, 'u-1'))).status).toBe('verified');
    clock.advance(24 * H);
    expect((await server.check('main', 'u-1', oldHash)).status).toBe('unverified');
    expect((await cli.show('main')).previousUntil).toBeUndefined();

    // A leaked secret: rotate with no grace, and the old hashes stop at once.
    const leaked = userHash(r.secret, 'u-1');
    await cli.rotate('main', 0);
    clock.advance(5001);
    expect((await server.check('main', 'u-1', leaked)).status).toBe('unverified');
    await expect(cli.rotate('main', -1)).rejects.toMatchObject({ code: 'PW_REQUEST_INVALID' });
    await expect(cli.show('bad store')).rejects.toMatchObject({ code: 'PW_REQUEST_INVALID' });
  });
});
