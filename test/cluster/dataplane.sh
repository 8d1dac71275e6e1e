#!/usr/bin/env bash
# The local cluster's data plane: real packets through a real kube-proxy.
#
# Each KWOK node gets a network namespace on the bridge ep-br0 (198.51.100.1/24
# in this, the clients', namespace), its InternalIP on its interface, and its
# own kube-proxy (built from the same k8s.io/kubernetes module as the control
# plane), configured as kubeadm does: one KubeProxyConfiguration, published in the
# kube-system/kube-proxy ConfigMap, plus the node's name. The agent (dataplane/agent.ts)
# adds every bound pod's IP inside its node's namespace and runs one responder
# per node that answers, on each pod's containerPorts, with the name of the pod
# that owns the destination address, as long as that pod is Ready.
#
# ExternalIPs come in the two shapes users have:
#   kwok-node-1  203.0.113.11  cloud style: this namespace DNATs it to 198.51.100.11
#   kwok-node-2  203.0.113.12  bare-metal style: bound on the node's own interface
#   kwok-node-3  InternalIP only
# LoadBalancer Services get an ingress IP from 203.0.113.200-250 and a route to a
# node that passes kube-proxy's health check (dataplane/lb.ts, run by the agent).
# Both documentation ranges are routed onto the bridge, so an address no node has
# does not answer (without that, a proxy on this machine's network path accepts
# every TCP connection).
#
# Called by cluster.sh; the environment gives BINDIR, RUN, KUBECONFIG, API_PORT.
#   dataplane.sh check   exit 0 when this machine can run it (root, netns, nft)
#   dataplane.sh up      build nothing, start everything (cluster.sh builds kube-proxy)
#   dataplane.sh down    stop everything and delete the namespaces, bridge and host rules
#   dataplane.sh link NODE up|down   connect or cut the node's network (cluster.sh node-up/node-down)
# EXPOSE_PODS_PROXY_MODE chooses kube-proxy's mode: nftables (default) or iptables.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dp="$RUN/dataplane"
mode=${EXPOSE_PODS_PROXY_MODE:-nftables}
BRIDGE=ep-br0
BRIDGE_IP=198.51.100.1
# node  netns  veth  InternalIP  ExternalIP  shape
NODES="kwok-node-1 ep-kwok-node-1 ep-veth1 198.51.100.11 203.0.113.11 cloud
kwok-node-2 ep-kwok-node-2 ep-veth2 198.51.100.12 203.0.113.12 bare-metal
kwok-node-3 ep-kwok-node-3 ep-veth3 198.51.100.13 - -"

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Why this machine cannot run the data plane, or nothing when it can.
missing() {
  [ "$(id -u)" = 0 ] || { echo "it needs root (network namespaces, veth, nftables)"; return; }
  command -v ip >/dev/null || { echo "the ip command (iproute2) is missing"; return; }
  command -v nft >/dev/null || { echo "nft is missing (Debian package nftables; scripts/install-tools.sh netfilter)"; return; }
  if [ "$mode" = iptables ]; then
    command -v iptables-restore >/dev/null || { echo "iptables-restore is missing (Debian package iptables)"; return; }
  elif [ "$mode" != nftables ]; then
    echo "EXPOSE_PODS_PROXY_MODE=$mode: use nftables or iptables"; return
  fi
  ip netns add ep-probe 2>/dev/null || { echo "network namespaces cannot be created here"; return; }
  ip netns del ep-probe
}

start_bg() {
  local name=$1; shift
  nohup "$@" </dev/null >>"$dp/$name.log" 2>&1 &
  echo $! >"$dp/$name.pid"
}

up() {
  local why
  why=$(missing)
  [ -z "$why" ] || die "the data plane cannot run: $why"
  [ -x "$BINDIR/kube-proxy" ] || die "kube-proxy is not built ($BINDIR/kube-proxy)"
  down quiet
  mkdir -p "$dp"
  echo "$mode" >"$dp/mode"

  ip link add "$BRIDGE" type bridge
  ip addr add "$BRIDGE_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # ExternalIPs live on the bridge too: on-link, so an unused one fails ARP instead of leaving the machine.
  ip route add 203.0.113.0/24 dev "$BRIDGE"
  keep_registries_routed
  nft -f - <<NFT
table ip expose_pods_e2e {
  chain output {
    type nat hook output priority -100; policy accept;
  }
  chain lb {
    type nat hook output priority -100; policy accept;
  }
}
NFT

  # kube-proxy reaches the API server through the agent's forwarder on the bridge address.
  sed -e "s#server: https://127.0.0.1:$API_PORT#server: https://$BRIDGE_IP:$API_PORT#" "$KUBECONFIG" >"$dp/kube-proxy.kubeconfig"
  chmod 600 "$dp/kube-proxy.kubeconfig"

  local json="" node ns veth internal external shape
  while read -r node ns veth internal external shape; do
    ip netns add "$ns"
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    ip link set "$veth" master "$BRIDGE" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$internal/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via "$BRIDGE_IP"
    # The responder binds each pod's address before the agent has added it.
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_nonlocal_bind=1
    case $shape in
      cloud) nft add rule ip expose_pods_e2e output ip daddr "$external" dnat to "$internal" ;;
      bare-metal) ip -n "$ns" addr add "$external/32" dev eth0 ;;
    esac
    json="$json${json:+,}{\"node\":\"$node\",\"netns\":\"$ns\",\"internalIP\":\"$internal\",\"externalIP\":\"${external#-}\",\"shape\":\"${shape#-}\"}"
  done <<<"$NODES"
  printf '{"mode":"%s","bridgeIP":"%s","nodes":[%s]}\n' "$mode" "$BRIDGE_IP" "$json" >"$dp/nodes.json"

  # The agent first: its forwarder is how each kube-proxy reaches the API server.
  start_bg agent env KUBECONFIG="$KUBECONFIG" EXPOSE_PODS_DATAPLANE_DIR="$dp" \
    EXPOSE_PODS_API_FORWARD="$BRIDGE_IP:$API_PORT" EXPOSE_PODS_API_PORT="$API_PORT" \
    node --import tsx "$here/dataplane/agent.ts"
  local deadline=$((SECONDS + 60))
  until [ -f "$dp/agent.ready" ]; do
    [ $SECONDS -lt $deadline ] || { tail -n 30 "$dp/agent.log" >&2; die "the data-plane agent did not start"; }
    kill -0 "$(cat "$dp/agent.pid")" 2>/dev/null || { tail -n 30 "$dp/agent.log" >&2; die "the data-plane agent exited"; }
    sleep 0.2
  done

  # One configuration for every node, published where kubeadm publishes it (the
  # kube-system/kube-proxy ConfigMap, key config.conf), so `endpoints` can read where
  # NodePorts are accepted. Each node's copy adds only its name, as kubeadm's DaemonSet
  # does with --hostname-override. maxPerCore 0: the global conntrack sysctl is
  # read-only inside a namespace.
  cat >"$dp/kube-proxy.conf" <<CONF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $dp/kube-proxy.kubeconfig
mode: $mode
clusterCIDR: 10.244.0.0/15
conntrack:
  maxPerCore: 0
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 0.0.0.0:10256
CONF
  "$BINDIR/kubectl" --kubeconfig "$KUBECONFIG" -n kube-system create configmap kube-proxy \
    --from-file=config.conf="$dp/kube-proxy.conf" --dry-run=client -o yaml |
    "$BINDIR/kubectl" --kubeconfig "$KUBECONFIG" apply -f - >/dev/null
  while read -r node ns _; do
    { cat "$dp/kube-proxy.conf"; echo "hostnameOverride: $node"; } >"$dp/kube-proxy-$node.conf"
    start_bg "kube-proxy-$node" ip netns exec "$ns" "$BINDIR/kube-proxy" --config "$dp/kube-proxy-$node.conf"
  done <<<"$NODES"
  # Ready when every kube-proxy serves /healthz (rules synced once).
  deadline=$((SECONDS + 60))
  while read -r node ns _ internal _; do
    until ip netns exec "$ns" curl -fsS -o /dev/null "http://$internal:10256/healthz" 2>/dev/null; do
      [ $SECONDS -lt $deadline ] || { tail -n 30 "$dp/kube-proxy-$node.log" >&2; die "kube-proxy on $node is not healthy"; }
      sleep 0.2
    done
  done <<<"$NODES"
  log "✔ data plane up: kube-proxy ($mode) in 3 node namespaces on $BRIDGE"
}

# The hosts the machine installs from. Some machines reach them through an address
# in these documentation ranges (a proxy): each such address keeps a host route
# through the default gateway, so npm, go and apt still work while the data plane is up.
REGISTRIES="registry.npmjs.org proxy.golang.org sum.golang.org deb.debian.org"

keep_registries_routed() {
  local via host addr
  via=$(ip -4 route show default | head -n 1 | sed -n 's/^default \(via [^ ]* \)\{0,1\}dev \([^ ]*\).*/\1dev \2/p')
  [ -n "$via" ] || return 0
  : >"$dp/registry-routes"
  for host in $REGISTRIES; do
    addr=$(getent ahostsv4 "$host" 2>/dev/null | awk 'NR == 1 { print $1 }' || true)
    case $addr in
      203.0.113.* | 198.51.100.*) ;;
      *) continue ;;
    esac
    grep -qx "$addr" "$dp/registry-routes" && continue
    # shellcheck disable=SC2086 # $via is "via GW dev IF" or "dev IF"
    ip route replace "$addr/32" $via
    echo "$addr" >>"$dp/registry-routes"
    log "… $host ($addr) is in the data plane's ranges: it stays routed through the default gateway"
  done
}

down() {
  local quiet=${1:-} name pid addr
  for name in agent kube-proxy-kwok-node-1 kube-proxy-kwok-node-2 kube-proxy-kwok-node-3; do
    [ -f "$dp/$name.pid" ] || continue
    pid=$(cat "$dp/$name.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 25); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dp/$name.pid"
  done
  rm -f "$dp/agent.ready"
  local node ns veth rest
  while read -r node ns veth rest; do
    # Anything still running in the namespace (a responder whose agent was killed) goes with it.
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    ip link del "$veth" 2>/dev/null || true
  done <<<"$NODES"
  ip link del "$BRIDGE" 2>/dev/null || true
  if [ -f "$dp/registry-routes" ]; then
    while read -r addr; do ip route del "$addr/32" 2>/dev/null || true; done <"$dp/registry-routes"
    rm -f "$dp/registry-routes"
  fi
  nft delete table ip expose_pods_e2e 2>/dev/null || true
  [ -n "$quiet" ] || log "✔ data plane down"
}

# Sets the host end of a node's link up or down: a lost machine answers nothing.
link() {
  local want=$1 state=$2 node ns veth rest
  while read -r node ns veth rest; do
    [ "$node" = "$want" ] || continue
    ip link set "$veth" "$state"
    return
  done <<<"$NODES"
  die "no data-plane node $want"
}

cd "$root"
case ${1:-} in
  check) why=$(missing); [ -z "$why" ] || { log "$why"; exit 1; } ;;
  up) up ;;
  down) down ;;
  link) link "${2:?node}" "${3:?up or down}" ;;
  *) log "usage: $0 check|up|down|link NODE up|down"; exit 2 ;;
esac
