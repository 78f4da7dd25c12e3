/**
 * Property: any interleaving of schedule / reschedule / cancel / advance / claim / fire /
 * fail / crash / restart loses no timer, and the store never hands out a firing twice except
 * where a claimer crashed after its effect or outlived its lease, which the idempotent effect
 * (keyed by `firingId`) absorbs. The store is checked step by step against a small model.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import { FakeClock } from '../core/index.ts';
import type { Store } from '../store/index.ts';
import { type ClaimedTimer, firingId, openTimerStore, type TimerStore } from './index.ts';

const LEASE = 2000;
const RETRY = 500;
const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4'];

type Op =
  | { t: 'schedule'; k: number; delta: number }
  | { t: 'reschedule'; k: number; delta: number }
  | { t: 'cancel'; k: number }
  | { t: 'advance'; ms: number }
  | { t: 'claim'; limit: number }
  /** Run the effect, then complete. */
  | { t: 'fire'; i: number }
  /** The handler failed: retry later. */
  | { t: 'fail'; i: number }
  /** The effect ran, then the claimer died before completing. */
  | { t: 'crashAfterEffect'; i: number }
  /** Every in-flight claim is lost before its effect. */
  | { t: 'crash' }
  /** Crash, and reopen the store. */
  | { t: 'restart' };

const k = fc.nat({ max: KEYS.length - 1 });
const i = fc.nat({ max: 7 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('schedule' as const), k, delta: fc.nat({ max: 2000 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('reschedule' as const), k, delta: fc.nat({ max: 2000 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('cancel' as const), k }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.nat({ max: 3000 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('claim' as const), limit: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('fire' as const), i }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('fail' as const), i }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('crashAfterEffect' as const), i }) },
  { weight: 1, arbitrary: fc.constant({ t: 'crash' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'restart' as const }) },
);

interface Claim extends ClaimedTimer {
  leaseUntil: number;
}

describeEachBackend('timer store property', (make) => {
  let backend: Backend;
  let store: Store;
  beforeAll(async () => {
    backend = make();
    store = await backend.open();
  });
  afterAll(async () => {
    await store?.close();
    await backend?.cleanup();
  });

  it('loses no timer and fires no idempotent effect twice, whatever the interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 10, maxLength: 40, size: 'max' }), async (ops) => {
        await store.db.deleteFrom('timers').execute();
        const clock = new FakeClock();
        let timers: TimerStore = openTimerStore(store, clock);
        // The model: the firing each key owes, when a claim may take it, its current claim token.
        const owed = new Map<string, number>();
        const ready = new Map<string, number>();
        const token = new Map<string, string>();
        const lastDue = new Map<string, number>();
        let inFlight: Claim[] = [];
        // Effects: runs per firing (a non-idempotent counter) and the idempotent sink.
        const runs = new Map<string, number>();
        const applied = new Set<string>();
        const mayRepeat = new Set<string>();

        const effect = (c: Claim) => {
          const id = firingId(c);
          runs.set(id, (runs.get(id) ?? 0) + 1);
          applied.add(id);
          if (clock.now() >= c.leaseUntil) mayRepeat.add(id);
        };
        const take = (n: number): Claim | undefined => (inFlight.length === 0 ? undefined : inFlight.splice(n % inFlight.length, 1)[0]);
        const forget = (key: string) => {
          owed.delete(key);
          ready.delete(key);
          token.delete(key);
        };
        const claim = async (limit: number) => {
          const now = clock.now();
          const claimable = [...ready].filter(([, at]) => at <= now).map(([key]) => key);
          const got = await timers.claimDue(limit, LEASE);
          expect(got.length).toBe(Math.min(limit, claimable.length));
          for (const c of got) {
            expect(claimable).toContain(c.key);
            expect(c.dueAt).toBe(owed.get(c.key));
            ready.set(c.key, now + LEASE);
            token.set(c.key, c.token);
            inFlight.push({ ...c, leaseUntil: now + LEASE });
          }
          return got;
        };
        const fire = async (c: Claim) => {
          effect(c);
          const current = token.get(c.key) === c.token;
          expect(await timers.complete(c.key, c.token)).toBe(current);
          if (current) forget(c.key);
        };

        for (const op of ops) {
          const key = 'k' in op ? (KEYS[op.k] as string) : '';
          switch (op.t) {
            case 'schedule': {
              // Each scheduling of a key gets a due time of its own, so runs can be attributed.
              const due = Math.max(clock.now() + op.delta, (lastDue.get(key) ?? 0) + 1);
              lastDue.set(key, due);
              await timers.schedule(key, due, { due });
              owed.set(key, due);
              ready.set(key, due);
              token.delete(key);
              break;
            }
            case 'reschedule': {
              const due = Math.max(clock.now() + op.delta, (lastDue.get(key) ?? 0) + 1);
              expect(await timers.reschedule(key, due)).toBe(owed.has(key));
              if (owed.has(key)) {
                lastDue.set(key, due);
                owed.set(key, due);
                ready.set(key, due);
                token.delete(key);
              }
              break;
            }
            case 'cancel':
              expect(await timers.cancel(key)).toBe(owed.has(key));
              forget(key);
              break;
            case 'advance':
              clock.advance(op.ms);
              break;
            case 'claim':
              await claim(op.limit);
              break;
            case 'fire': {
              const c = take(op.i);
              if (c) await fire(c);
              break;
            }
            case 'fail': {
              const c = take(op.i);
              if (!c) break;
              const current = token.get(c.key) === c.token;
              expect(await timers.retryAt(c.key, c.token, clock.now() + RETRY, 'boom')).toBe(current);
              if (current) {
                ready.set(c.key, clock.now() + RETRY);
                token.delete(c.key);
              }
              break;
            }
            case 'crashAfterEffect': {
              const c = take(op.i);
              if (c) {
                effect(c);
                mayRepeat.add(firingId(c));
              }
              break;
            }
            case 'crash':
              inFlight = [];
              break;
            case 'restart':
              inFlight = [];
              await store.close();
              store = await backend.reopen();
              timers = openTimerStore(store, clock);
              break;
          }
          expect(await timers.count()).toBe(owed.size);
        }

        // Afterwards: every owed firing still fires once time moves on far enough.
        const stillOwed = [...owed].map(([key, dueAt]) => firingId({ key, dueAt }));
        inFlight = [];
        clock.advance(LEASE + RETRY + 10_000);
        while ((await claim(3)).length > 0) {
          for (let c = take(0); c; c = take(0)) await fire(c);
        }
        expect(owed.size).toBe(0);
        expect(await timers.count()).toBe(0);
        expect(await timers.nextDueAt()).toBeUndefined();
        for (const id of stillOwed) expect(applied).toContain(id);
        // A firing runs more than once only where a claimer died after its effect or outlived its lease.
        const repeated = [...runs].filter(([, n]) => n > 1).map(([id]) => id);
        for (const id of repeated) expect(mayRepeat).toContain(id);
      }),
      { numRuns: 40 },
    );
  }, 120_000); // 40 runs of up to 40 operations on PostgreSQL: slow on a busy 2-core machine
});
