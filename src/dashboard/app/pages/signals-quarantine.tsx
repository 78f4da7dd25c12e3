/**
 * The quarantine: every item a door rejected, with its code, pointer and reason (newest first).
 * Replay sends an item through the same door again — as it was (after a fix elsewhere, e.g. a
 * registered event type) or with its payload corrected here.
 */
import { useState } from 'preact/hooks';
import { api, useApi } from '../api.ts';
import { Badge, Button, Card, Empty, ErrorNote, Loading, Segmented } from '../components.tsx';
import { fmtInt, fmtTime } from '../format.ts';
import { useCanAdmin } from '../session.ts';
import type { TabProps } from './signals.tsx';
import { byTimeDesc, Counted, useFilter } from './signals-common.tsx';

interface Item {
  id: string;
  received_at: string;
  channel: string;
  source: string | null;
  type: string | null;
  code: string;
  reason: string;
  pointer: string | null;
  payload: unknown;
  status: 'pending' | 'replayed';
  replayedSeq: number | null;
}

interface ReplayResult {
  id: string;
  status: 'replayed' | 'still_rejected';
  outcomes: { status: string; code?: string; message?: string; pointer?: string; seq?: number }[];
}

type View = 'pending' | 'replayed';

export function QuarantineTab(_props: TabProps) {
  const [view, setView] = useState<View>('pending');
  const list = useApi<{ items: Item[]; next_cursor: string | null }>('/v1/quarantine', { status: view, limit: 1000 });
  // A rejection appends nothing to the log, so there is no live type to follow: Refresh reloads.
  const [done, setDone] = useState<string | undefined>();
  const canAdmin = useCanAdmin();
  const filter = useFilter('Filter quarantine', 'code, type, source, reason', 'quarantine');
  const all = list.data?.items ?? [];
  const rows = all
    .filter((i) => filter.matches(i.code, i.type, i.source, i.reason, i.channel))
    .sort((a, b) => byTimeDesc(a.received_at, b.received_at));
  return (
    <Card
      title={<Counted label={view === 'pending' ? 'Waiting for replay' : 'Replayed'} count={all.length} testId="quarantine-count" />}
      subtitle="items a door rejected, kept whole with the reason; newest first"
      actions={
        <>
          {all.length > 8 ? filter.box : null}
          <Segmented
            label="Which items"
            options={[
              { value: 'pending', label: 'Pending' },
              { value: 'replayed', label: 'Replayed' },
            ]}
            value={view}
            onChange={setView}
          />
          <Button onClick={list.reload}>Refresh</Button>
        </>
      }
      testId="quarantine"
    >
      {!canAdmin ? <p class="sig-note small">Signed in with a read-only key: replaying needs a key with the admin scope.</p> : null}
      {done ? (
        <p class="sig-note small" role="status" data-testid="replay-done">
          {done}
        </p>
      ) : null}
      <ErrorNote error={list.error} />
      {!list.data && !list.error ? (
        <Loading />
      ) : rows.length === 0 ? (
        <Empty
          title={filter.active ? 'No item matches the filter.' : view === 'pending' ? 'Nothing in quarantine.' : 'Nothing replayed yet.'}
        >
          {filter.active || view === 'replayed'
            ? null
            : 'Every event the doors accepted passed its schema. Rejected items would be listed here with the reason.'}
        </Empty>
      ) : (
        <ul class="plain" data-testid="quarantine-list">
          {rows.map((i) => (
            <QuarantineItem
              key={i.id}
              item={i}
              canAdmin={canAdmin}
              onReplayed={(r) => {
                const seqs = r.outcomes.flatMap((o) => (o.seq !== undefined ? [o.seq] : []));
                setDone(
                  `Replayed ${i.type ?? 'item'} ${i.id}: now in the log${seqs.length ? ` at position ${seqs.map(fmtInt).join(', ')}` : ''}.`,
                );
                list.reload();
              }}
            />
          ))}
        </ul>
      )}
    </Card>
  );
}

function QuarantineItem(props: { item: Item; canAdmin: boolean; onReplayed: (r: ReplayResult) => void }) {
  const i = props.item;
  const [text, setText] = useState(() => JSON.stringify(i.payload, null, 2));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const [result, setResult] = useState<ReplayResult | undefined>();
  const edited = text !== JSON.stringify(i.payload, null, 2);
  const id = `payload-${i.id}`;
  const replay = async () => {
    setError(undefined);
    setResult(undefined);
    let payload: unknown;
    if (edited) {
      try {
        payload = JSON.parse(text);
      } catch (e) {
        setError(new Error(`the payload is not valid JSON: ${(e as Error).message}`));
        return;
      }
    }
    setBusy(true);
    try {
      const r = await api<ReplayResult>(`/v1/quarantine/${encodeURIComponent(i.id)}/replay`, {
        method: 'POST',
        body: edited ? { payload } : {},
      });
      setResult(r);
      if (r.status === 'replayed') props.onReplayed(r);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  const rejected = result?.outcomes.find((o) => o.status === 'rejected');
  return (
    <li class="sig-detail" data-testid="quarantine-item">
      <div class="sig-row-actions">
        <Badge tone={i.status === 'pending' ? 'bad' : 'good'}>{i.status}</Badge>
        <code>{i.code}</code>
        <strong>{i.type ?? 'unknown type'}</strong>
        <span class="muted small">
          via {i.channel} · {i.source ?? 'unknown source'} · {fmtTime(i.received_at)}
          {i.replayedSeq !== null ? ` · at log position ${fmtInt(i.replayedSeq)}` : ''}
        </span>
      </div>
      <p class="small" data-testid="quarantine-reason">
        {i.reason}
        {i.pointer ? (
          <>
            {' '}
            at <code>{i.pointer}</code>
          </>
        ) : null}
      </p>
      <details>
        <summary>Payload{i.status === 'pending' && props.canAdmin ? ' — edit and replay' : ''}</summary>
        <label for={id} class="visually-hidden">
          Payload of {i.id}
        </label>
        <textarea
          id={id}
          class="sig-payload"
          rows={Math.min(18, text.split('\n').length + 1)}
          value={text}
          readOnly={i.status !== 'pending' || !props.canAdmin}
          onInput={(e) => setText(e.currentTarget.value)}
          data-testid="quarantine-payload"
        />
      </details>
      {i.status === 'pending' ? (
        <div class="sig-row-actions">
          <Button
            kind="primary"
            onClick={replay}
            busy={busy}
            disabled={!props.canAdmin}
            title={props.canAdmin ? undefined : 'needs an admin key'}
          >
            {edited ? 'Replay edited payload' : 'Replay'}
          </Button>
          {edited ? <Button onClick={() => setText(JSON.stringify(i.payload, null, 2))}>Undo edits</Button> : null}
        </div>
      ) : null}
      <ErrorNote error={error} />
      {result ? (
        <p class="small" role="status" data-testid="replay-result">
          {result.status === 'replayed' ? (
            <Badge tone="good">replayed</Badge>
          ) : (
            <>
              <Badge tone="bad">still rejected</Badge> <code>{rejected?.code}</code> {rejected?.message}
              {rejected?.pointer ? (
                <>
                  {' '}
                  at <code>{rejected.pointer}</code>
                </>
              ) : null}
            </>
          )}
        </p>
      ) : null}
    </li>
  );
}
