/**
 * The workflow YAML editor: a `<textarea>` with line numbers (no editor library) that validates as
 * you type — a debounced `POST /v1/workflows/validate` — and lists each problem with its line and
 * column; choosing one puts the cursor there.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { ErrorNote } from '../components.tsx';
import type { Problem, Validation } from './workflows-types.tsx';

/** How long typing must pause before the text is validated. */
export const VALIDATE_DEBOUNCE_MS = 400;

/** The character offset of 1-based `line` / `column` in `text` (clamped to the text). */
export function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', offset);
    if (nl < 0) return text.length;
    offset = nl + 1;
  }
  const end = text.indexOf('\n', offset);
  const lineEnd = end < 0 ? text.length : end;
  return Math.min(offset + Math.max(0, column - 1), lineEnd);
}

export interface ValidationState {
  /** Undefined while the current text has not been validated yet. */
  result: Validation | undefined;
  checking: boolean;
  error: Error | undefined;
}

/** Validates `text` after it stops changing for `VALIDATE_DEBOUNCE_MS`; stale answers are dropped. */
export function useValidation(text: string, enabled = true): ValidationState {
  const [state, setState] = useState<ValidationState>({ result: undefined, checking: false, error: undefined });
  const ticket = useRef(0);
  useEffect(() => {
    if (!enabled) return;
    const mine = ++ticket.current;
    setState((s) => ({ ...s, checking: true }));
    const timer = setTimeout(() => {
      api<Validation>('/v1/workflows/validate', { method: 'POST', body: text, contentType: 'application/yaml' }).then(
        (result) => mine === ticket.current && setState({ result, checking: false, error: undefined }),
        (error: Error) => mine === ticket.current && setState({ result: undefined, checking: false, error }),
      );
    }, VALIDATE_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, enabled]);
  return state;
}

export function YamlEditor(props: {
  value: string;
  onInput?: (text: string) => void;
  readOnly?: boolean;
  label: string;
  /** Problems to mark in the gutter and list below (the caller validates). */
  problems?: readonly Problem[];
  testId?: string;
  rows?: number;
}) {
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const lines = props.value.split('\n').length;
  const bad = new Set((props.problems ?? []).map((p) => p.line));
  const id = `yaml-${props.testId ?? 'editor'}`;
  return (
    <div class="yaml-editor">
      <label for={id} class="visually-hidden">
        {props.label}
      </label>
      <div class="yaml-frame">
        <div class="yaml-gutter" ref={gutter} aria-hidden="true">
          {Array.from({ length: lines }, (_, i) => (
            <div key={i} class={bad.has(i + 1) ? 'bad' : ''}>
              {i + 1}
            </div>
          ))}
        </div>
        <textarea
          id={id}
          ref={area}
          data-testid={props.testId}
          value={props.value}
          readOnly={props.readOnly}
          rows={props.rows ?? Math.min(32, Math.max(12, lines + 1))}
          spellcheck={false}
          wrap="off"
          onInput={(e) => props.onInput?.((e.target as HTMLTextAreaElement).value)}
          onScroll={(e) => {
            if (gutter.current) gutter.current.scrollTop = (e.target as HTMLTextAreaElement).scrollTop;
          }}
          onKeyDown={(e) => {
            // Tab indents by two spaces (YAML has no tabs); Escape leaves the editor for keyboard users.
            if (e.key === 'Tab' && !e.shiftKey && !props.readOnly) {
              e.preventDefault();
              const t = e.target as HTMLTextAreaElement;
              const { selectionStart: s, selectionEnd: end } = t;
              const next = `${t.value.slice(0, s)}  ${t.value.slice(end)}`;
              props.onInput?.(next);
              requestAnimationFrame(() => t.setSelectionRange(s + 2, s + 2));
            } else if (e.key === 'Escape') (e.target as HTMLTextAreaElement).blur();
          }}
        />
      </div>
      {props.problems && props.problems.length > 0 ? (
        <ProblemList
          problems={props.problems}
          onPick={(p) => {
            const t = area.current;
            if (!t) return;
            const at = offsetOf(t.value, p.line, p.column);
            t.focus();
            t.setSelectionRange(at, at);
            // Scroll the line into view: line height from the computed style.
            const lh = Number.parseFloat(getComputedStyle(t).lineHeight) || 18;
            t.scrollTop = Math.max(0, (p.line - 3) * lh);
          }}
        />
      ) : null}
    </div>
  );
}

function ProblemList(props: { problems: readonly Problem[]; onPick: (p: Problem) => void }) {
  return (
    <ul class="problems" data-testid="problems" aria-label="Problems">
      {props.problems.map((p, i) => (
        <li key={`${p.line}:${p.column}:${i}`}>
          <button type="button" class="problem" onClick={() => props.onPick(p)} data-testid="problem">
            <span class="where">{p.line > 0 ? `Line ${p.line}, column ${p.column}` : 'Whole workflow'}</span>
            <span class="msg">{p.message}</span>
            <code>{p.code}</code>
          </button>
        </li>
      ))}
    </ul>
  );
}

/** The validation verdict beside the editor: checking, valid, N problems, or why it could not be checked. */
export function ValidationNote(props: { v: ValidationState; dirty?: boolean }) {
  const { v } = props;
  if (v.error) return <ErrorNote error={v.error} />;
  return (
    <output class={`validation small ${v.result ? (v.result.valid ? 'ok' : 'bad') : ''}`} data-testid="validation" aria-live="polite">
      {v.checking || !v.result
        ? 'Checking…'
        : v.result.valid
          ? 'Valid: every expression type-checks and every action’s parameters are accepted.'
          : `${v.result.problems.length} problem${v.result.problems.length === 1 ? '' : 's'}`}
    </output>
  );
}
