import { Command } from '@oclif/core';

import type { CommandSpec } from '../core/completion.js';

/**
 * `kubectl_complete-expose_pods ARGS... WORD`, which runs `kubectl-expose_pods
 * __complete -- ARGS... WORD`: kubectl's plugin completion (kubectl 1.26+).
 * Prints the candidates for WORD, one a line, then Cobra's :<directive>.
 * Hidden; never fails loudly, since a prompt is waiting.
 */
export default class Complete extends Command {
  static override hidden = true;
  static override strict = false;
  static override summary =
    "Shell completion in kubectl's plugin protocol (run by kubectl_complete-expose_pods).";

  async run(): Promise<void> {
    // The words exactly as kubectl passed them: oclif's parser would drop a "--" being completed.
    const { COMMANDS } = await import('./index.js');
    const { completions } = await import('../ops/completion.js');
    const { formatCompletion } = await import('../core/completion.js');
    const args = this.argv[0] === '--' ? this.argv.slice(1) : this.argv;
    const specs: CommandSpec[] = Object.entries(COMMANDS)
      .filter(([id, cls]) => !cls.hidden && id !== 'help')
      .map(([id, cls]) => ({
        id,
        summary: cls.summary,
        releaseArg: 'release' in cls.args,
        flags: Object.entries(cls.flags)
          .filter(([, f]) => !f.hidden)
          .map(([name, f]) => ({
            name,
            char: f.char,
            takesValue: f.type === 'option',
            options: f.type === 'option' ? f.options : undefined,
            multiple: f.type === 'option' ? f.multiple : false,
            description: f.summary ?? f.description,
          })),
      }));
    const { candidates, directive } = await completions(specs, args.length ? args : ['']);
    process.stdout.write(formatCompletion(candidates, directive));
  }
}
