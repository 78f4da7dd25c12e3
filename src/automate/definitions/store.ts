/**
 * Workflow versions in table `workflows`. Every save is a new version (runs keep theirs); the
 * latest version of an id is the one that starts new runs. A version from a file (`source:
 * 'file'` with its `file_path`) is read-only in the API: the file is the source of truth.
 */
import type { Selectable } from 'kysely';
import { AppError } from '../../core/index.ts';
import type { Db } from '../../detect/index.ts';
import type { Database } from '../../store/index.ts';
import type { WorkflowDefinition } from './types.ts';

export type WorkflowSourceKind = 'file' | 'api';

export interface StoredWorkflow {
  id: string;
  version: number;
  definition: WorkflowDefinition;
  /** The text it was saved from (YAML or JSON). */
  yaml: string | null;
  source: WorkflowSourceKind;
  /** For `file` versions: the path relative to the workflows directory; null once the file is gone. */
  filePath: string | null;
  enabled: boolean;
  createdMs: number;
  createdBy: string | null;
  /** True while a file defines it: the API refuses to change it. */
  readOnly: boolean;
}

export interface SaveMeta {
  yaml?: string | null;
  source: WorkflowSourceKind;
  filePath?: string | null;
  createdBy?: string | null;
  nowMs: number;
}

type Row = Selectable<Database['workflows']>;

function fromRow(r: Row): StoredWorkflow {
  const source = r.source === 'file' ? 'file' : 'api';
  return {
    id: r.id,
    version: Number(r.version),
    definition: JSON.parse(r.definition) as WorkflowDefinition,
    yaml: r.yaml,
    source,
    filePath: r.file_path,
    enabled: Number(r.enabled) === 1,
    createdMs: Number(r.created_ms),
    createdBy: r.created_by,
    readOnly: source === 'file' && r.file_path !== null,
  };
}

const isUniqueViolation = (e: unknown) => {
  const code = (e as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
};

/** Stores `def` as the next version of its id (retrying when a concurrent save took that number). */
export async function saveWorkflow(db: Db, def: WorkflowDefinition, meta: SaveMeta): Promise<StoredWorkflow> {
  for (let attempt = 0; ; attempt++) {
    const top = await db
      .selectFrom('workflows')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('id', '=', def.id)
      .executeTakeFirst();
    const version = Number(top?.v ?? 0) + 1;
    const row = {
      id: def.id,
      version,
      definition: JSON.stringify(def),
      yaml: meta.yaml ?? null,
      source: meta.source,
      file_path: meta.source === 'file' ? (meta.filePath ?? null) : null,
      enabled: def.enabled ? 1 : 0,
      created_ms: meta.nowMs,
      created_by: meta.createdBy ?? null,
    };
    try {
      await db.insertInto('workflows').values(row).execute();
      return fromRow(row);
    } catch (e) {
      // Each round one of the racers wins, so this ends; saves are rare and racers few.
      if (!isUniqueViolation(e) || attempt >= 31) throw e;
    }
  }
}

/** One version, or the latest when `version` is omitted. */
export async function getWorkflow(db: Db, id: string, version?: number): Promise<StoredWorkflow | undefined> {
  let q = db.selectFrom('workflows').selectAll().where('id', '=', id);
  q = version === undefined ? q.orderBy('version', 'desc').limit(1) : q.where('version', '=', version);
  const r = await q.executeTakeFirst();
  return r ? fromRow(r) : undefined;
}

/** The latest version of every workflow, by id. */
export async function listWorkflows(db: Db): Promise<StoredWorkflow[]> {
  const rows = await db
    .selectFrom('workflows as w')
    .selectAll('w')
    .where('w.version', '=', (eb) =>
      eb
        .selectFrom('workflows as v')
        .select((x) => x.fn.max('v.version').as('m'))
        .whereRef('v.id', '=', 'w.id'),
    )
    .orderBy('w.id')
    .execute();
  return rows.map(fromRow);
}

export interface WorkflowVersionInfo {
  version: number;
  source: WorkflowSourceKind;
  filePath: string | null;
  enabled: boolean;
  name: string;
  createdMs: number;
  createdBy: string | null;
}

/** Every version of one workflow, newest first (empty when the id is unknown). */
export async function workflowVersions(db: Db, id: string): Promise<WorkflowVersionInfo[]> {
  const rows = await db.selectFrom('workflows').selectAll().where('id', '=', id).orderBy('version', 'desc').execute();
  return rows.map(fromRow).map((w) => ({
    version: w.version,
    source: w.source,
    filePath: w.filePath,
    enabled: w.enabled,
    name: w.definition.name,
    createdMs: w.createdMs,
    createdBy: w.createdBy,
  }));
}

/** Refuses to change a workflow a file defines (`PW_WORKFLOW_READ_ONLY`, 409). */
export function assertWritable(current: StoredWorkflow | undefined): void {
  if (current?.readOnly)
    throw new AppError(
      'PW_WORKFLOW_READ_ONLY',
      `workflow "${current.id}" is defined by the file ${current.filePath} in the workflows directory; change the file (it is loaded at start)`,
      { status: 409, extra: { file_path: current.filePath } },
    );
}
