import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { deterministicId, FakeClock } from '../core/index.ts';
import { writeTransaction } from '../detect/index.ts';
import type { Store } from '../store/index.ts';
import { type ActionRequest, type ClaimedAction, type Outbox, openOutbox } from './index.ts';

const LEASE = 30_000;

describeEachBackend('outbox contract', (make) => {
  let backend: Backend;
  let store: Store;
  let clock: FakeClock;
  let outbox: Outbox;
  const others: Store[] = [];

  beforeEach(async () => {
    backend = make();
    store = await backend.open();
    clock = new FakeClock();
    outbox = openOutbox(store, clock);
  });
  afterEach(async () => {
    for (const s of others.splice(0)) await s.close();
    await store?.close();
    await backend?.cleanup();
  });

  const request = (n: number, over: Partial<ActionRequest> = {}): ActionRequest => ({
    key: deterministicId('pitwall.action', `run-${n}`, 'steps.0'),
    runId: `run-${n}`,
    workflowId: n % 2 === 0 ? 'even-flow' : 'odd-flow',
    workflowVersion: 3,
    stepPath: 'steps.0',
    type: 'webhook.send',
    params: { url: 'https://example.com/hook', secret: 'shop', data: { n, note: 'zündkerze' } },
    customerId: `cust-${n}`,
    subject: `cart-${n}`,
    createdAtMs: clock.now() + n,
    ...over,
  });

  const enqueue = (...reqs: ActionRequest[]) => outbox.enqueue(store.db, reqs);

  const second = async (): Promise<Outbox> => {
    const s = await backend.reopen();
    others.push(s);
    return openOutbox(s, clock);
  };

  it('enqueues an action and claims it with every field, counting the attempt', async () => {
    const q = request(1, { notBeforeMs: undefined });
    await enqueue(q);
    clock.advance(1);
    const [c, ...rest] = await outbox.claimDue(10, LEASE);
    expect(rest).toEqual([]);
    const { token, ...fields } = c as ClaimedAction;
    expect(fields).toEqual({ ...q, attempts: 1 });
    expect(token).toMatch(/[0-9a-f-]{36}/);
    expect(await outbox.get(q.key)).toMatchObject({ status: 'pending', attempts: 1, leasedUntilMs: clock.now() + LEASE });
  });

  it('ignores a request whose key exists, in one call and across calls', async () => {
    const q = request(1);
    await enqueue(q, { ...q, params: { other: true } });
    await enqueue({ ...q, type: 'email.send' });
    const all = await outbox.list({ limit: 10 });
    expect(all.actions).toHaveLength(1);
    expect(all.actions[0]).toMatchObject({ type: 'webhook.send', params: q.params });
  });

  it('enqueues inside the caller transaction: a rollback leaves nothing, a commit everything', async () => {
    await expect(
      writeTransaction(store, async (tx) => {
        await outbox.enqueue(tx, [request(1)]);
        throw new Error('step failed');
      }),
    ).rejects.toThrow('step failed');
    expect(await outbox.get(request(1).key)).toBeUndefined();
    await writeTransaction(store, async (tx) => outbox.enqueue(tx, [request(1), request(2)]));
    expect((await outbox.counts()).pending).toBe(2);
  });

  it('does not claim an action before its not-before time', async () => {
    const q = request(1, { notBeforeMs: clock.now() + 60_000 });
    await enqueue(q);
    expect(await outbox.claimDue(10, LEASE)).toEqual([]);
    expect(await outbox.nextDueAt()).toBe(q.notBeforeMs);
    clock.advance(59_999);
    expect(await outbox.claimDue(10, LEASE)).toEqual([]);
    clock.advance(1);
    expect(await outbox.claimDue(10, LEASE)).toHaveLength(1);
  });

  it('gives a claimed action to no one else until its lease runs out, then to one claimer with a new token', async () => {
    await enqueue(request(1));
    clock.advance(10);
    const [first] = await outbox.claimDue(10, LEASE);
    expect(await outbox.claimDue(10, LEASE)).toEqual([]);
    clock.advance(LEASE - 1);
    expect(await outbox.claimDue(10, LEASE)).toEqual([]);
    clock.advance(1);
    const [again] = await outbox.claimDue(10, LEASE);
    expect(again).toMatchObject({ key: first?.key, attempts: 2 });
    expect(again?.token).not.toBe(first?.token);
    // The first claimer woke up late: its token is stale for every word.
    expect(await outbox.complete(first?.key ?? '', first?.token ?? '', {})).toBe(false);
    expect(await outbox.retryAt(first?.key ?? '', first?.token ?? '', clock.now(), 'x')).toBe(false);
    expect(await outbox.deadLetter(first?.key ?? '', first?.token ?? '', 'x')).toBe(false);
    expect(await outbox.complete(again?.key ?? '', again?.token ?? '', { detail: { status: 200 } })).toBe(true);
    expect(await outbox.get(first?.key ?? '')).toMatchObject({
      status: 'done',
      result: { detail: { status: 200 } },
      finishedAtMs: clock.now(),
    });
  });

  it('claims at most the limit, oldest first, and a completed action is never claimed again', async () => {
    for (let n = 5; n >= 1; n--) await enqueue(request(n));
    clock.advance(100);
    const batch = await outbox.claimDue(3, LEASE);
    expect(batch.map((c) => c.runId)).toEqual(['run-1', 'run-2', 'run-3']);
    expect(await outbox.completeMany(batch.map((c) => ({ key: c.key, token: c.token, result: {} })))).toBe(3);
    expect((await outbox.claimDue(10, LEASE)).map((c) => c.runId)).toEqual(['run-4', 'run-5']);
    clock.advance(LEASE);
    expect((await outbox.claimDue(10, LEASE)).map((c) => c.runId)).toEqual(['run-4', 'run-5']);
    expect(await outbox.counts()).toEqual({ pending: 2, done: 3, dead: 0 });
  });

  it('retries at the given time with the error kept, and counts attempts across claims', async () => {
    await enqueue(request(1));
    clock.advance(10);
    const [c] = await outbox.claimDue(1, LEASE);
    expect(await outbox.retryAt(c?.key ?? '', c?.token ?? '', clock.now() + 5_000, 'PW_WEBHOOK_STATUS: 503')).toBe(true);
    expect(await outbox.get(c?.key ?? '')).toMatchObject({
      status: 'pending',
      attempts: 1,
      readyAtMs: clock.now() + 5_000,
      leasedUntilMs: undefined,
      lastError: 'PW_WEBHOOK_STATUS: 503',
    });
    clock.advance(4_999);
    expect(await outbox.claimDue(1, LEASE)).toEqual([]);
    clock.advance(1);
    expect((await outbox.claimDue(1, LEASE))[0]).toMatchObject({ attempts: 2 });
  });

  it('dead-letters an action, lists it as dead, and a replay makes it pending with attempts reset', async () => {
    await enqueue(request(1), request(2));
    clock.advance(10);
    const [c] = await outbox.claimDue(1, LEASE);
    expect(await outbox.deadLetter(c?.key ?? '', c?.token ?? '', 'PW_WEBHOOK_REJECTED: 400')).toBe(true);
    expect(await outbox.replay(request(2).key)).toBe(false);
    const dead = await outbox.list({ status: 'dead', limit: 10 });
    expect(dead.actions.map((a) => a.key)).toEqual([c?.key]);
    expect(dead.actions[0]).toMatchObject({ lastError: 'PW_WEBHOOK_REJECTED: 400', finishedAtMs: clock.now() });
    clock.advance(1_000);
    expect(await outbox.replay(c?.key ?? '')).toBe(true);
    expect(await outbox.replay(c?.key ?? '')).toBe(false);
    expect(await outbox.get(c?.key ?? '')).toMatchObject({
      status: 'pending',
      attempts: 0,
      readyAtMs: clock.now(),
      finishedAtMs: undefined,
    });
    const claimed = await outbox.claimDue(10, LEASE);
    expect(claimed.map((x) => x.key).sort()).toEqual([request(1).key, request(2).key].sort());
    expect(claimed.find((x) => x.key === c?.key)?.attempts).toBe(1);
  });

  it('lists newest first with status, workflow and run filters and a cursor that pages without gaps', async () => {
    for (let n = 1; n <= 7; n++) await enqueue(request(n, { createdAtMs: clock.now() + (n <= 4 ? 0 : n) }));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await outbox.list({ limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.actions.map((a) => a.runId));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen.slice(0, 3)).toEqual(['run-7', 'run-6', 'run-5']);
    expect(seen.sort()).toEqual(['run-1', 'run-2', 'run-3', 'run-4', 'run-5', 'run-6', 'run-7']);
    const even = await outbox.list({ workflowId: 'even-flow', limit: 10 });
    expect(even.actions.every((a) => a.workflowId === 'even-flow')).toBe(true);
    expect(even.actions.map((a) => a.runId)[0]).toBe('run-6');
    expect(even.actions.map((a) => a.runId).sort()).toEqual(['run-2', 'run-4', 'run-6']);
    expect((await outbox.list({ runId: 'run-5', limit: 10 })).actions.map((a) => a.runId)).toEqual(['run-5']);
    expect((await outbox.list({ status: 'done', limit: 10 })).actions).toEqual([]);
    await expect(outbox.list({ limit: 10, cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'PW_QUERY_INVALID' });
  });

  it('keeps actions and claims across a restart', async () => {
    await enqueue(request(1), request(2));
    clock.advance(10);
    const [c] = await outbox.claimDue(1, LEASE);
    await store.close();
    store = await backend.reopen();
    outbox = openOutbox(store, clock);
    expect((await outbox.claimDue(10, LEASE)).map((x) => x.runId)).toEqual(['run-2']);
    clock.advance(LEASE);
    const again = await outbox.claimDue(10, LEASE);
    expect(again.map((x) => [x.runId, x.attempts])).toEqual([
      ['run-1', 2],
      ['run-2', 2],
    ]);
    expect(again[0]?.key).toBe(c?.key);
  });

  it('gives concurrent claimers on two connections disjoint actions', async () => {
    for (let n = 1; n <= 60; n++) await enqueue(request(n));
    clock.advance(100);
    const other = await second();
    const rounds = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => (i % 2 === 0 ? outbox : other).claimDue(10, LEASE)));
    const keys = rounds.flat().map((c) => c.key);
    expect(keys).toHaveLength(60);
    expect(new Set(keys).size).toBe(60);
  });

  it('rejects a malformed request before writing anything', async () => {
    await expect(enqueue(request(1), request(2, { createdAtMs: 1.5 }))).rejects.toMatchObject({ code: 'PW_ACTION_REQUEST_INVALID' });
    expect((await outbox.counts()).pending).toBe(0);
  });
});
