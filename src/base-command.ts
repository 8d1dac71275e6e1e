import { Command, Errors } from '@oclif/core';

import { ExitCode, ExposePodsError } from './errors.js';
import type { EndpointsOptions } from './ops/endpoints.js';
import type { Confirm } from './ops/mutation.js';
import type { Printers } from './output/format.js';
import { Printer } from './output/printer.js';

/**
 * oclif frames an error thrown by a flag's own parser (durationFlag) as
 * "Parsing --flag \n\t<message>\nSee more help with --help"; the message already names the flag.
 */
function withoutParseFrame(message: string): string {
  return /^Parsing --[\w-]+ \n\t([\s\S]*)\nSee more help with --help$/.exec(message)?.[1] ?? message;
}

/**
 * Every command's one top-level error handler: a known error prints
 * "error: <message>" and its hint on stderr and exits with its documented
 * code; no stack trace reaches the user.
 */
export abstract class BaseCommand extends Command {
  protected readonly printer = new Printer();

  /**
   * The gate an operation asks before a disruptive step: --yes passes;
   * otherwise a yes on a terminal, naming the cluster; otherwise exit 13
   * (NOT_CONFIRMED) with nothing changed.
   */
  protected confirmer(yes: boolean): Confirm {
    return async (ask) => {
      const { requireConfirmation } = await import('./output/confirm.js');
      await requireConfirmation({ yes, ...ask });
    };
  }

  /** Prints `result` as -o `format` asks (output/format.ts render): json and yaml from the result, any other by its printer. */
  protected async print<T>(result: T, format: string, printers: Printers<T>): Promise<void> {
    const { render } = await import('./output/format.js');
    process.stdout.write(render(result, format, printers));
  }

  /** --wait-reachable of install and scale: probes the release's Ready rooms until each answers, with progress. */
  protected async waitReachable(where: EndpointsOptions, timeout: string): Promise<void> {
    const { requireReachable } = await import('./ops/endpoints.js');
    const { Progress } = await import('./output/progress.js');
    const total = await Progress.during((progress) =>
      requireReachable(where, timeout, (answering, of) => {
        progress.update(`rooms answering from here ${answering}/${of}`);
      }),
    );
    this.printer.success(`all ${total} Ready rooms answer at their endpoints from here`);
  }

  protected override catch(err: Error & { exitCode?: number }): Promise<never> {
    if (err instanceof Errors.ExitError) throw err;
    if (err instanceof ExposePodsError) {
      this.printer.error(withoutParseFrame(err.message), err.hint);
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
