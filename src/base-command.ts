import { Command, Errors, Flags } from '@oclif/core';

import { ExitCode, ExposePodsError } from './errors.js';
import { DEFAULT_REQUEST_TIMEOUT, type KubeFlags } from './kube/config.js';
import type { EndpointsOptions } from './ops/endpoints.js';
import { Printer } from './output/printer.js';

/**
 * kubectl's standard connection flags, spelled as kubectl spells them. -n comes
 * first: oclif trims the leading spaces of a help group's first row, which
 * misaligns a first flag that has no short form.
 */
export const kubeFlags = {
  namespace: Flags.string({
    char: 'n',
    description: "Namespace of the release (default: the context's namespace, then default).",
    helpGroup: 'KUBERNETES',
  }),
  kubeconfig: Flags.string({
    description: 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).',
    helpGroup: 'KUBERNETES',
  }),
  context: Flags.string({ description: 'The kubeconfig context to use.', helpGroup: 'KUBERNETES' }),
  'request-timeout': Flags.string({
    description: 'How long one API request may take (30s, 2m; 0 waits forever).',
    default: DEFAULT_REQUEST_TIMEOUT,
    helpGroup: 'KUBERNETES',
  }),
};

/** The KubeFlags a command passes on, from kubeFlags as parsed (one place, so every command reads them alike). */
export function kubeFlagValues(flags: {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  'request-timeout': string;
}): KubeFlags {
  return {
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    namespace: flags.namespace,
    requestTimeout: flags['request-timeout'],
  };
}

export const helmFlags = {
  'helm-binary': Flags.string({
    description: 'The helm executable to run (default: helm on PATH). Helm 3 and 4 are supported.',
    helpGroup: 'HELM',
  }),
};

/**
 * Every command's one top-level error handler: a known error prints
 * "error: <message>" and its hint on stderr and exits with its documented
 * code; no stack trace reaches the user.
 */
export abstract class BaseCommand extends Command {
  protected readonly printer = new Printer();

  /** --wait-reachable of install and scale: probes the release's Ready rooms until each answers, with progress. */
  protected async waitReachable(where: EndpointsOptions, timeout: string): Promise<void> {
    const { requireReachable } = await import('./ops/endpoints.js');
    const { Progress } = await import('./output/progress.js');
    const progress = new Progress();
    let total: number;
    try {
      total = await requireReachable(where, timeout, (answering, of) => {
        progress.update(`rooms answering from here ${answering}/${of}`);
      });
    } finally {
      progress.stop();
    }
    this.printer.success(`all ${total} Ready rooms answer at their endpoints from here`);
  }

  protected override catch(err: Error & { exitCode?: number }): Promise<never> {
    if (err instanceof Errors.ExitError) throw err;
    if (err instanceof ExposePodsError) {
      this.printer.error(err.message, err.hint);
      return this.exit(err.exitCode);
    }
    // oclif's parse errors (unknown flag, bad option value, missing argument).
    const oclifExit = (err as Partial<Errors.CLIError>).oclif?.exit;
    if (err instanceof Errors.CLIError && oclifExit !== undefined) {
      this.printer.error(
        err.message.replace(/\n*See more help with --help$/, ''),
        `See: ${this.id ? `kubectl expose-pods ${this.id} --help` : 'kubectl expose-pods --help'}`,
      );
      return this.exit(ExitCode.USAGE);
    }
    this.printer.error(
      `unexpected failure: ${err.message}`,
      'This is a bug; please report it with the command you ran.',
    );
    return this.exit(ExitCode.ERROR);
  }
}
