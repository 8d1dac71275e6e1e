import type { Endpoint } from './endpoints.js';
import { UNKNOWN_ADDRESS } from './endpoints.js';

/** What a TCP connect from here found; anything else is an error code such as EHOSTUNREACH. */
export type ConnectOutcome = 'reachable' | 'refused' | 'timeout' | `error ${string}`;
export type ProbeOutcome = ConnectOutcome | 'not probed (udp)' | 'not probed (not ready)';

/** Opens a TCP connection and reports how it went; never throws. */
export type Connect = (host: string, port: number, timeoutMs: number) => Promise<ConnectOutcome>;

const MAX_PARALLEL = 32;

/**
 * Probes each Ready endpoint with one TCP connection from where the plugin runs:
 * what `curl` to the node address shows by hand. UDP cannot be checked this way.
 * Returns one outcome per row, in row order.
 */
export async function probeEndpoints(
  rows: Endpoint[],
  connect: Connect,
  timeoutMs: number,
): Promise<ProbeOutcome[]> {
  const out: ProbeOutcome[] = rows.map((r) => {
    if (r.protocol === 'UDP') return 'not probed (udp)';
    if (!r.ready || !r.address || r.address === UNKNOWN_ADDRESS || r.port === null)
      return 'not probed (not ready)';
    return 'timeout';
  });
  const todo = rows.map((r, i) => ({ r, i })).filter(({ i }) => out[i] === 'timeout');
  for (let k = 0; k < todo.length; k += MAX_PARALLEL) {
    await Promise.all(
      todo.slice(k, k + MAX_PARALLEL).map(async ({ r, i }) => {
        out[i] = await connect(r.address ?? '', r.port ?? 0, timeoutMs);
      }),
    );
  }
  return out;
}
