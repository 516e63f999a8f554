#!/usr/bin/env python3
"""Checks the Kubernetes manifests beside this file without a cluster: they parse as YAML, hold the
expected kinds, and agree with each other and with the daemon (probe paths, ports, labels, Secrets,
COORDD_* variables, the shutdown grace, the non-root read-only container).

Usage: check.py [COORDD_BINARY]  — with the binary, every COORDD_* variable must appear in its --help.
Prints one line per failed rule and exits 1 if there is any, else prints a summary and exits 0.
"""
import os
import re
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def load(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def seconds(duration):
    """'10s', '1500ms', '2m' -> seconds (the daemon's duration syntax, the forms used here)."""
    match = re.fullmatch(r"(\d+)(ms|s|m|h)", duration)
    check(match is not None, f"unreadable duration {duration!r}")
    if not match:
        return 0
    return int(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match.group(2)]


kustomization = load("kustomization.yaml")[0]
check(kustomization.get("kind") == "Kustomization", "kustomization.yaml is not a Kustomization")
documents = [doc for name in kustomization["resources"] for doc in load(name)]
secrets = load("secrets.example.yaml")

by_kind = {}
for doc in documents + secrets:
    by_kind.setdefault(doc["kind"], []).append(doc)
check(sorted((k, len(v)) for k, v in by_kind.items())
      == [("PodDisruptionBudget", 1), ("Secret", 2), ("Service", 2), ("StatefulSet", 1)],
      f"unexpected kinds: { {k: len(v) for k, v in by_kind.items()} }")

statefulset = by_kind["StatefulSet"][0]
spec = statefulset["spec"]
pod = spec["template"]["spec"]
pod_labels = spec["template"]["metadata"]["labels"]
check(spec["replicas"] == 1, "the single-daemon setup runs exactly one replica")
check(spec["selector"]["matchLabels"].items() <= pod_labels.items(), "the StatefulSet's selector misses its pods")
containers = pod["containers"]
check(len(containers) == 1, "one container")
container = containers[0]
env = {e["name"]: e.get("value") for e in container.get("env", [])}
ports = {p["name"]: p["containerPort"] for p in container["ports"]}

# Probes: liveness on /healthz, readiness (and start-up) on /readyz, on the container's port.
for probe, path in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/readyz")]:
    get = container.get(probe, {}).get("httpGet", {})
    check(get.get("path") == path, f"{probe} must GET {path}, not {get.get('path')}")
    check(get.get("port") in ports or get.get("port") in ports.values(), f"{probe} port {get.get('port')} is no container port")
    uses_tls = "COORDD_TLS_CERT" in env
    check(get.get("scheme", "HTTP") == ("HTTPS" if uses_tls else "HTTP"), f"{probe} scheme does not match the listener's TLS")

# The listener's port is the container's and the Services'.
listen_port = int(env.get("COORDD_LISTEN", "127.0.0.1:7070").rsplit(":", 1)[1])
check(env.get("COORDD_LISTEN", "").startswith("0.0.0.0:"), "inside a pod the daemon must listen on 0.0.0.0")
check(listen_port in ports.values(), f"COORDD_LISTEN port {listen_port} is not a container port")
check("COORDD_JWT_HS256_SECRET_FILE" in env or "COORDD_JWT_PUBLIC_KEY" in env or env.get("COORDD_ALLOW_ANONYMOUS"),
      "a listener beyond loopback needs a token key (or anonymous access, said out loud)")
for service in by_kind["Service"]:
    check(service["spec"]["selector"].items() <= pod_labels.items(), f"Service {service['metadata']['name']} selects no pod")
    for port in service["spec"]["ports"]:
        target = port.get("targetPort")
        check(target in ports or target in ports.values(), f"Service {service['metadata']['name']} targets unknown port {target}")
check(spec["serviceName"] in [s["metadata"]["name"] for s in by_kind["Service"] if s["spec"].get("clusterIP") == "None"],
      "serviceName must be a headless Service")

# Volumes: the claim template is the data directory; every Secret and key the environment names exists.
mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
claims = [c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])]
check(claims == ["data"], "one volumeClaimTemplate, data")
check(mounts.get("data") == env.get("COORDD_DATA_DIR"), "the claim is not mounted at COORDD_DATA_DIR")
secret_keys = {s["metadata"]["name"]: set((s.get("stringData") or s.get("data") or {}).keys()) for s in secrets}
volumes = {v["name"]: v for v in pod.get("volumes", [])}
for name, value in env.items():
    if not (name.endswith("_FILE") or name in ("COORDD_TLS_CERT", "COORDD_TLS_KEY", "COORDD_TLS_CLIENT_CA", "COORDD_JWT_PUBLIC_KEY")):
        continue
    directory, key = os.path.split(value)
    volume = next((v for v, path in mounts.items() if path == directory), None)
    check(volume in volumes and "secret" in volumes[volume], f"{name}={value} is not in a mounted Secret")
    if volume in volumes and "secret" in volumes[volume]:
        secret = volumes[volume]["secret"]["secretName"]
        check(key in secret_keys.get(secret, set()), f"{name}: Secret {secret} has no key {key}")

# The daemon drains within its grace; the kubelet must wait longer (plus the daemon's 2 s guard).
grace = seconds(env.get("COORDD_SHUTDOWN_GRACE", "10s"))
check(pod.get("terminationGracePeriodSeconds", 30) >= grace + 2, "terminationGracePeriodSeconds is not above the drain grace + 2 s")

# Non-root, read-only, nothing to escalate; bounded resources.
check(pod["securityContext"].get("runAsNonRoot") is True, "pods must run as non-root")
check(pod["securityContext"].get("runAsUser", 0) != 0, "runAsUser must not be 0")
security = container["securityContext"]
check(security.get("readOnlyRootFilesystem") is True, "the root file system must be read-only")
check(security.get("allowPrivilegeEscalation") is False, "privilege escalation must be off")
check(security.get("capabilities", {}).get("drop") == ["ALL"], "every capability must be dropped")
for kind in ("requests", "limits"):
    check({"cpu", "memory"} <= set(container.get("resources", {}).get(kind, {})), f"resources.{kind} needs cpu and memory")

pdb = by_kind["PodDisruptionBudget"][0]
check(pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items(), "the PodDisruptionBudget selects no pod")

# Every COORDD_* variable is one the daemon reads.
if len(sys.argv) > 1:
    help_text = subprocess.run([sys.argv[1], "--help"], check=True, capture_output=True, text=True).stdout
    known = set(re.findall(r"COORDD_[A-Z0-9_]+", help_text))
    for name in env:
        check(name in known, f"{name} is not a coordd setting (coordd --help)")

for failure in failures:
    print(f"deploy/kubernetes: {failure}")
if failures:
    sys.exit(1)
print(f"deploy/kubernetes: {len(documents) + len(secrets)} manifests agree with each other and with coordd")
