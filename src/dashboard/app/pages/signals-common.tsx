/** Pieces the Signals and Settings pages share: a filter box, a count in a heading, severity order. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

/** A labelled search box; `matches` tells whether any of a row's texts contains what was typed. */
export function useFilter(label: string, placeholder: string, testId: string) {
  const [text, setText] = useState('');
  const needle = text.trim().toLowerCase();
  const matches = (...fields: (string | null | undefined)[]) =>
    needle === '' || fields.some((f) => typeof f === 'string' && f.toLowerCase().includes(needle));
  const id = `filter-${testId}`;
  const box = (
    <div class="sig-filter">
      <label for={id} class="visually-hidden">
        {label}
      </label>
      <input
        id={id}
        type="search"
        placeholder={placeholder}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        data-testid={id}
      />
    </div>
  );
  return { box, matches, active: needle !== '' };
}

/** A heading with a count, e.g. "Shipments · 12 (3 delayed)". */
export function Counted(props: { label: string; count: number; note?: ComponentChildren; testId?: string }) {
  return (
    <span data-testid={props.testId}>
      {props.label} <span class="sig-count">{props.count}</span>
      {props.note ? <span class="muted small"> {props.note}</span> : null}
    </span>
  );
}

const SEVERITY: Record<string, number> = { critical: 0, warning: 1, info: 2 };
export const severityRank = (s: string) => SEVERITY[s] ?? 3;

/** Ascending, with null and undefined last. */
export function nullsLast(a: number | null | undefined, b: number | null | undefined): number {
  const an = a === null || a === undefined;
  const bn = b === null || b === undefined;
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  return a - b;
}

export const byTimeDesc = (a: string | null | undefined, b: string | null | undefined) => (b ?? '').localeCompare(a ?? '');
