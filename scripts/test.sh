#!/usr/bin/env bash
# `npm test`: installs the real tools the tests run (helm 3 and 4, kubectl,
# redis-server), builds, checks types, lint and formatting, then runs every
# test in one node --test run.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
bash scripts/install-tools.sh
echo "tools ready in $((SECONDS - start))s" >&2

npm run --silent build
npm run --silent typecheck
npm run --silent lint
npm run --silent format:check

node --import tsx --test test/unit/*.test.ts test/commands/*.test.ts test/chart/*.test.ts
