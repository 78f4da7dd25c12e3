/**
 * Settings: API keys (create, revoke), the contact policy and holdout defaults as configured
 * (read-only: they live in the config file and each workflow's YAML, and the page says where),
 * and the stores Pitwall has seen.
 */
import { useApi } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { Badge, Card, type Column, Empty, ErrorNote, Loading, PageHeader, Table } from '../components.tsx';
import { fmtInt, fmtMoney, fmtPct } from '../format.ts';
import { Link } from '../router.tsx';
import { KeysCard } from './settings-keys.tsx';
import { Counted } from './signals-common.tsx';
import './signals.css';
import './settings.css';

interface Settings {
  contact_policy: {
    timezone: string;
    quiet_hours: { start: string; end: string; channels: string[] } | null;
    caps: Record<string, string[]>;
    consent_defaults: Record<string, boolean>;
    exempt_purposes: string[];
    change_in: string;
  };
  holdouts: { default_percent: number; max_percent: number; change_in: string };
}

interface Workflow {
  id: string;
  name: string;
  enabled: boolean;
  holdout_percent: number;
}

interface StoreRow {
  store: string;
  views: number;
  orders: number;
  revenue: number;
  publishable_keys: { id: string; name: string; prefix: string; origins: string[] }[];
}

export function SettingsPage(_props: PageProps) {
  const settings = useApi<Settings>('/v1/settings');
  const stores = useApi<StoresAnswer>('/v1/stores');
  return (
    <>
      <PageHeader title="Settings" subtitle="Keys, the contact policy, holdouts and stores" />
      <KeysCard onChanged={stores.reload} />
      <ErrorNote error={settings.error} />
      {!settings.data ? (
        settings.error ? null : (
          <Loading />
        )
      ) : (
        <div class="two">
          <PolicyCard p={settings.data.contact_policy} />
          <HoldoutCard h={settings.data.holdouts} />
        </div>
      )}
      <StoresCard stores={stores.data} error={stores.error} />
    </>
  );
}

function PolicyCard(props: { p: Settings['contact_policy'] }) {
  const p = props.p;
  const caps = Object.entries(p.caps);
  return (
    <Card title="Contact policy" subtitle="what every action that reaches a customer must pass" testId="policy">
      <dl class="set-dl">
        <dt>Caps</dt>
        <dd data-testid="policy-caps">
          {caps.length === 0 ? (
            'none'
          ) : (
            <ul class="plain">
              {caps.map(([scope, rules]) => (
                <li key={scope}>
                  <strong>{scope === 'all' ? 'all channels' : scope}</strong>: at most {rules.join(' and ')}
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Quiet hours</dt>
        <dd data-testid="policy-quiet">
          {p.quiet_hours ? (
            <>
              {p.quiet_hours.start}–{p.quiet_hours.end} customer's local time, on {p.quiet_hours.channels.join(', ')}
            </>
          ) : (
            'off'
          )}
        </dd>
        <dt>Time zone</dt>
        <dd>{p.timezone} for customers without a time zone of their own</dd>
        <dt>Consent when never stated</dt>
        <dd data-testid="policy-consent">
          <span class="sig-row-actions">
            {Object.entries(p.consent_defaults).map(([purpose, allowed]) => (
              <Badge key={purpose} tone={allowed ? 'good' : 'warn'}>
                {purpose}: {allowed ? 'allowed' : 'needs consent'}
              </Badge>
            ))}
          </span>
          <div class="muted small">Purposes not listed need consent.</div>
        </dd>
        <dt>Exempt from caps and quiet hours</dt>
        <dd>{p.exempt_purposes.join(', ') || 'none'}</dd>
      </dl>
      <p class="sig-note small">
        Read-only here. Change it in {p.change_in}. Per-customer "do not contact" entries are suppressions (<code>/v1/suppressions</code>).
      </p>
    </Card>
  );
}

function HoldoutCard(props: { h: Settings['holdouts'] }) {
  const workflows = useApi<{ workflows: Workflow[] }>('/v1/workflows');
  const rows = [...(workflows.data?.workflows ?? [])].sort((a, b) => b.holdout_percent - a.holdout_percent || a.id.localeCompare(b.id));
  const cols: Column<Workflow>[] = [
    { label: 'Workflow', value: (w) => <Link href={`/workflows/${encodeURIComponent(w.id)}`}>{w.name || w.id}</Link> },
    { label: 'State', value: (w) => (w.enabled ? <Badge tone="good">enabled</Badge> : <Badge>disabled</Badge>) },
    { label: 'Holdout', align: 'right', value: (w) => fmtPct(w.holdout_percent / 100, w.holdout_percent % 1 === 0 ? 0 : 2) },
  ];
  return (
    <Card title="Holdouts" subtitle="customers left out of a workflow's actions, so its uplift can be measured" testId="holdouts">
      <p data-testid="holdout-defaults">
        Default <strong>{fmtPct(props.h.default_percent / 100, 0)}</strong> for a new workflow; at most{' '}
        <strong>{fmtPct(props.h.max_percent / 100, 0)}</strong>. A customer's group is kept once assigned.
      </p>
      <ErrorNote error={workflows.error} />
      <Table
        testId="holdouts-table"
        rows={rows}
        columns={cols}
        rowKey={(w) => w.id}
        empty={
          <Empty title="No workflows yet.">
            Add one on the <Link href="/workflows">Workflows</Link> page with <code>holdout: 10%</code> to measure it.
          </Empty>
        }
      />
      <p class="sig-note small">
        Read-only here. Change a workflow's holdout in {props.h.change_in.replace("each workflow's YAML", 'its YAML')}.
      </p>
    </Card>
  );
}

interface StoresAnswer {
  from: string;
  to: string;
  stores: StoreRow[];
}

function StoresCard(props: { stores: StoresAnswer | undefined; error: Error | undefined }) {
  const data = props.stores;
  const rows = [...(data?.stores ?? [])].sort((a, b) => b.orders - a.orders || a.store.localeCompare(b.store));
  const cols: Column<StoreRow>[] = [
    { label: 'Store', value: (s) => <strong>{s.store}</strong> },
    { label: 'Product views', align: 'right', value: (s) => fmtInt(s.views) },
    { label: 'Orders', align: 'right', value: (s) => fmtInt(s.orders) },
    { label: 'Revenue', align: 'right', value: (s) => fmtMoney(s.revenue) },
    {
      label: 'Publishable keys',
      value: (s) =>
        s.publishable_keys.length === 0 ? (
          <span class="muted">none</span>
        ) : (
          s.publishable_keys.map((k) => (
            <div key={k.id} class="small">
              {k.name} <code>{k.prefix}…</code> <span class="muted">{k.origins.join(', ')}</span>
            </div>
          ))
        ),
    },
  ];
  return (
    <Card
      title={<Counted label="Stores" count={rows.length} testId="stores-count" />}
      subtitle={data ? `seen in storefront events ${data.from} – ${data.to} (UTC days) or named by a publishable key` : undefined}
      testId="stores"
    >
      <ErrorNote error={props.error} />
      <Table
        testId="stores-table"
        rows={rows}
        columns={cols}
        rowKey={(s) => s.store}
        empty={
          <Empty title="No stores yet.">
            A store appears when storefront events name it (Segment <code>context.store</code>) or when a publishable key is made for it
            above.
          </Empty>
        }
      />
    </Card>
  );
}
