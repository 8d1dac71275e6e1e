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
