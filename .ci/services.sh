#!/usr/bin/env bash
# Services the tests need, from Debian's packages: a throwaway PostgreSQL server on loopback
# (exported as L4STATION_TEST_POSTGRES) and Chromium for the dashboard's browser test.
# Sourced by .ci/run; also usable by hand: `source .ci/services.sh`.
need=()
command -v chromium >/dev/null || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
    echo "CI: installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

PG_BIN=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
PG_PORT=${PG_PORT:-54329}
PG_DIR=$(mktemp -d /tmp/l4station-pg.XXXXXX)
chown postgres "$PG_DIR"
runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
export L4STATION_TEST_POSTGRES="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
stop_postgres() { runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1; rm -rf "$PG_DIR"; }
trap stop_postgres EXIT
echo "CI: PostgreSQL at $L4STATION_TEST_POSTGRES"
