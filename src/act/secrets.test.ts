import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { FakeClock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { generateWebhookSecret, openSecretStore, type SecretStore, signatureHeaders } from './index.ts';

describeEachBackend('secret store', (make) => {
  let backend: Backend;
  let store: Store;
  let clock: FakeClock;
  let secrets: SecretStore;

  beforeEach(async () => {
    backend = make();
    store = await backend.open();
    clock = new FakeClock();
    secrets = openSecretStore(store, clock);
  });
  afterEach(async () => {
    await store.close();
    await backend.cleanup();
  });

  it('stores a secret by name and replaces it on the next set', async () => {
    expect(await secrets.get('shop-hook')).toBeUndefined();
    await secrets.set('shop-hook', 'whsec_one');
    clock.advance(1000);
    await secrets.set('shop-hook', 'whsec_two');
    expect(await secrets.get('shop-hook')).toEqual(['whsec_two']);
  });

  it('keeps up to two previous values during a rotation, current first', async () => {
    for (const v of ['a', 'b', 'c', 'd']) await secrets.set('rot', v, { keepPrevious: true });
    expect(await secrets.get('rot')).toEqual(['d', 'c', 'b']);
    await secrets.set('rot', 'e');
    expect(await secrets.get('rot')).toEqual(['e']);
  });

  it('lists names, version counts and dates, never values', async () => {
    await secrets.set('b-hook', 'value-b');
    clock.advance(5000);
    await secrets.set('a-hook', 'value-a1');
    await secrets.set('a-hook', 'value-a2', { keepPrevious: true });
    const list = await secrets.list();
    expect(list).toEqual([
      { name: 'a-hook', versions: 2, createdAtMs: clock.now() },
      { name: 'b-hook', versions: 1, createdAtMs: clock.now() - 5000 },
    ]);
    expect(JSON.stringify(list)).not.toContain('value');
  });

  it('deletes every version of a name', async () => {
    await secrets.set('gone', 'x');
    await secrets.set('gone', 'y', { keepPrevious: true });
    expect(await secrets.delete('gone')).toBe(true);
    expect(await secrets.delete('gone')).toBe(false);
    expect(await secrets.get('gone')).toBeUndefined();
  });

  it('refuses bad names and values', async () => {
    await expect(secrets.set('has space', 'x')).rejects.toMatchObject({ code: 'PW_SECRET_NAME_INVALID' });
    await expect(secrets.set('../etc', 'x')).rejects.toMatchObject({ code: 'PW_SECRET_NAME_INVALID' });
    await expect(secrets.set('ok', '')).rejects.toMatchObject({ code: 'PW_SECRET_VALUE_INVALID' });
    await expect(secrets.set('ok', 'two\nlines')).rejects.toMatchObject({ code: 'PW_SECRET_VALUE_INVALID' });
    expect(await secrets.list()).toEqual([]);
  });

  it('survives a restart', async () => {
    const v = generateWebhookSecret();
    await secrets.set('kept', v);
    await store.close();
    store = await backend.reopen();
    secrets = openSecretStore(store, clock);
    expect(await secrets.get('kept')).toEqual([v]);
  });
});

it('generates Standard Webhooks secrets of 32 random bytes and refuses malformed ones when signing', () => {
  const s = generateWebhookSecret();
  expect(s).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  expect(Buffer.from(s.slice(6), 'base64')).toHaveLength(32);
  expect(generateWebhookSecret()).not.toBe(s);
  expect(signatureHeaders([s], 'msg_1', 1_700_000_000, '{}')['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  expect(() => signatureHeaders(['whsec_short'], 'msg_1', 1, '{}')).toThrow(expect.objectContaining({ code: 'PW_WEBHOOK_SECRET_INVALID' }));
  expect(() => signatureHeaders(['plain text secret'], 'msg_1', 1, '{}')).toThrow(
    expect.objectContaining({ code: 'PW_WEBHOOK_SECRET_INVALID' }),
  );
});
