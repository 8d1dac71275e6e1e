/**
 * The kubeconfig helm gets when the user signed in through an exec plugin:
 * it carries the live credential, so it is on disk as briefly as it can be.
 * Its path is fixed when the change starts (helm's arguments name it), in a
 * directory of its own (0700); the file itself (0600) is written when a helm
 * that names it starts, and removed when the last such helm ends. The
 * directory goes when the change that made it ends (forgetCredentialFile: a
 * process that runs change after change, the autoscaler, keeps none), and on
 * every way out (a normal exit, an error, SIGINT, SIGTERM, SIGHUP) (cleanup.ts).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { atExit } from '../cleanup.js';

interface CredentialFile {
  dir: string;
  file: string;
  content: string;
  /** helm processes reading it now. */
  readers: number;
  /** Its change has ended: the directory goes once no helm reads it. */
  forgotten?: boolean;
}

const files = new Map<string, CredentialFile>();
/** Unregisters the clean-up on the way out; set while there are files. */
let unregister: (() => void) | undefined;

/**
 * A path for `content` (a kubeconfig), for helm's --kubeconfig. Nothing is
 * written yet: runHelm writes it while a helm that names it runs.
 */
export function credentialFile(content: string): string {
  // At once on a signal, whoever handles it; and at exit.
  unregister ??= atExit(removeCredentialFiles, 'signal');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kubectl-expose-pods-'));
  chmodSync(dir, 0o700);
  const file = path.join(dir, 'kubeconfig');
  files.set(file, { dir, file, content, readers: 0 });
  return file;
}

/**
 * Writes every credential file `args` names, for a helm about to start with
 * them; the function returned removes each again once no helm reads it.
 */
export function openCredentialFiles(args: readonly string[]): () => void {
  const used = [...files.values()].filter((f) => args.includes(f.file));
  for (const f of used) if (f.readers++ === 0) writeFileSync(f.file, f.content, { mode: 0o600 });
  let closed = false;
  return () => {
    if (closed) return;
    closed = true;
    for (const f of used) {
      if (--f.readers > 0) continue;
      rmSync(f.file, { force: true });
      if (f.forgotten) remove(f);
    }
  };
}

/**
 * The change that asked for `file` has ended: its directory goes now, or
 * when the last helm reading it ends. Any other path (the user's own
 * kubeconfig, undefined) is left alone.
 */
export function forgetCredentialFile(file: string | undefined): void {
  const f = file === undefined ? undefined : files.get(file);
  if (!f) return;
  f.forgotten = true;
  if (f.readers === 0) remove(f);
}

function remove(f: CredentialFile): void {
  rmSync(f.dir, { recursive: true, force: true });
  files.delete(f.file);
  if (files.size) return;
  unregister?.();
  unregister = undefined;
}

/** Removes every credential file and its directory, now: synchronous, for exit and signal handlers. */
export function removeCredentialFiles(): void {
  for (const f of files.values()) rmSync(f.dir, { recursive: true, force: true });
  files.clear();
}
