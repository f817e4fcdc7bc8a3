#!/usr/bin/env bash
# pgbouncer in transaction pooling mode in front of a private PostgreSQL.
#   pgbouncer.sh up | down | url | direct-url
# `up` starts afresh (stopping what an earlier `up` left), so running it twice is safe.
. "$(dirname "$0")/lib.sh"

DIR=$TOPOLOGY_DIR/pgbouncer
PG_PORT=5440
BOUNCER_PORT=6440

down() {
  if [ -f "$DIR/pgbouncer.pid" ]; then
    kill "$(cat "$DIR/pgbouncer.pid")" 2>/dev/null || true
    wait_until 10 "pgbouncer to stop" test ! -e "$DIR/pgbouncer.pid"
  fi
  pg_stop "$DIR/pg"
  rm -rf "$DIR"
}

up() {
  command -v pgbouncer >/dev/null || die "pgbouncer is missing: apt-get install pgbouncer"
  down
  pg_init "$DIR/pg" "$PG_PORT"
  pg_start "$DIR/pg"
  pg_create_app "$PG_PORT"
  echo '"app" ""' >"$DIR/userlist.txt"
  cat >"$DIR/pgbouncer.ini" <<INI
[databases]
app = host=127.0.0.1 port=$PG_PORT dbname=app

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/userlist.txt
pool_mode = transaction
default_pool_size = 10
max_client_conn = 500
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
INI
  chown -R postgres:postgres "$DIR"
  as_postgres pgbouncer -d -q "$DIR/pgbouncer.ini"
  wait_until 30 "pgbouncer on port $BOUNCER_PORT" pg_isready -q -h 127.0.0.1 -p "$BOUNCER_PORT" -d app -U app
  echo "pgbouncer $(pgbouncer --version | head -n 1 | awk '{print $2}'): transaction pooling on 127.0.0.1:$BOUNCER_PORT" \
    "(pool of 10) in front of PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT, in $DIR"
}

case ${1:-} in
  up) up ;;
  down) down; echo "pgbouncer: stopped, $DIR removed" ;;
  url) echo "postgresql+psycopg://app@127.0.0.1:$BOUNCER_PORT/app" ;;
  direct-url) echo "postgresql+psycopg://app@127.0.0.1:$PG_PORT/app" ;;
  *) die "usage: $0 up|down|url|direct-url" ;;
esac
