/** Child-process helpers shared by the tests that run the real `pitwall` CLI. */
import type { ChildProcess } from 'node:child_process';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves when the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Collects a child's output until it exits; SIGKILLs it after `timeoutMs` (which fails the caller's assertions). */
export async function outputOf(child: ChildProcess, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => {
    stdout += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const { code } = await exited(child);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The real `pitwall` bin: the sources compiled into a cache and run as JavaScript (ADR 0021). */
export const PITWALL_BIN = new URL('../../bin/pitwall.js', import.meta.url).pathname;
