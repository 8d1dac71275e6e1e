import { ordinalOf, type PodView } from './model.js';

/** How far an install has come: the StatefulSet's pods and Redis. */
export interface InstallProgress {
  ready: number;
  total: number;
  /** The lowest ordinal not ready yet: the one a StatefulSet is working on. */
  current?: { pod: string; state: string };
  /** undefined when the release has no Redis. */
  redisReady?: boolean;
}

/** Pure: progress from the pods seen in one poll. */
export function installProgress(
  workload: string,
  replicas: number,
  pods: PodView[],
  redisPods?: PodView[],
): InstallProgress {
  const byOrdinal = new Map<number, PodView>();
  for (const p of pods) {
    const n = ordinalOf(p.name, workload);
    if (n !== undefined) byOrdinal.set(n, p);
  }
  let ready = 0;
  let current: InstallProgress['current'];
  for (let n = 0; n < replicas; n++) {
    const p = byOrdinal.get(n);
    if (p?.ready) {
      ready++;
      continue;
    }
    current ??= { pod: `${workload}-${n}`, state: p ? (p.reason ?? p.phase) : 'not created yet' };
  }
  return { ready, total: replicas, current, redisReady: redisPods && redisPods.some((p) => p.ready) };
}

/** One line for people: "pods ready 2/3 · rooms-2 Pending · redis ready". */
export function progressLine(p: InstallProgress): string {
  const parts = [`pods ready ${p.ready}/${p.total}`];
  if (p.current) parts.push(`${p.current.pod} ${p.current.state}`);
  if (p.redisReady !== undefined) parts.push(p.redisReady ? 'redis ready' : 'redis starting');
  return parts.join(' · ');
}
