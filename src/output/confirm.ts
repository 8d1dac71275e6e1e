import { createInterface } from 'node:readline/promises';

import { ExitCode, ExposePodsError } from '../errors.js';
import { terminalText } from './terminal.js';

/** Asks a yes/no question on stderr and reads the answer from stdin; only "y" or "yes" is yes. */
export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${terminalText(question)} [y/N] `);
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/**
 * The one gate before a disruptive change: --yes passes; otherwise it asks on a
 * terminal, naming the cluster. Without a terminal, or on any answer but yes,
 * it refuses with exit 13 (NOT_CONFIRMED), and nothing has been changed.
 */
export async function requireConfirmation(opts: {
  yes: boolean;
  /** The refusal without a terminal: "this scale removes 2 Ready pod(s)". */
  what: string;
  /** "namespace game of context prod (https://...)". */
  cluster?: string;
  question: string;
  /** What the refusal says happened; default "Nothing was changed." */
  unchanged?: string;
}): Promise<void> {
  if (opts.yes) return;
  const unchanged = opts.unchanged ?? 'Nothing was changed.';
  if (!process.stdin.isTTY) {
    throw new ExposePodsError(
      `${opts.what}: pass --yes, or run it in a terminal`,
      ExitCode.NOT_CONFIRMED,
      unchanged,
    );
  }
  const where = opts.cluster ? `in ${opts.cluster}\n` : '';
  if (!(await confirm(`${where}${opts.question}`)))
    throw new ExposePodsError(
      `not confirmed; ${unchanged.replace(/^N/, 'n').replace(/\.$/, '')}`,
      ExitCode.NOT_CONFIRMED,
    );
}
