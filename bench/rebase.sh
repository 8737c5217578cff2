#!/usr/bin/env bash
# How long `spartan rebase` takes to move a python application onto a rebuilt base, against
# rebuilding the application. The python image is built (amd64) without the security suite —
# the base as it was before today's security updates — and as the catalog builds it; both are
# pushed to a local Distribution registry (docker-registry) under one tag, the old one first.
# An application (a COPY'd script, as e2e/rebase_test.go builds it) is built FROM the old base
# with podman and pushed; then the tag moves on to the current base, and the script times, RUNS
# times each (median printed):
#   rebase, signed: spartan rebase APP --onto BASE --to REG/shop/app:rN --sign-key KEY
#     (old base found from the application's base annotations; SBOMs, provenance, signature,
#     push included)
#   rebase, unsigned, to a layout: spartan rebase APP --onto BASE --to oci:DIR
#   rebuild with podman: podman build --no-cache FROM the current base + podman push
# Usage: bash bench/rebase.sh            (RUNS=5 by default; SPARTAN=PATH another binary)
# The mirror comes from SPARTAN_MIRROR or the host's apt sources, as Spartan reads it.
set -euo pipefail
cd "$(dirname "$0")/.."
W=$(mktemp -d /tmp/spartan-rebase.XXXXXX)
RUNS=${RUNS:-5}
reg_pid=
cleanup() {
  [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
bin=${SPARTAN:-}
if [ -z "$bin" ]; then
  bin=$W/spartan
  go build -o "$bin" ./cmd/spartan
fi
export COSIGN_PASSWORD=bench
printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n' > "$W/containers.conf"
export CONTAINERS_CONF=$W/containers.conf
pod() { podman --root "$W/podman/root" --runroot "$W/podman/run" "$@"; }

# The two bases.
mkdir -p "$W/old-spec"
cat images/python/spartan.yaml > "$W/old-spec/spartan.yaml"
printf 'repositories:\n  - archive: main\n' >> "$W/old-spec/spartan.yaml"
"$bin" build "$W/old-spec" --arch amd64 --archive "$W/old.tar" > /dev/null
"$bin" build images/python --arch amd64 --archive "$W/new.tar" > /dev/null

# A registry on a free loopback port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REG=127.0.0.1:$port
cat > "$W/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $W/registry
http:
  addr: $REG
EOF
docker-registry serve "$W/registry.yml" > "$W/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 50); do curl -fs "http://$REG/v2/" > /dev/null && break; sleep 0.1; done

BASE=$REG/spartan/python:3.13
"$bin" push "$W/old.tar" "$BASE" > /dev/null 2>&1
mkdir -p "$W/app"
printf "import sys\nprint('hello from python', sys.version.split()[0])\n" > "$W/app/app.py"
# One instruction: with several, podman's layer cache records an intermediate image as the
# base (docs/rebase.md) and the old base would have to be named with --old-base.
printf 'FROM %s\nCOPY app.py /app/app.py\n' "$BASE" > "$W/app/Containerfile"
pod build -q --tls-verify=false -t "$REG/shop/app:1" "$W/app" > /dev/null
pod push -q --tls-verify=false "$REG/shop/app:1"
APP=$REG/shop/app@$(curl -fsI -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG/v2/shop/app/manifests/1" | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}')
"$bin" push "$W/new.tar" "$BASE" > /dev/null 2>&1
(cd "$W" && "$bin" keygen > /dev/null 2>&1)

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }
secs() {
  local s e
  s=$(date +%s.%N)
  if ! "$@" > "$W/last.log" 2>&1; then
    echo "failed: $*" >&2
    cat "$W/last.log" >&2
    exit 1
  fi
  e=$(date +%s.%N)
  printf '%.2f' "$(echo "$e - $s" | bc)"
}
signed=() unsigned=() rebuild=()
for i in $(seq "$RUNS"); do
  signed+=("$(secs "$bin" --cache "$W/cache" rebase "$APP" --onto "$BASE" --to "$REG/shop/app:r$i" --sign-key "$W/cosign.key" --timeline "$W/timeline.jsonl")")
  unsigned+=("$(secs "$bin" --cache "$W/cache" rebase "$APP" --onto "$BASE" --to "oci:$W/out$i" --timeline "$W/timeline.jsonl")")
  rebuild+=("$(secs sh -c "podman --root '$W/podman/root' --runroot '$W/podman/run' build -q --no-cache --pull=always --tls-verify=false -t '$REG/shop/app:b$i' '$W/app' && podman --root '$W/podman/root' --runroot '$W/podman/run' push -q --tls-verify=false '$REG/shop/app:b$i'")")
done
echo "| what | median of $RUNS (s) | runs (s) |"
echo "|---|---|---|"
echo "| spartan rebase, signed, SBOMs + provenance, pushed | $(printf '%s\n' "${signed[@]}" | median) | ${signed[*]} |"
echo "| spartan rebase, unsigned, to an OCI layout | $(printf '%s\n' "${unsigned[@]}" | median) | ${unsigned[*]} |"
echo "| podman build --no-cache FROM the new base + push (a rebuild, unsigned) | $(printf '%s\n' "${rebuild[@]}" | median) | ${rebuild[*]} |"
