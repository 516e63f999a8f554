#!/usr/bin/env bash
# Checks deploy/cluster.sh end to end on loopback: it starts (with --tokens), every daemon sees all three,
# records produced through two daemons read back the same through all three (so through forwarding to the
# store's owner, which accepts the forwarding daemon only by the cluster secret), a client without a token
# is refused, `cluster.sh stop` ends the script, and no process it started is left.
# Usage: deploy/cluster-check.sh [COORDD_BINARY]   (coordctl beside it; default .build/release/coordd)
# Without PostgreSQL installed it skips with a notice, except with COORDD_CI=1, where it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
coordd=${1:-.build/release/coordd}
coordctl="$(dirname "$coordd")/coordctl"
# Bounds (seconds): the start (PostgreSQL, three daemons, their views), a view of all three, one coordctl
# call, the stop.
start_limit=90
view_limit=20
call_limit=20
stop_limit=120

fail() {
    echo "deploy/cluster: $*" >&2
    exit 1
}
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    [ "${COORDD_CI:-}" = 1 ] && fail "PostgreSQL is not installed (apt-get install postgresql)"
    echo "deploy/cluster: skipped: PostgreSQL is not installed here (apt-get install postgresql); CI runs it"
    exit 0
fi

began=$SECONDS
scratch=$(mktemp -d)
state="$scratch/cluster"
script=""
finish() {
    if [ -n "$script" ] && kill -0 "$script" 2>/dev/null; then
        deploy/cluster.sh stop --dir "$state" >/dev/null 2>&1 || true
    fi
    rm -rf "$scratch"
}
trap finish EXIT

deploy/cluster.sh start --coordd "$coordd" --dir "$state" --base-port 0 --wait 60 --tokens >"$scratch/output" 2>&1 &
script=$!
for ((i = 0; i < start_limit * 10; i++)); do
    [ -f "$state/urls" ] && break
    kill -0 "$script" 2>/dev/null || { cat "$scratch/output" >&2; fail "cluster.sh exited before the cluster was ready"; }
    sleep 0.1
done
[ -f "$state/urls" ] || { cat "$scratch/output" >&2; fail "the cluster was not ready within $start_limit s"; }
mapfile -t urls <"$state/urls"
[ ${#urls[@]} = 3 ] || fail "cluster.sh listed ${#urls[@]} URLs, not 3"
pids="$(cat "$state/postgres.pid" "$state"/node-{1,2,3}.pid)"
database="$(cat "$state/postgres.dir")"
started_in=$((SECONDS - began))

ctl() { timeout "$call_limit" "$coordctl" "$@"; }
token="$(ctl token mint --hs256-secret-file "$state/jwt.secret" --all-stores --ttl 10m)"

for secret in cluster.secret jwt.secret postgres.password; do
    [ "$(stat -c %a "$state/$secret")" = 600 ] || fail "$secret is not mode 0600"
done

# Every daemon's own view lists the three live daemons, itself once.
for url in "${urls[@]}"; do
    deadline=$((SECONDS + view_limit))
    while :; do
        view="$(ctl --server "$url" cluster --json 2>&1 || true)"
        [ "$(grep -c '"node":"node-[123]"' <<<"$view")" = 3 ] || [ "$SECONDS" -ge "$deadline" ] && break
        sleep 0.5
    done
    [ "$(grep -c '"node":"node-[123]"' <<<"$view")" = 3 ] || fail "$url does not see three live daemons: $view"
    [ "$(grep -c '"self":"yes"' <<<"$view")" = 1 ] || fail "$url does not see itself once: $view"
done

# Produced through two daemons (one of them, at most, owns the store), read through all three.
segment="s$RANDOM$RANDOM"
printf 'one\ntwo\nthree\n' | ctl --server "${urls[0]}" --token "$token" produce deploycheck "$segment" >/dev/null ||
    fail "produce through ${urls[0]} failed"
printf 'four\nfive\n' | ctl --server "${urls[1]}" --token "$token" produce deploycheck "$segment" >/dev/null ||
    fail "produce through ${urls[1]} failed"
for url in "${urls[@]}"; do
    records="$(ctl --server "$url" --token "$token" consume deploycheck "$segment" | awk '{print $2, $NF}' | tr '\n' ' ')" ||
        fail "consume through $url failed"
    [ "$records" = "#1 one #2 two #3 three #4 four #5 five " ] || fail "read through $url: $records"
done
# The store has one owner in the views (they refresh every third of the ownership TTL).
deadline=$((SECONDS + view_limit))
while :; do
    owners="$(ctl --server "${urls[2]}" cluster --json | grep -c '"stores":"1"' || true)"
    [ "$owners" = 1 ] || [ "$SECONDS" -ge "$deadline" ] && break
    sleep 0.5
done
[ "$owners" = 1 ] || fail "one daemon should own the store, $owners do"
if refusal="$(COORDD_TOKEN= ctl --server "${urls[2]}" consume deploycheck "$segment" 2>&1)"; then
    fail "a client without a token was served: $refusal"
fi

# Stopped from outside, as a user in another terminal would; nothing it started is left.
stopped_at=$SECONDS
timeout "$stop_limit" deploy/cluster.sh stop --dir "$state" >/dev/null 2>&1 || fail "cluster.sh stop failed"
wait "$script" || true
for pid in $script $pids; do
    kill -0 "$pid" 2>/dev/null && fail "pid $pid still runs after cluster.sh stop"
done
for cmdline in /proc/[0-9]*/cmdline; do
    if tr '\0' ' ' 2>/dev/null <"$cmdline" | grep -qF -- "$state"; then
        fail "a process still names $state: $(tr '\0' ' ' <"$cmdline")"
    fi
done
[ -e "$database" ] && fail "PostgreSQL's data directory $database is left"
echo "deploy/cluster: three daemons ready in ${started_in} s, each sees all three, records read back through every daemon, stopped in $((SECONDS - stopped_at)) s with no process left ($((SECONDS - began)) s in all)"
