import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

/** A finished program: its exit status and its output as text. */
export type Run = Pick<SpawnSyncReturns<string>, 'status' | 'stdout' | 'stderr'>;

export interface RunOptions {
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to its stdin. */
  input?: string;
}

/**
 * Runs a program to completion, for the scripts, the tests and the
 * benchmarks alike. A program that cannot be started at all throws.
 */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Run {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    input: opts.input,
    maxBuffer: 512 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** run, for a step that must succeed: its stdout, or an error naming the command, its exit status and its stderr. */
export function sh(cmd: string, args: string[], opts: RunOptions = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  return r.stdout;
}
