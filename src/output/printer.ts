import { Chalk, type ChalkInstance } from 'chalk';

import { terminalText } from './terminal.js';

/** Whether to colour a stream: only a TTY, never with NO_COLOR set or TERM=dumb; FORCE_COLOR wins. */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined) return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/**
 * Status, warnings and errors for stderr, with fixed prefixes. Results never
 * go through here: they belong on stdout. What it prints may quote the
 * cluster (an API server's message, a lock's holder), so every message and
 * hint goes through terminalText; colour is added after, by us alone.
 */
export class Printer {
  private readonly c: ChalkInstance;

  constructor(private readonly stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr) {
    this.c = new Chalk({ level: colorEnabled(stream) ? 1 : 0 });
  }

  error(message: string, hint?: string): void {
    this.write(`${this.c.red('error:')} ${terminalText(message)}`);
    if (hint) this.write(terminalText(hint));
  }

  warn(message: string): void {
    this.write(`${this.c.yellow('warning:')} ${terminalText(message)}`);
  }

  success(message: string): void {
    this.write(`${this.c.green('✔')} ${terminalText(message)}`);
  }

  info(message: string): void {
    this.write(terminalText(message));
  }

  private write(line: string): void {
    this.stream.write(`${line}\n`);
  }
}
