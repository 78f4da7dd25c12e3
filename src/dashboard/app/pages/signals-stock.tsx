/** Stock per SKU × warehouse: low rows first, then the fewest days of cover. */
import { useApi } from '../api.ts';
import { Badge, Card, type Column, Empty, ErrorNote, Loading, Table } from '../components.tsx';
import { fmtInt, fmtNum, fmtTime } from '../format.ts';
import { useLiveTypes } from '../stream.ts';
import type { TabProps } from './signals.tsx';
import { Counted, nullsLast, useFilter } from './signals-common.tsx';

interface StockRow {
  sku: string;
  warehouse: string;
  category: string | null;
  on_hand: number | null;
  reserved: number;
  available: number | null;
  daily_depletion: number | null;
  depletion_basis: string | null;
  days_of_cover: number | null;
  low: boolean;
  low_since: string | null;
  reading_at: string | null;
  updated_at: string | null;
}

const LIVE = ['stock.*', 'sensor.reading', 'commerce.order_completed', 'shipment.created'];

export function StockTab(_props: TabProps) {
  const stock = useApi<{ stock: StockRow[]; next_cursor: string | null }>('/v1/stock', { limit: 1000 });
  // Shelf scales report often: reload at most every 5 s.
  useLiveTypes(LIVE, stock.reload, 5000);
  const filter = useFilter('Filter stock', 'SKU, warehouse, category', 'stock');
  const all = stock.data?.stock ?? [];
  const rows = all
    .filter((r) => filter.matches(r.sku, r.warehouse, r.category))
    .sort((a, b) => Number(b.low) - Number(a.low) || nullsLast(a.days_of_cover, b.days_of_cover) || nullsLast(a.available, b.available));
  const low = all.filter((r) => r.low).length;
  const cols: Column<StockRow>[] = [
    { label: 'SKU', value: (r) => <span class="sig-mono">{r.sku}</span> },
    { label: 'Warehouse', value: (r) => r.warehouse },
    { label: 'Category', value: (r) => r.category ?? '—' },
    { label: 'On hand', align: 'right', value: (r) => fmtInt(r.on_hand) },
    { label: 'Reserved', align: 'right', value: (r) => fmtInt(r.reserved) },
    { label: 'Available', align: 'right', value: (r) => fmtInt(r.available) },
    {
      label: 'Sold per day',
      align: 'right',
      title: 'daily depletion over the window, units per day',
      value: (r) => (r.daily_depletion === null ? '—' : `${fmtNum(r.daily_depletion)} / d`),
    },
    { label: 'Days of cover', align: 'right', value: (r) => (r.days_of_cover === null ? '—' : `${fmtNum(r.days_of_cover)} d`) },
    {
      label: 'State',
      value: (r) =>
        r.low ? (
          <Badge tone="bad" title={`low since ${fmtTime(r.low_since)}`}>
            low
          </Badge>
        ) : (
          <Badge tone="good">ok</Badge>
        ),
    },
    { label: 'Last reading', value: (r) => fmtTime(r.reading_at) },
  ];
  return (
    <Card
      title={<Counted label="Stock rows" count={all.length} note={low > 0 ? `${fmtInt(low)} low` : undefined} testId="stock-count" />}
      subtitle="one row per SKU and warehouse; low first, then fewest days of cover (available ÷ units sold per day)"
      actions={all.length > 8 ? filter.box : undefined}
      testId="stock"
    >
      <ErrorNote error={stock.error} />
      {!stock.data && !stock.error ? (
        <Loading />
      ) : (
        <Table
          testId="stock-table"
          rows={rows}
          columns={cols}
          rowKey={(r) => `${r.sku}@${r.warehouse}`}
          empty={
            <Empty title={filter.active ? 'No stock row matches the filter.' : 'No stock known yet.'}>
              {filter.active ? null : (
                <>
                  Send shelf-scale or RFID counts as SenML to <code>/v1/senml</code> (or MQTT <code>pitwall/devices/&lt;id&gt;/senml</code>)
                  named <code>…:shelf:&lt;warehouse&gt;:&lt;sku&gt;</code>; orders and shipments then move it.
                </>
              )}
            </Empty>
          }
        />
      )}
      {stock.data?.next_cursor ? <p class="muted small">Showing the first 1,000 rows.</p> : null}
    </Card>
  );
}
