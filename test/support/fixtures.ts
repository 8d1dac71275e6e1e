/**
 * The views the pure logic works on (core/model.ts), built the one way every
 * unit test builds them: a room pod and its per-pod Service for ordinal n.
 */
import type { Endpoint } from '../../src/core/endpoints.js';
import type { PodView, ServiceView } from '../../src/core/model.js';

/** `${workload}-${n}`: Running, Ready, on node n1, with a pod IP; `extra` overrides any field. */
export function roomPod(workload: string, n: number, extra: Partial<PodView> = {}): PodView {
  return {
    name: `${workload}-${n}`,
    phase: 'Running',
    ready: true,
    nodeName: 'n1',
    podIP: `10.244.0.${n}`,
    terminating: false,
    ...extra,
  };
}

/** The NodePort Service of `${workload}-${n}` in namespace game, release rooms, nodePort 30880 + n. */
export function podService(workload: string, n: number, extra: Partial<ServiceView> = {}): ServiceView {
  return {
    name: `${workload}-${n}`,
    namespace: 'game',
    type: 'NodePort',
    selectsPod: `${workload}-${n}`,
    ports: [{ port: 8080, nodePort: 30880 + n, protocol: 'TCP' }],
    ingress: [],
    release: 'rooms',
    ...extra,
  };
}

/** 0, 1, ..., k-1. */
export const ordinals = (k: number): number[] => Array.from({ length: k }, (_, i) => i);

/** An `endpoints` row for `${workload}-${ordinal}`: Ready on n1 at 198.51.100.1, nodePort 30000 + ordinal. */
export function endpointRow(workload: string, ordinal: number, extra: Partial<Endpoint> = {}): Endpoint {
  return {
    ordinal,
    pod: `${workload}-${ordinal}`,
    ready: true,
    status: 'Ready',
    node: 'n1',
    podIP: '10.244.0.1',
    address: '198.51.100.1',
    addressType: 'InternalIP',
    port: 30000 + ordinal,
    protocol: 'TCP',
    service: `${workload}-${ordinal}`,
    serviceType: 'NodePort',
    dns: `${workload}-${ordinal}.${workload}.game.svc.cluster.local`,
    state: 'Free',
    draining: false,
    cordoned: false,
    allocation: null,
    lastAllocation: null,
    revision: null,
    outdated: false,
    ...extra,
  };
}
