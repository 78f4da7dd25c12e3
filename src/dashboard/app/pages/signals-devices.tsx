/** Devices (silent first) with one device's signals, and a vehicle lookup by VIN or customer. */
import { useState } from 'preact/hooks';
import { useApi } from '../api.ts';
import { Badge, Button, Card, type Column, Empty, ErrorNote, Loading, Table } from '../components.tsx';
import { fmtInt, fmtNum, fmtPct, fmtTime } from '../format.ts';
import { Link } from '../router.tsx';
import { useLiveTypes } from '../stream.ts';
import type { TabProps } from './signals.tsx';
import { byTimeDesc, Counted, useFilter } from './signals-common.tsx';

interface Device {
  device_id: string;
  kind: string | null;
  store: string | null;
  firmware: string | null;
  last_seen_at: string | null;
  message_count: number;
  battery: { percent: number | null; voltage: number | null };
  silent: boolean;
  silent_since: string | null;
}

interface DeviceState extends Device {
  signals: {
    signal: string;
    unit: string | null;
    last_value: number | null;
    last_text: string | null;
    last_at: string | null;
    count: number;
    min: number | null;
    max: number | null;
    mean: number | null;
  }[];
}

interface Part {
  part_type: string;
  signal: string;
  value: number | null;
  threshold: number;
  direction: string;
  due: boolean;
  trend: { projected_at: string | null } | null;
}

interface Vehicle {
  vehicle_id: string;
  vin: string | null;
  customer_id: string | null;
  last_seen_at: string | null;
  signals: Record<string, { value: unknown; unit: string | null; at: string | null }>;
  devices: { device_id: string; kind: string | null }[];
  parts: Part[];
  due_services: Part[];
}

const LIVE = ['device.*', 'sensor.*', 'vehicle.signal', 'part.*'];

export function DevicesTab(props: TabProps) {
  const devices = useApi<{ devices: Device[]; next_cursor: string | null }>('/v1/devices', { limit: 1000 });
  const openId = props.rest[0];
  const state = useApi<DeviceState>(openId ? `/v1/devices/${encodeURIComponent(openId)}/state` : null);
  // sensor.reading arrives often: at most one reload every 5 s.
  useLiveTypes(
    LIVE,
    () => {
      devices.reload();
      if (openId) state.reload();
    },
    5000,
  );
  const filter = useFilter('Filter devices', 'id, kind, store', 'devices');
  const all = devices.data?.devices ?? [];
  const rows = all
    .filter((d) => filter.matches(d.device_id, d.kind, d.store, d.firmware))
    .sort((a, b) => Number(b.silent) - Number(a.silent) || byTimeDesc(a.last_seen_at, b.last_seen_at));
  const silent = all.filter((d) => d.silent).length;
  const cols: Column<Device>[] = [
    { label: 'Device', value: (d) => <Link href={`/signals/devices/${encodeURIComponent(d.device_id)}`}>{d.device_id}</Link> },
    { label: 'Kind', value: (d) => d.kind ?? '—' },
    { label: 'Store', value: (d) => d.store ?? '—' },
    { label: 'Last seen', value: (d) => fmtTime(d.last_seen_at) },
    { label: 'Messages', align: 'right', value: (d) => fmtInt(d.message_count) },
    {
      label: 'Battery',
      align: 'right',
      value: (d) =>
        d.battery.percent !== null
          ? fmtPct(d.battery.percent / 100, 0)
          : d.battery.voltage !== null
            ? `${fmtNum(d.battery.voltage)} V`
            : '—',
    },
    {
      label: 'State',
      value: (d) =>
        d.silent ? (
          <Badge tone="bad" title={`silent since ${fmtTime(d.silent_since)}`}>
            silent
          </Badge>
        ) : (
          <Badge tone="good">reporting</Badge>
        ),
    },
  ];
  return (
    <>
      <Card
        title={
          <Counted label="Devices" count={all.length} note={silent > 0 ? `${fmtInt(silent)} silent` : undefined} testId="devices-count" />
        }
        subtitle="silent first, then most recently seen"
        actions={all.length > 8 ? filter.box : undefined}
        testId="devices"
      >
        <ErrorNote error={devices.error} />
        {!devices.data && !devices.error ? (
          <Loading />
        ) : (
          <Table
            testId="devices-table"
            rows={rows}
            columns={cols}
            rowKey={(d) => d.device_id}
            empty={
              <Empty title={filter.active ? 'No device matches the filter.' : 'No devices have reported yet.'}>
                {filter.active ? null : (
                  <>
                    Publish SenML to <code>pitwall/devices/&lt;id&gt;/senml</code> over MQTT, or POST it to <code>/v1/senml</code>; a device
                    appears with its first reading.
                  </>
                )}
              </Empty>
            }
          />
        )}
        {openId ? <DevicePanel id={openId} data={state.data} error={state.error} /> : null}
      </Card>
      <VehicleLookup />
    </>
  );
}

function DevicePanel(props: { id: string; data: DeviceState | undefined; error: Error | undefined }) {
  const d = props.data;
  return (
    <div class="sig-detail" data-testid="device-detail">
      <div class="card-head">
        <h3>Device {props.id}</h3>
        <Link href="/signals/devices">Close</Link>
      </div>
      <ErrorNote error={props.error} />
      {!d ? (
        props.error ? null : (
          <Loading />
        )
      ) : (
        <Table
          rows={d.signals}
          rowKey={(s) => s.signal}
          columns={[
            { label: 'Signal', value: (s) => <span class="sig-mono">{s.signal}</span> },
            {
              label: 'Last value',
              align: 'right',
              value: (s) => (s.last_value !== null ? `${fmtNum(s.last_value)} ${s.unit ?? ''}` : (s.last_text ?? '—')),
            },
            { label: 'Min', align: 'right', value: (s) => fmtNum(s.min) },
            { label: 'Mean', align: 'right', value: (s) => fmtNum(s.mean) },
            { label: 'Max', align: 'right', value: (s) => fmtNum(s.max) },
            { label: 'Readings', align: 'right', value: (s) => fmtInt(s.count) },
            { label: 'At', value: (s) => fmtTime(s.last_at) },
          ]}
          empty={<Empty title="No readings from this device yet." />}
        />
      )}
    </div>
  );
}

function VehicleLookup() {
  const [text, setText] = useState('');
  const [query, setQuery] = useState<{ kind: 'vin' | 'customer'; value: string } | null>(null);
  const byVin = useApi<Vehicle>(query?.kind === 'vin' ? `/v1/vehicles/${encodeURIComponent(query.value)}` : null);
  const byCustomer = useApi<{ vehicles: Vehicle[] }>(
    query?.kind === 'customer' ? '/v1/vehicles' : null,
    query?.kind === 'customer' ? { customer_id: query.value } : undefined,
  );
  const vehicles = query?.kind === 'vin' ? (byVin.data ? [byVin.data] : []) : (byCustomer.data?.vehicles ?? []);
  const error = query?.kind === 'vin' ? byVin.error : byCustomer.error;
  const loading = query?.kind === 'vin' ? byVin.loading : byCustomer.loading;
  const submit = (kind: 'vin' | 'customer') => (e: Event) => {
    e.preventDefault();
    if (text.trim()) setQuery({ kind, value: text.trim() });
  };
  return (
    <Card title="Vehicles" subtitle="connected vehicles by VIN, or every vehicle of a customer" testId="vehicles">
      <form class="sig-form" onSubmit={submit('vin')}>
        <div class="field">
          <label for="vehicle-q">VIN or customer id</label>
          <input id="vehicle-q" value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder="WVWZZZ… or cus_1" />
        </div>
        <Button kind="primary" type="submit">
          Find by VIN
        </Button>
        <Button onClick={submit('customer')}>Find by customer</Button>
      </form>
      {query ? (
        <>
          <ErrorNote error={error} />
          {loading ? (
            <Loading />
          ) : (
            <Table
              testId="vehicles-table"
              rows={vehicles}
              rowKey={(v) => v.vehicle_id}
              columns={[
                { label: 'Vehicle', value: (v) => v.vin ?? v.vehicle_id },
                { label: 'Customer', value: (v) => v.customer_id ?? '—' },
                { label: 'Devices', value: (v) => v.devices.map((d) => d.device_id).join(', ') || '—' },
                { label: 'Signals', align: 'right', value: (v) => fmtInt(Object.keys(v.signals).length) },
                {
                  label: 'Service due',
                  value: (v) =>
                    v.due_services.length === 0 ? (
                      <Badge tone="good">none</Badge>
                    ) : (
                      v.due_services.map((p) => (
                        <Badge key={p.signal} tone="warn" title={`${p.signal}: ${fmtNum(p.value)} ${p.direction} ${fmtNum(p.threshold)}`}>
                          {p.part_type}
                        </Badge>
                      ))
                    ),
                },
                { label: 'Last seen', value: (v) => fmtTime(v.last_seen_at) },
              ]}
              empty={
                <Empty title="No vehicle found.">
                  Vehicles appear with their first VSS signal (<code>vehicle.signal</code>) or a device registration.
                </Empty>
              }
            />
          )}
        </>
      ) : (
        <p class="muted small">
          Type a VIN or a customer id. Vehicles report COVESA VSS signals as <code>vehicle.signal</code> events.
        </p>
      )}
    </Card>
  );
}
