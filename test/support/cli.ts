import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { CLI, run, type Run } from './tools.js';

/** A temp dir holding `helm` (a link to the given binary), for PATH. */
export function helmBinDir(helmPath: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-bin-'));
  symlinkSync(helmPath, path.join(dir, 'helm'));
  return dir;
}

/** Runs the built CLI as a user would, with the given PATH and environment. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  return run(process.execPath, [CLI, ...args], { env });
}

/** A kubeconfig with two contexts on an API server that is not there (a closed loopback port). */
export function writeKubeconfig(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'expose-pods-kube-'));
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'config');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
  - name: nowhere
    cluster:
      server: https://127.0.0.1:1
      insecure-skip-tls-verify: true
users:
  - name: u
    user:
      token: t
contexts:
  - name: alpha
    context: {cluster: nowhere, user: u, namespace: from-context}
  - name: beta
    context: {cluster: nowhere, user: u}
current-context: alpha
`,
  );
  return file;
}
