import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Cluster, Context, KubeConfig, User } from '@kubernetes/client-node';

import { durationMs, notADuration } from '../core/duration.js';
import { UsageError } from '../errors.js';

/** kubectl's standard flags, as the user gave them. */
export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  /** kubectl's --request-timeout: a duration; "0" waits forever. Default 30s. */
  requestTimeout?: string;
}

export const DEFAULT_REQUEST_TIMEOUT = '30s';

export interface ResolvedKube {
  kc: KubeConfig;
  /** The context in use; undefined when no kubeconfig exists at all. */
  context?: string;
  /** --namespace, else the context's namespace, else "default". */
  namespace: string;
  /** How long one API request may take; 0 means no limit. */
  requestTimeoutMs: number;
}

/**
 * Builds the KubeConfig the way kubectl does: --kubeconfig, else $KUBECONFIG
 * (several files merged, missing ones skipped), else ~/.kube/config; then
 * --context, checked before any request so a typo names the contexts that do exist.
 */
export async function loadKube(
  flags: KubeFlags,
  /** interactive false: an exec plugin never reads the terminal (shell completion). */
  opts: { interactive?: boolean } = {},
): Promise<ResolvedKube> {
  const requestTimeoutMs = durationMs(flags.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT);
  if (requestTimeoutMs === undefined) {
    throw notADuration('--request-timeout', flags.requestTimeout ?? '', 'request');
  }
  // client-node is heavy; only commands that need a cluster pay for it.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  const files = flags.kubeconfig ? [flags.kubeconfig] : kubeconfigFiles(process.env.KUBECONFIG, os.homedir());
  if (flags.kubeconfig) {
    if (!existsSync(flags.kubeconfig)) {
      throw new UsageError(`--kubeconfig ${flags.kubeconfig}: no such file`);
    }
    try {
      kc.loadFromFile(flags.kubeconfig);
      resolveExecCommands(kc, flags.kubeconfig);
    } catch (e) {
      throw new UsageError(
        `--kubeconfig ${flags.kubeconfig} is not a valid kubeconfig: ${(e as Error).message}`,
      );
    }
  } else {
    try {
      const parts = files.map((f) => {
        const one = new KubeConfig();
        one.loadFromFile(f);
        resolveExecCommands(one, f);
        return one;
      });
      if (parts.length) kc.loadFromOptions(mergeKubeconfigs(parts));
    } catch (e) {
      throw new UsageError(
        `cannot read the kubeconfig: ${(e as Error).message}`,
        'Check $KUBECONFIG and ~/.kube/config.',
      );
    }
  }
  const names = kc.getContexts().map((c) => c.name);
  if (flags.context) {
    if (!names.includes(flags.context)) {
      const available = names.length ? names.join(', ') : 'none';
      throw new UsageError(`context ${flags.context} not found in kubeconfig (available: ${available})`);
    }
    kc.setCurrentContext(flags.context);
  }
  const current = kc.getContextObject(kc.getCurrentContext());
  // as, as-uid, as-groups, as-user-extra: on every request, and in helm's kubeconfig (client-node keeps only as).
  const { carryImpersonation, readImpersonations } = await import('./impersonation.js');
  const impersonation = current && readImpersonations(files).get(current.user);
  if (current && impersonation) carryImpersonation(kc, impersonation, current.user);
  // An exec plugin signs in once per process, within --request-timeout, talking to the user's terminal.
  const { takeOverExec } = await import('./exec-credential.js');
  takeOverExec(kc, {
    timeoutMs: requestTimeoutMs,
    stdinIsTTY: opts.interactive !== false && process.stdin.isTTY,
  });
  return {
    kc,
    context: current?.name,
    namespace: flags.namespace ?? current?.namespace ?? 'default',
    requestTimeoutMs,
  };
}

/**
 * An exec plugin's command as client-go resolves it: one with a path
 * separator (`./bin/get-token`, `bin/get-token`) is relative to the directory
 * of the kubeconfig file that defines it, never to the working directory (a
 * checkout could otherwise put its own get-token there); a bare name is
 * looked up on PATH when it runs; an absolute path stays as it is.
 */
export function execCommandPath(command: string, kubeconfigFile: string, sep = path.sep): string {
  if (!command.includes(sep) || path.isAbsolute(command)) return command;
  return path.join(path.resolve(path.dirname(kubeconfigFile)), command);
}

/** Resolves the exec command of every user `file` defines (execCommandPath), before files are merged. */
function resolveExecCommands(kc: KubeConfig, file: string): void {
  kc.users = kc.users.map((u) => {
    const exec = u.exec as { command?: unknown } | undefined | null;
    if (!exec || typeof exec.command !== 'string') return u;
    return { ...u, exec: { ...exec, command: execCommandPath(exec.command, file) } };
  });
}

/** The kubeconfig files kubectl would read: $KUBECONFIG's existing entries, else ~/.kube/config if it exists. */
export function kubeconfigFiles(envValue: string | undefined, home: string): string[] {
  if (envValue) return envValue.split(path.delimiter).filter((f) => f && existsSync(f));
  const def = path.join(home, '.kube', 'config');
  return existsSync(def) ? [def] : [];
}

interface KubeconfigParts {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string;
}

/**
 * Merges kubeconfig files with kubectl's rule: the first file to define a
 * name wins, and current-context comes from the first file that sets one.
 * (client-node's mergeConfig throws on duplicate names instead.)
 */
export function mergeKubeconfigs(parts: KubeconfigParts[]): KubeconfigParts {
  const firstWins = <T extends { name: string }>(lists: T[][]): T[] => {
    const seen = new Map<string, T>();
    for (const item of lists.flat()) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  return {
    clusters: firstWins(parts.map((p) => p.clusters)),
    users: firstWins(parts.map((p) => p.users)),
    contexts: firstWins(parts.map((p) => p.contexts)),
    currentContext: parts.find((p) => p.currentContext)?.currentContext ?? '',
  };
}
