/**
 * `pitwall workflows validate [paths…]` (file:line:column: message, exit 1 on problems),
 * `pitwall workflows list` and `pitwall workflows load`. Validation works without a server; it
 * reads custom event types from the store when there is one.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { builtInExecutors, executorRegistry, parseActSettings } from '../act/index.ts';
import {
  ConditionEnvironment,
  formatProblem,
  listWorkflowFiles,
  listWorkflows,
  loadWorkflowsDir,
  locatePointer,
  parsePolicySettings,
  policyPurposes,
  readWorkflowFile,
  validateWorkflow,
  type WorkflowProblem,
  workflowsDirOf,
} from '../automate/index.ts';
import { type Config, loadConfig } from '../config/index.ts';
import { AppError } from '../core/index.ts';
import { SchemaRegistry } from '../events/index.ts';
import { openStore, sqliteFileIn } from '../store/index.ts';
import { workflowsBacktest } from './backtest.ts';
import { run, withStore } from './context.ts';

/** The workflows directory: the config's `workflowsDir` once config.ts has it, else PITWALL_WORKFLOWS_DIR / ./workflows. */
function workflowsDir(cfg: Config): string {
  return (cfg as Config & { workflowsDir?: string }).workflowsDir ?? workflowsDirOf(process.env, process.cwd());
}

/** The built-in event types, plus the custom ones of the configured store when it exists (never creates one). */
async function eventTypes(cfg: Config): Promise<SchemaRegistry> {
  const registry = new SchemaRegistry();
  if (cfg.databaseUrl === undefined && !existsSync(sqliteFileIn(cfg.dataDir))) return registry;
  const store = await openStore({ databaseUrl: cfg.databaseUrl, sqliteFile: sqliteFileIn(cfg.dataDir), pgSchema: cfg.databaseSchema });
  try {
    await registry.load(store.db);
  } finally {
    await store.close();
  }
  return registry;
}

async function withExecutors<T>(fn: (executors: ReturnType<typeof executorRegistry>) => Promise<T>): Promise<T> {
  const list = builtInExecutors(parseActSettings(process.env).settings);
  try {
    return await fn(executorRegistry(list));
  } finally {
    for (const e of list) await e.close?.();
  }
}

/** The workflow files named (files as they are, directories searched for *.yaml / *.yml). */
function filesOf(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new AppError('PW_WORKFLOWS_DIR', `${p} does not exist`);
    if (statSync(p).isDirectory()) out.push(...listWorkflowFiles(p).map((f) => path.join(p, f)));
    else out.push(p);
  }
  return out;
}

export async function workflowsValidate(paths: string[], opts: { json?: boolean }): Promise<void> {
  const cfg = loadConfig();
  const files = filesOf(paths.length > 0 ? paths : [workflowsDir(cfg)]);
  const environment = new ConditionEnvironment(await eventTypes(cfg));
  const purposes = policyPurposes(parsePolicySettings(cfg.automation.policy));
  const problems: WorkflowProblem[] = [];
  let valid = 0;
  const ids = new Map<string, string>();
  await withExecutors(async (executors) => {
    for (const f of files) {
      const file = path.relative(process.cwd(), f) || f;
      let text: string;
      try {
        text = readWorkflowFile(f);
      } catch (e) {
        problems.push({ file, line: 0, column: 0, pointer: '', message: (e as Error).message, code: 'PW_WORKFLOWS_DIR' });
        continue;
      }
      const r = validateWorkflow(text, { file, environment, executors, purposes });
      problems.push(...r.problems);
      if (!r.definition || r.problems.length > 0) continue;
      const other = ids.get(r.definition.id);
      if (other !== undefined) {
        problems.push({
          file,
          ...locatePointer(text, '/id'),
          pointer: '/id',
          message: `workflow id "${r.definition.id}" is already defined by ${other}`,
          code: 'PW_WORKFLOW_DUPLICATE_ID',
        });
        continue;
      }
      ids.set(r.definition.id, file);
      valid++;
    }
  });
  if (opts.json) console.log(JSON.stringify({ files: files.length, valid, problems }));
  else {
    for (const p of problems) console.log(formatProblem(p));
    const bad = files.length - valid;
    console.log(
      files.length === 0
        ? 'No workflow files found.'
        : `${valid} of ${files.length} workflow file${files.length === 1 ? '' : 's'} valid${bad > 0 ? `, ${bad} with problems` : ''}.`,
    );
  }
  if (problems.length > 0) process.exitCode = 1;
}

export async function workflowsList(opts: { json?: boolean }): Promise<void> {
  await withStore(async (store) => {
    const list = await listWorkflows(store.db);
    if (list.length === 0 && !opts.json)
      console.log('No workflows yet. Put YAML files in the workflows directory, or PUT /v1/workflows/:id.');
    for (const w of list)
      console.log(
        opts.json
          ? JSON.stringify({
              id: w.id,
              version: w.version,
              name: w.definition.name,
              enabled: w.enabled,
              source: w.source,
              file_path: w.filePath,
            })
          : `${w.id}\tv${w.version}\t${w.enabled ? 'enabled' : 'disabled'}\t${w.source === 'file' ? (w.filePath ?? 'file (removed)') : 'api'}\t${w.definition.name}`,
      );
  });
}

export async function workflowsLoad(): Promise<void> {
  await withStore(async (store, cfg, clock) => {
    const environment = new ConditionEnvironment(await new SchemaRegistry().load(store.db));
    const dir = workflowsDir(cfg);
    const purposes = policyPurposes(parsePolicySettings(cfg.automation.policy));
    const r = await withExecutors((executors) => loadWorkflowsDir(store.db, dir, { environment, executors, nowMs: clock.now(), purposes }));
    for (const p of r.problems) console.log(formatProblem({ ...p, ...(p.file ? { file: path.relative(process.cwd(), p.file) } : {}) }));
    for (const w of r.saved) console.log(`${w.id}: saved version ${w.version} from ${w.filePath}`);
    for (const w of r.detached) console.log(`${w.id}: its file is gone; saved version ${w.version}, disabled`);
    console.log(
      `${r.saved.length} saved, ${r.unchanged.length} unchanged, ${r.detached.length} disabled, ${r.problems.length} problems (${dir}).`,
    );
    if (r.problems.length > 0) process.exitCode = 1;
  });
}

export function workflowsCommands(program: Command): void {
  const workflows = program.command('workflows').description('workflow definitions (YAML): validate, list, load');
  workflows
    .command('validate')
    .description('check workflow files (default: the workflows directory); prints file:line:column: message and exits 1 on problems')
    .argument('[paths...]', 'files or directories')
    .option('--json', 'print the result as one JSON object')
    .action((paths, o) => run(() => workflowsValidate(paths, o)));
  workflows
    .command('list')
    .description('the latest version of every stored workflow')
    .option('--json', 'one JSON object per line')
    .action((o) => run(() => workflowsList(o)));
  workflows
    .command('backtest')
    .description(
      'replay stored events through a workflow file on simulated time, with no side effects; reports runs, actions, policy skips',
    )
    .argument('<file>', 'the workflow file')
    .requiredOption('--from <time>', 'start: RFC 3339 time, date, or a duration ago (7d)')
    .option('--to <time>', 'end (exclusive; default now)')
    .option('--json', 'print the report (with every run) as one JSON object')
    .action((file, o) => run(() => workflowsBacktest(file, o)));
  workflows
    .command('load')
    .description('load the workflows directory into the store now (the server also does at start)')
    .action(() => run(workflowsLoad));
}
