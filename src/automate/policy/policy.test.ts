import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../../test/support/backends.ts';
import { identityFolder } from '../../../test/support/identity.ts';
import { emailHash } from '../../state/index.ts';
import type { Store } from '../../store/index.ts';
import {
  addSuppression,
  type Channel,
  type ContactRequest,
  checkContact,
  contactsOf,
  parsePolicySettings,
  recordContact,
  removeSuppression,
  suppressionId,
} from './index.ts';

const H = 3_600_000;
const DAY = 24 * H;
/** Monday 12:00 UTC = 13:00 in Berlin: outside quiet hours. */
const T0 = Date.parse('2026-01-05T12:00:00Z');
const at = (iso: string) => Date.parse(iso);

const policy = parsePolicySettings({
  timezone: 'Europe/Berlin',
  quiet_hours: { start: '21:00', end: '08:00' },
  caps: { all: '3 per 7d', email: '2 per 7d', survey: 'off' },
});

describeEachBackend('contact policy', (make) => {
  let backend: Backend;
  let store: Store;
  let identity: ReturnType<typeof identityFolder>;
  let keys = 0;

  beforeEach(async () => {
    backend = make();
    store = await backend.open();
    identity = identityFolder(store);
  });
  afterEach(async () => {
    await store?.close();
    await backend?.cleanup();
  });

  const req = (over: Partial<ContactRequest> = {}): ContactRequest => ({
    customerId: 'cus_1',
    channel: 'email',
    purpose: 'service',
    workflowId: 'wf-1',
    atMs: T0,
    ...over,
  });
  const contact = (atMs: number, channel: Channel = 'email', over: Partial<ContactRequest> = {}) =>
    recordContact(store.db, { ...req({ atMs, channel, ...over }), actionKey: `action-${++keys}` });
  const check = (over: Partial<ContactRequest> = {}, p = policy) => checkContact(store.db, p, req(over));

  it('allows a first contact, and ops and internal always, even for a suppressed customer', async () => {
    expect(await check()).toEqual({ verdict: 'allow' });
    await addSuppression(store.db, { kind: 'customer', value: 'cus_1', reason: 'asked us' }, T0 - DAY);
    expect((await check()).verdict).toBe('skip');
    expect(await check({ channel: 'ops' })).toEqual({ verdict: 'allow' });
    expect(await check({ channel: 'internal', purpose: 'marketing' })).toEqual({ verdict: 'allow' });
  });

  it('caps one channel: a third email in 7 days waits until the older one leaves the window', async () => {
    await contact(T0 - 3 * DAY);
    await contact(T0 - DAY);
    const v = await check();
    expect(v).toMatchObject({ verdict: 'defer', code: 'PW_POLICY_CAP', untilMs: T0 - 3 * DAY + 7 * DAY });
    expect(v.verdict === 'defer' && v.reason).toContain('email cap 2 per 7d reached (2 in the window)');
    // Another channel still has room: two contacts in all channels are under the global 3.
    expect(await check({ channel: 'webhook' })).toEqual({ verdict: 'allow' });
  });

  it('caps all channels together', async () => {
    await contact(T0 - 2 * DAY, 'email');
    await contact(T0 - DAY, 'survey');
    await contact(T0 - H, 'onsite');
    const v = await check({ channel: 'reminder' });
    expect(v).toMatchObject({ verdict: 'defer', code: 'PW_POLICY_CAP', untilMs: T0 - 2 * DAY + 7 * DAY });
    expect(v.verdict === 'defer' && v.reason).toContain('all channels cap 3 per 7d');
    // The survey channel has no cap of its own, but the global one holds it too.
    expect((await check({ channel: 'survey' })).verdict).toBe('defer');
  });

  it('uses rolling windows: allowed exactly when the limiting contact is a full period old', async () => {
    await contact(T0);
    await contact(T0 + DAY);
    const release = T0 + 7 * DAY;
    expect(await check({ atMs: T0 + DAY + 1 })).toMatchObject({ verdict: 'defer', untilMs: release });
    expect(await check({ atMs: release - 1 })).toMatchObject({ verdict: 'defer', untilMs: release });
    expect(await check({ atMs: release })).toEqual({ verdict: 'allow' });
    // A later contact restarts the count from the window that holds it.
    await contact(release);
    expect(await check({ atMs: release + H })).toMatchObject({ verdict: 'defer', untilMs: T0 + DAY + 7 * DAY });
  });

  it('counts the contacts made to every id of a customer (anonymous before they identified)', async () => {
    await identity.seen(T0 - 5 * DAY, 'anon-9');
    await contact(T0 - 4 * DAY, 'email', { customerId: 'anon-9' });
    await contact(T0 - 3 * DAY, 'email', { customerId: 'anon-9' });
    expect(await check({ customerId: 'cus_9' })).toEqual({ verdict: 'allow' });
    await identity.identify(T0 - 2 * DAY, { user: 'cus_9', anon: 'anon-9' });
    expect(await check({ customerId: 'cus_9' })).toMatchObject({ verdict: 'defer', code: 'PW_POLICY_CAP', untilMs: T0 + 3 * DAY });
  });

  it('neither holds nor counts exempt purposes (transactional by default)', async () => {
    await contact(T0 - 2 * DAY, 'email', { purpose: 'transactional' });
    await contact(T0 - DAY, 'email', { purpose: 'Transactional' });
    expect(await check()).toEqual({ verdict: 'allow' });
    await contact(T0 - 2 * DAY, 'email');
    await contact(T0 - DAY, 'email');
    expect((await check()).verdict).toBe('defer');
    // Over the cap and at 23:00 in Berlin: an order's delivery notice still goes.
    expect(await check({ purpose: 'transactional', atMs: at('2026-01-05T22:00:00Z') })).toEqual({ verdict: 'allow' });
  });

  it('defers to the end of quiet hours across the spring DST change in Europe/Berlin', async () => {
    // Saturday 28 March 2026, 22:00 CET; clocks jump 02:00 → 03:00 that night; 08:00 CEST is 06:00 UTC.
    const end = at('2026-03-29T06:00:00Z');
    expect(await check({ atMs: at('2026-03-28T21:00:00Z') })).toMatchObject({
      verdict: 'defer',
      code: 'PW_POLICY_QUIET_HOURS',
      untilMs: end,
    });
    expect(await check({ atMs: at('2026-03-29T01:30:00Z') })).toMatchObject({ verdict: 'defer', untilMs: end });
    expect(await check({ atMs: end - 60_000 })).toMatchObject({ verdict: 'defer', untilMs: end });
    expect(await check({ atMs: end })).toEqual({ verdict: 'allow' });
    const v = await check({ atMs: at('2026-03-28T21:00:00Z') });
    expect(v.verdict === 'defer' && v.reason).toContain('quiet hours 21:00–08:00 in Europe/Berlin');
  });

  it('defers to the end of quiet hours across the autumn DST change in Europe/Berlin', async () => {
    // Saturday 24 October 2026, 22:00 CEST; clocks go back 03:00 → 02:00; 08:00 CET is 07:00 UTC.
    const end = at('2026-10-25T07:00:00Z');
    expect(await check({ atMs: at('2026-10-24T20:00:00Z') })).toMatchObject({ verdict: 'defer', untilMs: end });
    expect(await check({ atMs: at('2026-10-25T06:30:00Z') })).toMatchObject({ verdict: 'defer', untilMs: end });
    expect(await check({ atMs: end })).toEqual({ verdict: 'allow' });
    // The evening before: quiet from 21:00 CEST = 19:00 UTC.
    expect(await check({ atMs: at('2026-10-24T18:59:00Z') })).toEqual({ verdict: 'allow' });
    expect((await check({ atMs: at('2026-10-24T19:00:00Z') })).verdict).toBe('defer');
  });

  it('ends a quiet period whose end the clocks skip at the moment they jump', async () => {
    const p = parsePolicySettings({ timezone: 'Europe/Berlin', quiet_hours: { start: '00:00', end: '02:30' } });
    // 29 March 2026 01:30 CET; 02:30 never happens: at 01:00 UTC the clocks read 03:00 CEST.
    expect(await check({ atMs: at('2026-03-29T00:30:00Z') }, p)).toMatchObject({ verdict: 'defer', untilMs: at('2026-03-29T01:00:00Z') });
  });

  it("uses the customer's timezone trait, else the configured zone", async () => {
    await identity.identify(T0 - DAY, { user: 'cus_ny' }, { timezone: 'America/New_York' });
    await identity.identify(T0 - DAY, { user: 'cus_mars' }, { timezone: 'Mars/Olympus_Mons' });
    // 12:00 UTC is 07:00 in New York (quiet until 08:00 EST = 13:00 UTC) and 13:00 in Berlin.
    expect(await check({ customerId: 'cus_ny' })).toMatchObject({ verdict: 'defer', untilMs: at('2026-01-05T13:00:00Z') });
    expect(await check({ customerId: 'cus_mars' })).toEqual({ verdict: 'allow' });
    expect(await check({ customerId: 'cus_mars', atMs: at('2026-01-05T20:00:00Z') })).toMatchObject({
      verdict: 'defer',
      untilMs: at('2026-01-06T07:00:00Z'),
    });
  });

  it('holds only the channels quiet hours name (not on-site, where the customer is browsing)', async () => {
    const night = at('2026-01-05T22:00:00Z');
    expect((await check({ atMs: night, channel: 'email' })).verdict).toBe('defer');
    expect(await check({ atMs: night, channel: 'onsite' })).toEqual({ verdict: 'allow' });
    expect(await check({ atMs: night, channel: 'survey' })).toEqual({ verdict: 'allow' });
  });

  it('defers until every time rule has lifted: a cap that frees up inside quiet hours waits for the morning', async () => {
    const release = at('2026-01-06T21:00:00Z'); // 22:00 in Berlin
    await contact(release - 7 * DAY);
    await contact(release - 7 * DAY + H);
    const v = await check();
    expect(v).toMatchObject({ verdict: 'defer', code: 'PW_POLICY_CAP', untilMs: at('2026-01-07T07:00:00Z') });
    expect(await check({ atMs: at('2026-01-07T07:00:00Z') })).toEqual({ verdict: 'allow' });
  });

  it('skips a suppressed customer by any of their ids, by email hash, per channel and until a time', async () => {
    await identity.identify(T0 - 3 * DAY, { anon: 'anon-5' });
    await identity.identify(T0 - 2 * DAY, { user: 'cus_5', anon: 'anon-5' }, { email: 'Mara@Example.com' });
    await identity.consent(T0 - 2 * DAY, { user: 'cus_5' }, { marketing: true });
    await addSuppression(store.db, { kind: 'customer', value: 'anon-5', channel: 'email', reason: 'bounced' }, T0 - DAY);
    const v = await check({ customerId: 'cus_5', purpose: 'marketing' });
    expect(v).toMatchObject({ verdict: 'skip', code: 'PW_POLICY_SUPPRESSED' });
    expect(v.verdict === 'skip' && v.reason).toContain('bounced');
    expect(await check({ customerId: 'cus_5', channel: 'survey', purpose: 'marketing' })).toEqual({ verdict: 'allow' });
    expect(await removeSuppression(store.db, suppressionId('customer', 'anon-5', 'email'))).toBe(true);
    expect(await check({ customerId: 'cus_5' })).toEqual({ verdict: 'allow' });

    await addSuppression(store.db, { kind: 'email', value: emailHash(' mara@example.com'), reason: 'complaint', untilMs: T0 + DAY }, T0);
    expect(await check({ customerId: 'cus_5', channel: 'survey' })).toMatchObject({ verdict: 'skip', code: 'PW_POLICY_SUPPRESSED' });
    // Transactional contacts are suppressed too; after `until` the suppression no longer applies.
    expect((await check({ customerId: 'cus_5', purpose: 'transactional' })).verdict).toBe('skip');
    expect(await check({ customerId: 'cus_5', atMs: T0 + DAY })).toEqual({ verdict: 'allow' });
  });

  it('applies consent per purpose: a refusal skips, silence follows the configured default', async () => {
    // Unknown to the identity graph: defaults only.
    expect(await check({ purpose: 'marketing' })).toMatchObject({ verdict: 'skip', code: 'PW_POLICY_CONSENT_MISSING' });
    expect(await check({ purpose: 'service' })).toEqual({ verdict: 'allow' });
    expect(await check({ purpose: 'transactional' })).toEqual({ verdict: 'allow' });
    expect(await check({ purpose: 'surveys' })).toMatchObject({ verdict: 'skip', code: 'PW_POLICY_CONSENT_MISSING' });
    await identity.consent(T0 - DAY, { user: 'cus_1' }, { Marketing: true, service: false });
    expect(await check({ purpose: 'marketing' })).toEqual({ verdict: 'allow' });
    expect(await check({ purpose: 'service' })).toMatchObject({ verdict: 'skip', code: 'PW_POLICY_CONSENT_DENIED' });
    const p = parsePolicySettings({ consent_defaults: { surveys: true, service: false } });
    expect(await check({ purpose: 'surveys' }, p)).toEqual({ verdict: 'allow' });
    expect(await check({ customerId: 'cus_unknown', purpose: 'service' }, p)).toMatchObject({
      verdict: 'skip',
      code: 'PW_POLICY_CONSENT_MISSING',
    });
  });

  it('records a contact once per action key and never records ops or internal', async () => {
    const r = { ...req({ atMs: T0 - H }), actionKey: 'k-1' };
    await recordContact(store.db, r);
    await recordContact(store.db, r);
    await recordContact(store.db, { ...r, actionKey: 'k-2', channel: 'ops' });
    await recordContact(store.db, { ...r, actionKey: 'k-3', channel: 'internal' });
    expect(await contactsOf(store.db, ['cus_1'], 0, T0)).toEqual([{ channel: 'email', purpose: 'service', atMs: T0 - H }]);
  });
});
