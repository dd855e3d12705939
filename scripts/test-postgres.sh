#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: a fresh data directory in a temporary folder, on a
# free 127.0.0.1 port, its socket in that folder, a password role that may create databases.
#
#   scripts/test-postgres.sh start   prints the folder on line 1 and the URL on line 2
#                                    (also in FOLDER/url); fails with a reason when it cannot
#   scripts/test-postgres.sh stop FOLDER
#
# initdb refuses to run as root: as root the server runs as the `postgres` user. The binaries are
# found on PATH, else in /usr/lib/postgresql/<newest>/bin (Debian's package: apt-get install -y
# postgresql). Nothing here is a secret: the role and its password exist only in this folder.
set -euo pipefail

find_bin() {
  if command -v initdb >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  echo "test-postgres: no PostgreSQL server binaries (initdb) on PATH or in /usr/lib/postgresql/*/bin; install them: apt-get install -y postgresql" >&2
  exit 3
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start() {
  local bin dir port url
  bin=$(find_bin)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/refundkit-pg-XXXXXX")
  chmod 700 "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
  # Local socket connections trust the server's own user; TCP asks for the test role's password,
  # kept as md5: a SCRAM handshake costs tens of milliseconds per connection, and the tests open
  # many (a pool per simulated process per test). Nothing here is worth more than that.
  as_owner "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C --auth-local=trust --auth-host=md5 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1; }
  for attempt in 1 2 3; do
    port=$(free_port)
    # No durability needed for test data: fsync off makes CREATE DATABASE per test file cheap.
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null 2>&1; then
      break
    fi
    if [ "$attempt" = 3 ]; then cat "$dir/server.log" >&2; rm -rf "$dir"; exit 1; fi
  done
  # pg_signal_backend: a test file's DROP DATABASE ... WITH (FORCE) must also end an autovacuum
  # worker that happens to be in that database, which belongs to no role the test role is in.
  as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -c "SET password_encryption = 'md5'" -c "CREATE ROLE refundkit_test LOGIN CREATEDB PASSWORD 'refundkit_test_only'" \
    -c "GRANT pg_signal_backend TO refundkit_test" >/dev/null \
    || { stop "$dir"; exit 1; }
  url="postgres://refundkit_test:refundkit_test_only@127.0.0.1:$port/postgres"
  echo "$url" >"$dir/url"
  echo "$dir"
  echo "$url"
}

stop() {
  local dir=${1:?usage: test-postgres.sh stop FOLDER}
  [ -d "$dir/data" ] || { rm -rf "$dir"; return; }
  local bin
  bin=$(find_bin)
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop FOLDER" >&2; exit 2 ;;
esac
