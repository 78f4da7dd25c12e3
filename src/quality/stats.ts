/** Fixed-size numeric ring buffer and robust statistics (median, MAD, robust z-score). */

/** Keeps the last `capacity` numbers; memory never grows past that. */
export class NumberRing {
  private readonly buf: Float64Array;
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.buf = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(x: number): void {
    this.buf[this.next] = x;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** The held values, oldest first. */
  values(): number[] {
    return orderedFrom(this.buf, this.next, this.count, this.capacity);
  }

  /** A sorted copy of the held values. */
  sorted(): Float64Array {
    return this.buf.slice(0, this.count).sort();
  }
}

function medianOfSorted(s: Float64Array): number {
  const n = s.length;
  const mid = n >> 1;
  return n % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/**
 * Robust (modified) z-score of `x` against `window` (Iglewicz & Hoaglin): 0.6745·(x − median)/MAD.
 * When MAD is 0 (more than half the window identical, as with a quantised sensor), the smallest
 * non-zero deviation from the median stands in for it: it is the sensor's step, and a one-step
 * change is not a spike. A constant window has no scale at all, so the result is undefined (the
 * flat-line check covers constant series).
 */
export function robustZ(window: NumberRing, x: number): number | undefined {
  const s = window.sorted();
  if (s.length === 0) return undefined;
  const med = medianOfSorted(s);
  const dev = new Float64Array(s.length);
  // Differences below this are floating-point noise, not a sensor step.
  const noise = 1e-9 * Math.max(1, Math.abs(med));
  let step = Number.POSITIVE_INFINITY;
  for (let i = 0; i < s.length; i++) {
    const d = Math.abs((s[i] ?? 0) - med);
    dev[i] = d;
    if (d > noise && d < step) step = d;
  }
  const mad = medianOfSorted(dev.sort());
  const scale = mad > noise ? mad : step;
  return Number.isFinite(scale) ? (0.6745 * (x - med)) / scale : undefined;
}

/** Keeps the last `capacity` observation outcomes as bit masks, with a running count per bit. */
export class OutcomeRing {
  private readonly buf: Uint8Array;
  private next = 0;
  private count = 0;
  private readonly perBit: number[];

  constructor(
    readonly capacity: number,
    bits: number,
  ) {
    this.buf = new Uint8Array(capacity);
    this.perBit = new Array<number>(bits).fill(0);
  }

  get size(): number {
    return this.count;
  }

  push(mask: number): void {
    if (this.count === this.capacity) this.adjust(this.buf[this.next] ?? 0, -1);
    else this.count++;
    this.buf[this.next] = mask;
    this.adjust(mask, +1);
    this.next = (this.next + 1) % this.capacity;
  }

  /** The held masks, oldest first. */
  values(): number[] {
    return orderedFrom(this.buf, this.next, this.count, this.capacity);
  }

  /** How many held outcomes have `bit` set. */
  countOf(bit: number): number {
    return this.perBit[bit] ?? 0;
  }

  /** Share (0..1) of held outcomes with `bit` set; 0 when empty. */
  rate(bit: number): number {
    return this.count === 0 ? 0 : this.countOf(bit) / this.count;
  }

  private adjust(mask: number, by: number): void {
    for (let b = 0; b < this.perBit.length; b++) {
      if (mask & (1 << b)) this.perBit[b] = (this.perBit[b] ?? 0) + by;
    }
  }
}

/** A ring's contents oldest first: `next` is the write position, so when full the oldest sits there. */
function orderedFrom(buf: ArrayLike<number>, next: number, count: number, capacity: number): number[] {
  const out: number[] = [];
  const start = count < capacity ? 0 : next;
  for (let i = 0; i < count; i++) out.push(buf[(start + i) % capacity] ?? 0);
  return out;
}
