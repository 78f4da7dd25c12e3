/** Small pieces the workflow list and the detail page share: badges and the enable / pause button. */
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Badge, Button } from '../components.tsx';
import { useCanAdmin } from '../session.ts';
import type { WorkflowFull, WorkflowSummary } from './workflows-types.tsx';

/** Where a workflow comes from, with the reason it cannot be edited here when it is a file. */
export function SourceBadge(props: { w: Pick<WorkflowSummary, 'source' | 'file_path' | 'read_only'> }) {
  const { w } = props;
  if (w.read_only)
    return (
      <Badge tone="warn" title={`Defined by ${w.file_path} in the workflows directory: read-only here; change the file.`}>
        file · read-only
      </Badge>
    );
  return <Badge>{w.source === 'file' ? 'file (gone) · API' : 'API'}</Badge>;
}

export function StatusBadge(props: { enabled: boolean }) {
  return props.enabled ? <Badge tone="good">enabled</Badge> : <Badge tone="warn">paused</Badge>;
}

/**
 * Enable / pause (admin): a new version. The shown state is the server's answer, never a guess;
 * a file-backed workflow and a read-only key get a disabled button with the reason.
 */
export function ToggleButton(props: { w: WorkflowSummary; onChanged: (w: WorkflowFull) => void; onError: (e: Error) => void }) {
  const { w } = props;
  const admin = useCanAdmin();
  const [busy, setBusy] = useState(false);
  const reason = w.read_only
    ? `Defined by the file ${w.file_path}: change the file to enable or pause it.`
    : !admin
      ? 'Your key is read-only: sign in with an admin key to enable or pause.'
      : undefined;
  const label = w.enabled ? 'Pause' : 'Enable';
  return (
    <Button
      kind={w.enabled ? 'plain' : 'primary'}
      busy={busy}
      disabled={reason !== undefined}
      title={reason ?? `${label} ${w.name} (saved as a new version)`}
      aria-label={`${label} ${w.id}`}
      data-testid={`toggle-${w.id}`}
      onClick={async () => {
        setBusy(true);
        try {
          props.onChanged(
            await api<WorkflowFull>(`/v1/workflows/${encodeURIComponent(w.id)}/${w.enabled ? 'pause' : 'enable'}`, { method: 'POST' }),
          );
        } catch (e) {
          props.onError(e as Error);
        } finally {
          setBusy(false);
        }
      }}
    >
      {label}
    </Button>
  );
}
