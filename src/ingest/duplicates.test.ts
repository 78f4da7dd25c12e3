/** Duplicate counts per (minute, source, device, type): one upsert adds to what is there. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Backend, describeEachBackend } from '../../test/support/backends.ts';
import type { Store } from '../store/index.ts';
import { recordDuplicates } from './duplicates.ts';

const T0 = Date.parse('2026-01-05T09:00:00Z');

describeEachBackend('ingest duplicate counts', (make) => {
  let backend: Backend;
  let store: Store;
  beforeEach(async () => {
    backend = make();
    store = await backend.open();
  });
  afterEach(async () => {
    await store?.close();
    await backend?.cleanup();
  });

  it('aggregates a request by key, adds later requests of the same minute, and starts a new row per minute', async () => {
    const d = { source: 'urn:gw', device: 'thermo-1', type: 'sensor.reading' };
    await recordDuplicates(store.db, T0 + 1_000, [d, d, { ...d, device: '' }, { ...d, source: 'bad\u0000src' }]);
    await recordDuplicates(store.db, T0 + 59_999, [d]);
    await recordDuplicates(store.db, T0 + 60_000, [d]);
    const rows = await store.db
      .selectFrom('ingest_duplicates')
      .selectAll()
      .orderBy('minute_ms')
      .orderBy('source')
      .orderBy('device')
      .execute();
    expect(rows.map((r) => [Number(r.minute_ms) - T0, r.source, r.device, Number(r.count)])).toEqual([
      [0, 'bad\uFFFDsrc', 'thermo-1', 1],
      [0, 'urn:gw', '', 1],
      [0, 'urn:gw', 'thermo-1', 3],
      [60_000, 'urn:gw', 'thermo-1', 1],
    ]);
  });
});
