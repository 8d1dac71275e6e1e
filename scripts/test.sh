#!/usr/bin/env bash
# `npm test`: installs the real tools the tests run (helm 3 and 4, krew,
# kubectl, redis-server, nft and iptables, rcodesign and openssl, and the local
# control plane with its data plane: a real kube-proxy per node; root), builds,
# packages the single executables of all five platforms,
# checks types, lint and formatting, runs the unit tests once under StrykerJS (its
# dry run: the mutation setup works), brings the local cluster up, runs every test
# in one node --test run, and brings the cluster down again, whatever happened.
#   scripts/test.sh        everything
#   scripts/test.sh e2e    only the end-to-end tests (npm run test:e2e)
#   scripts/test.sh soak   only the model-based sequences, more of them (npm run test:soak;
#                          SEQ_RUNS, SEQ_MAX_COMMANDS and SEQ_SEED choose how many, how long, which)
set -euo pipefail
cd "$(dirname "$0")/.."

only=${1:-all}
start=$SECONDS
bash scripts/install-tools.sh helm krew kube-score redis netfilter rcodesign
bash test/cluster/cluster.sh build
echo "tools ready in $((SECONDS - start))s" >&2

npm run --silent build
# The single executables and their krew manifest, as `npm run package` makes
# them for a release, for all five platforms: test/package checks each archive
# (layout, the binary's format and CPU, the chart inside, the macOS signatures),
# runs the linux/amd64 one (also in test/e2e/krew), and the real krew installs
# the linux/amd64 and windows/amd64 ones.
node --import tsx scripts/package.ts \
  --out-dir build/test-package --manifest build/test-package/krew-manifest.yaml
if [ "$only" = all ]; then
  npm run --silent typecheck
  npm run --silent lint
  npm run --silent format:check
  # The mutation setup (npm run test:mutation) holds: Stryker's initial test run, every
  # unit test in its sandbox with all of src/core instrumented, and no mutant tested.
  node --import tsx scripts/mutation.ts --dryRunOnly
fi

# The tests send packets through the data plane: fail clearly when this machine cannot run it.
export EXPOSE_PODS_DATAPLANE=${EXPOSE_PODS_DATAPLANE:-require}
trap 'bash test/cluster/cluster.sh down' EXIT
bash test/cluster/cluster.sh up >/dev/null

# One test file at a time: the e2e files share one cluster, and one of them restarts its API server.
if [ "$only" = e2e ]; then
  node --import tsx --test --test-concurrency=1 test/e2e/*.test.ts
elif [ "$only" = soak ]; then
  SEQ_RUNS=${SEQ_RUNS:-25} SEQ_MAX_COMMANDS=${SEQ_MAX_COMMANDS:-10} \
    node --import tsx --test --test-concurrency=1 test/e2e/sequences.test.ts
else
  node --import tsx --test --test-concurrency=1 test/unit/*.test.ts test/commands/*.test.ts test/chart/*.test.ts \
    test/package/*.test.ts test/e2e/*.test.ts
fi
