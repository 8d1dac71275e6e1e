import { terminalText } from './terminal.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Live progress on stderr. On a TTY, a spinner line rewritten in place; otherwise
 * plain lines, one per change, so logs stay readable.
 */
export class Progress {
  private text = '';
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
    private readonly tty = stream.isTTY === true,
  ) {}

  /** Shows progress while `work` runs, and clears it however `work` ends. */
  static async during<T>(work: (progress: Progress) => Promise<T>): Promise<T> {
    const progress = new Progress();
    try {
      return await work(progress);
    } finally {
      progress.stop();
    }
  }

  /** Shows `text` (one line; it may quote the cluster, so it goes through terminalText). */
  update(line: string): void {
    const text = terminalText(line, { oneLine: true });
    if (text === this.text) return;
    this.text = text;
    if (!this.tty) {
      this.stream.write(`… ${text}\n`);
      return;
    }
    this.timer ??= setInterval(() => {
      this.render();
    }, 100);
    this.render();
  }

  /** Clears the spinner line; plain mode has nothing to clear. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty && this.text) this.stream.write('\r\x1b[2K');
  }

  private render(): void {
    this.frame = (this.frame + 1) % FRAMES.length;
    this.stream.write(`\r\x1b[2K${FRAMES[this.frame] ?? ''} ${this.text}`);
  }
}
