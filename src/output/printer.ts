import { Chalk, type ChalkInstance } from 'chalk';

/** Whether to colour a stream: only a TTY, never with NO_COLOR set or TERM=dumb; FORCE_COLOR wins. */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined) return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/**
 * Status, warnings and errors for stderr, with fixed prefixes. Results never
 * go through here: they belong on stdout.
 */
export class Printer {
  private readonly c: ChalkInstance;

  constructor(private readonly stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr) {
    this.c = new Chalk({ level: colorEnabled(stream) ? 1 : 0 });
  }

  error(message: string, hint?: string): void {
    this.write(`${this.c.red('error:')} ${message}`);
    if (hint) this.write(hint);
  }

  warn(message: string): void {
    this.write(`${this.c.yellow('warning:')} ${message}`);
  }

  success(message: string): void {
    this.write(`${this.c.green('✔')} ${message}`);
  }

  info(message: string): void {
    this.write(message);
  }

  private write(line: string): void {
    this.stream.write(`${line}\n`);
  }
}
