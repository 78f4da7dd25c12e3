/**
 * Daily bands (P5 / P50 / P95 and mean of closing cash and cumulative gross margin) computed in
 * two steps so the heavy part runs where the paths were simulated (a worker thread):
 *
 * 1. `sortShare` (per share of paths, in the worker): turns the share's path-major daily values
 *    into day-major runs, each sorted, in place (no extra buffer beyond one share), and writes a
 *    sum per block of `BAND_BLOCK` paths and day.
 * 2. `mergeBands` (on the caller's thread): each quantile is an order statistic of the union of
 *    the sorted runs, found by a binary search over the runs (exact: the same value whatever the
 *    split); each mean adds the block sums in path order (the same additions whatever the split,
 *    as long as shares start on a block boundary — `shareBounds` makes them).
 *
 * So bands from 2 worker threads equal those from 1 thread bit for bit.
 */

/** Paths per block of the mean's partial sums; a share starts on a multiple of it. */
export const BAND_BLOCK = 64;

/** Day-sorted daily values per share, and per-block sums: what a worker leaves for the merge. */
export interface BandParts {
  /** [p0, p1) of each share; run of day t of a share at `p0·days + t·(p1 − p0)`. */
  shares: { p0: number; p1: number }[];
  cash: Float32Array;
  gm: Float32Array;
  /** [(block·days + t)·2 + 0 | 1]: Σ cash | Σ gm over the block's paths on day t. */
  sums: Float64Array;
}

/** Splits [0, paths) into at most `threads` shares that start on block boundaries. */
export function shareBounds(paths: number, threads: number): { p0: number; p1: number }[] {
  const per = Math.ceil(Math.ceil(paths / threads) / BAND_BLOCK) * BAND_BLOCK;
  const out: { p0: number; p1: number }[] = [];
  for (let p0 = 0; p0 < paths; p0 += per) out.push({ p0, p1: Math.min(paths, p0 + per) });
  return out;
}

export function allocateSums(paths: number, days: number, shared: boolean): Float64Array {
  const len = Math.ceil(paths / BAND_BLOCK) * days * 2;
  return new Float64Array(shared ? new SharedArrayBuffer(len * 8) : new ArrayBuffer(len * 8));
}

/**
 * Sorts `u` (the bits of float32 values) ascending by value: LSD radix sort on the order-preserving
 * key (negative: all bits flipped; positive: sign bit set), digits of 11, 11 and 10 bits. Linear
 * time — V8's typed-array sort costs ≈ 10× more here. `keys` and `scratch` hold ≥ u.length.
 */
function radixSortF32Bits(
  u: Uint32Array,
  keys: Uint32Array,
  scratch: Uint32Array,
  c0: Uint32Array,
  c1: Uint32Array,
  c2: Uint32Array,
): void {
  const n = u.length;
  c0.fill(0);
  c1.fill(0);
  c2.fill(0);
  for (let i = 0; i < n; i++) {
    const x = u[i] as number;
    const k = (x & 0x80000000 ? ~x : x | 0x80000000) >>> 0;
    keys[i] = k;
    c0[k & 0x7ff] = (c0[k & 0x7ff] as number) + 1;
    c1[(k >>> 11) & 0x7ff] = (c1[(k >>> 11) & 0x7ff] as number) + 1;
    c2[k >>> 22] = (c2[k >>> 22] as number) + 1;
  }
  for (const c of [c0, c1, c2]) {
    let acc = 0;
    for (let i = 0; i < c.length; i++) {
      const v = c[i] as number;
      c[i] = acc;
      acc += v;
    }
  }
  for (let i = 0; i < n; i++) {
    const k = keys[i] as number;
    const d = k & 0x7ff;
    scratch[c0[d] as number] = k;
    c0[d] = (c0[d] as number) + 1;
  }
  for (let i = 0; i < n; i++) {
    const k = scratch[i] as number;
    const d = (k >>> 11) & 0x7ff;
    keys[c1[d] as number] = k;
    c1[d] = (c1[d] as number) + 1;
  }
  for (let i = 0; i < n; i++) {
    const k = keys[i] as number;
    const d = k >>> 22;
    scratch[c2[d] as number] = k;
    c2[d] = (c2[d] as number) + 1;
  }
  for (let i = 0; i < n; i++) {
    const k = scratch[i] as number;
    u[i] = (k & 0x80000000 ? k ^ 0x80000000 : ~k) >>> 0;
  }
}

/**
 * Paths [p0, p1) of path-major `cash` / `gm` ([p·days + t]) → per-day sorted runs in the same
 * range, plus block sums into `sums`. `p0` must be a multiple of BAND_BLOCK.
 */
export function sortShare(cash: Float32Array, gm: Float32Array, sums: Float64Array, p0: number, p1: number, days: number): void {
  const n = p1 - p0;
  const tmp = new Float32Array(n * days);
  const bits = new Uint32Array(tmp.buffer);
  const keys = new Uint32Array(n);
  const scratch = new Uint32Array(n);
  const c0 = new Uint32Array(2048);
  const c1 = new Uint32Array(2048);
  const c2 = new Uint32Array(1024);
  for (const [src, k] of [
    [cash, 0],
    [gm, 1],
  ] as const) {
    for (let b = p0; b < p1; b += BAND_BLOCK) {
      const e = Math.min(p1, b + BAND_BLOCK);
      const row = (b / BAND_BLOCK) * days;
      for (let t = 0; t < days; t++) {
        let s = 0;
        for (let p = b; p < e; p++) {
          const v = src[p * days + t] as number;
          s += v;
          tmp[t * n + (p - p0)] = v;
        }
        sums[(row + t) * 2 + k] = s;
      }
    }
    for (let t = 0; t < days; t++) radixSortF32Bits(bits.subarray(t * n, (t + 1) * n), keys, scratch, c0, c1, c2);
    src.set(tmp, p0 * days);
  }
}

/** Count of values < x (strict) or ≤ x in a sorted run. */
function rank(a: Float32Array, x: number, orEqual: boolean): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = a[mid] as number;
    if (v < x || (orEqual && v === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The k-th smallest (0-based) of the union of sorted runs. */
export function kthOfSorted(runs: readonly Float32Array[], k: number): number {
  for (const a of runs) {
    let lo = 0;
    let hi = a.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = a[mid] as number;
      let less = 0;
      let lessEq = 0;
      for (const b of runs) {
        less += rank(b, x, false);
        lessEq += rank(b, x, true);
      }
      if (less > k) hi = mid - 1;
      else if (lessEq <= k) lo = mid + 1;
      else return x + 0; // + 0: −0 and 0 are one value
    }
  }
  return Number.NaN;
}

export interface Band {
  day: number;
  p5: number;
  p50: number;
  p95: number;
  mean: number;
}

/** Bands per day from the sorted runs and block sums (type-1 quantiles: the ⌈q·n⌉-th smallest). */
export function mergeBands(parts: BandParts, paths: number, days: number): { cash: Band[]; gm: Band[] } {
  const blocks = Math.ceil(paths / BAND_BLOCK);
  const probs = [0.05, 0.5, 0.95];
  const ks = probs.map((q) => Math.min(paths - 1, Math.max(0, Math.ceil(q * paths) - 1)));
  const out = { cash: [] as Band[], gm: [] as Band[] };
  for (const [arr, k, list] of [
    [parts.cash, 0, out.cash],
    [parts.gm, 1, out.gm],
  ] as const) {
    for (let t = 0; t < days; t++) {
      const runs = parts.shares.map(({ p0, p1 }) => arr.subarray(p0 * days + t * (p1 - p0), p0 * days + (t + 1) * (p1 - p0)));
      let s = 0;
      for (let b = 0; b < blocks; b++) s += parts.sums[(b * days + t) * 2 + k] as number;
      const [p5, p50, p95] = ks.map((kk) => kthOfSorted(runs, kk)) as [number, number, number];
      list.push({ day: t, p5, p50, p95, mean: s / paths });
    }
  }
  return out;
}
