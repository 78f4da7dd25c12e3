/**
 * Step paths: where a run is in its workflow's steps. `steps.0` is the first top-level step,
 * `steps.2.then.1` the second step of the `then` branch of the third. A path is part of the
 * action's idempotency key and of the wait timer's key, so it never depends on anything but
 * the workflow version's step tree.
 */
import type { Step } from './types.ts';

type ListName = 'steps' | 'then' | 'else';
interface Seg {
  list: ListName;
  index: number;
}

export const FIRST_STEP = 'steps.0';

function parse(path: string): Seg[] | undefined {
  const parts = path.split('.');
  if (parts.length % 2 !== 0 || parts[0] !== 'steps') return undefined;
  const segs: Seg[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    const list = parts[i] as ListName;
    const index = Number(parts[i + 1]);
    if ((i === 0 ? list !== 'steps' : list !== 'then' && list !== 'else') || !Number.isInteger(index) || index < 0) return undefined;
    segs.push({ list, index });
  }
  return segs;
}

const format = (segs: readonly Seg[]) => segs.map((s) => `${s.list}.${s.index}`).join('.');

/** The list a path's last segment indexes into (undefined when the path leaves the tree). */
function listAt(root: readonly Step[], segs: readonly Seg[]): readonly Step[] | undefined {
  let list: readonly Step[] = root;
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i] as Seg;
    const step = list[seg.index];
    const next = segs[i + 1] as Seg;
    if (step?.kind !== 'if') return undefined;
    list = next.list === 'then' ? step.then : step.else;
  }
  return list;
}

/** The step at `path`, or undefined when the version's steps have no such path. */
export function stepAt(root: readonly Step[], path: string): Step | undefined {
  const segs = parse(path);
  if (!segs) return undefined;
  const last = segs[segs.length - 1] as Seg;
  return listAt(root, segs)?.[last.index];
}

/** The first step of a branch of the `if` at `path` (undefined for an empty branch). */
export function branchStart(root: readonly Step[], path: string, branch: 'then' | 'else'): string | undefined {
  const step = stepAt(root, path);
  if (step?.kind !== 'if') return undefined;
  const list = branch === 'then' ? step.then : step.else;
  return list.length > 0 ? `${path}.${branch}.0` : undefined;
}

/**
 * The step that runs after the step at `path` is done (without descending into it): its next
 * sibling, else the next sibling of the enclosing `if`, and so on; undefined at the end.
 */
export function nextPath(root: readonly Step[], path: string): string | undefined {
  const segs = parse(path);
  if (!segs) return undefined;
  while (segs.length > 0) {
    const last = segs[segs.length - 1] as Seg;
    const list = listAt(root, segs);
    if (list && last.index + 1 < list.length) return format([...segs.slice(0, -1), { list: last.list, index: last.index + 1 }]);
    segs.pop();
  }
  return undefined;
}

/** Every step path of a step tree, depth first (for validation and "would have acted" traces). */
export function allPaths(root: readonly Step[], prefix = 'steps'): { path: string; step: Step }[] {
  return root.flatMap((step, i) => {
    const path = `${prefix}.${i}`;
    const here = [{ path, step }];
    if (step.kind !== 'if') return here;
    return [...here, ...allPaths(step.then, `${path}.then`), ...allPaths(step.else, `${path}.else`)];
  });
}
