import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { eventually, printClusterLogsOnFailure, userShell } from '../support/e2e.js';
import { HELMS } from '../support/tools.js';

after(printClusterLogsOnFailure);

// Each Helm major gets its own namespace and nodePort range, so the two runs never collide.
for (const [i, helm] of HELMS.entries()) {
  const ns = `e2e-${helm.name}`;
  const base = 30880 + i * 1000;
  const release = 'rooms';
  const sts = `${release}-expose-pods`;
  const REPLICAS = 3;
  const COUNT = 4; // one Service more than pods: it has no pod behind it

  describe(`${helm.name}: the chart on a real control plane`, () => {
    const sh = userShell(helm.path);
    const podsOf = () => sh.roomPods(ns, release);

    before(() => {
      const r = sh.install(release, {
        ns,
        replicas: REPLICAS,
        nodePortBase: base,
        set: [`expose.count=${COUNT}`, 'room.persistence.enabled=true'],
      });
      assert.equal(r.status, 0, `install failed:\n${r.stderr}`);
      // Progress on stderr, as plain lines since this is no terminal; the last one is the state helm waited for.
      assert.match(r.stderr, new RegExp(`^… pods ready ${REPLICAS}/${REPLICAS} · redis ready$`, 'm'));
      // First the plan, with what the release takes from the cluster's budgets.
      assert.match(r.stderr, new RegExp(`^new release ${release} in namespace ${ns} of context `, 'm'));
      assert.match(r.stderr, /^ {2}NodePorts: \d+ -> \d+ of 2768 used in 30000-32767 /m);
      assert.match(r.stderr, /^ {2}ClusterIPs: (\d+) -> \d+ of 65534 used in 10\.96\.0\.0\/16 /m);
      assert.match(
        r.stderr,
        /^ {2}Pod slots: \d+ -> \d+ of \d+ used on the \d+ node\(s\) the rooms can use /m,
      );
      const [, before, after] = /ClusterIPs: (\d+) -> (\d+)/.exec(r.stderr) ?? [];
      assert.equal(Number(after) - Number(before), COUNT + 1, 'the per-pod Services and Redis');
      assert.match(
        r.stderr,
        new RegExp(`^The Redis password and more: helm get notes ${release} -n ${ns}$`, 'm'),
      );
      // It ends with the endpoints table, one row per ordinal.
      assert.match(
        r.stdout,
        /^POD +READY +NODE +ADDRESS +ADDRESS-TYPE +PORT +PROTOCOL +SERVICE +STATUS +STATE$/m,
      );
      assert.equal(r.stdout.trim().split('\n').length, 1 + COUNT);
    });

    it('creates the StatefulSet with its headless Service', () => {
      const s = sh.getJson('statefulset', sts, '-n', ns);
      assert.equal(s.spec.replicas, REPLICAS);
      assert.equal(s.spec.serviceName, sts);
      assert.equal(sh.getJson('service', sts, '-n', ns).spec.clusterIP, 'None');
    });

    it(`pods ${sts}-0..${REPLICAS - 1} become Running and Ready, in order`, async () => {
      const pods = await eventually('all pods Ready', () => {
        const p = podsOf();
        const ready = p.filter(
          (x) =>
            x.status.phase === 'Running' &&
            x.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === REPLICAS ? p : undefined;
      });
      assert.deepEqual(
        pods.map((p) => p.metadata.name).sort(),
        [...Array(REPLICAS).keys()].map((n) => `${sts}-${n}`),
      );
      const byName = new Map(pods.map((p) => [p.metadata.name as string, p]));
      for (let n = 1; n < REPLICAS; n++) {
        // OrderedReady: pod n is created only once pod n-1 is Ready.
        const prevReady = byName
          .get(`${sts}-${n - 1}`)
          .status.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime;
        const created = byName.get(`${sts}-${n}`).metadata.creationTimestamp;
        assert.ok(
          Date.parse(created) >= Date.parse(prevReady),
          `${sts}-${n} created ${created} before ${sts}-${n - 1} was Ready ${prevReady}`,
        );
      }
    });

    it('each per-pod Service has an EndpointSlice with its own pod IP, and its nodePort', async () => {
      const pods = new Map(podsOf().map((p) => [p.metadata.name as string, p]));
      for (let n = 0; n < REPLICAS; n++) {
        const svc = sh.getJson('service', `${sts}-${n}`, '-n', ns);
        assert.equal(svc.spec.type, 'NodePort');
        assert.equal(svc.spec.externalTrafficPolicy, 'Local');
        assert.equal(svc.spec.ports[0].nodePort, base + n);
        const pod = pods.get(`${sts}-${n}`);
        const ep = await eventually(`endpoints of ${sts}-${n}`, () => {
          const slices = sh.getJson(
            'endpointslices',
            '-n',
            ns,
            '-l',
            `kubernetes.io/service-name=${sts}-${n}`,
          ).items as any[];
          const eps = slices.flatMap((s) => s.endpoints ?? []);
          return eps.length ? eps : undefined;
        });
        assert.equal(ep.length, 1, `${sts}-${n} selects more than its own pod`);
        assert.deepEqual(ep[0].addresses, [pod.status.podIP]);
        assert.equal(ep[0].nodeName, pod.spec.nodeName);
        assert.equal(ep[0].conditions.ready, true);
      }
    });

    it('the Service with no pod has no endpoints', async () => {
      const svc = `${sts}-${COUNT - 1}`;
      assert.equal(sh.getJson('service', svc, '-n', ns).spec.ports[0].nodePort, base + COUNT - 1);
      // The controller writes the (empty) slice; wait for it, then check it stays empty.
      const slices = await eventually(`the EndpointSlice of ${svc}`, () => {
        const items = sh.getJson('endpointslices', '-n', ns, '-l', `kubernetes.io/service-name=${svc}`)
          .items as any[];
        return items.length ? items : undefined;
      });
      assert.deepEqual(
        slices.flatMap((s) => s.endpoints ?? []),
        [],
      );
    });

    it('endpoints: each pod at its own node address and nodePort, where the scheduler placed it', () => {
      const r = sh.kubectl('expose-pods', 'endpoints', release, '-n', ns, '-o', 'json');
      assert.equal(r.status, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.schemaVersion, 1);
      assert.equal(report.endpoints.length, COUNT);
      const nodes = new Map(
        (sh.getJson('nodes').items as any[]).map((n) => [n.metadata.name, n.status.addresses]),
      );
      for (let n = 0; n < REPLICAS; n++) {
        const e = report.endpoints[n];
        const livePod = sh.getJson('pod', `${sts}-${n}`, '-n', ns);
        const addrs = nodes.get(livePod.spec.nodeName) as { type: string; address: string }[];
        const want =
          addrs.find((a) => a.type === 'ExternalIP') ?? addrs.find((a) => a.type === 'InternalIP')!;
        assert.deepEqual(
          [e.pod, e.status, e.ready, e.node, e.address, e.addressType, e.port, e.podIP],
          [
            `${sts}-${n}`,
            'Ready',
            true,
            livePod.spec.nodeName,
            want.address,
            want.type,
            base + n,
            livePod.status.podIP,
          ],
        );
        assert.equal(e.dns, `${sts}-${n}.${sts}.${ns}.svc.cluster.local`);
      }
      assert.deepEqual(
        [report.endpoints[COUNT - 1].status, report.endpoints[COUNT - 1].port],
        ['NoPod', base + COUNT - 1],
      );
      const addresses = sh.kubectl('expose-pods', 'endpoints', release, '-n', ns, '-o', 'addresses');
      assert.equal(addresses.stdout.trim().split('\n').length, REPLICAS);
    });

    it('Redis is Ready with its PVC Bound and its Secret in place', async () => {
      await eventually('redis Deployment available', () => {
        const d = sh.getJson('deployment', `${sts}-redis`, '-n', ns);
        return d.status.readyReplicas === 1 ? true : undefined;
      });
      assert.equal(sh.getJson('pvc', `${sts}-redis-data`, '-n', ns).status.phase, 'Bound');
      assert.ok(sh.getJson('secret', `${sts}-redis`, '-n', ns).data['redis-password']);
    });

    it('status: healthy, with a note for the Service reserved beyond the pods', () => {
      const r = sh.kubectl('expose-pods', 'status', release, '-n', ns, '-o', 'json');
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.healthy, true);
      assert.equal(report.release.revision, 1);
      assert.match(report.release.chart, /^expose-pods-/);
      assert.deepEqual(report.replicas, {
        desired: REPLICAS,
        current: REPLICAS,
        ready: REPLICAS,
        inRelease: REPLICAS,
      });
      assert.deepEqual(
        report.ordinals.map((o: any) => [o.pod, o.ready, o.serviceExists, o.endpointReady, o.nodePort]),
        [...Array(COUNT).keys()].map((n) => [`${sts}-${n}`, n < REPLICAS, true, n < REPLICAS, base + n]),
      );
      assert.deepEqual(report.redis, { ready: true, pvc: 'Bound', secret: true });
      assert.equal(report.notes.length, 1);
      const text = sh.kubectl('expose-pods', 'status', release, '-n', ns);
      assert.equal(text.status, 0);
      assert.match(text.stdout, /^HEALTHY$/m);
    });

    it("status: the cluster's budgets, as the API server counts them, with this release's share", () => {
      const report = JSON.parse(sh.kubectl('expose-pods', 'status', release, '-n', ns, '-o', 'json').stdout);
      const { nodePorts, clusterIPs, podSlots } = report.budget;
      const services = sh.getJson('services', '-A').items as any[];
      const taken = new Set(
        services.flatMap((v) => (v.spec.ports ?? []).map((p: any) => p.nodePort).filter(Boolean)),
      );
      assert.equal(nodePorts.used, taken.size);
      assert.equal(nodePorts.release, COUNT, 'one per per-pod Service');
      // The local API server's --service-cluster-ip-range, as its ServiceCIDR object says.
      assert.deepEqual(
        [clusterIPs.family, clusterIPs.cidrs.map((c: any) => c.cidr), clusterIPs.total],
        ['IPv4', ['10.96.0.0/16'], 65534],
      );
      assert.equal(clusterIPs.used, sh.getJson('ipaddresses').items.length);
      assert.equal(
        clusterIPs.release,
        COUNT + 1,
        'the per-pod Services and Redis; the headless Service takes none',
      );
      const nodes = (sh.getJson('nodes').items as any[]).filter((n) => !n.spec.unschedulable);
      assert.equal(podSlots.nodes, nodes.length);
      assert.equal(
        podSlots.total,
        nodes.reduce((sum: number, n) => sum + Number(n.status.allocatable.pods), 0),
      );
      assert.equal(podSlots.release, REPLICAS);
      const text = sh.kubectl('expose-pods', 'status', release, '-n', ns).stdout;
      assert.match(
        text,
        new RegExp(
          `^ {2}ClusterIPs {2}${clusterIPs.used} of 65534 used in 10\\.96\\.0\\.0/16 \\(0%\\), this release ${COUNT + 1}; `,
          'm',
        ),
      );
    });

    it('status: degraded (exit 8) after kubectl scale adds a pod no Service exposes', async () => {
      const scaled = REPLICAS + 2;
      assert.equal(sh.kubectl('scale', 'statefulset', sts, '-n', ns, `--replicas=${scaled}`).status, 0);
      await eventually(`${scaled} pods Ready`, () => {
        const s = sh.getJson('statefulset', sts, '-n', ns);
        return s.status.readyReplicas === scaled ? true : undefined;
      });
      const r = sh.kubectl('expose-pods', 'status', release, '-n', ns, '-o', 'json');
      assert.equal(r.status, 8, r.stderr);
      const kinds = JSON.parse(r.stdout).problems.map((p: any) => p.kind);
      assert.deepEqual(kinds.sort(), ['PodWithoutService', 'ReplicasDrift']);
      const text = sh.kubectl('expose-pods', 'status', release, '-n', ns);
      assert.equal(text.status, 8);
      assert.match(text.stdout, new RegExp(`pod ${sts}-${scaled - 1} has no per-pod Service`));
    });

    it('endpoints after kubectl scale: the new pods show NoService', () => {
      const r = sh.kubectl('expose-pods', 'endpoints', release, '-n', ns, '-o', 'json');
      assert.equal(r.status, 0, r.stderr);
      const statuses = JSON.parse(r.stdout).endpoints.map((e: any) => e.status);
      // Ordinal 3 had a Service waiting (expose.count 4); ordinal 4 has none.
      assert.deepEqual(statuses, ['Ready', 'Ready', 'Ready', 'Ready', 'NoService']);
    });

    it('status of a release that does not exist: exit 7', () => {
      const r = sh.kubectl('expose-pods', 'status', 'no-such-release', '-n', ns);
      assert.equal(r.status, 7);
      assert.match(r.stderr, /^error: release no-such-release not found in namespace e2e-helm/m);
    });

    it('helm uninstall removes the workload and leaves the PVCs and the Secret', async () => {
      const r = sh.helm('uninstall', release, '-n', ns, '--wait', '--timeout', '2m');
      assert.equal(r.status, 0, r.stderr);
      await eventually('the StatefulSet and Services gone', () => {
        const left = sh.kubectl(
          'get',
          'statefulset,service,deployment',
          '-n',
          ns,
          '-l',
          `app.kubernetes.io/instance=${release}`,
          '-o',
          'name',
        );
        return left.status === 0 && left.stdout.trim() === '' ? true : undefined;
      });
      const pvcs = (sh.getJson('pvc', '-n', ns).items as any[]).map((p) => p.metadata.name).sort();
      assert.deepEqual(
        pvcs,
        // Including those of the ordinals kubectl scale added: claims are retained.
        [...[...Array(REPLICAS + 2).keys()].map((n) => `data-${sts}-${n}`), `${sts}-redis-data`].sort(),
      );
      assert.ok(sh.getJson('secret', `${sts}-redis`, '-n', ns), 'the Redis Secret is kept');
    });
  });
}
