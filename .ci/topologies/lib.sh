# Shared by the topology scripts: where their servers live, and how to start and stop them.
# Every server is private: its own data directory under $TOPOLOGY_DIR, its own port on
# 127.0.0.1, its own socket. The machine's PostgreSQL (5432) and MariaDB (3306) are never
# touched: nothing here reads /etc/postgresql or /etc/mysql, or uses their services.
set -euo pipefail

TOPOLOGY_DIR=${DBSESSION_TOPOLOGY_DIR:-/var/tmp/dbsession-topologies}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
GALERA_PROVIDER=${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}

die() { echo "$*" >&2; exit 1; }

wait_until() {  # wait_until SECONDS WHAT COMMAND...: poll every 0.2 s until COMMAND succeeds
  local seconds=$1 what=$2; shift 2
  local tries=$((seconds * 5))
  for _ in $(seq "$tries"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "$what did not happen within $seconds s"
}

as_postgres() { runuser -u postgres -- "$@"; }

# -- PostgreSQL ---------------------------------------------------------------------------

pg_init() {  # pg_init DIR PORT: a new cluster in DIR/data, trusting loopback, listening on PORT
  local dir=$1 port=$2
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL server programs are missing: apt-get install postgresql"
  install -d -o postgres -g postgres -m 700 "$dir" "$dir/sock"
  as_postgres "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync >"$dir/initdb.log"
  cat >>"$dir/data/postgresql.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/sock'
max_connections = 200
fsync = off
full_page_writes = off
EOF
}

pg_start() {  # pg_start DIR [pg_ctl -o OPTIONS]
  local dir=$1 options=${2:-}
  as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgresql.log" -w -t 60 ${options:+-o "$options"} start >/dev/null
}

pg_stop() {  # pg_stop DIR [MODE]: stop the cluster in DIR if it runs
  local dir=$1 mode=${2:-fast}
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m "$mode" -w -t 60 stop >/dev/null 2>&1 || true
  fi
}

pg_sql() {  # pg_sql PORT SQL...: run statements as postgres on the cluster at PORT
  local port=$1; shift
  local args=()
  for statement in "$@"; do args+=(-c "$statement"); done
  as_postgres "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 "${args[@]}"
}

pg_create_app() {  # pg_create_app PORT: the app's user and database
  pg_sql "$1" "create user app" "create database app owner app"
}

# -- MariaDB ----------------------------------------------------------------------------------

maria_write_cnf() {  # maria_write_cnf DIR PORT [EXTRA LINES]: DIR/my.cnf of a private mariadbd
  local dir=$1 port=$2 extra=${3:-}
  install -d -o mysql -g mysql "$dir" "$dir/data" "$dir/tmp"
  cat >"$dir/my.cnf" <<EOF
[mariadbd]
user = mysql
bind-address = 127.0.0.1
port = $port
socket = $dir/mysqld.sock
pid-file = $dir/mysqld.pid
datadir = $dir/data
tmpdir = $dir/tmp
log-error = $dir/error.log
skip-name-resolve
innodb_buffer_pool_size = 256M
innodb_log_file_size = 64M
innodb_flush_log_at_trx_commit = 2
max_connections = 300
$extra

[client]
socket = $dir/mysqld.sock
EOF
  chown mysql:mysql "$dir/my.cnf"
}

maria_install() {  # maria_install DIR: the system tables of a new instance
  mariadb-install-db --defaults-file="$1/my.cnf" --user=mysql --auth-root-authentication-method=normal \
    --skip-test-db >"$1/install.log" 2>&1 || die "mariadb-install-db failed: $(tail -n 5 "$1/install.log")"
}

maria_start() {  # maria_start DIR [MARIADBD OPTIONS]: start mariadbd in the background
  local dir=$1; shift
  setsid mariadbd --defaults-file="$dir/my.cnf" "$@" </dev/null >>"$dir/stdout.log" 2>&1 &
}

maria_ping() { mariadb-admin --defaults-file="$1/my.cnf" -uroot ping; }

maria_sql() {  # maria_sql DIR SQL
  mariadb --defaults-file="$1/my.cnf" -uroot -N -B -e "$2"
}

maria_pid() { cat "$1/mysqld.pid" 2>/dev/null || true; }

maria_stop() {  # maria_stop DIR: stop the instance in DIR if it runs, by its own pid
  local dir=$1 pid
  pid=$(maria_pid "$dir")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

maria_create_app() {  # maria_create_app DIR: the app's user and database
  maria_sql "$1" "create database if not exists app; create user if not exists 'app'@'127.0.0.1' identified by 'app'; grant all on app.* to 'app'@'127.0.0.1'"
}
