import type { Endpoint } from './endpoints.js';

export type EndpointChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One row that appeared, changed or went away between two resolutions. Part of the --watch -o json schema. */
export interface EndpointChange {
  type: EndpointChangeType;
  /** The row now; for DELETED, the row as it was last seen. */
  endpoint: Endpoint;
}

function same(a: Endpoint, b: Endpoint): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof Endpoint>;
  // allocation is an object: compared by content.
  for (const k of keys) if (a[k] !== b[k] && JSON.stringify(a[k]) !== JSON.stringify(b[k])) return false;
  return true;
}

/**
 * The changes from `before` to `after`, keyed by ordinal, in ordinal order:
 * what --watch reports. Rows that did not change are not reported.
 */
export function diffEndpoints(before: readonly Endpoint[], after: readonly Endpoint[]): EndpointChange[] {
  const old = new Map(before.map((e) => [e.ordinal, e]));
  const now = new Map(after.map((e) => [e.ordinal, e]));
  const ordinals = [...new Set([...old.keys(), ...now.keys()])].sort((a, b) => a - b);
  const changes: EndpointChange[] = [];
  for (const n of ordinals) {
    const was = old.get(n);
    const is = now.get(n);
    if (is && !was) changes.push({ type: 'ADDED', endpoint: is });
    else if (was && !is) changes.push({ type: 'DELETED', endpoint: was });
    else if (was && is && !same(was, is)) changes.push({ type: 'MODIFIED', endpoint: is });
  }
  return changes;
}
