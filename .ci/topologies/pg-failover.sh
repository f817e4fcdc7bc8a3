#!/usr/bin/env bash
# A private PostgreSQL primary and its streaming standby, replicating synchronously, for failover.
#   pg-failover.sh up | down | url | standby-url | kill-primary | promote
# `url` is the libpq multi-host URL an app uses: the first host that accepts writes wins.
# `kill-primary` stops the primary as a crash would (-m immediate); `promote` makes the
# standby the primary. `up` starts afresh, so running it twice is safe.
. "$(dirname "$0")/lib.sh"

DIR=$TOPOLOGY_DIR/pg-failover
PRIMARY_PORT=5441
STANDBY_PORT=5442

down() {
  pg_stop "$DIR/standby"
  pg_stop "$DIR/primary"
  rm -rf "$DIR"
}

up() {
  down
  pg_init "$DIR/primary" "$PRIMARY_PORT"
  cat >>"$DIR/primary/data/postgresql.conf" <<CONF
wal_level = replica
max_wal_senders = 5
wal_keep_size = 256MB
hot_standby = on
CONF
  pg_start "$DIR/primary"
  pg_create_app "$PRIMARY_PORT"
  install -d -o postgres -g postgres -m 700 "$DIR/standby" "$DIR/standby/sock"
  as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$DIR/standby/data" -X stream -c fast
  # The copied configuration is the primary's: move the standby to its own port and socket.
  cat >>"$DIR/standby/data/postgresql.conf" <<CONF
port = $STANDBY_PORT
unix_socket_directories = '$DIR/standby/sock'
primary_conninfo = 'host=127.0.0.1 port=$PRIMARY_PORT user=postgres application_name=standby'
CONF
  as_postgres touch "$DIR/standby/data/standby.signal"
  pg_start "$DIR/standby"
  # Synchronous from now on (set after the copy, which the standby must not inherit): a COMMIT
  # returns once the standby has its WAL, so a failover loses nothing that was acknowledged;
  # asynchronous replication can.
  pg_sql "$PRIMARY_PORT" "alter system set synchronous_standby_names = 'standby'" "select pg_reload_conf()" >/dev/null
  wait_until 30 "the standby to stream synchronously" \
    sh -c "runuser -u postgres -- $PG_BIN/psql -X -At -h 127.0.0.1 -p $PRIMARY_PORT -U postgres \
      -c \"select sync_state from pg_stat_replication where application_name = 'standby'\" | grep -qx sync"
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'): primary on 127.0.0.1:$PRIMARY_PORT," \
    "synchronous streaming standby on 127.0.0.1:$STANDBY_PORT, in $DIR"
}

case ${1:-} in
  up) up ;;
  down) down; echo "pg-failover: stopped, $DIR removed" ;;
  url) echo "postgresql+psycopg://app@/app?host=127.0.0.1:$PRIMARY_PORT&host=127.0.0.1:$STANDBY_PORT&target_session_attrs=read-write" ;;
  standby-url) echo "postgresql+psycopg://app@127.0.0.1:$STANDBY_PORT/app" ;;
  kill-primary) pg_stop "$DIR/primary" immediate; echo "pg-failover: primary on $PRIMARY_PORT stopped (-m immediate)" ;;
  promote)
    as_postgres "$PG_BIN/pg_ctl" -D "$DIR/standby/data" -w -t 60 promote >/dev/null
    echo "pg-failover: standby on $STANDBY_PORT promoted" ;;
  *) die "usage: $0 up|down|url|standby-url|kill-primary|promote" ;;
esac
