#!/usr/bin/env bash
# A private MariaDB whose InnoDB refuses to write over a row changed since the snapshot
# (innodb_snapshot_isolation = ON: error 1020 where it would otherwise write silently).
#   snapshot.sh up | down | url
# `up` starts afresh, so running it twice is safe.
. "$(dirname "$0")/lib.sh"

DIR=$TOPOLOGY_DIR/snapshot
PORT=3320

down() {
  maria_stop "$DIR"
  rm -rf "$DIR"
}

up() {
  command -v mariadbd >/dev/null || die "the MariaDB server is missing: apt-get install mariadb-server"
  down
  maria_write_cnf "$DIR" "$PORT" "innodb_snapshot_isolation = ON"
  maria_install "$DIR"
  maria_start "$DIR"
  wait_until 60 "MariaDB on port $PORT" maria_ping "$DIR"
  maria_create_app "$DIR"
  [ "$(maria_sql "$DIR" "select @@global.innodb_snapshot_isolation")" = 1 ] || die "innodb_snapshot_isolation is not ON"
  echo "MariaDB $(mariadbd --version | awk '{print $3}' | cut -d- -f1) with innodb_snapshot_isolation = ON" \
    "on 127.0.0.1:$PORT, in $DIR"
}

case ${1:-} in
  up) up ;;
  down) down; echo "snapshot: stopped, $DIR removed" ;;
  url) echo "mysql+pymysql://app:app@127.0.0.1:$PORT/app" ;;
  *) die "usage: $0 up|down|url" ;;
esac
