/**
 * Benchmark: a new build on a busy fleet. N rooms (Parallel), 30% allocated;
 * then, timed:
 *   1. `kubectl expose-pods install --set room.image.tag=...` until it returns,
 *      which is when every Free room is Ready on the new revision (batches of 25%);
 *   2. the floor: the same number of replacements done by hand after a plain
 *      `helm upgrade` (OnDelete restarts nothing): `kubectl delete pod` of a batch
 *      of the same size, then waiting until those pods are back Ready, batch by batch;
 *   3. `kubectl expose-pods deallocate` of a room in use on the old build (it
 *      replaces the room) against a bare `kubectl delete pod` of a Free one.
 * Figures, never a pass/fail gate. Run: npm run bench (or node --import tsx bench/rollout.ts 1000)
 */
import { createAllocator } from '../src/index.js';
import { CHART, CLI, eventually, TOOLS } from '../test/support/tools.js';
import { clusterEnv, installRooms, markdownTable, pluginEnv, sh } from './support.js';

const N = Number(process.argv[2] ?? 300);
const NS = 'bench-rollout';
const RELEASE = 'rooms';
const STS = `${RELEASE}-expose-pods`;
const IN_USE = Math.round(N * 0.3);
const BATCH = Math.max(1, Math.floor(N / 4));

const env = pluginEnv();
const kubeconfig = clusterEnv().KUBECONFIG;
const kubectl = (...args: string[]) => sh(TOOLS.KUBECTL, args, { env });

interface PodLite {
  name: string;
  uid: string;
  revision: string;
  ready: boolean;
  allocated: boolean;
}
function roomPods(): PodLite[] {
  const list = JSON.parse(
    kubectl(
      'get',
      'pods',
      '-n',
      NS,
      '-l',
      `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=room`,
      '-o',
      'json',
    ),
  ) as { items: any[] };
  return list.items
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => ({
      name: p.metadata.name,
      uid: p.metadata.uid,
      revision: p.metadata.labels['controller-revision-hash'],
      ready: (p.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
      allocated: p.metadata.labels['expose-pods.io/state'] === 'Allocated',
    }));
}
const updateRevision = () =>
  JSON.parse(kubectl('get', 'statefulset', STS, '-n', NS, '-o', 'json')).status.updateRevision as string;
const allReady = async () =>
  eventually(
    `${N} rooms Ready`,
    () => (roomPods().filter((p) => p.ready).length === N ? true : undefined),
    15 * 60_000,
  );
const seconds = (ms: number) => (ms / 1000).toFixed(1);

installRooms(RELEASE, NS, N);
await allReady();
const allocator = await createAllocator({ release: RELEASE, namespace: NS, kubeconfig });
for (let i = 0; i < IN_USE; i++) await allocator.allocate({ metadata: { match: `m${i}` } });
allocator.close();

const rows: string[][] = [];

// 1. The plugin's rollout.
let t0 = Date.now();
sh(
  process.execPath,
  [CLI, 'install', RELEASE, '-n', NS, '--set', 'room.image.tag=b1', '--yes', '--timeout', '15m'],
  { env },
);
const ours = Date.now() - t0;
const rev1 = updateRevision();
const free1 = roomPods().filter((p) => !p.allocated);
if (free1.some((p) => p.revision !== rev1 || !p.ready))
  throw new Error('the rollout returned before every Free room was Ready on the new revision');
rows.push([
  `install --set room.image.tag (${N - IN_USE} Free rooms replaced, batches of ${BATCH})`,
  seconds(ours),
]);

// 2. The floor: a plain helm upgrade (nothing restarts under OnDelete), then kubectl delete pod in the same batches.
sh(TOOLS.HELM4, ['upgrade', RELEASE, CHART, '-n', NS, '--reuse-values', '--set', 'room.image.tag=b2'], {
  env,
});
await eventually('the controller to take the new template', () =>
  updateRevision() !== rev1 ? true : undefined,
);
const rev2 = updateRevision();
const free = roomPods()
  .filter((p) => !p.allocated)
  .map((p) => p.name);
t0 = Date.now();
for (let i = 0; i < free.length; i += BATCH) {
  const batch = free.slice(i, i + BATCH);
  kubectl('delete', 'pod', '-n', NS, '--wait=false', ...batch);
  const names = new Set(batch);
  await eventually(
    'the batch back Ready',
    () =>
      roomPods().filter((p) => names.has(p.name) && p.ready && p.revision === rev2).length === batch.length
        ? true
        : undefined,
    10 * 60_000,
  );
}
const floor = Date.now() - t0;
rows.push([`floor: kubectl delete pod in batches of ${BATCH}, each waited Ready`, seconds(floor)]);
rows.push(['ratio', (ours / floor).toFixed(2)]);

// 3. deallocate that replaces a room in use on the old build, against kubectl delete pod of a Free one.
const old = roomPods()
  .filter((p) => p.allocated && p.revision !== rev2)
  .slice(0, 5);
const dealloc: number[] = [];
for (const p of old) {
  const t = Date.now();
  sh(process.execPath, [CLI, 'deallocate', RELEASE, p.name, '-n', NS, '-o', 'name'], { env });
  dealloc.push(Date.now() - t);
}
const bare: number[] = [];
for (const p of roomPods()
  .filter((x) => !x.allocated && x.revision === rev2)
  .slice(0, 5)) {
  const t = Date.now();
  kubectl('delete', 'pod', p.name, '-n', NS, '--wait=false');
  bare.push(Date.now() - t);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
rows.push(['deallocate that replaces its room (median of 5), ms', String(median(dealloc))]);
rows.push(['kubectl delete pod --wait=false (median of 5), ms', String(median(bare))]);

sh(TOOLS.HELM4, ['uninstall', RELEASE, '-n', NS, '--wait'], { env });
console.log(markdownTable(['step', 'seconds (or as named)'], rows));
console.log(`\nrooms ${N}, ${IN_USE} allocated; node ${process.version}; ${new Date().toISOString()}`);
