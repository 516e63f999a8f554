#!/usr/bin/env bash
# Checks deploy/ on this machine, without systemd running, a cluster or a container engine:
#   1. the systemd unit with `systemd-analyze verify` (ExecStart pointed at the built binary; any
#      warning counts as a failure),
#   2. the Kubernetes manifests (deploy/kubernetes/check.py: YAML, kinds, probes, ports, Secrets),
#   3. the container recipe's steps (deploy/container/build-steps.sh),
#   4. deploy/cluster.sh: three daemons on a throwaway PostgreSQL, started, used and stopped
#      (deploy/cluster-check.sh; needs PostgreSQL, skipped without it unless COORDD_CI=1).
# Usage: deploy/check.sh   (run from anywhere; .ci/run calls it after the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

deploy/container/build-steps.sh "$scratch/root"
coordd="$scratch/root/usr/local/bin/coordd"

sed "s|^ExecStart=/usr/local/bin/coordd|ExecStart=$coordd|" deploy/systemd/coordd.service >"$scratch/coordd.service"
grep -q "^ExecStart=$coordd\$" "$scratch/coordd.service" || { echo "deploy/systemd: ExecStart is not /usr/local/bin/coordd" >&2; exit 1; }
if ! report=$(systemd-analyze verify "$scratch/coordd.service" 2>&1) || [ -n "$report" ]; then
    echo "deploy/systemd: systemd-analyze verify found problems:" >&2
    echo "$report" >&2
    exit 1
fi
echo "deploy/systemd: coordd.service verifies cleanly"

# The first Python that has PyYAML: the one on PATH, else Debian's (python3-yaml).
python=python3
python3 -c 'import yaml' 2>/dev/null || python=/usr/bin/python3
"$python" deploy/kubernetes/check.py "$coordd"

deploy/cluster-check.sh "$coordd"
