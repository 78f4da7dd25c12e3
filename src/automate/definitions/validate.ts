/**
 * `parseWorkflow` (YAML and structure) and `validateWorkflow` (also the typed CEL, the event
 * types and the action parameters): every problem with its file, line and column.
 */
import type { ConditionEnvironment } from '../conditions/environment.ts';
import { type CompiledWorkflow, compileDefinition } from './compile.ts';
import { readDefinition } from './parse.ts';
import { type PendingProblem, parseSource } from './source.ts';
import { DEFAULT_PURPOSES, type ExecutorLookup, type Step, type WorkflowDefinition, type WorkflowProblem } from './types.ts';

export interface ParseResult {
  definition?: WorkflowDefinition;
  problems: WorkflowProblem[];
}

export interface ValidationResult extends ParseResult {
  /** Present when there are no problems. */
  compiled?: CompiledWorkflow;
}

export interface ValidateOptions {
  /** Names the file in problems. */
  file?: string;
  /** The typed environment (built from the event-type catalogue). */
  environment: ConditionEnvironment;
  /** Action types and their parameter checks (src/act `executorRegistry`). */
  executors: ExecutorLookup;
  /** Consent purposes a step's `purpose:` may name (the policy's: `policyPurposes(settings)`); default DEFAULT_PURPOSES. */
  purposes?: readonly string[];
}

/** Every action step's `purpose:` must be one the contact policy knows. */
function purposeProblems(steps: readonly Step[], known: readonly string[], path: string): PendingProblem[] {
  return steps.flatMap((s, i): PendingProblem[] => {
    if (s.kind === 'if')
      return [...purposeProblems(s.then, known, `${path}/${i}/then`), ...purposeProblems(s.else, known, `${path}/${i}/else`)];
    if (s.kind !== 'action' || s.purpose === undefined || known.includes(s.purpose)) return [];
    return [
      {
        pointer: `${path}/${i}/purpose`,
        message: `unknown consent purpose "${s.purpose}"; known: ${[...known].sort().join(', ')}`,
        code: 'PW_WORKFLOW_PURPOSE',
      },
    ];
  });
}

function sorted(problems: WorkflowProblem[]): WorkflowProblem[] {
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

function positioned(source: ReturnType<typeof parseSource>, pending: PendingProblem[], file: string | undefined): WorkflowProblem[] {
  return pending.map((p) => ({
    ...(file !== undefined ? { file } : {}),
    ...source.locate(p),
    pointer: p.pointer,
    message: p.message,
    code: p.code,
  }));
}

/** YAML syntax and the structure of the definition (no CEL types, event types or action parameters). */
export function parseWorkflow(text: string, file?: string): ParseResult {
  const source = parseSource(text, file);
  if (source.problems.length > 0) return { problems: source.problems };
  const { definition, problems } = readDefinition(source.value);
  if (problems.length > 0) return { problems: sorted(positioned(source, problems, file)) };
  return definition ? { definition, problems: [] } : { problems: [] };
}

/** Everything: structure, then each expression in its typed scope, event types, action types and parameters. */
export function validateWorkflow(text: string, opts: ValidateOptions): ValidationResult {
  const source = parseSource(text, opts.file);
  if (source.problems.length > 0) return { problems: source.problems };
  const read = readDefinition(source.value);
  const def = read.definition ?? read.partial;
  if (!def) return { problems: sorted(positioned(source, read.problems, opts.file)) };
  const { compiled, problems } = compileDefinition(def, opts.environment, opts.executors);
  const all = [...read.problems, ...problems, ...purposeProblems(def.steps, opts.purposes ?? DEFAULT_PURPOSES, '/steps')];
  if (all.length > 0 || !compiled || !read.definition) return { problems: sorted(positioned(source, all, opts.file)) };
  return { definition: read.definition, compiled, problems: [] };
}

/** `file:line:column: message [code]`, the way compilers print it. */
export function formatProblem(p: WorkflowProblem): string {
  return `${p.file ?? '<input>'}:${p.line}:${p.column}: ${p.message} [${p.code}]`;
}

/** The 1-based position of a pointer in `text` (for problems found after validation). */
export function locatePointer(text: string, pointer: string): { line: number; column: number } {
  return parseSource(text).locate({ pointer, message: '', code: '' });
}
