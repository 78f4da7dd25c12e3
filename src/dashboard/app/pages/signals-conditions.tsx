/**
 * Conditions: open ones (critical first, newest first) with acknowledge and clear; acknowledged
 * and cleared ones to look back. A condition clears itself when its detector sees the recovery (a
 * shipment delivered, a device back, stock replenished), or by hand (a false alarm).
 */
import { useState } from 'preact/hooks';
import { api, useApi } from '../api.ts';
import { Badge, Button, Card, type Column, Empty, ErrorNote, Loading, Segmented, Table } from '../components.tsx';
import { fmtInt, fmtTime } from '../format.ts';
import { useCanAdmin } from '../session.ts';
import { useLiveTypes } from '../stream.ts';
import type { TabProps } from './signals.tsx';
import { byTimeDesc, Counted, severityRank, useFilter } from './signals-common.tsx';

interface Condition {
  id: string;
  kind: string;
  key: string;
  status: 'raised' | 'acknowledged' | 'cleared';
  severity: string;
  summary: string;
  raised_at: string;
  last_raised_at: string;
  raise_count: number;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  note: string | null;
  cleared_at: string | null;
}

type View = 'open' | 'raised' | 'acknowledged' | 'cleared';
const VIEWS: { value: View; label: string }[] = [
  { value: 'open', label: 'Open' },
  { value: 'raised', label: 'Not acknowledged' },
  { value: 'acknowledged', label: 'Acknowledged' },
  { value: 'cleared', label: 'Cleared' },
];
const LIVE = [
  'condition.*',
  'shipment.delayed',
  'shipment.condition_breach',
  'stock.*',
  'device.*',
  'sensor.sustained',
  'sensor.cleared',
  'quality.*',
  'part.*',
];

const tone = (s: string) => (s === 'critical' ? 'bad' : s === 'warning' ? 'warn' : 'neutral');

export function ConditionsTab(_props: TabProps) {
  const [view, setView] = useState<View>('open');
  const list = useApi<{ conditions: Condition[]; next_cursor: string | null }>('/v1/conditions', { status: view, limit: 1000 });
  useLiveTypes(LIVE, list.reload);
  const canAdmin = useCanAdmin();
  const filter = useFilter('Filter conditions', 'kind, key, summary', 'conditions');
  const all = list.data?.conditions ?? [];
  const rows = all
    .filter((c) => filter.matches(c.kind, c.key, c.summary, c.note))
    .sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || byTimeDesc(a.last_raised_at, b.last_raised_at));
  const critical = all.filter((c) => c.severity === 'critical').length;

  const cols: Column<Condition>[] = [
    { label: 'Severity', value: (c) => <Badge tone={tone(c.severity)}>{c.severity}</Badge> },
    {
      label: 'Condition',
      value: (c) => (
        <div>
          <strong>{c.summary}</strong>
          <div class="muted small">
            {c.kind} · <span class="sig-mono">{c.key}</span>
            {c.raise_count > 1 ? ` · raised ${fmtInt(c.raise_count)} times` : ''}
          </div>
        </div>
      ),
    },
    { label: 'Raised', value: (c) => fmtTime(c.raised_at) },
    {
      label: 'Status',
      value: (c) =>
        c.status === 'cleared' ? (
          <Badge tone="good">cleared {fmtTime(c.cleared_at)}</Badge>
        ) : c.status === 'acknowledged' ? (
          <span title={c.note ?? undefined}>
            <Badge>acknowledged</Badge> <span class="small muted">by {c.acknowledged_by ?? '—'}</span>
            {c.note ? <div class="small">“{c.note}”</div> : null}
          </span>
        ) : (
          <Badge tone="warn">raised</Badge>
        ),
    },
    {
      label: 'Action',
      value: (c) =>
        c.status === 'cleared' ? null : (
          <div class="sig-row-actions">
            {c.status === 'raised' ? <Change action="acknowledge" condition={c} canAdmin={canAdmin} onDone={list.reload} /> : null}
            <Change action="clear" condition={c} canAdmin={canAdmin} onDone={list.reload} />
          </div>
        ),
    },
  ];

  return (
    <Card
      title={
        <Counted
          label="Conditions"
          count={all.length}
          note={critical > 0 ? `${fmtInt(critical)} critical` : undefined}
          testId="conditions-count"
        />
      }
      subtitle="critical first, then most recently raised; a condition clears itself when its detector sees the recovery, or by hand"
      actions={
        <>
          {all.length > 8 ? filter.box : null}
          <Segmented label="Which conditions" options={VIEWS} value={view} onChange={setView} />
        </>
      }
      testId="conditions"
    >
      {!canAdmin ? (
        <p class="sig-note small">Signed in with a read-only key: acknowledging and clearing need a key with the admin scope.</p>
      ) : null}
      <ErrorNote error={list.error} />
      {!list.data && !list.error ? (
        <Loading />
      ) : (
        <Table
          testId="conditions-table"
          rows={rows}
          columns={cols}
          rowKey={(c) => c.id}
          empty={
            <Empty
              title={
                filter.active ? 'No condition matches the filter.' : view === 'cleared' ? 'Nothing has cleared yet.' : 'No open conditions.'
              }
            >
              {filter.active || view === 'cleared'
                ? null
                : 'Detectors raise conditions when a shipment is delayed, stock runs low, a device goes silent, a sensor stays out of range or a source degrades.'}
            </Empty>
          }
        />
      )}
    </Card>
  );
}

const LABELS = { acknowledge: 'Acknowledge', clear: 'Clear' } as const;

/** Acknowledge or clear one condition, with an optional note (`POST /v1/conditions/:id/<action>`). */
function Change(props: { action: 'acknowledge' | 'clear'; condition: Condition; canAdmin: boolean; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const id = `${props.action}-note-${props.condition.id}`;
  if (!open)
    return (
      <Button onClick={() => setOpen(true)} disabled={!props.canAdmin} title={props.canAdmin ? undefined : 'needs an admin key'}>
        {LABELS[props.action]}
      </Button>
    );
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api(`/v1/conditions/${encodeURIComponent(props.condition.id)}/${props.action}`, {
        method: 'POST',
        body: note.trim() ? { note: note.trim() } : {},
      });
      setOpen(false);
      props.onDone();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="sig-row-actions" onSubmit={submit}>
      <label for={id} class="visually-hidden">
        Note
      </label>
      <input id={id} value={note} maxLength={2000} onInput={(e) => setNote(e.currentTarget.value)} placeholder="note (optional)" />
      <Button kind="primary" type="submit" busy={busy}>
        Confirm {props.action === 'clear' ? 'clear' : 'acknowledge'}
      </Button>
      <Button onClick={() => setOpen(false)}>Cancel</Button>
      <ErrorNote error={error} />
    </form>
  );
}
