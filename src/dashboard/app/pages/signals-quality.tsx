/** Data quality per source: worst score first, with its flags and whether automations trust it. */
import { useApi } from '../api.ts';
import { Badge, Bar, Card, type Column, Empty, ErrorNote, Loading, Table } from '../components.tsx';
import { fmtInt, fmtTime } from '../format.ts';
import { useLiveTypes } from '../stream.ts';
import type { TabProps } from './signals.tsx';
import { Counted, useFilter } from './signals-common.tsx';

interface Flag {
  kind: string;
  detail: string;
  penalty: number;
}

interface SourceQuality {
  source: string;
  score: number;
  trusted: boolean;
  degraded: boolean;
  flags: Flag[];
  last_received_at: string | null;
  as_of: string | null;
}

// Scores move with every reading, not only on quality.* transitions.
const LIVE = ['quality.*', 'sensor.reading', 'vehicle.signal', 'shipment.position'];

const flagName = (f: Flag) => f.kind.replaceAll('_', ' ');

export function QualityTab(_props: TabProps) {
  const q = useApi<{ sources: SourceQuality[]; next_cursor: string | null }>('/v1/quality', { limit: 1000 });
  useLiveTypes(LIVE, q.reload, 5000);
  const filter = useFilter('Filter sources', 'source or flag', 'quality');
  const all = q.data?.sources ?? [];
  const rows = all
    .filter((s) => filter.matches(s.source, ...s.flags.map(flagName)))
    .sort((a, b) => a.score - b.score || a.source.localeCompare(b.source));
  const untrusted = all.filter((s) => !s.trusted).length;
  const cols: Column<SourceQuality>[] = [
    { label: 'Source', value: (s) => <span class="sig-mono">{s.source}</span> },
    { label: 'Score (0–100)', value: (s) => <Bar share={s.score / 100} label={fmtInt(s.score)} /> },
    {
      label: 'Trusted',
      value: (s) =>
        s.trusted ? (
          <Badge tone="good">trusted</Badge>
        ) : (
          <Badge tone="bad" title="automations gated on quality skip its data">
            not trusted
          </Badge>
        ),
    },
    {
      label: 'Flags',
      value: (s) =>
        s.flags.length === 0 ? (
          <span class="muted">none</span>
        ) : (
          s.flags.map((f) => (
            <Badge key={f.kind} tone="warn" title={`${f.detail} (−${fmtInt(f.penalty)})`}>
              {flagName(f)}
            </Badge>
          ))
        ),
    },
    { label: 'Last received', value: (s) => fmtTime(s.last_received_at) },
    { label: 'As of', value: (s) => fmtTime(s.as_of) },
  ];
  return (
    <Card
      title={
        <Counted
          label="Sources"
          count={all.length}
          note={untrusted > 0 ? `${fmtInt(untrusted)} not trusted` : undefined}
          testId="quality-count"
        />
      }
      subtitle="score 100 = clean; stale, flat-lined, out-of-range, spiking, skewed, duplicated or rejected data lowers it — worst first"
      actions={all.length > 8 ? filter.box : undefined}
      testId="quality"
    >
      <ErrorNote error={q.error} />
      {!q.data && !q.error ? (
        <Loading />
      ) : (
        <Table
          testId="quality-table"
          rows={rows}
          columns={cols}
          rowKey={(s) => s.source}
          empty={
            <Empty title={filter.active ? 'No source matches the filter.' : 'No quality scores yet.'}>
              {filter.active ? null : (
                <>
                  Scores appear once a device or vehicle sends readings (<code>sensor.reading</code> via SenML, <code>vehicle.signal</code>,{' '}
                  <code>shipment.position</code>).
                </>
              )}
            </Empty>
          }
        />
      )}
    </Card>
  );
}
