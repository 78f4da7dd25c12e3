import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeEachBackend } from '../../../test/support/backends.ts';
import { FakeClock, isAppError } from '../../core/index.ts';
import { SchemaRegistry } from '../../events/index.ts';
import type { Store } from '../../store/index.ts';
import { ConditionEnvironment } from '../conditions/environment.ts';
import { listWorkflowFiles, loadWorkflowsDir, putWorkflow, workflowsDirOf } from './files.ts';
import { getWorkflow, listWorkflows, saveWorkflow, workflowVersions } from './store.ts';
import type { ExecutorLookup, WorkflowDefinition } from './types.ts';

const environment = new ConditionEnvironment(new SchemaRegistry());
const executors: ExecutorLookup = new Map([
  ['survey.show', { validateParams: () => [] }],
  ['checkout.offer', { validateParams: () => [] }],
]);

const yaml = (id: string, extra = '') => `schemaVersion: 1
id: ${id}
name: Workflow ${id}
trigger: { event: cart.abandoned }
conditions: ["cart.value > 50.0"]
steps:
  - action: survey.show
    with: { survey: what-stopped-you }
${extra}`;

const def = (id: string, name = `Workflow ${id}`): WorkflowDefinition => ({
  schemaVersion: 1,
  id,
  name,
  enabled: true,
  holdoutPercent: 0,
  onPolicyBlock: 'skip',
  trigger: { kind: 'event', event: 'cart.abandoned' },
  conditions: [],
  steps: [{ kind: 'wait', duration: '1h' }],
  cancelOn: [],
});

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'pitwall-workflows-'));
  dirs.push(d);
  return d;
}

describe('workflow files', () => {
  it('finds *.yaml and *.yml below the directory, sorted, and nothing when it does not exist', () => {
    const d = tempDir();
    mkdirSync(path.join(d, 'sub'));
    writeFileSync(path.join(d, 'b.yaml'), '');
    writeFileSync(path.join(d, 'sub', 'a.yml'), '');
    writeFileSync(path.join(d, 'notes.md'), '');
    writeFileSync(path.join(d, '.hidden.yaml'), '');
    expect(listWorkflowFiles(d)).toEqual(['b.yaml', 'sub/a.yml']);
    expect(listWorkflowFiles(path.join(d, 'missing'))).toEqual([]);
    expect(workflowsDirOf({}, '/srv/pw')).toBe('/srv/pw/workflows');
    expect(workflowsDirOf({ PITWALL_WORKFLOWS_DIR: 'flows' }, '/srv/pw')).toBe('/srv/pw/flows');
  });
});

describeEachBackend('workflow store', (make) => {
  const backend = make();
  let store: Store;
  const clock = new FakeClock();

  beforeEach(async () => {
    store = await backend.open();
  });
  afterEach(async () => {
    await store.close();
    await backend.cleanup();
  });

  it('saves every change as a new version and reads the latest or any one', async () => {
    const v1 = await saveWorkflow(store.db, def('rescue', 'First'), { source: 'api', yaml: 'a', createdBy: 'key:k1', nowMs: clock.now() });
    clock.advance(1000);
    const v2 = await saveWorkflow(
      store.db,
      { ...def('rescue', 'Second'), enabled: false },
      { source: 'api', yaml: 'b', nowMs: clock.now() },
    );
    await saveWorkflow(store.db, def('other'), { source: 'api', nowMs: clock.now() });
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect(await getWorkflow(store.db, 'rescue')).toMatchObject({ version: 2, enabled: false, yaml: 'b', definition: { name: 'Second' } });
    expect(await getWorkflow(store.db, 'rescue', 1)).toMatchObject({
      version: 1,
      enabled: true,
      createdBy: 'key:k1',
      definition: { name: 'First' },
    });
    expect(await getWorkflow(store.db, 'rescue', 3)).toBeUndefined();
    expect(await getWorkflow(store.db, 'nope')).toBeUndefined();
    expect((await listWorkflows(store.db)).map((w) => [w.id, w.version])).toEqual([
      ['other', 1],
      ['rescue', 2],
    ]);
    expect((await workflowVersions(store.db, 'rescue')).map((v) => [v.version, v.name, v.enabled])).toEqual([
      [2, 'Second', false],
      [1, 'First', true],
    ]);
  });

  it('gives concurrent saves distinct versions', async () => {
    const saved = await Promise.all(
      Array.from({ length: 8 }, (_, i) => saveWorkflow(store.db, def('busy', `n${i}`), { source: 'api', nowMs: i })),
    );
    expect(saved.map((s) => s.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('loads a directory: new and changed files become versions, unchanged ones do not, removed ones are disabled', async () => {
    const d = tempDir();
    writeFileSync(path.join(d, 'rescue.yaml'), yaml('rescue'));
    mkdirSync(path.join(d, 'ops'));
    writeFileSync(path.join(d, 'ops', 'other.yml'), yaml('other'));
    const opts = { environment, executors, nowMs: clock.now() };

    const first = await loadWorkflowsDir(store.db, d, opts);
    expect(first.saved.map((w) => [w.id, w.version, w.filePath, w.readOnly])).toEqual([
      ['other', 1, 'ops/other.yml', true],
      ['rescue', 1, 'rescue.yaml', true],
    ]);
    expect(first.problems).toEqual([]);

    const again = await loadWorkflowsDir(store.db, d, opts);
    expect(again.saved).toEqual([]);
    expect(again.unchanged.sort()).toEqual(['other', 'rescue']);

    writeFileSync(path.join(d, 'rescue.yaml'), yaml('rescue', 'holdout: 10%\n'));
    unlinkSync(path.join(d, 'ops', 'other.yml'));
    const third = await loadWorkflowsDir(store.db, d, opts);
    expect(third.saved.map((w) => [w.id, w.version, w.definition.holdoutPercent])).toEqual([['rescue', 2, 10]]);
    expect(third.detached.map((w) => [w.id, w.version, w.enabled, w.filePath, w.readOnly])).toEqual([['other', 2, false, null, false]]);
    // Detached: the API may take it over now.
    const taken = await putWorkflow(store.db, 'other', yaml('other'), { ...opts, createdBy: 'key:k' });
    expect(taken).toMatchObject({ version: 3, source: 'api', readOnly: false });
  });

  it('reports invalid files and duplicate ids with file, line and column, and keeps the last valid version', async () => {
    const d = tempDir();
    writeFileSync(path.join(d, 'a.yaml'), yaml('rescue'));
    writeFileSync(path.join(d, 'b.yaml'), yaml('rescue'));
    writeFileSync(path.join(d, 'c.yaml'), yaml('broken').replace('cart.value', 'cart.vlaue'));
    const r = await loadWorkflowsDir(store.db, d, { environment, executors, nowMs: clock.now() });
    expect(r.saved.map((w) => w.id)).toEqual(['rescue']);
    expect(r.problems.map((p) => [path.basename(p.file ?? ''), p.line, p.column, p.code])).toEqual([
      ['b.yaml', 2, 5, 'PW_WORKFLOW_DUPLICATE_ID'],
      ['c.yaml', 5, 20, 'PW_WORKFLOW_CEL'],
    ]);

    unlinkSync(path.join(d, 'b.yaml'));
    writeFileSync(path.join(d, 'a.yaml'), yaml('rescue').replace('cart.value', 'cart.valu'));
    const r2 = await loadWorkflowsDir(store.db, d, { environment, executors, nowMs: clock.now() });
    expect(r2.detached).toEqual([]);
    expect(r2.problems.map((p) => path.basename(p.file ?? ''))).toEqual(['a.yaml', 'c.yaml']);
    expect((await getWorkflow(store.db, 'rescue'))?.version).toBe(1);
  });

  it('refuses API changes to a file-backed workflow (409), invalid ones (422) and a mismatched id', async () => {
    const d = tempDir();
    writeFileSync(path.join(d, 'rescue.yaml'), yaml('rescue'));
    const opts = { environment, executors, nowMs: clock.now(), createdBy: 'key:k' };
    await loadWorkflowsDir(store.db, d, opts);
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
        return 'saved';
      } catch (e) {
        if (!isAppError(e)) throw e;
        return `${e.status} ${e.code}`;
      }
    };
    expect(await code(putWorkflow(store.db, 'rescue', yaml('rescue'), opts))).toBe('409 PW_WORKFLOW_READ_ONLY');
    expect(await code(putWorkflow(store.db, 'fresh', yaml('fresh').replace('cart.value', 'cart.vlaue'), opts))).toBe(
      '422 PW_WORKFLOW_INVALID',
    );
    expect(await code(putWorkflow(store.db, 'fresh', yaml('other'), opts))).toBe('422 PW_WORKFLOW_INVALID');
    expect(await code(putWorkflow(store.db, 'fresh', yaml('fresh'), opts))).toBe('saved');
    expect(await getWorkflow(store.db, 'fresh')).toMatchObject({ version: 1, source: 'api', createdBy: 'key:k', filePath: null });
  });
});
