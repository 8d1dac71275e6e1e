import type { ReleaseValues } from './status.js';

/**
 * The chart's computed values that the plugin reads (`helm get values --all`),
 * typed once. values.schema.json is the source: test/unit/chart-values.test.ts
 * checks every path and type here against it, so the two cannot drift apart.
 */
export interface ChartValues {
  room?: {
    replicas?: number;
    onePerNode?: boolean;
    podManagementPolicy?: 'OrderedReady' | 'Parallel';
    failover?: { notReadySeconds?: number | null; unreachableSeconds?: number | null };
  };
  expose?: {
    count?: number | null;
    nodePortBase?: number | null;
    nodePorts?: number[];
    type?: 'NodePort' | 'LoadBalancer';
  };
  redis?: { enabled?: boolean };
}

/** Every leaf of ChartValues with the JSON types it may hold: what the schema test walks. */
export const CHART_VALUE_PATHS: Record<string, string[]> = {
  'room.replicas': ['integer'],
  'room.onePerNode': ['boolean'],
  'room.podManagementPolicy': ['string'],
  'room.failover.notReadySeconds': ['integer', 'null'],
  'room.failover.unreachableSeconds': ['integer', 'null'],
  'expose.count': ['integer', 'null'],
  'expose.nodePortBase': ['integer', 'null'],
  'expose.nodePorts': ['array'],
  'expose.type': ['string'],
  'redis.enabled': ['boolean'],
};

/** The values that decide what a release should look like, as status judges it. */
export function releaseValuesOf(v: ChartValues): ReleaseValues {
  const replicas = v.room?.replicas ?? 0;
  return {
    replicas,
    exposeCount: v.expose?.count ?? replicas,
    nodePortBase: v.expose?.nodePortBase ?? undefined,
    ...(v.expose?.nodePorts?.length ? { nodePorts: v.expose.nodePorts } : {}),
    redisEnabled: v.redis?.enabled ?? false,
  };
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A release's computed values from what Helm stores: the user's values over
 * the chart's defaults, as Helm coalesces them (maps merge key by key, a null
 * removes the default, anything else replaces it). `helm get values --all`
 * without running helm.
 */
export function coalesceValues(defaults: unknown, user: unknown): Record<string, unknown> {
  const out = new Map(Object.entries(isMap(defaults) ? defaults : {}));
  for (const [key, value] of Object.entries(isMap(user) ? user : {})) {
    const base = out.get(key);
    if (value === null) out.delete(key);
    else if (isMap(value) && isMap(base)) out.set(key, coalesceValues(base, value));
    else out.set(key, value);
  }
  return Object.fromEntries(out);
}
