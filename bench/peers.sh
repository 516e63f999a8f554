#!/usr/bin/env bash
# Starts and stops the systems coordbench compares coordd with: etcd 3.4 and Redis, from Debian, and the
# PostgreSQL that `coordbench --coordd-postgres` runs coordd on; on 127.0.0.1 only, each with its own
# temporary data directory and fsync on every write (PostgreSQL: fsync and synchronous_commit on, its
# defaults).
#
#   bench/peers.sh start    install when missing, start all three (idempotent: a running one is kept)
#   bench/peers.sh stop     stop them by the PIDs recorded at start, remove their data directories
#   bench/peers.sh status   print what runs, with PID and port
#
# State (PIDs, ports, data directories, logs; PostgreSQL's URL) lives in bench/.peers/. Ports:
# COORDBENCH_ETCD_PORT (default 23790; peer port = that + 10), COORDBENCH_REDIS_PORT (default 26379),
# COORDBENCH_POSTGRES_PORT (default 25432). PostgreSQL runs as the system user `postgres`, which
# Debian's package creates (it refuses to run as root).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
state="$here/.peers"
etcd_port="${COORDBENCH_ETCD_PORT:-23790}"
etcd_peer_port=$((etcd_port + 10))
redis_port="${COORDBENCH_REDIS_PORT:-26379}"
postgres_port="${COORDBENCH_POSTGRES_PORT:-25432}"
# initdb, pg_ctl and postgres live in /usr/lib/postgresql/<version>/bin on Debian, not on PATH.
postgres_bin="$(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -1)")"
# How long a peer may take to answer after it was started (tenths of a second): etcd elects itself
# leader of its one-member cluster within its election timeout (1 s by default).
ready_tries=100

log() { printf 'peers: %s\n' "$*" >&2; }

# The PID recorded for $1 when that process still runs, else nothing.
live_pid() {
    local file="$state/$1.pid"
    [ -f "$file" ] || return 0
    local pid
    pid="$(cat "$file")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then printf '%s' "$pid"; fi
}

install_missing() {
    local missing=()
    command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
    command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    [ -x "$postgres_bin/initdb" ] || missing+=(postgresql)
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    apt-get update -qq
    # Debian's packages would start system-wide services; only the processes started below may run.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    postgres_bin="$(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -1)")"
}

# A new, private data directory for peer $1 (fails if the name is somehow taken).
new_data_dir() {
    local dir="/tmp/coordbench-$1.$(date +%s%N).$$"
    mkdir -m 700 "$dir"
    printf '%s' "$dir"
}

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_until() {
    local what="$1"
    shift
    local i
    for ((i = 0; i < ready_tries; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    log "$what did not become ready; see $state/$what.log"
    return 1
}

etcd_ready() {
    ETCDCTL_API=3 etcdctl --endpoints "http://127.0.0.1:$etcd_port" --dial-timeout 1s endpoint health
}

redis_ready() {
    [ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" = "PONG" ]
}

# Peers this invocation started, stopped again if a later step fails.
started=()

# True (and said) when $1 runs already.
already_runs() {
    local pid
    pid="$(live_pid "$1")"
    [ -n "$pid" ] && log "$1 already runs (pid $pid)"
}

# Records $1 as started by this call, checks that its ports ($2 …) are free, and makes its data
# directory, recorded in the state and left in $data.
claim() {
    local name="$1" port
    shift
    started+=("$name")
    for port in "$@"; do
        port_free "$port" || { log "port $port is taken"; return 1; }
    done
    data="$(new_data_dir "$name")"
    printf '%s\n' "$data" >"$state/$name.dir"
}

start_etcd() {
    already_runs etcd && return 0
    local data
    claim etcd "$etcd_port" "$etcd_peer_port"
    # Defaults kept on purpose: the WAL is fsynced before every acknowledgement (etcd has no switch
    # to turn that off), snapshots every 100,000 entries.
    setsid etcd --name coordbench --data-dir "$data" \
        --listen-client-urls "http://127.0.0.1:$etcd_port" \
        --advertise-client-urls "http://127.0.0.1:$etcd_port" \
        --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
        --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
        --initial-cluster "coordbench=http://127.0.0.1:$etcd_peer_port" \
        --log-level warn --logger zap \
        </dev/null >"$state/etcd.log" 2>&1 &
    printf '%s\n' "$!" >"$state/etcd.pid"
    printf '%s\n' "$etcd_port" >"$state/etcd.port"
    wait_until etcd etcd_ready
    log "etcd $(etcd --version | head -1 | awk '{print $3}') on 127.0.0.1:$etcd_port (pid $(live_pid etcd))"
}

start_redis() {
    already_runs redis && return 0
    local data
    claim redis "$redis_port"
    # appendfsync always: every write is fsynced before it is acknowledged, as coordd's are.
    # No RDB snapshots, so the only disk work is the append-only file. maxclients covers the
    # connections workload (10,000 workers).
    setsid redis-server --port "$redis_port" --bind 127.0.0.1 --protected-mode yes \
        --dir "$data" --appendonly yes --appendfsync always --save "" \
        --maxclients 12000 --daemonize no --logfile "" \
        </dev/null >"$state/redis.log" 2>&1 &
    printf '%s\n' "$!" >"$state/redis.pid"
    printf '%s\n' "$redis_port" >"$state/redis.port"
    wait_until redis redis_ready
    log "redis $(redis-server --version | awk '{print $3}' | cut -d= -f2) on 127.0.0.1:$redis_port (pid $(live_pid redis))"
}

postgres_ready() {
    "$postgres_bin/pg_isready" -q -h 127.0.0.1 -p "$postgres_port"
}

start_postgres() {
    already_runs postgres && return 0
    local data
    claim postgres "$postgres_port"
    chown postgres: "$data"
    # Trust on 127.0.0.1 only: the server listens nowhere else and lives as long as the run.
    runuser -u postgres -- "$postgres_bin/initdb" -D "$data/data" -U coordbench --auth=trust -E UTF8 \
        --locale=C >"$state/postgres.log" 2>&1
    runuser -u postgres -- "$postgres_bin/pg_ctl" -D "$data/data" -l "$data/server.log" -w -t 60 start \
        -o "-h 127.0.0.1 -p $postgres_port -k $data -c max_connections=200" >>"$state/postgres.log" 2>&1
    head -1 "$data/data/postmaster.pid" >"$state/postgres.pid"
    printf '%s\n' "$postgres_port" >"$state/postgres.port"
    printf 'postgresql://coordbench@127.0.0.1:%s/postgres\n' "$postgres_port" >"$state/postgres.url"
    wait_until postgres postgres_ready
    log "postgres $("$postgres_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$postgres_port (pid $(live_pid postgres))"
}

stop_one() {
    local name="$1"
    local pid
    pid="$(live_pid "$name")"
    if [ -n "$pid" ]; then
        # PostgreSQL's SIGTERM waits for its sessions to end; SIGINT is its fast shutdown.
        local signal=TERM
        [ "$name" = postgres ] && signal=INT
        kill -"$signal" "$pid" 2>/dev/null || true
        local i
        for ((i = 0; i < 100; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "$name (pid $pid) ignored SIG$signal for 10 s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        log "stopped $name (pid $pid)"
    fi
    if [ -f "$state/$name.dir" ]; then
        local dir
        dir="$(cat "$state/$name.dir")"
        case "$dir" in
        /tmp/coordbench-"$name".*) rm -rf -- "$dir" ;;
        esac
    fi
    rm -f "$state/$name.pid" "$state/$name.port" "$state/$name.dir" "$state/$name.url"
}

status() {
    local name pid
    for name in etcd redis postgres; do
        pid="$(live_pid "$name")"
        if [ -n "$pid" ]; then
            printf '%-8s running  pid %-8s 127.0.0.1:%s  data %s\n' "$name" "$pid" "$(cat "$state/$name.port")" "$(cat "$state/$name.dir")"
        else
            printf '%-8s stopped\n' "$name"
        fi
    done
}

mkdir -p "$state"
case "${1:-}" in
start)
    install_missing
    # A peer that fails to come up is stopped again, together with any other started by this call,
    # also when the call is interrupted.
    cleanup() {
        log "start failed; stopping what this call started"
        local name
        for name in "${started[@]}"; do stop_one "$name"; done
        exit 1
    }
    trap cleanup ERR INT TERM
    start_etcd
    start_redis
    start_postgres
    trap - ERR INT TERM
    ;;
stop)
    stop_one etcd
    stop_one redis
    stop_one postgres
    ;;
status)
    status
    ;;
*)
    printf 'usage: %s start|stop|status\n' "$0" >&2
    exit 2
    ;;
esac
