#!/usr/bin/env bash
# A three-daemon coordd cluster on this machine, in one command: a throwaway PostgreSQL (initdb in a new
# temporary directory, 127.0.0.1 only, a free port, a random password), a random cluster secret (0600),
# and three daemons (`--storage postgres`, node ids node-1…node-3, 127.0.0.1 and ws:// advertise URLs),
# each with its own log. Runs in the foreground until Ctrl-C, SIGTERM or `deploy/cluster.sh stop`, then
# stops every process it started by its PID (the daemons first, so they release their stores, then
# PostgreSQL) and deletes the database. Logs stay in the state directory.
#
#   deploy/cluster.sh [start] [--coordd PATH] [--dir DIR] [--base-port N] [--wait S] [--tokens] [-- COORDD_OPTION …]
#   deploy/cluster.sh stop [--dir DIR]
#   deploy/cluster.sh status [--dir DIR]
#
#   --coordd PATH   the daemon (default .build/release/coordd: `swift build -c release`); coordctl is
#                   taken from beside it, or --coordctl PATH
#   --dir DIR       state: PIDs, logs, the secrets, the URLs (default ${TMPDIR:-/tmp}/coordd-cluster-$UID)
#   --base-port N   the daemons listen on N, N+1, N+2 (default 7071); 0 picks three free ports
#   --wait S        how long each daemon may take to become ready, and the cluster to see all three (30)
#   --tokens        clients need a token (a random HS256 key, DIR/jwt.secret; the script prints how to
#                   mint one), so the daemons' links to each other work only through the cluster secret
#   -- …            further options for every daemon, e.g. -- --ownership-ttl 3s
#
# Run as root, PostgreSQL runs as the unprivileged user `postgres` (Debian's postgresql package makes
# it; --postgres-user NAME for another), since it refuses to run as root; the daemons run as the caller.
# Once every daemon is ready and sees the other two, DIR/urls lists their URLs, one a line.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
command_name=start
case "${1:-}" in start | stop | status) command_name=$1 && shift ;; esac

coordd="$repo/.build/release/coordd"
coordctl=""
dir="${TMPDIR:-/tmp}/coordd-cluster-$(id -u)"
base_port=7071
wait_seconds=30
tokens=0
postgres_user=postgres
extra=()
usage() {
    sed -n '9,11p' "$0" | sed 's/^# *//' >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
    --coordd) coordd=${2:?--coordd needs a path} && shift 2 ;;
    --coordctl) coordctl=${2:?--coordctl needs a path} && shift 2 ;;
    --dir) dir=${2:?--dir needs a directory} && shift 2 ;;
    --base-port) base_port=${2:?--base-port needs a port} && shift 2 ;;
    --wait) wait_seconds=${2:?--wait needs seconds} && shift 2 ;;
    --postgres-user) postgres_user=${2:?--postgres-user needs a user name} && shift 2 ;;
    --tokens) tokens=1 && shift ;;
    --) shift && extra=("$@") && break ;;
    -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' && exit 0 ;;
    *) echo "cluster: unknown argument $1" >&2 && usage ;;
    esac
done
[[ "$base_port" =~ ^[0-9]+$ && "$base_port" -le 65533 ]] || { echo "cluster: --base-port must be 0 or a port up to 65533" >&2; exit 2; }
[[ "$wait_seconds" =~ ^[1-9][0-9]*$ ]] || { echo "cluster: --wait must be a whole number of seconds" >&2; exit 2; }

nodes=(node-1 node-2 node-3)
say() { printf 'cluster: %s\n' "$*" >&2; }
fail() {
    say "$*"
    exit 1
}

# The PID in DIR/$1.pid when that process still runs and is the program $2 (its /proc comm), so a PID
# the system gave to another process since is never signalled.
live_pid() {
    local file="$dir/$1.pid" pid
    [ -f "$file" ] || return 0
    pid="$(cat "$file")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    case "$(cat "/proc/$pid/comm" 2>/dev/null)" in "$2"*) printf '%s' "$pid" ;; esac
}

# The PID of the script running the cluster from DIR, while it runs.
live_script_pid() {
    local file="$dir/script.pid" pid
    [ -f "$file" ] || return 0
    pid="$(cat "$file")"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 0
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q 'cluster\.sh' && printf '%s' "$pid"
    return 0
}

# Waits up to $2 seconds for PID $1, already signalled, to end; then SIGKILL. Never signals twice: a
# second SIGTERM makes coordd exit at once, without its drain.
await_exit() {
    local pid="$1" seconds="$2" i
    for ((i = 0; i < seconds * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    say "pid $pid did not end within $seconds s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
}

# Stops what DIR records, the daemons first (SIGTERM: each drains and releases its stores while
# PostgreSQL still runs), then PostgreSQL (SIGINT, its fast shutdown), and deletes the database and the
# secrets. Used by the running script on its way out and by `stop` when that script is gone.
stop_recorded() {
    set +e
    local node pid pids=()
    for node in "${nodes[@]}"; do
        pid="$(live_pid "$node" coordd)"
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && pids+=("$pid") && say "stopping $node (pid $pid)"
    done
    # The daemon's drain grace (10 s by default) and its own guard, with room to spare.
    for pid in "${pids[@]}"; do await_exit "$pid" 20; done
    pid="$(live_pid postgres postgres)"
    if [ -n "$pid" ]; then
        say "stopping PostgreSQL (pid $pid)"
        kill -INT "$pid" 2>/dev/null && await_exit "$pid" 30
    fi
    if [ -f "$dir/postgres.dir" ]; then
        local data
        data="$(cat "$dir/postgres.dir")"
        case "$data" in /tmp/coordd-cluster-postgres.*)
            # The server's own log outlives its data.
            cat "$data/server.log" >>"$dir/postgres.log" 2>/dev/null
            rm -rf -- "$data"
            ;;
        esac
    fi
    rm -f "$dir"/node-*.pid "$dir/postgres.pid" "$dir/postgres.dir" "$dir/cluster.secret" \
        "$dir/postgres.password" "$dir/jwt.secret" "$dir/urls" "$dir/script.pid"
    set -e
}

status() {
    local node pid
    [ -f "$dir/urls" ] && printf 'urls      %s\n' "$(tr '\n' ' ' <"$dir/urls")"
    for node in postgres "${nodes[@]}"; do
        local program=coordd
        [ "$node" = postgres ] && program=postgres
        pid="$(live_pid "$node" "$program")"
        if [ -n "$pid" ]; then printf '%-9s running  pid %s\n' "$node" "$pid"; else printf '%-9s stopped\n' "$node"; fi
    done
}

case "$command_name" in
stop)
    pid="$(live_script_pid)"
    if [ -n "$pid" ]; then
        # The running script stops its processes itself, in order, and exits.
        kill -TERM "$pid"
        for ((i = 0; i < 600; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && fail "the cluster script (pid $pid) did not exit within 60 s"
    fi
    stop_recorded
    say "stopped; logs are in $dir"
    exit 0
    ;;
status)
    status
    exit 0
    ;;
esac

# --- start ---------------------------------------------------------------------------------------

# Every program it needs, or a refusal naming the Debian package.
[ -x "$coordd" ] || fail "no coordd at $coordd: build it (swift build -c release) or give --coordd PATH"
[ -n "$coordctl" ] || coordctl="$(dirname "$coordd")/coordctl"
[ -x "$coordctl" ] || fail "no coordctl at $coordctl: build it (swift build -c release) or give --coordctl PATH"
# Debian keeps initdb and pg_ctl in /usr/lib/postgresql/<version>/bin, not on PATH: the newest of those,
# after the directory of an initdb on PATH.
postgres_bin=""
for candidate in "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")" \
    $(compgen -G '/usr/lib/postgresql/*/bin' | sort -rV); do
    if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ] && [ -x "$candidate/postgres" ]; then
        postgres_bin=$candidate
        break
    fi
done
[ -n "$postgres_bin" ] || fail "PostgreSQL's initdb, pg_ctl and postgres are missing: apt-get install postgresql"
for program in setsid timeout od; do
    command -v "$program" >/dev/null 2>&1 || fail "$program is missing: apt-get install coreutils util-linux"
done
as_postgres=()
if [ "$(id -u)" = 0 ]; then
    command -v runuser >/dev/null 2>&1 || fail "runuser is missing: apt-get install util-linux"
    id -u "$postgres_user" >/dev/null 2>&1 ||
        fail "PostgreSQL refuses to run as root and there is no user $postgres_user: apt-get install postgresql (it makes one), or --postgres-user NAME"
    as_postgres=(runuser -u "$postgres_user" --)
fi

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
if pid="$(live_script_pid)" && [ -n "$pid" ]; then
    fail "a cluster already runs from $dir (pid $pid): deploy/cluster.sh stop --dir $dir"
fi
# What a cluster stopped by SIGKILL left behind is stopped now; earlier logs are replaced.
stop_recorded 2>/dev/null
rm -f "$dir"/node-*.log "$dir/postgres.log"
printf '%s\n' "$$" >"$dir/script.pid"

stopping=0
on_exit() {
    local status=$?
    [ "$stopping" = 1 ] && return
    stopping=1
    trap '' INT TERM
    stop_recorded
    say "stopped; logs are in $dir"
    exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
taken_ports=" "
# Below the kernel's range for outgoing connections' local ports, which a listener cannot see in use.
ephemeral_low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
[ "$ephemeral_low" -gt 21000 ] 2>/dev/null || ephemeral_low=32768
# Sets $port to one from 20000 to below that range that nothing listens on and this script has not
# picked yet.
pick_free_port() {
    local i
    for ((i = 0; i < 100; i++)); do
        port=$((20000 + RANDOM % (ephemeral_low - 20000)))
        if [[ "$taken_ports" != *" $port "* ]] && port_free "$port"; then
            taken_ports+="$port "
            return 0
        fi
    done
    fail "found no free port on 127.0.0.1"
}

# The last lines of a log, indented, for a failure message.
tail_of() { tail -n "${2:-20}" "$1" 2>/dev/null | sed 's/^/    /' >&2 || true; }

# --- PostgreSQL ---
umask 077
password="$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$password" >"$dir/postgres.password"
# Its own directory under /tmp, which the user postgres can reach wherever DIR is.
pgroot="$(mktemp -d /tmp/coordd-cluster-postgres.XXXXXX)"
printf '%s\n' "$pgroot" >"$dir/postgres.dir"
printf '%s\n' "$password" >"$pgroot/pwfile"
[ ${#as_postgres[@]} -gt 0 ] && chown -R "$postgres_user" "$pgroot"
if ! "${as_postgres[@]}" "$postgres_bin/initdb" -D "$pgroot/data" -U coordd --pwfile="$pgroot/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync >"$dir/postgres.log" 2>&1; then
    tail_of "$dir/postgres.log"
    fail "initdb failed; see $dir/postgres.log"
fi
rm -f "$pgroot/pwfile"
postgres_port=""
for attempt in 1 2 3; do
    pick_free_port
    # setsid: Ctrl-C in the terminal reaches this script only, which stops PostgreSQL after the daemons.
    if setsid "${as_postgres[@]}" "$postgres_bin/pg_ctl" -D "$pgroot/data" -l "$pgroot/server.log" -w -t 60 start \
        -o "-h 127.0.0.1 -p $port -k $pgroot -c max_connections=100 -c shared_buffers=32MB" \
        </dev/null >>"$dir/postgres.log" 2>&1; then
        postgres_port=$port
        break
    fi
    say "PostgreSQL did not start on port $port (attempt $attempt)"
done
[ -n "$postgres_port" ] || { tail_of "$pgroot/server.log"; fail "PostgreSQL did not start; see $dir/postgres.log"; }
head -1 "$pgroot/data/postmaster.pid" >"$dir/postgres.pid"
postgres_url="postgresql://coordd@127.0.0.1:$postgres_port/postgres"
say "PostgreSQL $("$postgres_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$postgres_port (pid $(cat "$dir/postgres.pid"))"

# --- the cluster secret (and the client token key): random bytes, readable by the daemons' user only ---
head -c 48 /dev/urandom >"$dir/cluster.secret"
chmod 0600 "$dir/cluster.secret" "$dir/postgres.password"
token_options=()
if [ "$tokens" = 1 ]; then
    head -c 48 /dev/urandom >"$dir/jwt.secret"
    chmod 0600 "$dir/jwt.secret"
    token_options=(--jwt-hs256-secret-file "$dir/jwt.secret")
fi
umask 022

# --- the daemons ---
ports=()
for i in 0 1 2; do
    if [ "$base_port" = 0 ]; then
        pick_free_port
        ports+=("$port")
    else
        port=$((base_port + i))
        port_free "$port" || fail "port $port on 127.0.0.1 is taken: give --base-port N (0 for any free ports)"
        ports+=("$port")
    fi
done
urls=()
# Starts daemon $1 (0, 1, 2) on ports[$1].
start_daemon() {
    local node=${nodes[$1]} url="ws://127.0.0.1:${ports[$1]}"
    urls[$1]=$url
    COORDD_POSTGRES_URL="$postgres_url" COORDD_POSTGRES_PASSWORD_FILE="$dir/postgres.password" \
        setsid "$coordd" --storage postgres --cluster-node-id "$node" --listen "127.0.0.1:${ports[$1]}" \
        --advertise-url "$url" --cluster-secret-file "$dir/cluster.secret" "${token_options[@]}" "${extra[@]}" \
        </dev/null >"$dir/$node.log" 2>&1 &
    printf '%s\n' "$!" >"$dir/$node.pid"
    # Its end is reported below, not as a job of this shell.
    disown "$!"
}
for i in 0 1 2; do start_daemon "$i"; done

# Each daemon answers /readyz with 200 (its schema is ready) within --wait, or the start fails with
# the end of its log. A free port found taken at bind time (another program's, between the check and
# the bind) is replaced, at most twice per daemon.
deadline=$((SECONDS + wait_seconds))
for i in 0 1 2; do
    node=${nodes[$i]}
    rebinds=0
    until answer="$(timeout 5 "$coordctl" health --ready --server "${urls[$i]}" 2>&1)"; do
        # Only kill -0: just after the fork the child is not yet named coordd.
        if ! kill -0 "$(cat "$dir/$node.pid")" 2>/dev/null; then
            if [ "$base_port" = 0 ] && [ "$rebinds" -lt 2 ] && grep -q 'Address already in use' "$dir/$node.log"; then
                rebinds=$((rebinds + 1))
                pick_free_port
                say "$node: port ${ports[$i]} was taken; trying $port"
                ports[$i]=$port
                start_daemon "$i"
                continue
            fi
            tail_of "$dir/$node.log"
            fail "$node exited while starting; see $dir/$node.log"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "$node's /readyz: ${answer%%$'\n'*}"
            tail_of "$dir/$node.log"
            fail "$node was not ready within $wait_seconds s; see $dir/$node.log"
        fi
        sleep 0.2
    done
done
# The first daemon's view lists all three (views refresh every third of the ownership TTL).
until [ "$(timeout 5 "$coordctl" cluster --json --server "${urls[0]}" 2>/dev/null | grep -c '"node"')" = 3 ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        timeout 5 "$coordctl" cluster --server "${urls[0]}" >&2 || true
        fail "node-1 did not see all three daemons within $wait_seconds s"
    fi
    sleep 0.5
done
printf '%s\n' "${urls[@]}" >"$dir/urls.new" && mv "$dir/urls.new" "$dir/urls"

cat <<EOF

coordd cluster: three daemons on one PostgreSQL (127.0.0.1:$postgres_port); state and logs in $dir
  node-1  ${urls[0]}   pid $(cat "$dir/node-1.pid")   log $dir/node-1.log
  node-2  ${urls[1]}   pid $(cat "$dir/node-2.pid")   log $dir/node-2.log
  node-3  ${urls[2]}   pid $(cat "$dir/node-3.pid")   log $dir/node-3.log

Any daemon serves any store (a daemon that does not own it forwards to the one that does):
  coordctl --server ${urls[0]} cluster                       # live daemons, the stores each owns
  echo hello | coordctl --server ${urls[0]} produce demo s1  # produce through one daemon …
  coordctl --server ${urls[2]} consume demo s1               # … read back through another
  kill -9 \$(cat $dir/node-1.pid)                        # a crash: its stores move after the TTL (10 s)
EOF
if [ "$tokens" = 1 ]; then
    cat <<EOF

Clients need a token (the daemons present theirs to each other, made from the cluster secret):
  export COORDD_TOKEN=\$(coordctl token mint --hs256-secret-file $dir/jwt.secret --all-stores --ttl 8h)
EOF
fi
printf '\nCtrl-C here, or deploy/cluster.sh stop --dir %s, stops all of it.\n' "$dir"

# Until told to stop: say once when a process ends on its own (a daemon killed on purpose to watch a
# fail-over is expected; the others keep running).
reported=" "
while sleep 1; do
    for node in postgres "${nodes[@]}"; do
        program=coordd
        [ "$node" = postgres ] && program=postgres
        if [[ "$reported" != *" $node "* ]] && [ -z "$(live_pid "$node" "$program")" ]; then
            reported+="$node "
            say "$node ended; see $([ "$node" = postgres ] && echo "$pgroot/server.log" || echo "$dir/$node.log")"
        fi
    done
done
