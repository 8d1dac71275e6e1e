/**
 * The kubeconfig helm gets when the user signed in through an exec plugin:
 * it carries the live credential, so it is on disk as briefly as it can be.
 * Its path is fixed when the change starts (helm's arguments name it), in a
 * directory of its own (0700); the file itself (0600) is written when a helm
 * that names it starts, and removed when the last such helm ends. On every
 * way out (a normal exit, an error, SIGINT, SIGTERM, SIGHUP) the directory
 * goes too (cleanup.ts).
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
}

const files = new Map<string, CredentialFile>();

/**
 * A path for `content` (a kubeconfig), for helm's --kubeconfig. Nothing is
 * written yet: runHelm writes it while a helm that names it runs.
 */
export function credentialFile(content: string): string {
  // At once on a signal, whoever handles it; and at exit.
  if (!files.size) atExit(removeCredentialFiles, 'signal');
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
    for (const f of used) if (--f.readers === 0) rmSync(f.file, { force: true });
  };
}

/** Removes every credential file and its directory, now: synchronous, for exit and signal handlers. */
export function removeCredentialFiles(): void {
  for (const f of files.values()) rmSync(f.dir, { recursive: true, force: true });
  files.clear();
}
