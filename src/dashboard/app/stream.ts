/**
 * The live feed (`GET /v1/stream`, Server-Sent Events): one EventSource for the whole app,
 * shared by every page. `useLiveTypes` reloads a page's data when events of its types arrive.
 */
import { useEffect, useRef } from 'preact/hooks';

export interface StreamBatch {
  at: number;
  head: number;
  sources: Record<string, number>;
  types: Record<string, number>;
  recent: { seq: number; type: string; source: string; subject: string | null; time: string }[];
  skipped: number;
}

type Listener = (batch: StreamBatch, live: boolean) => void;

const listeners = new Set<Listener>();
let source: EventSource | undefined;
let history: StreamBatch[] = [];

function connect(): void {
  if (source) return;
  source = new EventSource('/v1/stream');
  source.addEventListener('history', (e) => {
    history = (JSON.parse((e as MessageEvent<string>).data) as { batches: StreamBatch[] }).batches;
    for (const b of history) for (const l of listeners) l(b, false);
  });
  source.addEventListener('batch', (e) => {
    const batch = JSON.parse((e as MessageEvent<string>).data) as StreamBatch;
    history.push(batch);
    if (history.length > 900) history = history.slice(-900);
    for (const l of listeners) l(batch, true);
  });
}

export function disconnectStream(): void {
  source?.close();
  source = undefined;
  history = [];
}

/** Subscribes to batches: first the retained history (live = false), then each new one. */
export function useStream(listener: Listener): void {
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => {
    const l: Listener = (b, live) => ref.current(b, live);
    listeners.add(l);
    connect();
    for (const b of history) l(b, false);
    return () => {
      listeners.delete(l);
    };
  }, []);
}

/** Calls `reload` (at most every `minMs`) when a live batch holds an event whose type matches one of `types` (exact, or `prefix.*`). */
export function useLiveTypes(types: readonly string[], reload: () => void, minMs = 2000): void {
  const last = useRef(0);
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(pending.current), []);
  useStream((batch, live) => {
    if (!live) return;
    const hit = Object.keys(batch.types).some((t) => types.some((p) => (p.endsWith('.*') ? t.startsWith(p.slice(0, -1)) : t === p)));
    if (!hit) return;
    const wait = last.current + minMs - Date.now();
    if (wait <= 0) {
      last.current = Date.now();
      reload();
    } else if (!pending.current) {
      pending.current = setTimeout(() => {
        pending.current = undefined;
        last.current = Date.now();
        reload();
      }, wait);
    }
  });
}
