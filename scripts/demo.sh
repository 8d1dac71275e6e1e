#!/usr/bin/env bash
# `npm run demo`: builds helm and kubectl if needed, installs the plugin into a
# private prefix, and runs it through the real kubectl. Until the local
# cluster lands, the demo renders a 3-pod release (install --dry-run).
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-expose-pods
bash scripts/install-tools.sh helm kubectl
# shellcheck disable=SC1091
. "$cache/tools/env"

npm run --silent build
prefix="$cache/demo"
npm install --global --prefix "$prefix" --no-audit --no-fund . >/dev/null

bin="$cache/demo/tool-bin"
mkdir -p "$bin"
ln -sf "$HELM4" "$bin/helm"
ln -sf "$KUBECTL" "$bin/kubectl"
export PATH="$prefix/bin:$bin:$PATH"

echo "+ kubectl plugin list" >&2
kubectl plugin list 2>/dev/null | grep expose_pods
echo "+ kubectl expose-pods install demo --dry-run -n default --replicas 3" >&2
kubectl expose-pods install demo --dry-run -n default --replicas 3
cat >&2 <<MSG

The plugin, helm and kubectl used above are on this PATH:
  export PATH="$prefix/bin:$bin:\$PATH"
MSG
