#!/usr/bin/env python3
"""Checks the Kubernetes manifests beside this file, and the cluster's in cluster/, without a cluster: they
parse as YAML, hold the expected kinds, and agree with each other and with the daemon (probe paths, ports,
labels, Secrets, COORDD_* variables, the shutdown grace, the non-root read-only container). The cluster's
also: PostgreSQL storage with its URL from a Secret, the node id from the pod name, an advertise URL
through the headless Service that the daemons can verify, the cluster secret, anti-affinity and a budget
that keeps two of three daemons.

Usage: check.py [COORDD_BINARY]  — with the binary, every COORDD_* variable must appear in its --help.
Where kubectl is installed, `kubectl kustomize` must render each set to the same kinds.
Prints one line per failed rule and exits 1 if there is any, else prints a summary and exits 0.
"""
import os
import re
import shutil
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
failures = []
# The set being checked, named in each failure.
current = {"set": ""}

# Where the daemon reads a file named by a variable: every *_FILE variable (OpenSSL's SSL_CERT_FILE too),
# and these.
FILE_VARIABLES = ("COORDD_TLS_CERT", "COORDD_TLS_KEY", "COORDD_TLS_CLIENT_CA", "COORDD_JWT_PUBLIC_KEY")


def check(condition, message):
    if not condition:
        failures.append(f"{current['set']}{message}")


def load(directory, name):
    with open(os.path.join(directory, name), encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def seconds(duration):
    """'10s', '1500ms', '2m' -> seconds (the daemon's duration syntax, the forms used here)."""
    match = re.fullmatch(r"(\d+)(ms|s|m|h)", duration)
    check(match is not None, f"unreadable duration {duration!r}")
    if not match:
        return 0
    return int(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def selects(selector, labels):
    return bool(selector) and selector.items() <= labels.items()


class ManifestSet:
    """One directory's kustomization, its example Secrets, and the parts of its StatefulSet the rules read."""

    def __init__(self, directory):
        kustomization = load(directory, "kustomization.yaml")[0]
        check(kustomization.get("kind") == "Kustomization", "kustomization.yaml is not a Kustomization")
        self.documents = [doc for name in kustomization["resources"] for doc in load(directory, name)]
        self.secrets = load(directory, "secrets.example.yaml")
        self.by_kind = {}
        for doc in self.documents + self.secrets:
            self.by_kind.setdefault(doc["kind"], []).append(doc)
        self.statefulset = self.by_kind.get("StatefulSet", [{}])[0]
        self.spec = self.statefulset["spec"]
        self.pod = self.spec["template"]["spec"]
        self.pod_labels = self.spec["template"]["metadata"]["labels"]
        self.container = self.pod["containers"][0]
        self.env_list = self.container.get("env", [])
        self.env = {e["name"]: e.get("value") for e in self.env_list}
        self.env_from = {e["name"]: e.get("valueFrom", {}) for e in self.env_list}
        self.ports = {p["name"]: p["containerPort"] for p in self.container["ports"]}
        self.mounts = {m["name"]: m["mountPath"] for m in self.container.get("volumeMounts", [])}
        self.volumes = {v["name"]: v for v in self.pod.get("volumes", [])}
        self.secret_keys = {s["metadata"]["name"]: set((s.get("stringData") or s.get("data") or {}).keys())
                            for s in self.secrets}
        self.listen_port = int((self.env.get("COORDD_LISTEN") or "127.0.0.1:7070").rsplit(":", 1)[1])
        self.uses_tls = "COORDD_TLS_CERT" in self.env
        self.headless = [s["metadata"]["name"] for s in self.by_kind.get("Service", []) if s["spec"].get("clusterIP") == "None"]

    def secret_for(self, path):
        """The mounted Secret and key a file path lands on, or None."""
        directory, key = os.path.split(path)
        volume = next((v for v, mounted in self.mounts.items() if mounted == directory), None)
        if volume not in self.volumes or "secret" not in self.volumes[volume]:
            return None
        return self.volumes[volume]["secret"]["secretName"], key

    def example_value(self, secret, key):
        for s in self.secrets:
            if s["metadata"]["name"] == secret:
                return (s.get("stringData") or {}).get(key)
        return None


def check_common(m, replicas):
    """The rules every set follows, as the single daemon's always did."""
    check(sorted((k, len(v)) for k, v in m.by_kind.items())
          == sorted([("PodDisruptionBudget", 1), ("Secret", len(m.secrets)), ("Service", 2), ("StatefulSet", 1)]),
          f"unexpected kinds: { {k: len(v) for k, v in m.by_kind.items()} }")
    spec, pod, container, env = m.spec, m.pod, m.container, m.env
    check(spec["replicas"] == replicas, f"runs {spec['replicas']} replicas, not {replicas}")
    check(selects(spec["selector"]["matchLabels"], m.pod_labels), "the StatefulSet's selector misses its pods")
    check(len(pod["containers"]) == 1, "one container")

    # Probes: liveness on /healthz, readiness (and start-up) on /readyz, on the container's port.
    for probe, path in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/readyz")]:
        get = container.get(probe, {}).get("httpGet", {})
        check(get.get("path") == path, f"{probe} must GET {path}, not {get.get('path')}")
        check(get.get("port") in m.ports or get.get("port") in m.ports.values(), f"{probe} port {get.get('port')} is no container port")
        check(get.get("scheme", "HTTP") == ("HTTPS" if m.uses_tls else "HTTP"), f"{probe} scheme does not match the listener's TLS")

    # The listener's port is the container's and the Services'.
    check((env.get("COORDD_LISTEN") or "").startswith("0.0.0.0:"), "inside a pod the daemon must listen on 0.0.0.0")
    check(m.listen_port in m.ports.values(), f"COORDD_LISTEN port {m.listen_port} is not a container port")
    check("COORDD_JWT_HS256_SECRET_FILE" in env or "COORDD_JWT_PUBLIC_KEY" in env or env.get("COORDD_ALLOW_ANONYMOUS"),
          "a listener beyond loopback needs a token key (or anonymous access, said out loud)")
    for service in m.by_kind["Service"]:
        check(selects(service["spec"]["selector"], m.pod_labels), f"Service {service['metadata']['name']} selects no pod")
        for port in service["spec"]["ports"]:
            target = port.get("targetPort")
            check(target in m.ports or target in m.ports.values(), f"Service {service['metadata']['name']} targets unknown port {target}")
    check(spec["serviceName"] in m.headless, "serviceName must be a headless Service")

    # Storage: file stores on the claim template; PostgreSQL's from a URL in a Secret, with no volume.
    claims = [c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])]
    if env.get("COORDD_STORAGE", "file") == "file":
        check(claims == ["data"], "one volumeClaimTemplate, data")
        check(m.mounts.get("data") == env.get("COORDD_DATA_DIR"), "the claim is not mounted at COORDD_DATA_DIR")
    else:
        check(env.get("COORDD_STORAGE") == "postgres", f"unknown COORDD_STORAGE {env.get('COORDD_STORAGE')}")
        check(claims == [] and "COORDD_DATA_DIR" not in env, "PostgreSQL storage needs no data volume or COORDD_DATA_DIR")
        reference = m.env_from.get("COORDD_POSTGRES_URL", {}).get("secretKeyRef", {})
        check(reference.get("key") in m.secret_keys.get(reference.get("name"), set()),
              "COORDD_POSTGRES_URL must come from a key of a Secret (it holds the password)")

    # Every file the environment names is a key of a mounted Secret.
    for name, value in env.items():
        if not (name.endswith("_FILE") or name in FILE_VARIABLES) or value is None:
            continue
        found = m.secret_for(value)
        check(found is not None, f"{name}={value} is not in a mounted Secret")
        if found:
            check(found[1] in m.secret_keys.get(found[0], set()), f"{name}: Secret {found[0]} has no key {found[1]}")

    # A $(VARIABLE) is expanded by the kubelet only when defined above its use.
    for index, entry in enumerate(m.env_list):
        for reference in re.findall(r"\$\(([A-Za-z0-9_]+)\)", entry.get("value") or ""):
            check(reference in [e["name"] for e in m.env_list[:index]], f"{entry['name']} uses $({reference}), not defined above it")

    # The daemon drains within its grace; the kubelet must wait longer (plus the daemon's 2 s guard).
    grace = seconds(env.get("COORDD_SHUTDOWN_GRACE") or "10s")
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

    check(selects(m.by_kind["PodDisruptionBudget"][0]["spec"]["selector"]["matchLabels"], m.pod_labels),
          "the PodDisruptionBudget selects no pod")


def check_cluster(m):
    """Several daemons on one database: who each is, how the others reach and trust it, how they spread."""
    env = m.env
    check(env.get("COORDD_STORAGE") == "postgres", "a cluster needs COORDD_STORAGE=postgres")
    check(m.env_from.get("COORDD_CLUSTER_NODE_ID", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name",
          "COORDD_CLUSTER_NODE_ID must be the pod's name (unique, and the same across restarts)")

    # wss://$(COORDD_CLUSTER_NODE_ID).<headless>.…:<port>: the pod's stable DNS name, the listener's scheme.
    advertise = urlsplit(env.get("COORDD_ADVERTISE_URL") or "")
    labels = advertise.netloc.rsplit(":", 1)[0].split(".")
    check(advertise.scheme == ("wss" if m.uses_tls else "ws"), "COORDD_ADVERTISE_URL's scheme does not match the listener's TLS")
    check(labels[0] == "$(COORDD_CLUSTER_NODE_ID)" and len(labels) > 1 and labels[1] in m.headless,
          "COORDD_ADVERTISE_URL must be the pod's name under the headless Service")
    check(advertise.port == m.listen_port, f"COORDD_ADVERTISE_URL's port is not the listener's {m.listen_port}")
    headless = next((s for s in m.by_kind["Service"] if s["metadata"]["name"] == m.spec["serviceName"]), {})
    check(headless.get("spec", {}).get("publishNotReadyAddresses") is True,
          "the headless Service must publish pods that are not ready (an owner stays reachable)")
    if m.uses_tls:
        check("SSL_CERT_FILE" in env, "daemons verify each other's wss:// certificate: SSL_CERT_FILE must name the CA")

    # Daemon tokens: a secret of their own, not the client token key.
    cluster_secret = m.secret_for(env.get("COORDD_CLUSTER_SECRET_FILE") or "/")
    check(cluster_secret is not None, "COORDD_CLUSTER_SECRET_FILE must name a mounted Secret's key")
    check(cluster_secret != m.secret_for(env.get("COORDD_JWT_HS256_SECRET_FILE") or "/"),
          "the cluster secret must not be the client token secret")

    # A sslrootcert in the example URL is a mounted file.
    reference = m.env_from.get("COORDD_POSTGRES_URL", {}).get("secretKeyRef", {})
    url = m.example_value(reference.get("name"), reference.get("key")) or ""
    for root in parse_qs(urlsplit(url).query).get("sslrootcert", []):
        found = m.secret_for(root)
        check(found is not None and found[1] in m.secret_keys.get(found[0], set()), f"sslrootcert {root} is not a mounted Secret's key")

    # One daemon per machine, and at most one taken at a time: two of three keep serving every store.
    affinity = m.pod.get("affinity", {}).get("podAntiAffinity", {})
    terms = affinity.get("requiredDuringSchedulingIgnoredDuringExecution", []) + [
        t.get("podAffinityTerm", {}) for t in affinity.get("preferredDuringSchedulingIgnoredDuringExecution", [])]
    check(any(t.get("topologyKey") == "kubernetes.io/hostname" and selects(t.get("labelSelector", {}).get("matchLabels"), m.pod_labels)
              for t in terms), "pods need anti-affinity across machines (topologyKey kubernetes.io/hostname)")
    budget = m.by_kind["PodDisruptionBudget"][0]["spec"]
    allowed = budget.get("maxUnavailable", m.spec["replicas"] - budget.get("minAvailable", m.spec["replicas"]))
    check(allowed == 1, f"the PodDisruptionBudget must let exactly one daemon go at a time, not {allowed}")


def check_variables(m, help_text):
    """Every COORDD_* variable is one the daemon reads; any other is OpenSSL's or used by one that is."""
    known = set(re.findall(r"COORDD_[A-Z0-9_]+", help_text))
    values = " ".join(e.get("value") or "" for e in m.env_list)
    for name in m.env:
        if name.startswith("COORDD_"):
            check(name in known, f"{name} is not a coordd setting (coordd --help)")
        else:
            check(name == "SSL_CERT_FILE" or f"$({name})" in values, f"{name} is neither a coordd setting nor used by one")


help_text = None
if len(sys.argv) > 1:
    help_text = subprocess.run([sys.argv[1], "--help"], check=True, capture_output=True, text=True).stdout
counts = []
for label, directory, replicas in [("", HERE, 1), ("cluster: ", os.path.join(HERE, "cluster"), 3)]:
    current["set"] = label
    manifests = ManifestSet(directory)
    check_common(manifests, replicas)
    if replicas > 1:
        check_cluster(manifests)
    if help_text is not None:
        check_variables(manifests, help_text)
    counts.append(len(manifests.documents) + len(manifests.secrets))
    # Where kubectl is installed, kustomize itself reads the set as listed here.
    if shutil.which("kubectl"):
        rendered = subprocess.run(["kubectl", "kustomize", directory], capture_output=True, text=True)
        kinds = sorted(d["kind"] for d in yaml.safe_load_all(rendered.stdout) if d) if rendered.returncode == 0 else None
        check(kinds == sorted(d["kind"] for d in manifests.documents), f"kubectl kustomize {directory}: {rendered.stderr.strip() or kinds}")

for failure in failures:
    print(f"deploy/kubernetes: {failure}")
if failures:
    sys.exit(1)
print(f"deploy/kubernetes: {counts[0]} manifests of one daemon and {counts[1]} of the cluster agree with each other and with coordd")
