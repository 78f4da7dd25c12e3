/** A small time-to-live cache on the injected clock, bounded in size (the oldest entries go first). */
import type { Clock } from '../core/index.ts';

export class TtlCache<V> {
  private readonly map = new Map<string, { value: V; untilMs: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly max = 50_000,
  ) {}

  get(key: string): V | undefined {
    const hit = this.map.get(key);
    if (hit === undefined) return undefined;
    if (hit.untilMs <= this.clock.now()) {
      this.map.delete(key);
      return undefined;
    }
    return hit.value;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    if (this.map.size >= this.max) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.delete(key);
    this.map.set(key, { value, untilMs: this.clock.now() + this.ttlMs });
  }

  /** The cached values for `keys`, loading the misses with one call. */
  async many(keys: readonly string[], load: (missing: string[]) => Promise<Map<string, V>>, absent: V): Promise<Map<string, V>> {
    const out = new Map<string, V>();
    const missing: string[] = [];
    for (const k of keys) {
      const v = this.get(k);
      if (v === undefined) missing.push(k);
      else out.set(k, v);
    }
    if (missing.length > 0) {
      const loaded = await load(missing);
      for (const k of missing) {
        const v = loaded.get(k) ?? absent;
        this.set(k, v);
        out.set(k, v);
      }
    }
    return out;
  }

  /** The cached value, or load and cache it. */
  async through(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const v = await load();
    this.set(key, v);
    return v;
  }

  clear(): void {
    this.map.clear();
  }
}
