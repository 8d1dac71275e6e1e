/** `autoscale`'s output: a line per event, or one JSON object per event (NDJSON). */
import type { AutoscaleEvent } from '../ops/autoscale.js';
import type { Printer } from './printer.js';

/** The clock time of an event, as a line starts with it: "12:00:01". */
function clockOf(time: string): string {
  return time.slice(11, 19);
}

/**
 * One event: with json, a line of NDJSON on stdout; otherwise decisions and
 * results as "12:00:01 <message>" on stdout, retries and notices as warnings on stderr.
 */
export function formatAutoscaleEvent(
  e: AutoscaleEvent,
  json: boolean,
  printer: Pick<Printer, 'warn'>,
  out: (text: string) => void = (text) => process.stdout.write(text),
): void {
  if (json) {
    out(`${JSON.stringify(e)}\n`);
    return;
  }
  if (e.type === 'notice') printer.warn(e.message);
  else if (e.type === 'retrying') printer.warn(`${e.message}${e.hint ? ` (${e.hint})` : ''}`);
  else out(`${clockOf(e.time)} ${e.message}\n`);
}
