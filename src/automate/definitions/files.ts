/**
 * Workflows from a directory (`PITWALL_WORKFLOWS_DIR`, default `./workflows`): every `*.yaml` /
 * `*.yml` below it, loaded at start. A valid file whose text changed is saved as a new version
 * (source `file`, read-only in the API); an unchanged one is left alone; an invalid one is
 * reported and its last valid version keeps running; a workflow whose file is gone gets a new,
 * disabled version (its history stays, and the API may take it over).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../../core/index.ts';
import type { Db } from '../../detect/index.ts';
import type { ConditionEnvironment } from '../conditions/environment.ts';
import { assertWritable, getWorkflow, listWorkflows, type StoredWorkflow, saveWorkflow } from './store.ts';
import type { ExecutorLookup, WorkflowProblem } from './types.ts';
import { locatePointer, validateWorkflow } from './validate.ts';

export const DEFAULT_WORKFLOWS_DIR = './workflows';
const PATTERN = /\.ya?ml$/i;
const MAX_FILES = 1000;
const MAX_BYTES = 1024 * 1024;

/** The workflows directory for an environment: `PITWALL_WORKFLOWS_DIR`, else `./workflows`, resolved against `cwd`. */
export function workflowsDirOf(env: NodeJS.ProcessEnv, cwd: string): string {
  const v = env.PITWALL_WORKFLOWS_DIR;
  return path.resolve(cwd, v !== undefined && v !== '' ? v : DEFAULT_WORKFLOWS_DIR);
}

/** The workflow files below `dir`, as paths relative to it, sorted; [] when `dir` does not exist. */
export function listWorkflowFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = readdirSync(path.join(dir, rel)).sort();
    } catch (e) {
      if (rel === '' && (e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new AppError('PW_WORKFLOWS_DIR', `cannot read the workflows directory ${path.join(dir, rel)}: ${(e as Error).message}`);
    }
    for (const n of names) {
      if (n.startsWith('.')) continue;
      const r = rel === '' ? n : path.join(rel, n);
      const st = statSync(path.join(dir, r));
      if (st.isDirectory()) walk(r);
      else if (st.isFile() && PATTERN.test(n)) {
        if (out.length >= MAX_FILES) throw new AppError('PW_WORKFLOWS_DIR', `more than ${MAX_FILES} workflow files in ${dir}`);
        out.push(r.split(path.sep).join('/'));
      }
    }
  };
  walk('');
  return out;
}

export function readWorkflowFile(file: string): string {
  const st = statSync(file);
  if (st.size > MAX_BYTES) throw new AppError('PW_WORKFLOWS_DIR', `${file} is larger than ${MAX_BYTES / 1024} KiB`);
  return readFileSync(file, 'utf8');
}

export interface LoadOptions {
  environment: ConditionEnvironment;
  executors: ExecutorLookup;
  nowMs: number;
  /** Consent purposes steps may name (the configured policy's); default DEFAULT_PURPOSES. */
  purposes?: readonly string[];
}

export interface LoadResult {
  /** New versions saved from files. */
  saved: StoredWorkflow[];
  /** Ids whose file is unchanged since its stored version. */
  unchanged: string[];
  /** New disabled versions of workflows whose file is gone. */
  detached: StoredWorkflow[];
  /** Problems of the files that were not loaded (file, line, column). */
  problems: WorkflowProblem[];
}

/** Loads every workflow file below `dir` into the store (see the header). */
export async function loadWorkflowsDir(db: Db, dir: string, opts: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = { saved: [], unchanged: [], detached: [], problems: [] };
  const files = listWorkflowFiles(dir);
  const seenIds = new Map<string, string>();
  const seenFiles = new Set<string>();
  for (const rel of files) {
    const file = path.join(dir, rel);
    seenFiles.add(rel);
    let text: string;
    try {
      text = readWorkflowFile(file);
    } catch (e) {
      result.problems.push({ file, line: 0, column: 0, pointer: '', message: (e as Error).message, code: 'PW_WORKFLOWS_DIR' });
      continue;
    }
    const v = validateWorkflow(text, {
      file,
      environment: opts.environment,
      executors: opts.executors,
      ...(opts.purposes ? { purposes: opts.purposes } : {}),
    });
    if (!v.definition || v.problems.length > 0) {
      result.problems.push(...v.problems);
      continue;
    }
    const def = v.definition;
    const other = seenIds.get(def.id);
    if (other !== undefined) {
      result.problems.push({
        file,
        ...locatePointer(text, '/id'),
        pointer: '/id',
        message: `workflow id "${def.id}" is already defined by ${other}`,
        code: 'PW_WORKFLOW_DUPLICATE_ID',
      });
      continue;
    }
    seenIds.set(def.id, rel);
    const latest = await getWorkflow(db, def.id);
    if (latest && latest.source === 'file' && latest.filePath === rel && latest.yaml === text) {
      result.unchanged.push(def.id);
      continue;
    }
    result.saved.push(
      await saveWorkflow(db, def, { yaml: text, source: 'file', filePath: rel, createdBy: `file:${rel}`, nowMs: opts.nowMs }),
    );
  }
  for (const w of await listWorkflows(db)) {
    if (!w.readOnly || w.filePath === null || seenFiles.has(w.filePath)) continue;
    const def = { ...w.definition, enabled: false };
    result.detached.push(
      await saveWorkflow(db, def, {
        yaml: w.yaml,
        source: 'file',
        filePath: null,
        createdBy: `file-removed:${w.filePath}`,
        nowMs: opts.nowMs,
      }),
    );
  }
  return result;
}

export interface PutOptions {
  environment: ConditionEnvironment;
  executors: ExecutorLookup;
  /** Who saves it (e.g. `key:<api key id>`). */
  createdBy: string;
  nowMs: number;
}

/**
 * Saves `text` (YAML or JSON) as the next version of workflow `id` through the API: refused
 * when a file defines it (`PW_WORKFLOW_READ_ONLY`, 409), when it does not validate
 * (`PW_WORKFLOW_INVALID`, 422, with every problem), or when its `id` is another one.
 */
export async function putWorkflow(db: Db, id: string, text: string, opts: PutOptions): Promise<StoredWorkflow> {
  assertWritable(await getWorkflow(db, id));
  const v = validateWorkflow(text, { environment: opts.environment, executors: opts.executors });
  if (!v.definition || v.problems.length > 0) throw invalid(v.problems);
  if (v.definition.id !== id)
    throw invalid([
      {
        ...locatePointer(text, '/id'),
        pointer: '/id',
        message: `the definition's id "${v.definition.id}" is not "${id}", the workflow it is saved as`,
        code: 'PW_WORKFLOW_ID_MISMATCH',
      },
    ]);
  return saveWorkflow(db, v.definition, { yaml: text, source: 'api', createdBy: opts.createdBy, nowMs: opts.nowMs });
}

/** `PW_WORKFLOW_INVALID` (422) with the problems in `extra.problems`. */
export function invalid(problems: WorkflowProblem[]): AppError {
  const first = problems[0];
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new AppError(
    'PW_WORKFLOW_INVALID',
    first
      ? `the workflow is not valid: ${first.line > 0 ? `line ${first.line}, column ${first.column}: ` : ''}${first.message}${more}`
      : 'the workflow is not valid',
    { status: 422, pointer: first?.pointer, extra: { problems } },
  );
}
