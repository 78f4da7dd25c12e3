/**
 * The source text of a workflow (YAML, or JSON — which is YAML): its value, its syntax problems,
 * and where a JSON pointer — or a character inside a string, for a CEL error — is in the text
 * (1-based line and column, from the yaml package's node ranges).
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, Scalar } from 'yaml';
import type { WorkflowProblem } from './types.ts';

/** A problem before it has a position: where it is, as a pointer (and a range inside a string). */
export interface PendingProblem {
  pointer: string;
  message: string;
  code: string;
  /** Point at the key of the last pointer segment rather than its value (unknown fields). */
  atKey?: boolean;
  /** Character offsets inside the string value at `pointer` (CEL errors). */
  inString?: { start: number; end: number };
}

export interface WorkflowSource {
  /** The parsed value; undefined when the text is not valid YAML. */
  value: unknown;
  /** YAML syntax problems. */
  problems: WorkflowProblem[];
  /** The 1-based position of a pending problem. */
  locate(p: PendingProblem): { line: number; column: number };
}

export function splitPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function joinPointer(parts: readonly (string | number)[]): string {
  return parts.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

const MAX_ALIASES = 100;

export function parseSource(text: string, file?: string): WorkflowSource {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, strict: true });
  const pos = (offset: number) => {
    const p = lc.linePos(Math.max(0, Math.min(offset, text.length)));
    return { line: p.line, column: p.col };
  };
  const problems: WorkflowProblem[] = doc.errors.map((e) => ({
    ...(file !== undefined ? { file } : {}),
    ...pos(e.pos[0]),
    pointer: '',
    message: `YAML: ${(e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+.*$/, '')}`,
    code: 'PW_WORKFLOW_YAML',
  }));
  let value: unknown;
  if (problems.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (e) {
      problems.push({
        ...(file !== undefined ? { file } : {}),
        line: 1,
        column: 1,
        pointer: '',
        message: `YAML: ${(e as Error).message}`,
        code: 'PW_WORKFLOW_YAML',
      });
    }
  }

  const resolve = (n: unknown): unknown => (isAlias(n) ? n.resolve(doc) : n);
  const start = (n: unknown): number | undefined => {
    const r = (n as Node | undefined)?.range;
    return r ? r[0] : undefined;
  };

  function locate(p: PendingProblem): { line: number; column: number } {
    const parts = splitPointer(p.pointer);
    let node: unknown = resolve(doc.contents);
    let keyNode: unknown;
    let found = 0;
    for (const part of parts) {
      let next: unknown;
      let key: unknown;
      if (isMap(node)) {
        const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === part);
        if (pair) {
          key = pair.key;
          next = pair.value ?? pair.key;
        }
      } else if (isSeq(node) && /^\d+$/.test(part)) next = node.items[Number(part)];
      if (next === undefined) break;
      keyNode = key;
      node = resolve(next);
      found++;
    }
    const complete = found === parts.length;
    if (complete && p.atKey && keyNode !== undefined) return pos(start(keyNode) ?? 0);
    if (complete && p.inString && isScalar(node) && typeof node.value === 'string')
      return pos(offsetInScalar(text, node, p.inString.start));
    return pos(start(node) ?? 0);
  }

  return { value, problems, locate };
}

/**
 * The source offset of character `index` of a string scalar's value: the value's characters are
 * matched in order against the source (escapes, folding and indentation skipped), which is exact
 * for the usual one-line expressions and close for block and escaped ones.
 */
function offsetInScalar(text: string, node: Scalar, index: number): number {
  const [from, to] = node.range ?? [0, 0];
  const value = String(node.value);
  let p = from;
  if (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) p = from + 1;
  else if (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) {
    const nl = text.indexOf('\n', from);
    p = nl === -1 ? from : nl + 1;
  }
  const target = Math.min(index, value.length);
  for (let i = 0; i < target; i++) {
    const ch = value[i] as string;
    let q = p;
    while (q < to && text[q] !== ch && !(ch === ' ' && text[q] === '\n')) q++;
    if (q >= to) return p;
    p = q + 1;
  }
  // Skip what the value does not hold (indentation, an escape's backslash) before the target character.
  const ch = value[target];
  if (ch !== undefined) while (p < to && text[p] !== ch) p++;
  return Math.min(p, Math.max(from, to - 1));
}
