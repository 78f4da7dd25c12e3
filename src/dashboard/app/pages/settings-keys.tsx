/**
 * API keys: the list (scopes, prefix, created, revoked), create — the secret is shown once, with a
 * copy button — and revoke with a confirmation. Admin only: a read-only session sees the controls
 * disabled and is never sent to the admin routes (they would answer 403).
 */
import { useState } from 'preact/hooks';
import { api, useApi } from '../api.ts';
import { Badge, Button, Card, type Column, Empty, ErrorNote, Loading, Table } from '../components.tsx';
import { fmtTime } from '../format.ts';
import { useCanAdmin } from '../session.ts';
import { Counted, useFilter } from './signals-common.tsx';

export interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  created_at: string;
  revoked_at: string | null;
  origins: string[] | null;
  store: string | null;
  current: boolean;
}

const SERVER_SCOPES = [
  { id: 'ingest', hint: 'send events' },
  { id: 'read', hint: 'read data, sign in here' },
  { id: 'admin', hint: 'change settings, workflows, keys' },
] as const;

/** `onChanged`: a key was created or revoked (the stores card lists publishable keys' stores). */
export function KeysCard(props: { onChanged?: () => void }) {
  const canAdmin = useCanAdmin();
  const keys = useApi<{ keys: KeyRow[] }>(canAdmin ? '/v1/keys' : null);
  const [created, setCreated] = useState<{ name: string; key: string } | undefined>();
  const filter = useFilter('Filter keys', 'name, prefix, scope, store', 'keys');
  const all = keys.data?.keys ?? [];
  // Active keys first (newest first, as listed), revoked ones after.
  const rows = all
    .filter((k) => filter.matches(k.name, k.prefix, k.store, ...k.scopes))
    .sort((a, b) => Number(a.revoked_at !== null) - Number(b.revoked_at !== null));
  const active = all.filter((k) => k.revoked_at === null).length;

  const cols: Column<KeyRow>[] = [
    {
      label: 'Name',
      value: (k) => (
        <span>
          {k.name} {k.current ? <Badge title="the key this session signed in with">this session</Badge> : null}
        </span>
      ),
    },
    { label: 'Prefix', value: (k) => <code>{k.prefix}…</code> },
    {
      label: 'Scopes',
      value: (k) => (
        <span class="sig-row-actions">
          {k.scopes.map((s) => (
            <Badge key={s} tone={s === 'admin' ? 'warn' : 'neutral'}>
              {s}
            </Badge>
          ))}
          {k.store ? <span class="muted small">store {k.store}</span> : null}
          {k.origins ? <span class="muted small">{k.origins.join(', ')}</span> : null}
        </span>
      ),
    },
    { label: 'Created', value: (k) => fmtTime(k.created_at) },
    {
      label: 'Status',
      value: (k) => (k.revoked_at ? <Badge tone="bad">revoked {fmtTime(k.revoked_at)}</Badge> : <Badge tone="good">active</Badge>),
    },
    {
      label: 'Action',
      value: (k) =>
        k.revoked_at === null ? (
          <Revoke
            k={k}
            onDone={() => {
              keys.reload();
              props.onChanged?.();
            }}
          />
        ) : null,
    },
  ];

  return (
    <Card
      title={canAdmin ? <Counted label="API keys" count={all.length} note={`${active} active`} testId="keys-count" /> : 'API keys'}
      subtitle="keys are stored as SHA-256 hashes: a key is shown once, when it is made"
      actions={all.length > 8 ? filter.box : undefined}
      testId="keys"
    >
      {!canAdmin ? (
        <p class="sig-note small" data-testid="keys-readonly">
          Signed in with a read-only key: listing, creating and revoking keys needs a key with the admin scope.
        </p>
      ) : null}
      {created ? (
        <div class="sig-secret" role="status" data-testid="new-key">
          <div>
            <strong>Copy the key “{created.name}” now: it will not be shown again.</strong>
            <div>
              <code data-testid="new-key-secret">{created.key}</code>
            </div>
          </div>
          <CopyButton text={created.key} />
          <Button onClick={() => setCreated(undefined)}>Done</Button>
        </div>
      ) : null}
      <CreateKey
        disabled={!canAdmin}
        onCreated={(c) => {
          setCreated(c);
          keys.reload();
          props.onChanged?.();
        }}
      />
      <ErrorNote error={keys.error} />
      {canAdmin && !keys.data && !keys.error ? (
        <Loading />
      ) : canAdmin ? (
        <Table
          testId="keys-table"
          rows={rows}
          columns={cols}
          rowKey={(k) => k.id}
          empty={<Empty title={filter.active ? 'No key matches the filter.' : 'No keys.'}>Create one above.</Empty>}
        />
      ) : null}
    </Card>
  );
}

function CopyButton(props: { text: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <Button kind="primary" onClick={copy} data-testid="copy-key">
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy blocked: select the key and copy it' : 'Copy'}
    </Button>
  );
}

function CreateKey(props: { disabled: boolean; onCreated: (c: { name: string; key: string }) => void }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'server' | 'publishable'>('server');
  const [scopes, setScopes] = useState<string[]>(['ingest']);
  const [origins, setOrigins] = useState('');
  const [store, setStore] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const toggle = (s: string) => setScopes((cur) => (cur.includes(s) ? cur.filter((x) => x !== s) : [...cur, s]));
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body =
        kind === 'server'
          ? { name: name.trim(), scopes }
          : {
              name: name.trim(),
              scopes: ['publishable'],
              origins: origins
                .split(/[\s,]+/)
                .map((o) => o.trim())
                .filter(Boolean),
              ...(store.trim() ? { store: store.trim() } : {}),
            };
      const r = await api<KeyRow & { key: string }>('/v1/keys', { method: 'POST', body });
      props.onCreated({ name: r.name, key: r.key });
      setName('');
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  const d = props.disabled;
  return (
    <form class="sig-form" onSubmit={submit} data-testid="create-key">
      <div class="field">
        <label for="key-name">New key name</label>
        <input
          id="key-name"
          value={name}
          maxLength={100}
          required
          disabled={d}
          onInput={(e) => setName(e.currentTarget.value)}
          placeholder="shop backend"
        />
      </div>
      <div class="field">
        <label for="key-kind">Kind</label>
        <select id="key-kind" value={kind} disabled={d} onChange={(e) => setKind(e.currentTarget.value as 'server' | 'publishable')}>
          <option value="server">Server key (pw_…)</option>
          <option value="publishable">Publishable key for a shop's browser (pk_…)</option>
        </select>
      </div>
      {kind === 'server' ? (
        <fieldset class="sig-checks">
          <legend class="visually-hidden">Scopes</legend>
          {SERVER_SCOPES.map((s) => (
            <label key={s.id} title={s.hint}>
              <input type="checkbox" checked={scopes.includes(s.id)} disabled={d} onChange={() => toggle(s.id)} /> {s.id}
            </label>
          ))}
        </fieldset>
      ) : (
        <>
          <div class="field">
            <label for="key-origins">Origins</label>
            <input
              id="key-origins"
              value={origins}
              disabled={d}
              onInput={(e) => setOrigins(e.currentTarget.value)}
              placeholder="https://shop.example"
            />
          </div>
          <div class="field">
            <label for="key-store">Store</label>
            <input id="key-store" value={store} disabled={d} onInput={(e) => setStore(e.currentTarget.value)} placeholder="main" />
          </div>
        </>
      )}
      <Button kind="primary" type="submit" busy={busy} disabled={d || (kind === 'server' && scopes.length === 0)}>
        Create key
      </Button>
      <ErrorNote error={error} />
    </form>
  );
}

function Revoke(props: { k: KeyRow; onDone: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  if (props.k.current)
    return (
      <span class="muted small" title="sign in with another admin key to revoke this one">
        in use by this session
      </span>
    );
  if (!confirming)
    return (
      <Button kind="danger" onClick={() => setConfirming(true)}>
        Revoke
      </Button>
    );
  const revoke = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api(`/v1/keys/${encodeURIComponent(props.k.id)}/revoke`, { method: 'POST' });
      setConfirming(false);
      props.onDone();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="sig-row-actions">
      <span class="small">Revoke “{props.k.name}”? Anything using it stops working.</span>
      <Button kind="danger" onClick={revoke} busy={busy}>
        Yes, revoke
      </Button>
      <Button onClick={() => setConfirming(false)}>Cancel</Button>
      <ErrorNote error={error} />
    </span>
  );
}
