/**
 * One workflow: its YAML in the editor (validated as you type), save as a new version, the version
 * history (view an older one, restore it into the editor), a backtest over the stored log, recent
 * runs with their traces, and "why did it (not) fire for customer C". Also `/workflows/new`.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, useApi } from '../api.ts';
import { Badge, Button, Card, type Column, Empty, ErrorNote, Loading, PageHeader, Table } from '../components.tsx';
import { fmtTime } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import { useCanAdmin } from '../session.ts';
import { useValidation, ValidationNote, YamlEditor } from './workflows-editor.tsx';
import { BacktestPanel, RunsPanel, WhyPanel } from './workflows-panels.tsx';
import { SourceBadge, StatusBadge, ToggleButton } from './workflows-parts.tsx';
import { NEW_WORKFLOW, triggerText, type WorkflowFull, type WorkflowVersion } from './workflows-types.tsx';

const enc = encodeURIComponent;

export function WorkflowDetailPage(props: { id: string; version: string | null }) {
  const { id } = props;
  const admin = useCanAdmin();
  const latest = useApi<WorkflowFull>(`/v1/workflows/${enc(id)}`);
  const versions = useApi<{ versions: WorkflowVersion[] }>(`/v1/workflows/${enc(id)}/versions`);
  const viewing = props.version ? Number(props.version) : undefined;
  const old = useApi<WorkflowFull>(viewing !== undefined ? `/v1/workflows/${enc(id)}` : null, { version: viewing });
  const [text, setText] = useState<string | undefined>(undefined);
  const [base, setBase] = useState<string | undefined>(undefined);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<Error | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const validation = useValidation(text ?? '', text !== undefined);

  const w = latest.data;
  // The editor follows the stored latest version until it is edited (an edit made meanwhile is kept).
  const shown = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (!w) return;
    const stored = w.source_text ?? '';
    const previous = shown.current;
    shown.current = stored;
    setBase(stored);
    setText((t) => (t === undefined || t === previous ? stored : t));
  }, [w]);

  if (latest.error instanceof ApiError && latest.error.code === 'PW_WORKFLOW_NOT_FOUND')
    return (
      <>
        <PageHeader title="Workflow not found" />
        <Empty title={`There is no workflow "${id}".`}>
          Go back to the <Link href="/workflows">list of workflows</Link>, or create it with <strong>New workflow</strong>.
        </Empty>
      </>
    );
  if (!w) return latest.error ? <ErrorNote error={latest.error} /> : <Loading />;

  const dirty = text !== undefined && text !== base;
  const problems = validation.result?.problems ?? [];
  const saveBlocker = w.read_only
    ? `Defined by the file ${w.file_path} in the workflows directory: change the file (it is loaded at start).`
    : !admin
      ? 'Your key is read-only: sign in with an admin key to save.'
      : !dirty
        ? 'No changes to save.'
        : validation.checking || !validation.result
          ? 'Waiting for validation…'
          : !validation.result.valid
            ? 'Fix the problems listed below first.'
            : undefined;

  const save = async () => {
    if (text === undefined) return;
    setSaving(true);
    setSaveError(undefined);
    try {
      const saved = await api<WorkflowFull>(`/v1/workflows/${enc(id)}`, { method: 'PUT', body: text, contentType: 'application/yaml' });
      setBase(saved.source_text ?? text);
      setNotice(`Saved as version ${saved.version}.`);
      latest.reload();
      versions.reload();
    } catch (e) {
      setSaveError(e as Error);
    } finally {
      setSaving(false);
    }
  };

  const o = old.data;
  return (
    <>
      <PageHeader
        title={w.name}
        subtitle={
          <span class="wf-meta">
            <Link href="/workflows">Workflows</Link> / <code>{w.id}</code> · v{w.version} · <StatusBadge enabled={w.enabled} />{' '}
            <SourceBadge w={w} /> · {triggerText(w.trigger)} · holdout {w.holdout_percent} %
          </span>
        }
        actions={
          <ToggleButton
            w={w}
            onError={setSaveError}
            onChanged={(n) => {
              setSaveError(undefined);
              setNotice(`${n.enabled ? 'Enabled' : 'Paused'}: saved as version ${n.version}.`);
              latest.reload();
              versions.reload();
            }}
          />
        }
      />
      {w.description ? <p class="wf-description">{w.description}</p> : null}
      {w.read_only ? (
        <div class="wf-readonly" role="note" data-testid="read-only-note">
          <strong>Read-only here.</strong> This workflow is defined by the file <code>{w.file_path}</code> in the workflows directory (
          <code>PITWALL_WORKFLOWS_DIR</code>): the file in git is the source of truth. Change the file; it is loaded when Pitwall starts.
        </div>
      ) : null}
      {notice ? (
        <output class="wf-notice small" data-testid="notice">
          {notice}
        </output>
      ) : null}
      <ErrorNote error={saveError} />
      <div class="wf-columns">
        {viewing !== undefined ? (
          <Card
            title={`Version ${viewing}`}
            subtitle={o ? `saved ${fmtTime(o.created_at)} by ${o.created_by ?? 'unknown'} (read-only)` : undefined}
            testId="old-version"
            actions={
              <>
                <Button onClick={() => navigate(`/workflows/${enc(id)}`)}>Back to the latest</Button>
                <Button
                  disabled={!o || w.read_only || !admin}
                  title={
                    w.read_only || !admin ? 'Cannot be saved here' : 'Put this text in the editor; save it to make it the latest version'
                  }
                  onClick={() => {
                    if (!o) return;
                    setText(o.source_text ?? '');
                    setNotice(`Version ${viewing} is in the editor: save to make it version ${w.version + 1}.`);
                    navigate(`/workflows/${enc(id)}`);
                  }}
                >
                  Restore into the editor
                </Button>
              </>
            }
          >
            <ErrorNote error={old.error} />
            {o ? (
              <YamlEditor label={`Version ${viewing} (read-only)`} value={o.source_text ?? ''} readOnly testId="old-yaml" />
            ) : (
              <Loading />
            )}
          </Card>
        ) : (
          <Card
            title="Definition"
            subtitle={w.read_only ? 'read-only: defined by a file' : 'YAML, validated as you type; saving makes a new version'}
            actions={
              <>
                {dirty ? <Badge tone="warn">unsaved</Badge> : null}
                <Button
                  onClick={() => {
                    setText(base);
                    setSaveError(undefined);
                  }}
                  disabled={!dirty}
                >
                  Discard changes
                </Button>
                <Button
                  kind="primary"
                  busy={saving}
                  disabled={saveBlocker !== undefined}
                  title={saveBlocker}
                  onClick={save}
                  data-testid="save"
                >
                  Save as version {w.version + 1}
                </Button>
              </>
            }
          >
            {saveBlocker && dirty ? <p class="small muted">{saveBlocker}</p> : null}
            {!admin && !w.read_only ? (
              <p class="small muted" data-testid="reader-note">
                Your key is read-only: you can read, validate and ask why; saving, pausing and backtests need an admin key.
              </p>
            ) : null}
            <ValidationNote v={validation} />
            <YamlEditor
              label={`Workflow ${w.id} (YAML)`}
              value={text ?? ''}
              readOnly={w.read_only || !admin}
              onInput={setText}
              problems={problems}
              testId="yaml"
            />
          </Card>
        )}
        <VersionsCard id={id} versions={versions.data?.versions} error={versions.error} viewing={viewing ?? w.version} />
      </div>
      <div class="wf-stack">
        <BacktestPanel text={text ?? ''} valid={validation.result?.valid === true} dirty={dirty} />
        <WhyPanel id={id} />
        <RunsPanel id={id} triggers={w.trigger.events ?? []} />
      </div>
    </>
  );
}

function VersionsCard(props: { id: string; versions: WorkflowVersion[] | undefined; error: Error | undefined; viewing: number }) {
  const cols: Column<WorkflowVersion>[] = [
    {
      label: 'Version',
      value: (v) =>
        v.version === props.viewing ? (
          <strong aria-current="true">v{v.version}</strong>
        ) : (
          <Link href={`/workflows/${enc(props.id)}?version=${v.version}`} aria-label={`View version ${v.version}`}>
            v{v.version}
          </Link>
        ),
    },
    {
      label: 'Saved',
      value: (v) => (
        <span class="small" title={`by ${v.created_by ?? 'unknown'}${v.file_path ? ` from ${v.file_path}` : ''}`}>
          {fmtTime(v.created_at)}
        </span>
      ),
    },
    { label: 'Status', value: (v) => <StatusBadge enabled={v.enabled} /> },
  ];
  return (
    <Card title="Versions" subtitle="newest first; choose one to view it" testId="versions">
      <ErrorNote error={props.error} />
      {props.versions ? <Table rows={props.versions} columns={cols} rowKey={(v) => String(v.version)} /> : <Loading />}
    </Card>
  );
}

export function NewWorkflowPage() {
  const admin = useCanAdmin();
  const [text, setText] = useState(NEW_WORKFLOW);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const validation = useValidation(text);
  const id = validation.result?.definition?.id;
  const blocker = !admin
    ? 'Your key is read-only: sign in with an admin key to add workflows.'
    : !validation.result || validation.checking
      ? 'Waiting for validation…'
      : !validation.result.valid || !id
        ? 'Fix the problems listed below first.'
        : undefined;
  const create = async () => {
    if (!id) return;
    setBusy(true);
    setError(undefined);
    try {
      // From the list, not a GET of the id: a 404 would be a console error on a normal path.
      const { workflows } = await api<{ workflows: { id: string }[] }>('/v1/workflows');
      if (workflows.some((w) => w.id === id)) {
        setError(new Error(`A workflow "${id}" exists already: choose another id, or open it to save a new version.`));
        return;
      }
      await api(`/v1/workflows/${enc(id)}`, { method: 'PUT', body: text, contentType: 'application/yaml' });
      navigate(`/workflows/${enc(id)}`);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageHeader
        title="New workflow"
        subtitle={
          <>
            <Link href="/workflows">Workflows</Link> / new — the YAML reference is <code>docs/act/workflows.md</code>
          </>
        }
      />
      <ErrorNote error={error} />
      <Card
        title="Definition"
        subtitle="YAML, validated as you type; the id cannot change after the first save"
        actions={
          <Button kind="primary" busy={busy} disabled={blocker !== undefined} title={blocker} onClick={create} data-testid="create">
            {id ? `Create ${id}` : 'Create'}
          </Button>
        }
      >
        <ValidationNote v={validation} />
        <YamlEditor label="New workflow (YAML)" value={text} onInput={setText} problems={validation.result?.problems ?? []} testId="yaml" />
      </Card>
      <div class="wf-stack wf-gap">
        <BacktestPanel text={text} valid={validation.result?.valid === true} dirty />
      </div>
    </>
  );
}
