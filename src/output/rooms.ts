import type { Endpoint } from '../core/endpoints.js';
import type { Deallocation } from '../ops/allocate.js';
import { formatEndpoints } from './endpoints.js';
import { renderNames, type Printers } from './format.js';

/** One room as allocate and deallocate print it: an endpoints row (table, wide), or pod/NAME; -o json is the row's object. */
export function roomPrinters(opts: { headers: boolean }): Printers<Endpoint> {
  return {
    table: (e) => `${formatEndpoints([e], false, opts)}\n`,
    wide: (e) => `${formatEndpoints([e], true, opts)}\n`,
    name: (e) => renderNames([e.pod], 'pod'),
  };
}

/** deallocate --allocation-id's -o json: the id, whether this call ended it, and the room's row (null when none held it). */
export interface DeallocationById {
  allocationId: string;
  ended: boolean;
  endpoint: Endpoint | null;
}

/** What deallocate prints: the room's row, or by id the DeallocationById document. */
export type DeallocationResult = Endpoint | DeallocationById;

/** deallocate's printers: the room's row when there is one, nothing when no room held the id. */
export function deallocationPrinters(opts: { headers: boolean }): Printers<DeallocationResult> {
  const rooms = roomPrinters(opts);
  const rowOf = (r: DeallocationResult): Endpoint | null => ('allocationId' in r ? r.endpoint : r);
  return Object.fromEntries(
    Object.entries(rooms).map(([format, print]) => [
      format,
      (r: DeallocationResult) => {
        const row = rowOf(r);
        return row ? print(row) : '';
      },
    ]),
  );
}

/** The line deallocate says on stderr when it changed nothing, or replaced the room; undefined otherwise. */
export function deallocationNotice(d: Deallocation): string | undefined {
  const pod = d.endpoint?.pod;
  if (d.replaced && pod)
    return `${pod} ran an older revision than its StatefulSet: it is being replaced on the new one, at the same address and port once Ready`;
  if (d.wasAllocated) return undefined;
  if (d.ended) {
    const what =
      d.allocationId === undefined ? `${pod ?? 'the room'}'s allocation` : `allocation ${d.allocationId}`;
    return `${what} had already ended (a container of ${pod ?? 'the room'} restarted${d.ended.endedAt ? ` at ${d.ended.endedAt}` : ''}): its marks were removed`;
  }
  if (d.allocationId === undefined) return `${pod ?? 'the room'} was not allocated: nothing to change`;
  const where = pod ? `${pod} holds another allocation, or none` : 'no room holds it';
  return `allocation ${d.allocationId} had already ended: ${where}; nothing to change`;
}
