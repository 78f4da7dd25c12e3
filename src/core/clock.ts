/**
 * Time source. Every timestamp Pitwall assigns comes from a Clock that is passed in,
 * so tests and backtests can run on fake time and the demo on accelerated time.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, on this clock's time line. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that runs `speed` times faster than wall time from `start` (default: the moment it is made). */
export function scaledClock(speed: number, base: Clock = systemClock, start: number = base.now()): Clock {
  if (speed === 1) return base;
  return { now: () => Math.floor(start + (base.now() - start) * speed) };
}

/** A clock that only moves when told to; for tests. */
export class FakeClock implements Clock {
  constructor(private t = Date.parse('2026-01-05T09:00:00Z')) {}
  now(): number {
    return this.t;
  }
  set(ms: number): void {
    this.t = ms;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
