#!/usr/bin/env bash
# `npm run demo`: builds helm and the local control plane if needed, brings the
# cluster up (3 fake KWOK nodes), installs the plugin into a private prefix, and
# runs it through the real kubectl against that cluster: install (3 pods, 4
# per-pod Services), endpoints, status. With root, the cluster has a data plane
# (a real kube-proxy per node): the demo then probes every endpoint and ends by
# connecting to a room, which answers with its name. Without it, it says so and
# skips the packets.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-expose-pods
bash scripts/install-tools.sh helm
# shellcheck disable=SC1091
. "$cache/tools/env"
kubeconfig=$(bash test/cluster/cluster.sh up)
clusterbin=$(bash test/cluster/cluster.sh env | sed -n 's/^CLUSTER_BIN=//p')

npm run --silent build
prefix="$cache/demo"
npm install --global --prefix "$prefix" --no-audit --no-fund . >/dev/null

bin="$prefix/tool-bin"
mkdir -p "$bin"
ln -sf "$HELM4" "$bin/helm"
ln -sf "$clusterbin/kubectl" "$bin/kubectl"
export PATH="$prefix/bin:$bin:$PATH" KUBECONFIG="$kubeconfig"

say() { printf '\n+ %s\n' "$*" >&2; }
say kubectl plugin list
kubectl plugin list 2>/dev/null | grep expose_pods
say kubectl expose-pods install demo -n demo --create-namespace --replicas 3 --set expose.count=4
kubectl expose-pods install demo -n demo --create-namespace --replicas 3 --set expose.count=4 --timeout 2m >/dev/null
say kubectl expose-pods endpoints demo -n demo
kubectl expose-pods endpoints demo -n demo
say kubectl expose-pods status demo -n demo
kubectl expose-pods status demo -n demo

if bash test/cluster/cluster.sh env | grep -q '^DATAPLANE='; then
  say kubectl expose-pods endpoints demo -n demo --probe
  kubectl expose-pods endpoints demo -n demo --probe
  addr=$(kubectl expose-pods endpoints demo -n demo --probe -o addresses 2>/dev/null | head -n1)
  say "a client connects to $addr; the room answers with its name and the address it saw"
  timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" && cat <&3' _ "${addr%:*}" "${addr##*:}"
else
  printf '\nNo data plane on this machine (it needs root and network namespaces): the packets are skipped.\n' >&2
fi
cat >&2 <<MSG

The local cluster keeps running. To use it and the plugin from your shell:
  export KUBECONFIG=$kubeconfig
  export PATH="$prefix/bin:$bin:\$PATH"
Stop it with: npm run cluster:down
MSG
