import { describe, expect, it } from 'vitest';
import { PollLoop, pollWaitMs } from './poll.ts';

describe('pollWaitMs', () => {
  it('goes on at once after a full batch, sleeps until the next due time, at most maxIdleMs', () => {
    expect(pollWaitMs(500, 500, undefined, 0, 1000)).toBe(0);
    expect(pollWaitMs(3, 500, undefined, 0, 1000)).toBe(1000);
    expect(pollWaitMs(3, 500, 250, 100, 1000)).toBe(150);
    expect(pollWaitMs(3, 500, 5000, 100, 1000)).toBe(1000);
    expect(pollWaitMs(3, 500, 50, 100, 1000)).toBe(0); // overdue after a claim: go on
    expect(pollWaitMs(0, 500, 50, 100, 1000)).toBe(1); // due but held by another claimer: back off
  });
});

describe('PollLoop', () => {
  it('wake() ends a long sleep, a failed round is reported and the loop goes on, stop() drains', async () => {
    const errors: unknown[] = [];
    let rounds = 0;
    let next: (() => void) | undefined;
    let drained = false;
    const loop = new PollLoop(
      async () => {
        rounds++;
        next?.();
        if (rounds === 2) throw new Error('boom');
        return 60_000; // a long sleep: only wake() ends it
      },
      {
        maxIdleMs: 60_000,
        onError: (e) => errors.push(e),
        drain: async () => {
          drained = true;
        },
      },
    );
    const roundDone = () =>
      new Promise<void>((r) => {
        next = r;
      });
    // The round has returned once its loop is asleep: one macrotask later (no timers involved).
    const asleep = () => new Promise((r) => setImmediate(r));
    let done = roundDone();
    loop.start();
    await done;
    await asleep();
    expect(rounds).toBe(1);
    done = roundDone();
    loop.wake();
    await done;
    await asleep();
    expect(rounds).toBe(2);
    done = roundDone();
    loop.wake();
    await done;
    expect(rounds).toBe(3);
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom']);
    await loop.stop();
    expect(drained).toBe(true);
  });
});
