/** Shipments (delayed first, with the predicted window of the one opened) and carrier × lane reliability (worst first). */
import { useApi } from '../api.ts';
import { Badge, Card, type Column, Empty, ErrorNote, Loading, Table } from '../components.tsx';
import { fmtInt, fmtNum, fmtPct, fmtTime } from '../format.ts';
import { Link } from '../router.tsx';
import { useLiveTypes } from '../stream.ts';
import type { TabProps } from './signals.tsx';
import { Counted, nullsLast, useFilter } from './signals-common.tsx';

interface ShipmentSummary {
  shipment_id: string;
  carrier: string | null;
  origin: string | null;
  destination: string | null;
  order_id: string | null;
  status: string;
  status_at: string | null;
  promised_at: string | null;
  delivered_at: string | null;
  on_time: boolean | null;
  delayed: boolean;
  delay_reasons: string[];
}

interface ShipmentDetail extends ShipmentSummary {
  tracking_number: string | null;
  service: string | null;
  status_reason: string | null;
  status_location: string | null;
  statuses: { status: string; at: string | null; reason: string | null; location: string | null }[];
  positions_count: number;
  last_position: { lat: number; lon: number; speed_kmh: number | null; at: string | null; source: string } | null;
  prediction: {
    p50: string | null;
    p90: string | null;
    basis: string;
    sample_size: number;
    lane_sample_size: number;
    progress: number | null;
  };
  reliability: Lane | null;
}

interface Lane {
  carrier: string;
  origin: string;
  destination: string;
  delivered_count: number;
  on_time_count: number;
  on_time_share: number;
  transit_p50_hours: number | null;
  transit_p90_hours: number | null;
  sample_size: number;
  last_delivered_at: string | null;
}

const LIVE = ['shipment.*'];

export function statusTone(s: ShipmentSummary): 'bad' | 'warn' | 'good' | 'neutral' {
  if (s.status === 'exception' || s.status === 'returned') return 'bad';
  if (s.delayed) return 'warn';
  if (s.status === 'delivered') return s.on_time === false ? 'warn' : 'good';
  return 'neutral';
}

const ms = (t: string | null) => (t ? Date.parse(t) : null);
const lane = (s: { origin: string | null; destination: string | null }) => `${s.origin ?? '?'} → ${s.destination ?? '?'}`;

export function ShipmentsTab(props: TabProps) {
  const list = useApi<{ shipments: ShipmentSummary[]; next_cursor: string | null }>('/v1/shipments', { limit: 1000 });
  const lanes = useApi<{ lanes: Lane[] }>('/v1/reliability', { limit: 1000 });
  const openId = props.rest[0];
  const detail = useApi<ShipmentDetail>(openId ? `/v1/shipments/${encodeURIComponent(openId)}` : null);
  useLiveTypes(LIVE, () => {
    list.reload();
    lanes.reload();
    if (openId) detail.reload();
  });
  const filter = useFilter('Filter shipments', 'id, carrier, lane, order, status', 'shipments');

  const all = list.data?.shipments ?? [];
  // Delayed and exceptions first, then open ones by promise (soonest first), delivered last.
  const rank = (s: ShipmentSummary) =>
    s.delayed || s.status === 'exception' ? 0 : s.status === 'delivered' || s.status === 'returned' ? 2 : 1;
  const rows = all
    .filter((s) => filter.matches(s.shipment_id, s.carrier, s.origin, s.destination, s.order_id, s.status, ...s.delay_reasons))
    .sort((a, b) => rank(a) - rank(b) || nullsLast(ms(a.promised_at), ms(b.promised_at)) || a.shipment_id.localeCompare(b.shipment_id));
  const delayed = all.filter((s) => s.delayed).length;

  const cols: Column<ShipmentSummary>[] = [
    {
      label: 'Shipment',
      value: (s) => (
        <Link href={`/signals/shipments/${encodeURIComponent(s.shipment_id)}`} aria-current={s.shipment_id === openId ? 'true' : undefined}>
          {s.shipment_id}
        </Link>
      ),
    },
    { label: 'Carrier', value: (s) => s.carrier ?? '—' },
    { label: 'Lane', value: lane },
    {
      label: 'Status',
      value: (s) => (
        <span class="sig-row-actions">
          <Badge tone={statusTone(s)}>{s.status.replaceAll('_', ' ')}</Badge>
          {s.delayed ? <Badge tone="bad">delayed: {s.delay_reasons.join(', ').replaceAll('_', ' ') || 'yes'}</Badge> : null}
        </span>
      ),
    },
    { label: 'Promised', value: (s) => fmtTime(s.promised_at) },
    { label: 'Last status', value: (s) => fmtTime(s.status_at) },
  ];

  return (
    <>
      <Card
        title={
          <Counted
            label="Shipments"
            count={all.length}
            note={delayed > 0 ? `${fmtInt(delayed)} delayed` : undefined}
            testId="shipments-count"
          />
        }
        subtitle="delayed first, then by promised delivery"
        actions={all.length > 8 ? filter.box : undefined}
        testId="shipments"
      >
        <ErrorNote error={list.error} />
        {!list.data && !list.error ? (
          <Loading />
        ) : (
          <Table
            testId="shipments-table"
            rows={rows}
            columns={cols}
            rowKey={(s) => s.shipment_id}
            empty={
              <Empty title={filter.active ? 'No shipment matches the filter.' : 'No shipments yet.'}>
                {filter.active ? null : (
                  <>
                    Publish positions and statuses to <code>pitwall/shipments/&lt;id&gt;</code> over MQTT, or POST{' '}
                    <code>shipment.created</code> / <code>shipment.status</code> CloudEvents to <code>/v1/events</code>.
                  </>
                )}
              </Empty>
            }
          />
        )}
        {list.data?.next_cursor ? <p class="muted small">Showing the first 1,000 shipments.</p> : null}
        {openId ? <ShipmentPanel id={openId} data={detail.data} error={detail.error} /> : null}
      </Card>
      <LanesCard lanes={lanes.data?.lanes} error={lanes.error} />
    </>
  );
}

function ShipmentPanel(props: { id: string; data: ShipmentDetail | undefined; error: Error | undefined }) {
  const s = props.data;
  return (
    <div class="sig-detail" data-testid="shipment-detail">
      <div class="card-head">
        <h3>Shipment {props.id}</h3>
        <Link href="/signals/shipments">Close</Link>
      </div>
      <ErrorNote error={props.error} />
      {!s ? (
        props.error ? null : (
          <Loading />
        )
      ) : (
        <>
          <dl>
            <dt>Predicted delivery</dt>
            <dd class="sig-window" data-testid="shipment-window">
              {s.prediction.p50 ? (
                <>
                  P50 {fmtTime(s.prediction.p50)} · P90 {fmtTime(s.prediction.p90)}
                </>
              ) : (
                'no prediction yet'
              )}{' '}
              <span class="muted small">
                ({s.prediction.basis.replaceAll('_', ' ')}, {fmtInt(s.prediction.sample_size)} past deliveries)
              </span>
            </dd>
            <dt>Promised</dt>
            <dd>{fmtTime(s.promised_at)}</dd>
            <dt>Status</dt>
            <dd>
              <Badge tone={statusTone(s)}>{s.status.replaceAll('_', ' ')}</Badge> {s.status_reason ?? ''}{' '}
              {s.status_location ? <span class="muted">at {s.status_location}</span> : null}
            </dd>
            <dt>Order</dt>
            <dd>{s.order_id ?? '—'}</dd>
            <dt>Last position</dt>
            <dd>
              {s.last_position
                ? `${fmtNum(s.last_position.lat)}, ${fmtNum(s.last_position.lon)} at ${fmtTime(s.last_position.at)} (${fmtInt(s.positions_count)} fixes)`
                : 'no position fixes yet'}
            </dd>
            <dt>Lane on time</dt>
            <dd>
              {s.reliability
                ? `${fmtPct(s.reliability.on_time_share)} of ${fmtInt(s.reliability.delivered_count)} delivered`
                : 'no deliveries on this lane yet'}
            </dd>
          </dl>
          <h3>Status history</h3>
          <ul class="plain small">
            {s.statuses.map((x, i) => (
              <li key={`${x.status}-${i}`}>
                {fmtTime(x.at)} — {x.status.replaceAll('_', ' ')}
                {x.reason ? ` (${x.reason})` : ''}
                {x.location ? `, ${x.location}` : ''}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function LanesCard(props: { lanes: Lane[] | undefined; error: Error | undefined }) {
  const filter = useFilter('Filter lanes', 'carrier, origin, destination', 'lanes');
  const all = props.lanes ?? [];
  const rows = all.filter((l) => filter.matches(l.carrier, l.origin, l.destination)).sort((a, b) => a.on_time_share - b.on_time_share);
  const cols: Column<Lane>[] = [
    { label: 'Carrier', value: (l) => l.carrier },
    { label: 'Lane', value: lane },
    {
      label: 'On time',
      align: 'right',
      value: (l) => `${fmtPct(l.on_time_share)} (${fmtInt(l.on_time_count)} of ${fmtInt(l.delivered_count)})`,
    },
    { label: 'Transit P50', align: 'right', value: (l) => (l.transit_p50_hours === null ? '—' : `${fmtNum(l.transit_p50_hours)} h`) },
    { label: 'Transit P90', align: 'right', value: (l) => (l.transit_p90_hours === null ? '—' : `${fmtNum(l.transit_p90_hours)} h`) },
    { label: 'Last delivery', value: (l) => fmtTime(l.last_delivered_at) },
  ];
  return (
    <Card
      title={<Counted label="Carrier lanes" count={all.length} />}
      subtitle="reliability from delivered shipments, least on time first"
      actions={all.length > 8 ? filter.box : undefined}
      testId="lanes"
    >
      <ErrorNote error={props.error} />
      <Table
        testId="lanes-table"
        rows={rows}
        columns={cols}
        rowKey={(l) => `${l.carrier}|${l.origin}|${l.destination}`}
        empty={
          <Empty title="No deliveries yet.">
            Lanes appear once shipments are delivered (a <code>shipment.delivered</code> event).
          </Empty>
        }
      />
    </Card>
  );
}
