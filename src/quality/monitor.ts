/**
 * Data-quality monitor: per source, watches readings for staleness, flat lines, impossible values,
 * spikes, clock skew, duplicates and schema rejects; scores each source 0–100 and reports
 * degraded/recovered transitions with hysteresis. Pure and deterministic: time is always passed in.
 *
 * Words: a *source* is a device or sender id; a *signal* is one named measurement of it (VSS path,
 * resolved SenML name, `lat`/`lon`); an *observation* is one reading (or one duplicate/rejected
 * item) as it arrived; a *flag* is a problem in effect now, with the points it costs.
 */
import { boundsFor, LATITUDE, LONGITUDE } from './bounds.ts';
import { type QualityConfig, type QualityFlagKind, type QualityOptions, type RateFlagKind, resolveConfig } from './config.ts';
import { fmtMs, round1, summarise } from './format.ts';
import type { SignalSnapshot, SourceSnapshot } from './snapshot.ts';
import { NumberRing, OutcomeRing, robustZ } from './stats.ts';

export interface Observation {
  source: string;
  signal: string;
  value: number | string | boolean;
  /** Unit (SenML `u` or VSS unit), used to look up physical bounds. */
  unit?: string;
  /** When the reading was taken (ms since epoch, the sender's clock). */
  eventTime: number;
  /** When Pitwall received it (ms since epoch, Pitwall's clock). */
  receivedAt: number;
  /** Ingest found it already in the log. */
  duplicate?: boolean;
  /** Ingest rejected it (schema); its value is not trusted. */
  rejected?: boolean;
}

export interface QualityFlag {
  kind: QualityFlagKind;
  detail: string;
  /** Points this flag takes off the score. */
  penalty: number;
}

export interface QualityScore {
  score: number;
  flags: QualityFlag[];
}

export interface QualityTransition {
  type: 'quality.degraded' | 'quality.recovered';
  source: string;
  score: number;
  /** `kind: detail` of each flag in effect at the transition. */
  reasons: string[];
  /** The time the transition was seen at (ms); with `source`, a stable key for a derived event id. */
  at: number;
}

const BIT: Record<RateFlagKind, number> = { duplicates: 0, rejects: 1, clock_skew: 2, spike: 3 };
const RATE_KINDS: RateFlagKind[] = ['spike', 'clock_skew', 'duplicates', 'rejects'];
const GATE_BLOCKERS: ReadonlySet<QualityFlagKind> = new Set(['flat_line', 'stale', 'out_of_range']);

interface SignalState {
  /** Latest event time taken into the sequence; older readings do not move the sequence. */
  lastEventTime: number;
  last: number | string | boolean | undefined;
  /** Consecutive identical readings ending with `last`. */
  run: number;
  window: NumberRing | undefined;
  /** Detail when the latest reading is outside physical bounds. */
  outOfRange: string | undefined;
  /** `lat` / `lon` with the rest of the name as the position key, for GPS pairing. */
  position: { axis: 'lat' | 'lon'; key: string } | undefined;
}

interface SourceState {
  id: string;
  signals: Map<string, SignalState>;
  outcomes: OutcomeRing;
  lastReceivedAt: number;
  inferredKind: 'gps' | 'vehicle' | undefined;
  lastSpike: string | undefined;
  lastSkew: string | undefined;
  degraded: boolean;
}

export class QualityMonitor {
  readonly config: QualityConfig;
  private readonly sourcesById = new Map<string, SourceState>();
  private pending: QualityTransition[] = [];

  constructor(opts: QualityOptions = {}) {
    this.config = resolveConfig(opts);
  }

  /** Takes one observation in; any order of event times is safe. */
  observe(o: Observation): void {
    const c = this.config;
    const s = this.sourceFor(o.source);
    s.lastReceivedAt = Math.max(s.lastReceivedAt, o.receivedAt);
    let mask = 0;
    if (o.duplicate) mask |= 1 << BIT.duplicates;
    if (o.rejected) mask |= 1 << BIT.rejects;
    const skew = o.eventTime - o.receivedAt;
    const skewed = !Number.isFinite(skew) || skew > c.skewToleranceMs || skew < -c.maxLagMs;
    if (skewed) {
      mask |= 1 << BIT.clock_skew;
      s.lastSkew = Number.isFinite(skew)
        ? `${o.signal} event time ${skew > 0 ? 'ahead' : 'behind'} by ${fmtMs(Math.abs(skew))}`
        : 'no event time';
    }
    // Only clean, in-order readings move the per-signal sequence: a resend, a reject or a reading
    // with a wrong clock would otherwise fake a flat line or freeze the sequence in the future.
    if (!o.duplicate && !o.rejected && !skewed) {
      const sig = this.signalFor(s, o.signal);
      if (o.eventTime > sig.lastEventTime) {
        sig.lastEventTime = o.eventTime;
        if (this.advance(sig, o)) {
          mask |= 1 << BIT.spike;
          s.lastSpike = `${o.signal} = ${o.value}`;
        }
      }
    }
    s.outcomes.push(mask);
    this.evaluate(s, s.lastReceivedAt);
  }

  /** Re-evaluates every source at `now` (staleness) and forgets sources silent past `forgetAfterMs`. */
  tick(now: number): void {
    for (const [id, s] of this.sourcesById) {
      if (now - s.lastReceivedAt > this.config.forgetAfterMs) this.sourcesById.delete(id);
      else this.evaluate(s, now);
    }
  }

  /** Transitions since the last call (evaluating every source at `now` first), oldest first. */
  transitions(now: number): QualityTransition[] {
    for (const s of this.sourcesById.values()) this.evaluate(s, now);
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** Score and flags of `source` at `now`; a source never seen scores 0 and is stale. */
  score(source: string, now: number): QualityScore {
    const s = this.sourcesById.get(source);
    if (!s) return { score: 0, flags: [{ kind: 'stale', detail: 'no observations', penalty: 100 }] };
    return this.compute(s, now);
  }

  /** The gate for workflows: no flat line, staleness or impossible value in effect, and score ≥ `degradedBelow`. */
  isTrusted(source: string, now: number): boolean {
    const s = this.sourcesById.get(source);
    if (!s) return false;
    const { score, flags } = this.compute(s, now);
    return score >= this.config.degradedBelow && !flags.some((f) => GATE_BLOCKERS.has(f.kind));
  }

  /** Ids of the sources currently tracked. */
  sources(): string[] {
    return [...this.sourcesById.keys()];
  }

  /** Evaluates one source at `now` (staleness), queueing a transition if it crosses a threshold. */
  evaluateAt(source: string, now: number): void {
    const s = this.sourcesById.get(source);
    if (s) this.evaluate(s, now);
  }

  /** The transitions queued so far, oldest first, without evaluating anything first; empties the queue. */
  drain(): QualityTransition[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** Hysteresis state: true from a `quality.degraded` transition until the next `quality.recovered`. */
  isDegraded(source: string): boolean {
    return this.sourcesById.get(source)?.degraded ?? false;
  }

  /** When `source` last received anything (ms), if it ever did. */
  lastReceivedAt(source: string): number | undefined {
    const t = this.sourcesById.get(source)?.lastReceivedAt;
    return t !== undefined && Number.isFinite(t) ? t : undefined;
  }

  /** The first instant at which `source` counts as stale if nothing more arrives. */
  staleAt(source: string): number | undefined {
    const s = this.sourcesById.get(source);
    if (!s || !Number.isFinite(s.lastReceivedAt)) return undefined;
    return s.lastReceivedAt + this.staleAfter(s) + 1;
  }

  /** The state of one source as JSON-safe data, to persist it between batches and across restarts. */
  snapshot(source: string): SourceSnapshot | undefined {
    const s = this.sourcesById.get(source);
    if (!s) return undefined;
    return {
      v: 1,
      lastReceivedAt: Number.isFinite(s.lastReceivedAt) ? s.lastReceivedAt : null,
      inferredKind: s.inferredKind ?? null,
      lastSpike: s.lastSpike ?? null,
      lastSkew: s.lastSkew ?? null,
      degraded: s.degraded,
      outcomes: s.outcomes.values(),
      signals: [...s.signals].map(
        ([name, sig]): SignalSnapshot => [
          name,
          sig.lastEventTime,
          sig.last ?? null,
          sig.run,
          sig.window ? [...sig.window.values()] : null,
          sig.outOfRange ?? null,
        ],
      ),
    };
  }

  /** Replaces the state of `source` with a snapshot taken by `snapshot` (possibly in another process). */
  restore(source: string, snap: SourceSnapshot): void {
    const s = this.sourceFor(source);
    s.signals.clear();
    s.outcomes = new OutcomeRing(this.config.outcomeWindow, 4);
    for (const mask of snap.outcomes) s.outcomes.push(mask);
    s.lastReceivedAt = snap.lastReceivedAt ?? Number.NEGATIVE_INFINITY;
    s.inferredKind = snap.inferredKind ?? undefined;
    s.lastSpike = snap.lastSpike ?? undefined;
    s.lastSkew = snap.lastSkew ?? undefined;
    s.degraded = snap.degraded;
    for (const [name, lastEventTime, last, run, values, outOfRange] of snap.signals) {
      let window: NumberRing | undefined;
      if (values) {
        window = new NumberRing(this.config.spikeWindow);
        for (const x of values) window.push(x);
      }
      s.signals.set(name, {
        lastEventTime,
        last: last ?? undefined,
        run,
        window,
        outOfRange: outOfRange ?? undefined,
        position: positionOf(name),
      });
    }
  }

  /** Stops tracking `source`. */
  forget(source: string): void {
    this.sourcesById.delete(source);
  }

  private staleAfter(s: SourceState): number {
    const c = this.config;
    const kind = c.kindOf?.(s.id) ?? s.inferredKind ?? 'default';
    return c.staleAfterMs[kind] ?? c.staleAfterMs.default;
  }

  /** Moves a signal's sequence by one in-order reading; true when the reading is a spike. */
  private advance(sig: SignalState, o: Observation): boolean {
    const c = this.config;
    const v = o.value;
    if (Object.is(v, sig.last)) sig.run++;
    else {
      sig.last = v;
      sig.run = 1;
    }
    if (typeof v !== 'number') {
      sig.outOfRange = undefined;
      return false;
    }
    const b = boundsFor(c.bounds, o.signal, o.unit);
    if (!Number.isFinite(v)) sig.outOfRange = `${o.signal} = ${v}`;
    else if (b && (v < b.min || v > b.max)) sig.outOfRange = `${o.signal} = ${v} outside ${b.min}…${b.max} (${b.label})`;
    else sig.outOfRange = undefined;
    // Impossible values stay out of the spike window. Coordinates are not spike-checked: a vehicle
    // moving off after a stop (or a frozen fix) is a jump in position, not a faulty reading.
    if (sig.outOfRange || sig.position) return false;
    sig.window ??= new NumberRing(c.spikeWindow);
    const z = sig.window.size >= c.spikeMinSamples ? robustZ(sig.window, v) : undefined;
    sig.window.push(v);
    return z !== undefined && Math.abs(z) > c.spikeZ;
  }

  private compute(s: SourceState, now: number): QualityScore {
    const c = this.config;
    const flags: QualityFlag[] = [];
    const staleAfter = this.staleAfter(s);
    const silent = now - s.lastReceivedAt;
    if (silent > staleAfter) {
      flags.push({ kind: 'stale', detail: `nothing for ${fmtMs(silent)} (limit ${fmtMs(staleAfter)})`, penalty: c.weights.stale });
    }
    const flat = this.flatLines(s);
    if (flat.length > 0) flags.push({ kind: 'flat_line', detail: summarise(flat), penalty: c.weights.flat_line });
    const bad: string[] = [];
    for (const sig of s.signals.values()) if (sig.outOfRange) bad.push(sig.outOfRange);
    if (bad.length > 0) flags.push({ kind: 'out_of_range', detail: summarise(bad), penalty: c.weights.out_of_range });
    for (const k of RATE_KINDS) {
      const n = s.outcomes.countOf(BIT[k]);
      if (n === 0) continue;
      const rate = s.outcomes.rate(BIT[k]);
      const last = k === 'spike' ? s.lastSpike : k === 'clock_skew' ? s.lastSkew : undefined;
      const detail = `${n} of last ${s.outcomes.size} (${Math.round(rate * 100)}%)${last ? `; last: ${last}` : ''}`;
      const penalty = round1(c.weights[k] * Math.min(1, rate / c.fullPenaltyAt[k]));
      flags.push({ kind: k, detail, penalty });
    }
    const total = flags.reduce((sum, f) => sum + f.penalty, 0);
    return { score: Math.max(0, Math.min(100, Math.round(100 - total))), flags };
  }

  /** Numeric signals stuck at one value, and GPS positions (lat+lon pairs) unchanged, for N readings. */
  private flatLines(s: SourceState): string[] {
    const n = this.config.flatLineCount;
    const out: string[] = [];
    const fixes = new Map<string, { lat?: number; lon?: number }>();
    for (const [name, sig] of s.signals) {
      if (sig.position) {
        const p = fixes.get(sig.position.key) ?? {};
        p[sig.position.axis] = Math.min(p[sig.position.axis] ?? Number.POSITIVE_INFINITY, sig.run);
        fixes.set(sig.position.key, p);
      } else if (typeof sig.last === 'number' && sig.run >= n && !this.config.flatLineExempt.some((re) => re.test(name))) {
        out.push(`${name} identical ${sig.run} times (${sig.last})`);
      }
    }
    for (const [key, p] of fixes) {
      const run = Math.min(p.lat ?? 0, p.lon ?? 0);
      if (run >= n) out.push(`${key ? `${key} ` : ''}position unchanged across ${run} fixes`);
    }
    return out;
  }

  private evaluate(s: SourceState, now: number): void {
    const c = this.config;
    const { score, flags } = this.compute(s, now);
    let type: QualityTransition['type'] | undefined;
    if (!s.degraded && score < c.degradedBelow) type = 'quality.degraded';
    else if (s.degraded && score >= c.recoveredAt) type = 'quality.recovered';
    if (!type) return;
    s.degraded = type === 'quality.degraded';
    this.pending.push({ type, source: s.id, score, reasons: flags.map((f) => `${f.kind}: ${f.detail}`), at: now });
  }

  private sourceFor(id: string): SourceState {
    let s = this.sourcesById.get(id);
    if (!s) {
      s = {
        id,
        signals: new Map(),
        outcomes: new OutcomeRing(this.config.outcomeWindow, 4),
        lastReceivedAt: Number.NEGATIVE_INFINITY,
        inferredKind: undefined,
        lastSpike: undefined,
        lastSkew: undefined,
        degraded: false,
      };
      this.sourcesById.set(id, s);
    }
    return s;
  }

  /** The signal's state, made most recently used; the least recently used is dropped past the limit. */
  private signalFor(s: SourceState, name: string): SignalState {
    let sig = s.signals.get(name);
    if (sig) s.signals.delete(name);
    else {
      const position = positionOf(name);
      if (position) s.inferredKind = 'gps';
      else if (s.inferredKind === undefined && name.startsWith('Vehicle.')) s.inferredKind = 'vehicle';
      sig = { lastEventTime: Number.NEGATIVE_INFINITY, last: undefined, run: 0, window: undefined, outOfRange: undefined, position };
    }
    s.signals.set(name, sig);
    if (s.signals.size > this.config.maxSignalsPerSource) {
      const oldest = s.signals.keys().next();
      if (!oldest.done) s.signals.delete(oldest.value);
    }
    return sig;
  }
}

function positionOf(name: string): SignalState['position'] {
  const lat = LATITUDE.exec(name);
  if (lat) return { axis: 'lat', key: name.slice(0, lat.index) };
  const lon = LONGITUDE.exec(name);
  if (lon) return { axis: 'lon', key: name.slice(0, lon.index) };
  return undefined;
}
