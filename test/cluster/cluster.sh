#!/usr/bin/env bash
# A real Kubernetes control plane on 127.0.0.1 for the e2e tests and the demo:
# etcd, kube-apiserver, kube-controller-manager and kube-scheduler built from
# upstream Go modules, and KWOK standing in for the kubelets of 3 fake nodes.
#
#   cluster.sh build   compile the pinned binaries into the cache (skipped when present)
#   cluster.sh up      build if needed, start everything, wait until Ready, print the kubeconfig path
#   cluster.sh down    stop everything this script started (also after a failed run)
#   cluster.sh status  say whether it is up
#   cluster.sh logs    print the tail of every component's log
#   cluster.sh env     print KUBECONFIG=... and the binary paths, for sourcing
#   cluster.sh restart-apiserver   stop and start the API server, data kept (watch reconnect tests)
#   cluster.sh node-down|node-up   lose kwok-node-3 (its heartbeats stop, its network goes) or get it back
#                                  (node-up returns once the control plane holds it Ready again)
#
# The data plane (dataplane.sh: a network namespace and a real kube-proxy per node,
# pods with addresses that answer) comes up with the cluster when this machine can
# run it. EXPOSE_PODS_DATAPLANE: auto (default: up when root and netns allow it, a
# notice otherwise), require (npm test: fail when it cannot), off.
set -euo pipefail

K8S_VERSION=v1.34.4
ETCD_VERSION=$(awk '$1 == "require" && $2 == "go.etcd.io/etcd/server/v3" {print $3}' "$(dirname "$0")/build/etcd/go.mod")
KWOK_VERSION=v0.7.0

here=$(cd "$(dirname "$0")" && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-expose-pods/cluster
bindir="$cache/$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
run=${EXPOSE_PODS_CLUSTER_DIR:-$cache/run}
kubeconfig="$run/kubeconfig"

ETCD_PORT=${EXPOSE_PODS_ETCD_PORT:-23790}
API_PORT=${EXPOSE_PODS_API_PORT:-16443}

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Builds commands of the pinned k8s.io/kubernetes module into $bindir, with upstream's version stamp.
build_k8s() {
  local cb=k8s.io/component-base/version minor
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  (cd "$here/build/k8s" && CGO_ENABLED=0 go build -trimpath -tags selinux,notest \
    -ldflags "-s -w -X $cb.gitVersion=$K8S_VERSION -X $cb.gitMajor=1 -X $cb.gitMinor=$minor -X $cb.gitTreeState=clean" \
    -o "$bindir/" "${@/#/k8s.io/kubernetes/cmd/}")
}

build() {
  mkdir -p "$bindir"
  local start
  if [ ! -x "$bindir/kube-apiserver" ] || [ ! -x "$bindir/kube-controller-manager" ] || [ ! -x "$bindir/kube-scheduler" ] || [ ! -x "$bindir/kubectl" ]; then
    start=$SECONDS
    log "… building kube-apiserver, kube-controller-manager, kube-scheduler and kubectl $K8S_VERSION (cold: tens of minutes on 2 cores)"
    build_k8s kube-apiserver kube-controller-manager kube-scheduler kubectl
    log "✔ kubernetes $K8S_VERSION built in $((SECONDS - start))s"
  fi
  # Separate, so a cache from before the data plane only adds it (about 30 s warm).
  if [ ! -x "$bindir/kube-proxy" ]; then
    start=$SECONDS
    log "… building kube-proxy $K8S_VERSION for the data plane"
    build_k8s kube-proxy
    log "✔ kube-proxy $K8S_VERSION built in $((SECONDS - start))s"
  fi
  if [ ! -x "$bindir/etcd" ]; then
    start=$SECONDS
    log "… building etcd $ETCD_VERSION"
    (cd "$here/build/etcd" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bindir/etcd" .)
    log "✔ etcd built in $((SECONDS - start))s"
  fi
  if [ ! -x "$bindir/kwok" ]; then
    start=$SECONDS
    log "… building kwok $KWOK_VERSION"
    GOBIN="$bindir" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
    log "✔ kwok built in $((SECONDS - start))s"
  fi
  log "✔ control-plane binaries in $bindir"
}

# KWOK's pod stages: its own fast pod-ready and pod-complete, taken from the pinned
# module, and our pod-delete. KWOK's deletes a pod the moment it is deleted; ours does
# the same unless the pod carries the annotation expose-pods.test/terminating-for: <duration>,
# which keeps it Terminating (still Ready, as a draining server is) for that long, the
# way a kubelet waits for a process that takes its grace period to exit.
kwok_stages() {
  local dir
  dir=$(cd / && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || die "cannot find the sigs.k8s.io/kwok@$KWOK_VERSION module source"
  cat "$dir/kustomize/stage/pod/fast/pod-ready.yaml"
  printf -- '---\n'
  cat "$dir/kustomize/stage/pod/fast/pod-complete.yaml"
  cat <<'STAGE'
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-delete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'Exists'
  delay:
    durationMilliseconds: 0
    durationFrom:
      expressionFrom: '.metadata.annotations["expose-pods.test/terminating-for"]'
  next:
    finalizers:
      empty: true
    delete: true
STAGE
}

# Starts a component in the background with its own log; its pid goes to $run/<name>.pid.
start() {
  local name=$1; shift
  nohup "$@" >>"$run/$name.log" 2>&1 &
  echo $! >"$run/$name.pid"
}

alive() { [ -f "$run/$1.pid" ] && running "$(cat "$run/$1.pid")"; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Polls a command until it succeeds or the deadline passes; names the component on failure.
wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      log "error: timed out after ${seconds}s waiting for $what"
      logs
      return 1
    fi
    sleep 0.5
  done
}

certs() {
  local d="$run/pki"
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=expose-pods-e2e-ca" \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  cat >"$d/apiserver.ext" <<EXT
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1,IP:198.51.100.1
extendedKeyUsage=serverAuth
EXT
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout "$d/apiserver.key" -out "$d/apiserver.csr" 2>/dev/null
  openssl x509 -req -in "$d/apiserver.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 365 \
    -extfile "$d/apiserver.ext" -out "$d/apiserver.crt" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$d/admin.ext"
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=expose-pods-admin" -keyout "$d/admin.key" -out "$d/admin.csr" 2>/dev/null
  openssl x509 -req -in "$d/admin.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 365 \
    -extfile "$d/admin.ext" -out "$d/admin.crt" 2>/dev/null
  # Each KWOK node agent signs in as its node, as a kubelet does (system:node:<name> in
  # system:nodes), so the Node authorizer and NodeRestriction hold it to its own node.
  local n
  for n in $NODE_AGENTS; do
    openssl req -newkey rsa:2048 -nodes -subj "/O=system:nodes/CN=system:node:$n" -keyout "$d/$n.key" -out "$d/$n.csr" 2>/dev/null
    openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 365 \
      -extfile "$d/admin.ext" -out "$d/$n.crt" 2>/dev/null
  done
  openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
  openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
}

write_kubeconfig() {
  local d="$run/pki" b64="base64 -w0"
  cat >"$kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
  - name: expose-pods-e2e
    cluster:
      server: https://127.0.0.1:$API_PORT
      certificate-authority-data: $($b64 <"$d/ca.crt")
users:
  - name: expose-pods-admin
    user:
      client-certificate-data: $($b64 <"$d/admin.crt")
      client-key-data: $($b64 <"$d/admin.key")
contexts:
  - name: expose-pods-e2e
    context:
      cluster: expose-pods-e2e
      user: expose-pods-admin
      namespace: default
current-context: expose-pods-e2e
KC
  chmod 600 "$kubeconfig"
  # One kubeconfig per node agent: the admin's, with the node's certificate.
  local n
  for n in $NODE_AGENTS; do
    sed -e "s|^      client-certificate-data: .*|      client-certificate-data: $($b64 <"$d/$n.crt")|" \
        -e "s|^      client-key-data: .*|      client-key-data: $($b64 <"$d/$n.key")|" "$kubeconfig" >"$run/$n.kubeconfig"
    chmod 600 "$run/$n.kubeconfig"
  done
}

kubectl_() { "$bindir/kubectl" --kubeconfig "$kubeconfig" "$@"; }

dataplane() { BINDIR="$bindir" RUN="$run" KUBECONFIG="$kubeconfig" API_PORT="$API_PORT" bash "$here/dataplane.sh" "$@"; }
dataplane_alive() { [ -f "$run/dataplane/agent.pid" ] && running "$(cat "$run/dataplane/agent.pid")"; }

# Starts the data plane as EXPOSE_PODS_DATAPLANE asks (see the header).
dataplane_up() {
  local want=${EXPOSE_PODS_DATAPLANE:-auto} why
  case $want in
    off) return ;;
    auto | require) ;;
    *) die "EXPOSE_PODS_DATAPLANE=$want: use auto, require or off" ;;
  esac
  if dataplane_alive && [ "$(cat "$run/dataplane/mode")" = "${EXPOSE_PODS_PROXY_MODE:-nftables}" ]; then
    log "✔ the data plane is already up"
    return
  fi
  if ! why=$(dataplane check 2>&1); then
    [ "$want" = require ] && die "the data plane cannot run here: $why"
    log "notice: no data plane (packets through kube-proxy) on this machine: $why"
    return
  fi
  dataplane up
}

nodes_ready() {
  [ "$(kubectl_ get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)" -ge 3 ]
}

start_apiserver() {
  # No --advertise-address: a loopback one makes the kubernetes Endpoints update fail.
  start kube-apiserver "$bindir/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" --bind-address 127.0.0.1 --secure-port "$API_PORT" \
    --tls-cert-file "$run/pki/apiserver.crt" --tls-private-key-file "$run/pki/apiserver.key" \
    --client-ca-file "$run/pki/ca.crt" --token-auth-file "$run/tokens.csv" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$run/pki/sa.pub" --service-account-signing-key-file "$run/pki/sa.key" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --allow-privileged=true \
    --service-cluster-ip-range 10.96.0.0/16 --service-node-port-range 30000-32767 \
    --audit-policy-file "$run/audit-policy.yaml" --audit-log-path "$run/audit.log" --audit-log-format json
  wait_for kube-apiserver 60 kubectl_ get --raw /readyz
}

# Kills the API server (SIGKILL: a crash; on SIGTERM it keeps serving open watches while
# it drains) and starts it again with its data kept. Clients see what a crash looks
# like: watches drop, requests are refused, then succeed again.
restart_apiserver() {
  alive kube-apiserver || die "the API server is not running (npm run cluster:up)"
  local pid deadline
  pid=$(cat "$run/kube-apiserver.pid")
  kill -9 "$pid"
  deadline=$((SECONDS + 15))
  while { running "$pid" || ! port_free "$API_PORT"; } && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  start_apiserver
  log "✔ kube-apiserver restarted"
}

# One KWOK process per node, each signed in as that node (system:node:<name>): like a
# kubelet, the Node authorizer lets it read and write only its own node, lease and pods,
# and NodeRestriction refuses its delete of a pod bound to another node. (KWOK deletes
# pods by name with no UID precondition: an agent that comes back after a partition
# would otherwise delete the replacement of its old pod on another node.) So a test can
# lose kwok-node-3 (node-down: its heartbeats stop, as when a machine is cut off) while
# the other two stay Ready, and get it back (node-up). Separate pod CIDRs keep pod IPs apart.
# A fourth process, kwok-pool, manages the nodes a benchmark adds (annotated
# kwok.x-k8s.io/node=fake); it manages several, so it cannot be one node and signs in as admin.
NODE_AGENTS="kwok-node-1 kwok-node-2 kwok-node-3"

start_kwok() {
  start_kwok_node kwok-node-1 10.244.0.0/18 198.51.100.1
  start_kwok_node kwok-node-2 10.244.64.0/18 198.51.100.2
  start_kwok_node kwok-node-3 10.245.0.0/16 198.51.100.3
  start kwok-pool "$bindir/kwok" --config "$run/kwok-stages.yaml" --kubeconfig "$kubeconfig" --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds 40 --cidr 10.244.128.0/17 --node-ip 198.51.100.4 --server-address ""
}

# start_kwok_node NAME CIDR NODE-IP: the agent of one node, as that node.
start_kwok_node() {
  start "$1" "$bindir/kwok" --config "$run/kwok-stages.yaml" --kubeconfig "$run/$1.kubeconfig" --manage-single-node "$1" \
    --node-lease-duration-seconds 40 --cidr "$2" --node-ip "$3" --server-address ""
}

start_kwok3() { start_kwok_node kwok-node-3 10.245.0.0/16 198.51.100.3; }

# node-down freezes kwok-node-3's KWOK process (SIGSTOP) rather than killing it: no
# heartbeats and nothing done for its pods, as on a machine cut off, and on node-up it
# resumes with what it knew. A restarted KWOK would start with an empty pod-IP pool (it
# marks an IP as taken only when it next plays a stage on that pod), hand a surviving
# pod's IP to a new pod, and two pods on one node would share an address.
node_down() {
  [ ! -f "$run/kwok-node-3.frozen" ] || die "kwok-node-3 is already down"
  alive kwok-node-3 || die "kwok-node-3 is not running"
  kill -STOP "$(cat "$run/kwok-node-3.pid")"
  touch "$run/kwok-node-3.frozen"
  # The machine is gone: nothing answers at its addresses.
  if dataplane_alive; then dataplane link kwok-node-3 down; fi
  log "✔ kwok-node-3 lost: no more heartbeats"
}

# Back means back for the control plane too, not only Ready=True on the Node, which KWOK
# writes the moment it resumes. The node lifecycle controller refreshes its own record of a
# node every 5 s (node-monitor-period), and until then it marks a pod newly bound there
# Ready=False (MarkPodsNotReady): the node is lost as far as it knows. KWOK's pod-ready stage
# plays only for a pod without an IP, so a pod KWOK had already made Ready stays not Ready for
# good. The pass that refreshes the record lifts the unreachable and not-ready NoExecute
# taints, so node-up returns once they are gone.
node3_back() {
  local state
  state=$(kubectl_ get node kwok-node-3 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.spec.taints[*].key}')
  [ "${state%% *}" = True ] && ! grep -qE 'node\.kubernetes\.io/(unreachable|not-ready)' <<<"$state"
}

node_up() {
  if dataplane_alive; then dataplane link kwok-node-3 up; fi
  if [ -f "$run/kwok-node-3.frozen" ] && alive kwok-node-3; then
    kill -CONT "$(cat "$run/kwok-node-3.pid")"
    rm -f "$run/kwok-node-3.frozen"
  else
    rm -f "$run/kwok-node-3.frozen"
    alive kwok-node-3 || start_kwok3
  fi
  wait_for "kwok-node-3 Ready, with the lost-node taints lifted" 120 node3_back
  log "✔ kwok-node-3 is back: Ready, and no longer tainted as lost"
}

up() {
  build
  if alive kube-apiserver && kubectl_ get --raw /readyz >/dev/null 2>&1; then
    log "✔ the cluster is already up"
    dataplane_up
    printf '%s\n' "$kubeconfig"
    return
  fi
  down quiet
  local t0=$SECONDS
  for p in "$ETCD_PORT" $((ETCD_PORT + 10)) "$API_PORT"; do
    port_free "$p" || die "port $p on 127.0.0.1 is in use; set EXPOSE_PODS_ETCD_PORT / EXPOSE_PODS_API_PORT"
  done
  rm -rf "$run" && mkdir -p "$run"
  certs
  write_kubeconfig
  # A separate token user for benchmarks: the audit policy records only its requests,
  # so a benchmark can count exactly what one command sent.
  printf 'expose-pods-bench-token,expose-pods-bench,expose-pods-bench,"system:masters"\n' >"$run/tokens.csv"
  cat >"$run/audit-policy.yaml" <<POLICY
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    users: ["expose-pods-bench"]
  - level: None
POLICY
  sed -e 's/^  - name: expose-pods-admin$/  - name: expose-pods-bench/' \
      -e '/client-certificate-data:/d' -e 's/^      client-key-data: .*/      token: expose-pods-bench-token/' \
      -e 's/^      user: expose-pods-admin$/      user: expose-pods-bench/' "$kubeconfig" >"$run/bench.kubeconfig"
  chmod 600 "$run/bench.kubeconfig"

  start etcd "$bindir/etcd" --name e2e --data-dir "$run/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 10))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 10))" \
    --initial-cluster "e2e=http://127.0.0.1:$((ETCD_PORT + 10))" --unsafe-no-fsync --quota-backend-bytes 2147483648
  wait_for etcd 30 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

  start_apiserver

  start kube-controller-manager "$bindir/kube-controller-manager" \
    --kubeconfig "$kubeconfig" --service-account-private-key-file "$run/pki/sa.key" \
    --root-ca-file "$run/pki/ca.crt" --leader-elect=false --node-monitor-grace-period 20s \
    --bind-address 127.0.0.1 --secure-port 0 --use-service-account-credentials=false
  start kube-scheduler "$bindir/kube-scheduler" --kubeconfig "$kubeconfig" --leader-elect=false \
    --bind-address 127.0.0.1 --secure-port 0
  kwok_stages >"$run/kwok-stages.yaml"
  wait_for "the RBAC API" 60 kubectl_ get clusterroles
  kubectl_ apply -f "$here/kwok-agent-rbac.yaml" >/dev/null
  start_kwok

  kubectl_ apply -f "$here/manifests/" >/dev/null
  wait_for "3 Ready nodes" 60 nodes_ready
  wait_for "the default ServiceAccount" 60 kubectl_ get serviceaccount default -n default
  wait_for "the kube-root-ca.crt ConfigMap" 60 kubectl_ get configmap kube-root-ca.crt -n default
  dataplane_up
  log "✔ cluster Ready in $((SECONDS - t0))s: $(kubectl_ version -o json | grep -m1 gitVersion | tr -d ' ",')"
  log "  export KUBECONFIG=$kubeconfig"
  printf '%s\n' "$kubeconfig"
}

# True while the process exists and is not a zombie (kill -0 succeeds on zombies).
running() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "${state#Z}" = "$state" ]
}

down() {
  local quiet=${1:-}
  local stopped=0 name pid deadline
  [ -d "$run/dataplane" ] && dataplane down >/dev/null 2>&1
  # Reverse start order; SIGTERM first, SIGKILL after 5 s: the data is disposable.
  for name in kwok-pool kwok-node-3 kwok-node-2 kwok-node-1 kube-scheduler kube-controller-manager kube-apiserver etcd; do
    [ -f "$run/$name.pid" ] || continue
    pid=$(cat "$run/$name.pid")
    if running "$pid"; then
      # A test may have paused the scheduler (holdScheduling) or frozen kwok-node-3 (node-down):
      # a stopped process keeps SIGTERM pending.
      kill "$pid" 2>/dev/null || true
      kill -CONT "$pid" 2>/dev/null || true
      stopped=$((stopped + 1))
      deadline=$((SECONDS + 5))
      while running "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
      running "$pid" && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$run/$name.pid"
  done
  rm -f "$run/kwok-node-3.frozen"
  # A killed process can hold its port for a moment; the next `up` needs them free.
  deadline=$((SECONDS + 15))
  for p in "$ETCD_PORT" $((ETCD_PORT + 10)) "$API_PORT"; do
    while ! port_free "$p" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  done
  [ -n "$quiet" ] || log "✔ cluster down ($stopped components stopped)"
}

logs() {
  for name in etcd kube-apiserver kube-controller-manager kube-scheduler kwok-node-1 kwok-node-2 kwok-node-3 kwok-pool; do
    [ -f "$run/$name.log" ] || continue
    log "----- $name ($run/$name.log), last 30 lines -----"
    tail -n 30 "$run/$name.log" >&2
  done
  for name in "$run"/dataplane/*.log; do
    [ -f "$name" ] || continue
    log "----- $(basename "$name" .log) ($name), last 30 lines -----"
    tail -n 30 "$name" >&2
  done
}

status() {
  for name in etcd kube-apiserver kube-controller-manager kube-scheduler kwok-node-1 kwok-node-2 kwok-node-3 kwok-pool; do
    if alive "$name"; then log "✔ $name (pid $(cat "$run/$name.pid"))"; else log "✖ $name not running"; fi
  done
  if dataplane_alive; then log "✔ data plane ($(cat "$run/dataplane/mode"))"; else log "✖ no data plane"; fi
  alive kube-apiserver
}

case ${1:-} in
  build) build ;;
  up) up ;;
  down) down ;;
  status) status ;;
  logs) logs ;;
  restart-apiserver) restart_apiserver ;;
  node-down) node_down ;;
  node-up) node_up ;;
  env)
    printf 'KUBECONFIG=%s\nCLUSTER_BIN=%s\nCLUSTER_RUN=%s\n' "$kubeconfig" "$bindir" "$run"
    if dataplane_alive; then printf 'DATAPLANE=%s\n' "$run/dataplane/nodes.json"; fi
    ;;
  *) log "usage: $0 build|up|down|status|logs|env|restart-apiserver|node-down|node-up"; exit 2 ;;
esac
