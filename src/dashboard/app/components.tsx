/** The building blocks every page uses, so pages look and behave alike. */
import type { ComponentChildren, JSX } from 'preact';
import { ApiError } from './api.ts';

export function PageHeader(props: { title: string; subtitle?: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <header class="page-header">
      <div>
        <h1>{props.title}</h1>
        {props.subtitle ? <p class="muted">{props.subtitle}</p> : null}
      </div>
      {props.actions ? <div class="actions">{props.actions}</div> : null}
    </header>
  );
}

export function Card(props: {
  title?: ComponentChildren;
  subtitle?: ComponentChildren;
  actions?: ComponentChildren;
  children: ComponentChildren;
  class?: string;
  testId?: string;
}) {
  return (
    <section class={`card ${props.class ?? ''}`} data-testid={props.testId}>
      {props.title || props.actions ? (
        <div class="card-head">
          <div>
            {props.title ? <h2>{props.title}</h2> : null}
            {props.subtitle ? <p class="muted small">{props.subtitle}</p> : null}
          </div>
          {props.actions ? <div class="actions">{props.actions}</div> : null}
        </div>
      ) : null}
      {props.children}
    </section>
  );
}

/** One headline figure with its label and an optional note (units, range, interval). */
export function Stat(props: {
  label: string;
  value: ComponentChildren;
  note?: ComponentChildren;
  testId?: string;
  tone?: 'good' | 'bad' | 'neutral';
}) {
  return (
    <div class={`stat ${props.tone ?? ''}`} data-testid={props.testId}>
      <div class="stat-label">{props.label}</div>
      <div class="stat-value">{props.value}</div>
      {props.note ? <div class="stat-note muted small">{props.note}</div> : null}
    </div>
  );
}

export function Grid(props: { children: ComponentChildren; min?: number }) {
  return (
    <div class="grid" style={{ gridTemplateColumns: `repeat(auto-fill, minmax(${props.min ?? 180}px, 1fr))` }}>
      {props.children}
    </div>
  );
}

export interface Column<T> {
  label: string;
  value: (row: T) => ComponentChildren;
  align?: 'right' | 'left';
  title?: string;
}

export function Table<T>(props: {
  rows: readonly T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  empty?: ComponentChildren;
  testId?: string;
}) {
  if (props.rows.length === 0 && props.empty) return <>{props.empty}</>;
  return (
    <div class="table-wrap">
      <table data-testid={props.testId}>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c.label} class={c.align === 'right' ? 'num' : ''} title={c.title}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={props.rowKey(r)}>
              {props.columns.map((c) => (
                <td key={c.label} class={c.align === 'right' ? 'num' : ''}>
                  {c.value(r)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** An empty state that says what to do next. */
export function Empty(props: { title: string; children?: ComponentChildren; testId?: string }) {
  return (
    <div class="empty" data-testid={props.testId ?? 'empty'}>
      <strong>{props.title}</strong>
      {props.children ? <div class="muted">{props.children}</div> : null}
    </div>
  );
}

export function ErrorNote(props: { error: Error | undefined }) {
  if (!props.error) return null;
  const e = props.error;
  return (
    <div class="error" role="alert">
      {e instanceof ApiError ? <code>{e.code}</code> : null} {e.message}
    </div>
  );
}

export function Loading() {
  return <div class="loading muted">Loading…</div>;
}

export function Badge(props: { tone?: 'good' | 'bad' | 'warn' | 'neutral'; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge ${props.tone ?? 'neutral'}`} title={props.title}>
      {props.children}
    </span>
  );
}

export function Button(props: JSX.ButtonHTMLAttributes<HTMLButtonElement> & { kind?: 'primary' | 'danger' | 'plain'; busy?: boolean }) {
  const { kind, busy, children, ...rest } = props;
  return (
    <button
      type="button"
      {...rest}
      class={`btn ${kind ?? 'plain'} ${rest.class ?? ''}`}
      disabled={busy || Boolean(rest.disabled)}
      aria-busy={busy}
    >
      {children}
    </button>
  );
}

/** A horizontal bar for a share (0..1), with the figure beside it. */
export function Bar(props: { share: number; label?: ComponentChildren }) {
  const w = Math.max(0, Math.min(1, props.share)) * 100;
  return (
    <div class="bar">
      <div class="bar-track">
        <div class="bar-fill" style={{ width: `${w}%` }} />
      </div>
      {props.label !== undefined ? <span class="bar-label">{props.label}</span> : null}
    </div>
  );
}

/** A choice of a few options (a time range, a view), as pressed buttons in a fieldset. */
export function Segmented<T extends string | number>(props: {
  label: string;
  options: readonly { value: T; label: string }[];
  value: T;
  onChange: (v: T) => void;
}) {
  return (
    <fieldset class="segmented">
      <legend class="visually-hidden">{props.label}</legend>
      {props.options.map((o) => (
        <button
          type="button"
          key={String(o.value)}
          class={props.value === o.value ? 'on' : ''}
          aria-pressed={props.value === o.value}
          onClick={() => props.onChange(o.value)}
        >
          {o.label}
        </button>
      ))}
    </fieldset>
  );
}
