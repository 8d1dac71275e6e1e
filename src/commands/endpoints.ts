import { Flags, type Interfaces } from '@oclif/core';

import { BaseCommand } from '../base-command.js';
import {
  durationFlag,
  explicitAddressType,
  kubeFlags,
  kubeFlagValues,
  noHeadersFlag,
  outputFlag,
  releaseArg,
} from '../flags.js';
import { diffEndpoints } from '../core/endpoint-changes.js';
import {
  DEFAULT_ADDRESS_TYPES,
  internalOnly,
  parseAddressTypes,
  selectRows,
  type Endpoint,
} from '../core/endpoints.js';
import type { NodePortScopeWarning } from '../core/nodeport-scope.js';
import { interceptedAddresses } from '../core/probe.js';
import { UsageError } from '../errors.js';
import type { EndpointsReport } from '../ops/endpoints.js';

export default class Endpoints extends BaseCommand {
  static override summary = 'Which node address and port reaches each pod right now.';

  static override description = `With externalTrafficPolicy Local only the node hosting a pod answers on its nodePort, so the address a client needs is that node's address together with the pod's nodePort (for a LoadBalancer Service: its ingress IP or hostname and the Service port). One row per ordinal.

STATUS is one of: Ready; NotReady (the pod exists but is not ready); Terminating (the pod is shutting down: it may still answer until it exits, but give it to no new client); Pending (not scheduled or not created yet); NoPod (a Service with no pod: connection refused); NoService (a pod without a per-pod Service, for example after kubectl scale); NodeNotReady; NoAddress (the node has none of the wanted address types); LBPending (a LoadBalancer without ingress yet).

The node address is the first of --address-type the node has. A warning goes to stderr when a Ready pod is reachable only on an internal address. Another names the addresses shown that kube-proxy does not accept NodePorts on, where the cluster publishes its configuration (kube-system/kube-proxy as kubeadm does, or kube-proxy-config as EKS does): in nftables mode, by default, only each node's primary address (its first InternalIP). Such an ExternalIP works where the network translates it (a cloud's NAT) and is refused where it is bound on the node; --probe tells which. Four API requests whatever the replica count, and one more for that ConfigMap when a row shows an address other than its node's primary one. Without permission to list nodes, addresses show as unknown instead of failing.

--probe tries each endpoint that has an address from where the plugin runs, as a client there would, and adds PROBE. TCP: one connection, reachable, refused (nothing serves that port: a Service with no pod, or a pod not ready) or timeout (dropped: the wrong node, or a node that is gone). UDP: one datagram, "kubectl-expose-pods probe\\n"; a reply is reachable, an ICMP port-unreachable is refused, and silence is open|filtered, since a game server may simply ignore a datagram it does not understand (answer any datagram it cannot parse, even with one byte, and the probe says reachable). Each address also gets a control connection to TCP port 1, which nothing serves: when that answers too, a proxy on the path accepts every connection and the row says intercepted, because from here reachable cannot be told from unreachable. When the address of a Ready or Terminating row (its pod still serves) does not answer, the node's other addresses of the --address-type list are tried, and the first that answers is shown instead, with a warning: kube-proxy serves NodePorts only on the addresses its --nodeport-addresses allows (in nftables mode, by default, each node's primary address, its InternalIP). Run it from where your clients are: only the pod's own node answers.

--watch keeps running and reports every change, from watches on the StatefulSet, pods, Services and nodes: the table is reprinted, or -o json writes one line per changed row (NDJSON: {schemaVersion: 1, type: ADDED|MODIFIED|DELETED, time, release, namespace, endpoint}). Expired watches are listed again (410 Gone) and dropped connections retried; Ctrl-C ends it with exit 0.

-o json and -o yaml print a stable document for programs: {schemaVersion: 1, release, namespace, addressTypes, nodesVisible, endpoints: [{ordinal, pod, ready, status, node, podIP, address, addressType, port, protocol, service, serviceType, dns, and probe with --probe}]}. -o addresses prints host:port of Ready endpoints, one per line. -o name prints pod/NAME of each row shown (after --ready-only and --ordinal), one per line, as kubectl does; with --watch, of each room that changes.`;

  static override examples = [
    'kubectl expose-pods endpoints',
    'kubectl expose-pods endpoints rooms -n game -o wide',
    {
      description: 'Room 7 for a matchmaker, as JSON:',
      command: 'kubectl expose-pods endpoints rooms -n game --ordinal 7 -o json',
    },
    {
      description: 'Follow room changes as NDJSON, one line per change:',
      command: 'kubectl expose-pods endpoints rooms -n game --watch -o json',
    },
    {
      description: 'Every reachable room as host:port, preferring InternalIP:',
      command:
        'kubectl expose-pods endpoints rooms -n game -o addresses --address-type InternalIP,ExternalIP',
    },
    {
      description: 'The pods of the rooms a client can reach, for other kubectl commands:',
      command:
        'kubectl expose-pods endpoints rooms -n game --ready-only -o name | xargs kubectl describe -n game',
    },
  ];

  static override args = {
    release: releaseArg,
  };

  static override flags = {
    ...kubeFlags,
    output: outputFlag(['table', 'wide', 'json', 'yaml', 'addresses', 'name']),
    'no-headers': noHeadersFlag,
    'address-type': Flags.string({
      description: 'Node address types to use, in order of preference (comma-separated).',
      default: DEFAULT_ADDRESS_TYPES.join(','),
    }),
    'ready-only': Flags.boolean({ description: 'Only Ready endpoints.', default: false }),
    ordinal: Flags.integer({ description: 'Only this ordinal (one room).', min: 0 }),
    probe: Flags.boolean({
      description:
        'Try each endpoint from here as a client would: reachable, refused, timeout, open|filtered (UDP) or intercepted.',
      default: false,
    }),
    watch: Flags.boolean({
      char: 'w',
      description:
        'Keep running and report every change, from watches on the StatefulSet, pods, Services and nodes (Ctrl-C stops).',
      default: false,
    }),
    'probe-timeout': durationFlag({
      description: 'How long each --probe connection or datagram waits for an answer.',
      default: '2s',
      kind: 'positive',
    }),
  };

  async run(): Promise<EndpointsReport | undefined> {
    const { args, flags } = await this.parse(Endpoints);
    const { probeRows, readEndpoints } = await import('../ops/endpoints.js');
    const { formatMoves } = await import('../output/endpoints.js');
    const types = parseAddressTypes(flags['address-type']);
    if (typeof types === 'string') throw new UsageError(types);
    const probeMs = flags['probe-timeout'].ms;
    if (flags.watch) {
      await this.watch(args.release, flags, types);
      return undefined;
    }
    const { report, alternatives, scopeWarning } = await readEndpoints({
      release: args.release,
      ...kubeFlagValues(flags),
      addressTypes: types,
      // --probe finds out with packets, and moves such rows to an address that answers.
      checkNodePortScope: !flags.probe,
    });
    if (flags.ordinal !== undefined && !selectRows(report.endpoints, { ordinal: flags.ordinal }).length) {
      throw new UsageError(
        `--ordinal ${flags.ordinal}: release ${report.release} has ordinals 0..${report.endpoints.length - 1}`,
      );
    }
    let rows = selectRows(report.endpoints, { ordinal: flags.ordinal, readyOnly: flags['ready-only'] });
    if (flags.probe) {
      const probed = await probeRows(rows, probeMs, alternatives);
      this.warnIntercepted(interceptedAddresses(probed.rows));
      for (const line of formatMoves(probed.moves, rows)) this.printer.warn(line);
      rows = probed.rows;
    }
    const shown = { ...report, endpoints: rows };
    await this.warnAbout(shown, scopeWarning);
    await this.show(shown, flags);
    return shown;
  }

  /** The rows as -o asks: the table (wide), the addresses, the pod names, or the report as json or yaml. */
  private async show(
    shown: EndpointsReport,
    flags: Interfaces.InferredFlags<typeof Endpoints.flags>,
  ): Promise<void> {
    const { formatAddresses, formatEndpoints } = await import('../output/endpoints.js');
    const { line, renderNames } = await import('../output/format.js');
    const headers = !flags['no-headers'];
    await this.print(shown, flags.output, {
      table: (r) => line(formatEndpoints(r.endpoints, false, { headers })),
      wide: (r) => line(formatEndpoints(r.endpoints, true, { headers })),
      addresses: (r) => {
        const text = formatAddresses(r.endpoints);
        return text ? line(text) : '';
      },
      name: (r) =>
        renderNames(
          r.endpoints.map((e) => e.pod),
          'pod',
        ),
    });
  }

  /** The warnings on stderr about the rows shown: nodes unseen, addresses kube-proxy refuses, rooms with only an internal address. */
  private async warnAbout(
    shown: EndpointsReport,
    scopeWarning: NodePortScopeWarning | undefined,
  ): Promise<void> {
    const { formatInternalOnly, formatScopeWarning } = await import('../output/endpoints.js');
    const rows = shown.endpoints;
    if (!shown.nodesVisible) this.printer.warn('not allowed to list nodes: node addresses are unknown');
    // An address type chosen explicitly is the user's call (a cloud's NAT): the warning would say nothing new.
    if (scopeWarning && !explicitAddressType(this.argv)) {
      const text = formatScopeWarning(scopeWarning, new Set(rows.map((r) => r.pod)));
      if (text) this.printer.warn(text);
    }
    const internal = formatInternalOnly(internalOnly(rows));
    if (internal) this.printer.warn(internal);
  }

  /** Addresses where the control connection answered: no TCP verdict there can be trusted. */
  private warnIntercepted(addresses: string[]): void {
    if (!addresses.length) return;
    this.printer.warn(
      `${addresses.join(', ')}: TCP port 1 answers too, so something on the network path accepts every connection (a transparent proxy); reachable cannot be told from unreachable from here. Probe from a machine on the nodes' network.`,
    );
  }

  /** --watch: one table per change, or one JSON (YAML) document per changed row. */
  private async watch(
    release: string,
    flags: Interfaces.InferredFlags<typeof Endpoints.flags>,
    addressTypes: string[],
  ): Promise<void> {
    refuseWithWatch(flags);
    const { watchEndpoints } = await import('../ops/endpoints-watch.js');
    const { formatInternalOnly, formatWatchEvent, formatWatchFrame } = await import('../output/endpoints.js');
    const { renderNames } = await import('../output/format.js');
    const stop = new AbortController();
    const onSignal = () => {
      stop.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    // A closed pipe (| head) ends the watch quietly.
    process.stdout.once('error', onSignal);
    const tty = process.stdout.isTTY;
    const warned = new Set<string>();
    let shown: Endpoint[] = [];
    try {
      const updates = watchEndpoints({
        release,
        ...kubeFlagValues(flags),
        addressTypes,
        signal: stop.signal,
        // Programs see every step (a room going away even briefly); tables coalesce bursts.
        settleMs: ['json', 'yaml', 'name'].includes(flags.output) ? 0 : 100,
        onNotice: (m) => {
          this.printer.warn(m);
        },
      });
      for await (const u of updates) {
        if (!warned.size && !u.nodesVisible) {
          this.printer.warn('not allowed to list nodes: node addresses are unknown');
          warned.add('');
        }
        const fresh = internalOnly(u.endpoints).filter((r) => !warned.has(r.pod));
        for (const r of fresh) warned.add(r.pod);
        const internal = formatInternalOnly(fresh);
        if (internal) this.printer.warn(internal);
        // The diff is of the rows shown: a row leaving the filter is DELETED for this watcher.
        const rows = selectRows(u.endpoints, { ordinal: flags.ordinal, readyOnly: flags['ready-only'] });
        const changes = diffEndpoints(shown, rows);
        shown = rows;
        const where = { release, namespace: u.namespace };
        if (flags.output === 'json' || flags.output === 'yaml') {
          const time = new Date().toISOString();
          for (const c of changes)
            process.stdout.write(formatWatchEvent(c, { ...where, time }, flags.output));
        } else if (flags.output === 'name') {
          // As kubectl get -w -o name: the name of each room that changed, whatever the change.
          process.stdout.write(
            renderNames(
              changes.map((c) => c.endpoint.pod),
              'pod',
            ),
          );
        } else if (changes.length || !shown.length) {
          const time = new Date().toLocaleTimeString();
          process.stdout.write(
            formatWatchFrame(
              rows,
              { ...where, time },
              { wide: flags.output === 'wide', tty, headers: !flags['no-headers'] },
            ),
          );
        }
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.stdout.off('error', onSignal);
    }
  }
}

/** The flags --watch does not combine with: exit 2. */
function refuseWithWatch(flags: { output: string; probe: boolean }): void {
  if (flags.output === 'addresses')
    throw new UsageError(
      '--watch does not combine with -o addresses',
      'Use --watch -o json: one change per line.',
    );
  if (flags.probe)
    throw new UsageError('--watch does not combine with --probe', 'Probe a snapshot: drop --watch.');
}
