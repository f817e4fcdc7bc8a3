#!/usr/bin/env bash
# A private 3-node MariaDB Galera cluster on loopback (rsync SST), for load spread over two nodes.
#   galera.sh up | down | url N | kill N | start N | status
# `kill N` kills node N's mariadbd (-9, by its pid); `start N` restarts it from its recovered
# position, so that it rejoins by IST when the donor's gcache still holds what it missed, and
# waits until it is Synced. `up` starts afresh, so running it twice is safe.
. "$(dirname "$0")/lib.sh"

DIR=$TOPOLOGY_DIR/galera
NODES=(1 2 3)
port() { echo $((3310 + $1)); }
node_dir() { echo "$DIR/n$1"; }

galera_cnf() {  # galera_cnf N
  local n=$1
  maria_write_cnf "$(node_dir "$n")" "$(port "$n")" "binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
wsrep_on = ON
wsrep_provider = $GALERA_PROVIDER
wsrep_cluster_name = dbsession_ci
wsrep_cluster_address = gcomm://127.0.0.1:4571,127.0.0.1:4572,127.0.0.1:4573
wsrep_node_name = n$n
wsrep_node_address = 127.0.0.1:457$n
wsrep_provider_options = \"gmcast.listen_addr=tcp://127.0.0.1:457$n;ist.recv_addr=127.0.0.1:458$n;gcache.size=256M\"
wsrep_sst_method = rsync
wsrep_sst_receive_address = 127.0.0.1:459$n"
}

wsrep() {  # wsrep N VARIABLE: a wsrep status value of node N
  maria_sql "$(node_dir "$1")" "show status like '$2'" 2>/dev/null | awk '{print $2}'
}

is_synced() { [ "$(wsrep "$1" wsrep_local_state_comment)" = Synced ] && [ "$(wsrep "$1" wsrep_ready)" = ON ]; }

cluster_size_is() { [ "$(wsrep 1 wsrep_cluster_size)" = "$1" ] || [ "$(wsrep 2 wsrep_cluster_size)" = "$1" ]; }

down() {
  for n in 3 2 1; do maria_stop "$(node_dir "$n")"; done
  rm -rf "$DIR"
}

start_node() {  # start_node N: rejoin from the position InnoDB recovered
  local n=$1 dir position
  dir=$(node_dir "$n")
  mariadbd --defaults-file="$dir/my.cnf" --wsrep-recover --log-error="$dir/recover.log" >/dev/null 2>&1 || true
  position=$(sed -n 's/.*WSREP: Recovered position: *//p' "$dir/recover.log" | tail -n 1)
  maria_start "$dir" ${position:+--wsrep-start-position="$position"}
  wait_until 120 "node $n to be Synced" is_synced "$n"
}

up() {
  [ -e "$GALERA_PROVIDER" ] || die "the Galera provider is missing: apt-get install galera-4 rsync"
  command -v rsync >/dev/null || die "rsync (the SST method) is missing: apt-get install rsync"
  down
  for n in "${NODES[@]}"; do galera_cnf "$n"; done
  maria_install "$(node_dir 1)"
  maria_start "$(node_dir 1)" --wsrep-new-cluster
  wait_until 60 "node 1 to bootstrap the cluster" is_synced 1
  maria_create_app "$(node_dir 1)"
  # One joiner at a time: each is a full rsync SST from a donor.
  for n in 2 3; do
    maria_start "$(node_dir "$n")"
    wait_until 120 "node $n to join by SST" is_synced "$n"
  done
  wait_until 30 "a cluster of 3" cluster_size_is 3
  echo "MariaDB $(mariadbd --version | awk '{print $3}' | cut -d- -f1), Galera provider $(wsrep 1 wsrep_provider_version):" \
    "3 Synced nodes on 127.0.0.1:3311-3313, in $DIR"
}

node_arg() {
  case ${1:-} in 1|2|3) echo "$1" ;; *) die "usage: $0 ${2:-url} 1|2|3" ;; esac
}

case ${1:-} in
  up) up ;;
  down) down; echo "galera: stopped, $DIR removed" ;;
  url) n=$(node_arg "${2:-}" url); echo "mysql+pymysql://app:app@127.0.0.1:$(port "$n")/app" ;;
  kill)
    n=$(node_arg "${2:-}" kill)
    kill -9 "$(maria_pid "$(node_dir "$n")")"
    echo "galera: node $n killed (-9)" ;;
  start)
    n=$(node_arg "${2:-}" start)
    log=$(node_dir "$n")/error.log
    started=$(date +%s.%N) seen=$(wc -l <"$log")
    start_node "$n"
    how=$(tail -n +"$((seen + 1))" "$log" | grep -q 'Receiving IST: [1-9]' && echo "by IST" || echo "with nothing to receive")
    tail -n +"$((seen + 1))" "$log" | grep -q 'rsync SST completed on joiner' && how="by a full rsync SST"
    echo "galera: node $n Synced again $how, $(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s after its start" ;;
  status) for n in "${NODES[@]}"; do echo "n$n: $(wsrep "$n" wsrep_local_state_comment) size=$(wsrep "$n" wsrep_cluster_size)"; done ;;
  *) die "usage: $0 up|down|url N|kill N|start N|status" ;;
esac
