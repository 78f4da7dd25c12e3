import fc from 'fast-check';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { deterministicId, FakeClock } from '../core/index.ts';
import { openEventLog } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import {
  type ActionExecutor,
  type ActionRequest,
  type ClaimedAction,
  Dispatcher,
  type ExecutorContext,
  executorRegistry,
  NonRetriableError,
  type Outbox,
  openOutbox,
  openSecretStore,
  RetryAfterError,
  retryDelayMs,
  seededRandom,
} from './index.ts';

const LEASE = 60_000;
const BASE = 1_000;
const MAX = 60_000;

/** What a receiver saw: one entry per delivery, with the idempotency key it carried. */
interface Delivery {
  actionKey: string;
  idempotencyKey: string;
  attempt: number;
}

type Script = (a: ClaimedAction) => 'ok' | 'fail' | 'nonretriable' | { retryAfterMs: number };

function scripted(type: string, deliveries: Delivery[], script: Script): ActionExecutor {
  return {
    type,
    channel: 'webhook',
    reachesCustomer: false,
    defaultMinutesSaved: 1,
    validateParams: () => [],
    async execute(a) {
      deliveries.push({ actionKey: a.key, idempotencyKey: a.key, attempt: a.attempts });
      const what = script(a);
      if (what === 'ok') return { detail: { attempt: a.attempts } };
      if (what === 'nonretriable') throw new NonRetriableError('the receiver said 400', { code: 'PW_WEBHOOK_REJECTED' });
      if (what === 'fail') throw Object.assign(new Error('503 from receiver'), { code: 'PW_WEBHOOK_STATUS' });
      throw new RetryAfterError('429', what.retryAfterMs);
    },
  };
}

/** An outbox whose result-recording words do nothing: the process died right after sending. */
function dyingAfterSend(o: Outbox): Outbox {
  return {
    ...o,
    enqueue: o.enqueue.bind(o),
    claimDue: o.claimDue.bind(o),
    complete: async () => false,
    completeMany: async () => 0,
    retryAt: async () => false,
    deadLetter: async () => false,
    replay: o.replay.bind(o),
    get: o.get.bind(o),
    list: o.list.bind(o),
    nextDueAt: o.nextDueAt.bind(o),
    counts: o.counts.bind(o),
  };
}

describe('retryDelayMs', () => {
  it('doubles per attempt up to the cap, with equal jitter in [d/2, d]', () => {
    const r = seededRandom(7);
    for (let attempts = 1; attempts <= 12; attempts++) {
      const d = Math.min(MAX, BASE * 2 ** (attempts - 1));
      for (let i = 0; i < 50; i++) {
        const ms = retryDelayMs(attempts, BASE, MAX, r);
        expect(ms).toBeGreaterThanOrEqual(d / 2);
        expect(ms).toBeLessThanOrEqual(d);
      }
    }
    expect(retryDelayMs(3, BASE, MAX, () => 0)).toBe(2_000);
    expect(retryDelayMs(3, BASE, MAX, () => 0.999999)).toBe(4_000);
  });

  it('spreads retries of failures that happened together', () => {
    const r = seededRandom(1);
    const delays = new Set(Array.from({ length: 100 }, () => retryDelayMs(5, BASE, MAX, r)));
    expect(delays.size).toBeGreaterThan(90);
  });
});

describeEachBackend('dispatcher', (make) => {
  let backend: Backend;
  let store: Store;
  let clock: FakeClock;
  let outbox: Outbox;
  let ctx: ExecutorContext;
  let deliveries: Delivery[];

  beforeEach(async () => {
    backend = make();
    store = await backend.open();
    clock = new FakeClock();
    outbox = openOutbox(store, clock);
    ctx = {
      clock,
      db: store.db,
      log: openEventLog(store, clock),
      secrets: openSecretStore(store, clock),
      logger: pino({ level: 'silent' }),
    };
    deliveries = [];
  });
  afterEach(async () => {
    await ctx?.log.close();
    await store?.close();
    await backend?.cleanup();
  });

  const request = (n: number, type = 'test.send'): ActionRequest => ({
    key: deterministicId('pitwall.action', `run-${n}`, 'steps.0'),
    runId: `run-${n}`,
    workflowId: 'wf',
    workflowVersion: 1,
    stepPath: 'steps.0',
    type,
    params: { n },
    createdAtMs: clock.now(),
  });

  const dispatcher = (script: Script, opts: { maxAttempts?: number; seed?: number; on?: Outbox } = {}) =>
    new Dispatcher(opts.on ?? outbox, executorRegistry([scripted('test.send', deliveries, script)]), ctx, {
      leaseMs: LEASE,
      backoffBaseMs: BASE,
      backoffMaxMs: MAX,
      maxAttempts: opts.maxAttempts ?? 5,
      random: seededRandom(opts.seed ?? 42),
    });

  it('completes a successful action and stores what the executor reported', async () => {
    await outbox.enqueue(store.db, [request(1)]);
    const r = await dispatcher(() => 'ok').tick();
    expect(r).toEqual({ claimed: 1, completed: 1, retried: 0, dead: 0, stale: 0 });
    expect(await outbox.get(request(1).key)).toMatchObject({ status: 'done', attempts: 1, result: { detail: { attempt: 1 } } });
  });

  it('retries a failing action with exponential backoff and jitter, then completes it', async () => {
    await outbox.enqueue(store.db, [request(1)]);
    const d = dispatcher((a) => (a.attempts < 4 ? 'fail' : 'ok'));
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await d.tick()).toMatchObject({ claimed: 1, retried: 1 });
      const stored = await outbox.get(request(1).key);
      expect(stored).toMatchObject({ status: 'pending', attempts: attempt, lastError: 'PW_WEBHOOK_STATUS: 503 from receiver' });
      const wait = (stored?.readyAtMs ?? 0) - clock.now();
      const nominal = BASE * 2 ** (attempt - 1);
      expect(wait).toBeGreaterThanOrEqual(nominal / 2);
      expect(wait).toBeLessThanOrEqual(nominal);
      waits.push(wait);
      clock.advance(wait - 1);
      expect((await d.tick()).claimed).toBe(0);
      clock.advance(1);
    }
    expect(await d.tick()).toMatchObject({ claimed: 1, completed: 1 });
    expect(deliveries.map((x) => x.attempt)).toEqual([1, 2, 3, 4]);
    expect(new Set(deliveries.map((x) => x.idempotencyKey))).toEqual(new Set([request(1).key]));
  });

  it('waits exactly as long as a RetryAfterError asks', async () => {
    await outbox.enqueue(store.db, [request(1)]);
    const d = dispatcher((a) => (a.attempts === 1 ? { retryAfterMs: 42_000 } : 'ok'));
    expect(await d.tick()).toMatchObject({ retried: 1 });
    expect((await outbox.get(request(1).key))?.readyAtMs).toBe(clock.now() + 42_000);
    clock.advance(42_000);
    expect(await d.tick()).toMatchObject({ completed: 1 });
  });

  it('dead-letters at once on a NonRetriableError, and a replay runs it again', async () => {
    await outbox.enqueue(store.db, [request(1)]);
    let refuse = true;
    const d = dispatcher(() => (refuse ? 'nonretriable' : 'ok'));
    expect(await d.tick()).toMatchObject({ claimed: 1, dead: 1 });
    expect(await outbox.get(request(1).key)).toMatchObject({
      status: 'dead',
      attempts: 1,
      lastError: 'PW_WEBHOOK_REJECTED: the receiver said 400',
    });
    clock.advance(24 * 3_600_000);
    expect((await d.tick()).claimed).toBe(0);
    refuse = false;
    expect(await outbox.replay(request(1).key)).toBe(true);
    expect(await d.tick()).toMatchObject({ claimed: 1, completed: 1 });
    expect(deliveries.map((x) => [x.idempotencyKey, x.attempt])).toEqual([
      [request(1).key, 1],
      [request(1).key, 1],
    ]);
  });

  it('dead-letters an action that keeps failing after maxAttempts', async () => {
    await outbox.enqueue(store.db, [request(1)]);
    const d = dispatcher(() => 'fail', { maxAttempts: 3 });
    for (let i = 0; i < 3; i++) {
      await d.tick();
      clock.advance(MAX);
    }
    expect(await outbox.get(request(1).key)).toMatchObject({
      status: 'dead',
      attempts: 3,
      lastError: 'PW_WEBHOOK_STATUS: 503 from receiver (after 3 attempts)',
    });
  });

  it('dead-letters an action whose type has no executor', async () => {
    await outbox.enqueue(store.db, [request(1, 'fax.send')]);
    expect(await dispatcher(() => 'ok').tick()).toMatchObject({ dead: 1 });
    expect((await outbox.get(request(1).key))?.lastError).toBe('PW_ACTION_UNKNOWN_TYPE: no executor for action type "fax.send"');
  });

  it('after a crash between send and complete, sends the action again with the same idempotency key, once the lease runs out', async () => {
    await outbox.enqueue(store.db, [request(1), request(2)]);
    const dying = dispatcher(() => 'ok', { on: dyingAfterSend(outbox) });
    await dying.tick();
    expect(deliveries).toHaveLength(2);
    const next = dispatcher(() => 'ok');
    expect((await next.tick()).claimed).toBe(0);
    clock.advance(LEASE);
    expect(await next.tick()).toMatchObject({ claimed: 2, completed: 2 });
    const byAction = new Map<string, Set<string>>();
    for (const x of deliveries) byAction.set(x.actionKey, (byAction.get(x.actionKey) ?? new Set()).add(x.idempotencyKey));
    expect([...byAction.values()].map((s) => [...s])).toEqual([[request(1).key], [request(2).key]]);
    expect(await outbox.counts()).toEqual({ pending: 0, done: 2, dead: 0 });
  });

  it('loses no action and never changes its key, whatever fails and whenever the dispatcher dies (property)', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.constantFrom('ok', 'fail', 'retry', 'nonretriable'), { minLength: 1, maxLength: 6 }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.array(fc.boolean(), { maxLength: 10 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        async (scripts, dies, seed) => {
          round++;
          const reqs = scripts.map((_, i) => {
            const runId = `p${round}-run-${i}`;
            return { ...request(i), runId, key: deterministicId('pitwall.action', runId, 'steps.0') };
          });
          const scriptOf = new Map(reqs.map((q, i) => [q.key, scripts[i] as string[]]));
          const seen: Delivery[] = [];
          const exec = scripted('test.send', seen, (a) => {
            const s = scriptOf.get(a.key) ?? [];
            const step = s[Math.min(a.attempts - 1, s.length - 1)] ?? 'ok';
            return step === 'retry' ? { retryAfterMs: 1_500 } : (step as 'ok' | 'fail' | 'nonretriable');
          });
          await outbox.enqueue(store.db, reqs);
          const opts = { leaseMs: LEASE, backoffBaseMs: BASE, backoffMaxMs: MAX, maxAttempts: 4, random: seededRandom(seed) };
          const live = new Dispatcher(outbox, executorRegistry([exec]), ctx, opts);
          const dying = new Dispatcher(dyingAfterSend(outbox), executorRegistry([exec]), ctx, opts);
          for (let i = 0; i < 100; i++) {
            await (dies[i] ? dying : live).tick();
            const now = await Promise.all(reqs.map((q) => outbox.get(q.key)));
            if (now.every((a) => a?.status !== 'pending')) break;
            clock.advance(MAX);
          }
          const final = await Promise.all(reqs.map((q) => outbox.get(q.key)));
          for (const [i, a] of final.entries()) {
            expect(a?.status, `action ${i} was lost (still pending)`).not.toBe('pending');
            const script = scripts[i] as string[];
            const refused =
              script.slice(0, a?.attempts ?? 0).includes('nonretriable') ||
              (script.at(-1) === 'nonretriable' && (a?.attempts ?? 0) > script.length);
            if (a?.status === 'dead') expect(refused || (a.attempts ?? 0) >= 4).toBe(true);
            if (a?.status === 'done') expect(seen.some((d) => d.actionKey === a.key)).toBe(true);
          }
          for (const q of reqs) {
            const keys = new Set(seen.filter((d) => d.actionKey === q.key).map((d) => d.idempotencyKey));
            expect([...keys]).toEqual([deterministicId('pitwall.action', q.runId, q.stepPath)]);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
