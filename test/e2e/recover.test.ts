import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { askTcp } from '../support/dataplane.js';
import { CLUSTER, eventually, isReadyPod, printClusterLogsOnFailure, userShell } from '../support/e2e.js';
import { HELMS, ROOT, run } from '../support/tools.js';

after(printClusterLogsOnFailure);

// A lost node, for real: kwok-node-3 is lost (cluster.sh node-down freezes the KWOK
// process that heartbeats it), the real node controller marks it Unknown and taints it,
// the real taint manager evicts the pods after their 10 s toleration, they stick in
// Terminating, and recover gets them running on a Ready node. The other two nodes, managed
// by another KWOK process, stay Ready throughout.
describe('recover: a pod stuck on a lost node gets a new home', { timeout: 600_000 }, () => {
  const sh = userShell(HELMS[1].path);
  const ns = 'e2e-recover';
  const release = 'rec';
  const sts = `${release}-expose-pods`;
  const NODE = 'kwok-node-3';
  let down = false;
  const cluster = (cmd: string) => {
    const r = run('bash', [path.join(ROOT, 'test/cluster/cluster.sh'), cmd]);
    assert.equal(r.status, 0, r.stderr);
  };
  const json = (...args: string[]) => {
    const r = sh.kubectl('expose-pods', ...args, '-n', ns, '-o', 'json');
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const recover = (...args: string[]) => sh.kubectl('expose-pods', 'recover', release, '-n', ns, ...args);
  const pods = () => [`${sts}-0`, `${sts}-1`];
  const nodeOf = (pod: string) => sh.getJson('pod', pod, '-n', ns).spec.nodeName as string;
  const others = ['kwok-node-1', 'kwok-node-2'];
  /** Puts both pods on kwok-node-3: the other nodes cordoned while the StatefulSet recreates them. */
  const onNode3 = async () => {
    for (const n of others) assert.equal(sh.kubectl('cordon', n).status, 0);
    try {
      for (const p of pods()) {
        if (nodeOf(p) !== NODE)
          assert.equal(sh.kubectl('delete', 'pod', p, '-n', ns, '--wait=false').status, 0);
        await eventually(`${p} Ready on ${NODE}`, () => {
          const e = json('endpoints', release).endpoints.find((x: any) => x.pod === p);
          return e?.status === 'Ready' && e.node === NODE ? true : undefined;
        });
      }
    } finally {
      for (const n of others) sh.kubectl('uncordon', n);
    }
  };
  /**
   * Brings kwok-node-3 back. node-up returns once the control plane holds it Ready again (the
   * node lifecycle controller has lifted its lost-node taints), not merely once the Node says
   * Ready: a pod bound to it before then is marked not Ready, and KWOK never makes it Ready again.
   */
  const revive = () => {
    sh.kubectl('taint', 'nodes', NODE, 'node.kubernetes.io/out-of-service-');
    cluster('node-up');
    down = false;
    const node = sh.getJson('node', NODE);
    assert.ok(node.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True'));
    assert.deepEqual(
      (node.spec.taints ?? []).filter((t: any) =>
        /^node\.kubernetes\.io\/(unreachable|not-ready)$/.test(t.key),
      ),
      [],
    );
  };
  /** Loses kwok-node-3 and waits until the taint manager has evicted both pods: Terminating, and staying so. */
  const strand = async () => {
    cluster('node-down');
    down = true;
    for (const p of pods()) {
      await eventually(
        `${p} to be evicted from ${NODE} (20 s grace + 10 s toleration)`,
        () => (sh.getJson('pod', p, '-n', ns).metadata.deletionTimestamp ? true : undefined),
        180_000,
      );
    }
  };

  before(() => {
    const r = sh.install(release, {
      ns,
      replicas: 2,
      nodePortBase: 32200,
      redis: false,
      set: ['room.failover.notReadySeconds=10', 'room.failover.unreachableSeconds=10'],
    });
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => {
    if (down) revive();
  });

  /**
   * Waits until kwok-node-3's agent has worked through what it missed while frozen: a pod
   * bound to it after it came back is made Ready, so the events queued before it are played.
   */
  const agentCaughtUp = async () => {
    const canary = 'kwok-node-3-canary';
    const r = sh.kubectl(
      'run',
      canary,
      '-n',
      ns,
      '--image',
      'x',
      '--overrides',
      JSON.stringify({ spec: { nodeName: NODE } }),
    );
    assert.equal(r.status, 0, r.stderr);
    await eventually(`${canary} Ready: the agent of ${NODE} plays its stages again`, () =>
      isReadyPod(sh.getJson('pod', canary, '-n', ns)) ? true : undefined,
    );
    sh.kubectl('delete', 'pod', canary, '-n', ns, '--wait=false');
  };

  it("a node's agent may delete only pods bound to its node, as NodeRestriction holds a kubelet", () => {
    const other = 'on-kwok-node-1';
    const r = sh.kubectl(
      'run',
      other,
      '-n',
      ns,
      '--image',
      'x',
      '--overrides',
      JSON.stringify({ spec: { nodeName: 'kwok-node-1' } }),
    );
    assert.equal(r.status, 0, r.stderr);
    const asNode3 = sh.kubectl(
      '--kubeconfig',
      path.join(CLUSTER.CLUSTER_RUN, `${NODE}.kubeconfig`),
      'delete',
      'pod',
      other,
      '-n',
      ns,
      '--wait=false',
    );
    assert.notEqual(asNode3.status, 0);
    assert.match(
      asNode3.stderr,
      new RegExp(`node "${NODE}" can only delete pods with spec.nodeName set to itself`),
    );
    const asNode1 = sh.kubectl(
      '--kubeconfig',
      path.join(CLUSTER.CLUSTER_RUN, 'kwok-node-1.kubeconfig'),
      'delete',
      'pod',
      other,
      '-n',
      ns,
      '--wait=false',
    );
    assert.equal(asNode1.status, 0, asNode1.stderr);
  });

  it('nothing lost: recover lists nothing and changes nothing; a pod on a Ready node is refused (exit 9)', () => {
    const r = sh.kubectl('expose-pods', 'recover', release, '-n', ns);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /no pod of release rec is on a lost node/);
    assert.equal(recover('-o', 'name').stdout, '', 'no pod to name');
    const refused = recover('--pod', `${sts}-0`, '--force-delete', '--yes');
    assert.equal(refused.status, 9, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(`^error: refusing: ${sts}-0 is on kwok-node-\\d, which is Ready`, 'm'),
    );
  });

  it('--force-delete: the stuck pods are recreated on Ready nodes, and endpoints shows their new addresses', async () => {
    await onNode3();
    // A match runs in room 0 when its node is lost.
    assert.equal(json('allocate', release, '--meta', 'match=m-1').pod, `${sts}-0`);
    await strand();
    assert.equal(json('tolerations', release).pods[0].notReadySeconds, 10);
    assert.deepEqual(
      json('endpoints', release).endpoints.map((e: any) => e.status),
      ['NodeNotReady', 'NodeNotReady'],
    );

    const list = sh.kubectl('expose-pods', 'recover', release, '-n', ns);
    assert.equal(list.status, 0, list.stderr);
    for (const p of pods()) {
      assert.match(
        list.stdout,
        new RegExp(
          `^${p} +${NODE} +(Unknown|False) +\\d+s +stuck Terminating +${p === `${sts}-0` ? 'Allocated' : 'Free'} +no$`,
          'm',
        ),
      );
    }
    assert.match(
      list.stdout.split('\n')[0] ?? '',
      /^POD +NODE +NODE-READY +FOR +POD-STATE +STATE +OUT-OF-SERVICE$/,
    );
    const listed = json('recover', release).pods as any[];
    assert.deepEqual(
      listed.map((p) => [p.pod, p.roomState, p.allocation?.metadata ?? null]),
      [
        [`${sts}-0`, 'Allocated', { match: 'm-1' }],
        [`${sts}-1`, 'Free', null],
      ],
    );
    // -o name: the pods an action would touch, ready for other kubectl commands.
    const names = recover('-o', 'name');
    assert.equal(names.status, 0, names.stderr);
    assert.equal(
      names.stdout,
      pods()
        .map((p) => `pod/${p}\n`)
        .join(''),
    );
    const noYes = recover('--force-delete');
    assert.equal(noYes.status, 13, noYes.stderr);
    assert.match(
      noYes.stderr,
      new RegExp(
        `--force-delete needs confirmation \\(it force-deletes 1 room\\(s\\) in use \\(Allocated\\): ${sts}-0\\)`,
      ),
    );
    assert.match(
      noYes.stderr,
      /if the node is only cut off \(a network partition\), their matches may still run there while each replacement starts Free and can be allocated to a new match/,
    );

    const r = recover('--force-delete', '--yes', '--timeout', '3m');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /two pods with the same identity may run/);
    for (const e of json('endpoints', release).endpoints) {
      assert.equal(e.status, 'Ready');
      assert.notEqual(e.node, NODE);
      assert.match(
        r.stdout,
        new RegExp(`^${e.pod} +${e.node} +${e.address.replace(/\./g, '\\.')}:${e.port} +Ready$`, 'm'),
      );
    }
    const replacements = pods().map((p) => {
      const o = sh.getJson('pod', p, '-n', ns);
      return { pod: p, uid: o.metadata.uid as string, node: o.spec.nodeName as string };
    });
    // The agent of the node that comes back still holds the old pods, marked for deletion, and
    // deletes them by name; a kubelet may delete only pods bound to its own node (NodeRestriction),
    // so the replacements on other nodes stay.
    revive();
    await agentCaughtUp();
    assert.deepEqual(
      pods().map((p) => {
        const o = sh.getJson('pod', p, '-n', ns);
        return { pod: p, uid: o.metadata.uid, node: o.spec.nodeName };
      }),
      replacements,
      'the replacements keep their UID and node',
    );
    // InternalIP: kube-proxy in nftables mode refuses NodePorts on kwok-node-2's ExternalIP, bound on the node.
    for (const e of json('endpoints', release, '--address-type', 'InternalIP').endpoints) {
      await eventually(`${e.address}:${e.port} to answer as ${e.pod} through kube-proxy`, async () => {
        const got = await askTcp(e.address, e.port);
        return 'answer' in got && got.answer.pod === e.pod ? true : undefined;
      });
    }
  });

  it('--out-of-service: the lost node is tainted, the pod GC removes the pods, they run elsewhere', async () => {
    await onNode3();
    assert.equal(json('allocate', release).pod, `${sts}-0`);
    await strand();
    // --pod names one room, but the taint deletes every pod on its node: the confirmation says so.
    const one = recover('--pod', `${sts}-1`, '--out-of-service');
    assert.equal(one.status, 13, one.stderr);
    assert.match(
      one.stderr,
      new RegExp(`the taint deletes every pod on the node, not only the one named: also ${sts}-0`),
    );
    assert.match(one.stderr, new RegExp(`deletes 1 room\\(s\\) in use \\(Allocated\\): ${sts}-0;`));
    assert.equal(
      (sh.getJson('node', NODE).spec.taints ?? []).some(
        (t: any) => t.key === 'node.kubernetes.io/out-of-service',
      ),
      false,
      'not confirmed: not tainted',
    );
    const r = recover('--out-of-service', '--yes', '--timeout', '3m');
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `tainted ${NODE}; when it is back: kubectl taint nodes ${NODE} node.kubernetes.io/out-of-service-`,
      ),
    );
    const taints = sh.getJson('node', NODE).spec.taints as any[];
    assert.ok(
      taints.some(
        (t) =>
          t.key === 'node.kubernetes.io/out-of-service' &&
          t.value === 'nodeshutdown' &&
          t.effect === 'NoExecute',
      ),
    );
    for (const e of json('endpoints', release).endpoints) {
      assert.equal(e.status, 'Ready');
      assert.notEqual(e.node, NODE);
    }
    revive();
  });
});
