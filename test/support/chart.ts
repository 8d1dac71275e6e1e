import { parseAllDocuments } from 'yaml';

import { CHART, run, type Run } from './tools.js';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: any;
  data?: Record<string, string>;
  [k: string]: any;
}

/** `helm template` of the chart with the given extra arguments. */
export function template(helm: string, args: string[] = [], release = 'r'): Run {
  return run(helm, ['template', release, CHART, '--namespace', 'game', ...args]);
}

/** Renders and parses every object; fails loudly when helm fails. */
export function render(helm: string, args: string[] = [], release = 'r'): K8sObject[] {
  const r = template(helm, args, release);
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}):\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

export function find(objs: K8sObject[], kind: string, name: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o)
    throw new Error(
      `${kind}/${name} not rendered; have: ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`,
    );
  return o;
}

export function ofKind(objs: K8sObject[], kind: string): K8sObject[] {
  return objs.filter((o) => o.kind === kind);
}

/** Per-pod Services: NodePort or LoadBalancer, ordered by ordinal. */
export function podServices(objs: K8sObject[]): K8sObject[] {
  return ofKind(objs, 'Service')
    .filter((s) => s.metadata.labels?.['app.kubernetes.io/component'] === 'pod-service')
    .sort(
      (a, b) =>
        Number(a.metadata.labels!['expose-pods/ordinal']) - Number(b.metadata.labels!['expose-pods/ordinal']),
    );
}

/** The pod spec of every workload and bare pod. */
export function podSpecs(objs: K8sObject[]): { owner: string; spec: any }[] {
  return objs.flatMap((o) => {
    if (o.kind === 'Pod') return [{ owner: `Pod/${o.metadata.name}`, spec: o.spec }];
    if (['StatefulSet', 'Deployment', 'DaemonSet', 'Job'].includes(o.kind)) {
      return [{ owner: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec }];
    }
    return [];
  });
}
