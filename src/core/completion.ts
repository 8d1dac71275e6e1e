import { NODE_ADDRESS_TYPES } from './endpoints.js';

/**
 * Shell completion in kubectl's plugin protocol (Cobra's __complete): what a
 * word on the command line can become. Pure: the lists that need the cluster
 * (releases, namespaces) or the kubeconfig (contexts) are named, not read.
 */

/** Cobra's ShellCompDirective bits: the last line of a completion's output, as :<bits>. */
export const DIRECTIVE = {
  default: 0,
  error: 1,
  noSpace: 2,
  noFileComp: 4,
  filterDirs: 16,
  keepOrder: 32,
} as const;

/** What completion needs to know of a flag. */
export interface FlagSpec {
  name: string;
  char?: string;
  /** An option flag (takes a value); false for a boolean. */
  takesValue: boolean;
  options?: readonly string[];
  multiple?: boolean;
  description?: string;
}

/** What completion needs to know of a command. */
export interface CommandSpec {
  id: string;
  summary?: string;
  flags: FlagSpec[];
  /** Its first argument is a release name. */
  releaseArg: boolean;
}

export interface Candidate {
  value: string;
  description?: string;
}

/** Words to offer now, or a list to read first, then filter by `prefix`. */
export type Completion =
  | { kind: 'words'; candidates: Candidate[]; directive: number }
  | { kind: 'releases' | 'namespaces' | 'contexts'; prefix: string };

/** The flags whose values are files or directories: the shell completes those itself. */
const FILE_FLAGS: Partial<Record<string, number>> = {
  kubeconfig: DIRECTIVE.default,
  values: DIRECTIVE.default,
  'set-file': DIRECTIVE.default,
  'helm-binary': DIRECTIVE.default,
  'pki-dir': DIRECTIVE.filterDirs,
};

const words = (
  candidates: Candidate[],
  prefix: string,
  directive: number = DIRECTIVE.noFileComp,
): Completion => ({
  kind: 'words',
  candidates: candidates.filter((c) => c.value.startsWith(prefix)),
  directive,
});

/** The first sentence of a description, as the shell shows beside a candidate. */
const brief = (text?: string): string | undefined => text?.split(/(?<=\.)\s/)[0]?.replace(/\.$/, '');

/** The flag a word names (--name, --name=..., -c), if the command has it. */
function flagOf(cmd: CommandSpec, word: string): FlagSpec | undefined {
  if (word.startsWith('--')) {
    const name = word.slice(2).split('=')[0];
    return cmd.flags.find((f) => f.name === name);
  }
  if (/^-[^-]$/.test(word)) return cmd.flags.find((f) => f.char === word[1]);
  return undefined;
}

/** The value of a flag: its options, a list to read, files, or nothing to offer. */
function valueOf(flag: FlagSpec, prefix: string, written: string): Completion {
  if (flag.options)
    return words(
      flag.options.map((o) => ({ value: written + o })),
      written + prefix,
    );
  if (flag.name === 'namespace') return { kind: 'namespaces', prefix };
  if (flag.name === 'context') return { kind: 'contexts', prefix };
  const file = FILE_FLAGS[flag.name];
  if (file !== undefined) return { kind: 'words', candidates: [], directive: file };
  if (flag.name === 'address-type') {
    // A comma-separated preference list: complete its last item, keep what is before it.
    const done = prefix.slice(0, prefix.lastIndexOf(',') + 1);
    const used = new Set(done.split(',').filter(Boolean));
    const types = NODE_ADDRESS_TYPES.filter((t) => !used.has(t)).map((t) => ({ value: written + done + t }));
    return words(types, written + prefix, DIRECTIVE.noFileComp | DIRECTIVE.noSpace);
  }
  return { kind: 'words', candidates: [], directive: DIRECTIVE.noFileComp };
}

/**
 * What the last of `args` can become: kubectl passes the plugin's arguments
 * and then the word being completed ("" for a new one).
 */
export function complete(commands: readonly CommandSpec[], args: readonly string[]): Completion {
  const current = args.at(-1) ?? '';
  const before = args.slice(0, -1);
  const cmd = commands.find((c) => c.id === before[0]);
  if (!before.length) {
    if (current.startsWith('-')) return words([{ value: '--help', description: 'Show help' }], current);
    return words(
      commands.map((c) => ({ value: c.id, description: c.summary && brief(c.summary) })),
      current,
    );
  }
  if (!cmd) return words([], current);
  const previous = before.length > 1 ? (before.at(-1) ?? '') : '';
  const pending = flagOf(cmd, previous);
  if (pending?.takesValue && !previous.includes('=')) return valueOf(pending, current, '');
  if (current.startsWith('--') && current.includes('=')) {
    const flag = flagOf(cmd, current);
    const written = current.slice(0, current.indexOf('=') + 1);
    return flag?.takesValue ? valueOf(flag, current.slice(written.length), written) : words([], current);
  }
  if (current.startsWith('-')) {
    const given = new Set(before.slice(1).map((w) => flagOf(cmd, w)?.name));
    const flags = cmd.flags.filter((f) => f.multiple || !given.has(f.name));
    return words(
      flags.map((f) => ({ value: `--${f.name}`, description: brief(f.description) })),
      current,
    );
  }
  // A positional word: only the release, first.
  let positionals = 0;
  for (let i = 1; i < before.length; i++) {
    const w = before[i] ?? '';
    const flag = flagOf(cmd, w);
    if (flag) {
      if (flag.takesValue && !w.includes('=')) i++;
    } else if (!w.startsWith('-')) positionals++;
  }
  if (cmd.releaseArg && positionals === 0) return { kind: 'releases', prefix: current };
  return words([], current);
}

/** The connection flags among the words, for the lists that need the cluster. */
export function connectionOf(args: readonly string[]): {
  namespace?: string;
  context?: string;
  kubeconfig?: string;
} {
  const out: { namespace?: string; context?: string; kubeconfig?: string } = {};
  const names: Record<string, keyof typeof out> = {
    '-n': 'namespace',
    '--namespace': 'namespace',
    '--context': 'context',
    '--kubeconfig': 'kubeconfig',
  };
  for (let i = 0; i < args.length - 1; i++) {
    const w = args[i] ?? '';
    const eq = w.indexOf('=');
    const key = names[eq > 0 ? w.slice(0, eq) : w];
    if (!key) continue;
    if (eq > 0) out[key] = w.slice(eq + 1);
    else if (i + 1 < args.length - 1) out[key] = args[++i];
  }
  return out;
}

/** The output kubectl reads: one candidate a line (value, a tab, its description), then :<directive>. */
export function formatCompletion(candidates: readonly Candidate[], directive: number): string {
  const lines = candidates.map((c) => (c.description ? `${c.value}\t${c.description}` : c.value));
  return `${[...lines, `:${directive}`].join('\n')}\n`;
}
