/** A source's monitor state as JSON-safe data, to persist it between folds and across restarts. */

/** One signal in a snapshot: name, latest event time, latest value, run length, spike window, out-of-range detail. */
export type SignalSnapshot = [
  name: string,
  lastEventTime: number,
  last: number | string | boolean | null,
  run: number,
  window: number[] | null,
  outOfRange: string | null,
];

/** A source's monitor state as JSON-safe data (`QualityMonitor.snapshot` / `restore`). */
export interface SourceSnapshot {
  v: 1;
  lastReceivedAt: number | null;
  inferredKind: 'gps' | 'vehicle' | null;
  lastSpike: string | null;
  lastSkew: string | null;
  degraded: boolean;
  /** Outcome bit masks, oldest first. */
  outcomes: number[];
  /** Least recently updated first (the order the signal limit evicts in). */
  signals: SignalSnapshot[];
}
