#!/usr/bin/env bash
# Usage: scripts/install-tools.sh [helm] [krew] [kube-score] [redis] [netfilter] [rcodesign]   (default: helm krew kube-score redis netfilter)
# Installs the real binaries the tests run, pinned, into a cache outside the repo:
#   helm 3 and helm 4, built from their Go modules with upstream's ldflags;
#   krew, built from its Go module (the packaging tests install the plugin with it);
#   kube-score, built from its Go module (test/chart/kube-score.test.ts lints every render of the chart with it);
#   rcodesign, from crates.io, and Debian's openssl: `npm run package` verifies the Node.js project's
#   signature on the macOS Node with openssl, and signs the result ad hoc with rcodesign;
#   redis-server and redis-cli, from Debian's package;
#   nft and iptables, from Debian's packages: the kube-proxy of the local cluster's data plane runs them.
# A second run finds them and builds nothing. Prints where they are and how long each took.
set -euo pipefail

HELM3_VERSION=v3.22.0
HELM4_VERSION=v4.3.1
KREW_VERSION=v0.4.4
KUBE_SCORE_VERSION=v1.20.0
RCODESIGN_VERSION=0.29.0

cache=${EXPOSE_PODS_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-expose-pods/tools}
mkdir -p "$cache"

log() { printf '%s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { log "error: $1 is required to build the test tools ($2)"; exit 1; }; }

build_helm() {
  local version=$1 major=${1%%.*}
  local dir="$cache/helm-$version"
  if [ -x "$dir/helm" ]; then log "✔ helm $version (cached) $dir/helm"; return; fi
  need go "install Go from https://go.dev/dl or your package manager"
  local start=$SECONDS mod clientgo kmajor kminor
  mod=$(go mod download -json "helm.sh/helm/$major@$version" | awk -F'"' '/"GoMod"/ {print $4}')
  clientgo=$(awk '$1 == "k8s.io/client-go" {print $2; exit}' "$mod")
  kmajor=1  # client-go v0.N is Kubernetes 1.N
  kminor=$(echo "$clientgo" | cut -d. -f2)
  # The same -X flags as helm's Makefile, so `helm version` and the default
  # Kubernetes version (used by `helm template` and lint) are upstream's.
  local ld="-s -w -X helm.sh/helm/$major/internal/version.version=$version -X helm.sh/helm/$major/internal/version.gitTreeState=clean"
  if [ "$major" = v3 ]; then
    ld="$ld -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$kmajor -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$kminor"
    ld="$ld -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$kmajor -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$kminor"
  fi
  log "… building helm $version from its Go module"
  mkdir -p "$dir.tmp"
  GOBIN="$dir.tmp" CGO_ENABLED=0 go install -trimpath -ldflags "$ld" "helm.sh/helm/$major/cmd/helm@$version"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  log "✔ helm $version built in $((SECONDS - start))s: $dir/helm"
}

# Installs Debian packages when a command is missing: apt_install COMMAND PACKAGE...
apt_install() {
  local cmd=$1; shift
  command -v "$cmd" >/dev/null 2>&1 && return
  need apt-get "$* come from Debian's packages; install them with your package manager"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  log "… installing Debian's $*"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

install_redis() {
  apt_install redis-server redis-server  # redis-cli comes with it (redis-tools)
  log "✔ redis-server $(redis-server --version | awk '{print $3}')"
}

install_netfilter() {
  apt_install nft nftables
  apt_install iptables-restore iptables
  log "✔ $(nft --version) and $(iptables --version)"
}

build_krew() {
  local dir="$cache/krew-$KREW_VERSION"
  if [ -x "$dir/kubectl-krew" ]; then log "✔ krew $KREW_VERSION (cached) $dir/kubectl-krew"; return; fi
  need go "install Go from https://go.dev/dl or your package manager"
  local start=$SECONDS src
  log "… building krew $KREW_VERSION from its Go module"
  # Built inside the downloaded module, not with `go install pkg@version`: that
  # also asks the proxy for the module's version list, which it refuses for krew.
  src=$(go mod download -json "sigs.k8s.io/krew@$KREW_VERSION" | awk -F'"' '/"Dir"/ {print $4}')
  mkdir -p "$dir.tmp"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/krew/internal/version.gitTag=$KREW_VERSION" \
    -o "$dir.tmp/kubectl-krew" ./cmd/krew)
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  log "✔ krew $KREW_VERSION built in $((SECONDS - start))s: $dir/kubectl-krew"
}

build_kube_score() {
  local dir="$cache/kube-score-$KUBE_SCORE_VERSION" src start=$SECONDS
  if [ -x "$dir/kube-score" ]; then log "✔ kube-score $KUBE_SCORE_VERSION (cached) $dir/kube-score"; return; fi
  need go "install Go from https://go.dev/dl or your package manager"
  log "… building kube-score $KUBE_SCORE_VERSION from its Go module"
  src=$(go mod download -json "github.com/zegl/kube-score@$KUBE_SCORE_VERSION" | awk -F'"' '/"Dir"/ {print $4}')
  [ -n "$src" ] || { log "error: cannot download github.com/zegl/kube-score@$KUBE_SCORE_VERSION"; exit 1; }
  mkdir -p "$dir.tmp"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$KUBE_SCORE_VERSION" \
    -o "$dir.tmp/kube-score" ./cmd/kube-score)
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  log "✔ kube-score $KUBE_SCORE_VERSION built in $((SECONDS - start))s: $dir/kube-score"
}

build_rcodesign() {
  local dir="$cache/rcodesign-$RCODESIGN_VERSION"
  # openssl verifies the Node.js project's signature on the macOS Node before it is embedded.
  apt_install openssl openssl
  if [ -x "$dir/bin/rcodesign" ]; then log "✔ rcodesign $RCODESIGN_VERSION (cached) $dir/bin/rcodesign"; return; fi
  need cargo "install Rust from https://rustup.rs or your package manager"
  local start=$SECONDS
  log "… building rcodesign $RCODESIGN_VERSION (apple-codesign) from crates.io; this takes minutes"
  cargo install --quiet --locked --no-default-features --root "$dir.tmp" "apple-codesign@$RCODESIGN_VERSION"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  log "✔ rcodesign $RCODESIGN_VERSION built in $((SECONDS - start))s: $dir/bin/rcodesign"
}

# With no arguments, everything the tests need; otherwise only the named parts.
# kubectl comes with the local control plane: test/cluster/cluster.sh build.
parts=${*:-helm krew kube-score redis netfilter}
for part in $parts; do
  case $part in
    helm) build_helm "$HELM3_VERSION"; build_helm "$HELM4_VERSION" ;;
    krew) build_krew ;;
    kube-score) build_kube_score ;;
    rcodesign) build_rcodesign ;;
    redis) install_redis ;;
    netfilter) install_netfilter ;;
    *) log "error: unknown part $part (use helm, krew, kube-score, redis, netfilter or rcodesign)"; exit 2 ;;
  esac
done

# Consumed by the tests (test/support/tools.ts) and by people: one line each.
cat > "$cache/env" <<ENV
HELM3=$cache/helm-$HELM3_VERSION/helm
HELM4=$cache/helm-$HELM4_VERSION/helm
KREW=$cache/krew-$KREW_VERSION/kubectl-krew
KUBE_SCORE=$cache/kube-score-$KUBE_SCORE_VERSION/kube-score
RCODESIGN=$cache/rcodesign-$RCODESIGN_VERSION/bin/rcodesign
ENV
log "tools: $cache/env"
