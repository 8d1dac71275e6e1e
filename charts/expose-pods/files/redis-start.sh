#!/bin/sh
# Starts redis-server with the redis.conf beside this script. The password is
# read from $REDIS_PASSWORD (the chart's Secret) and handed over on stdin, so
# it is in neither the ConfigMap nor the process arguments.
# Trailing newlines of the Secret's value are dropped ($(...) drops them), as
# the readiness probe drops them too: a Secret made from a file that ends in a
# newline gives the password without it.
# Extra arguments are passed to redis-server before the stdin marker.
set -eu
: "${REDIS_PASSWORD:?REDIS_PASSWORD is not set}"
conf="$(dirname "$0")/redis.conf"
pw=$(printf '%s' "$REDIS_PASSWORD" | sed 's/[\\"]/\\&/g')
exec redis-server "$conf" "$@" - <<EOF
requirepass "$pw"
EOF
