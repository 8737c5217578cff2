#!/usr/bin/env bash
# Rebuilds the real catalog the way a CI engine runs a plan, with 1 and then with 4 parallel
# local workers, and compares: every image under images/ with a spartan.yaml, every variant,
# both architectures (the specs' archs), locked with `spartan lock` into a copy of the catalog.
#
# Each run gets a fresh docker-registry (the only state the workers share). A worker is a loop
# taking the next unit of the plan from a shared queue and running
#   spartan --cache <its own cache> build --locked --skip-existing --variant V --arch A --push REF SPEC
# Levels run in order. Then the index step (`spartan index`, unsigned) runs per image and
# variant. Each worker's cache starts as a hard-linked copy of the host's downloaded packages
# (<cache>/blobs, content-addressed: what a CI cache restore gives a job); no layer is
# cached, so every unit resolves its lock, assembles, compresses and pushes.
#
# Reports per run: wall time of the units and of the index step, the bytes the workers
# uploaded (their "pushed … uploaded N bytes" lines) and the registry's blob storage, and
# whether every index digest is the same in both runs. From the 1-worker run's per-unit times
# it projects 1,000 images on 50 workers (the model is printed with the numbers).
#
# Usage (on a Debian host with docker-registry; e2e/setup.sh installs it):
#   nice -n 10 bash bench/scale.sh [WORKERS...]        # default: 1 4
# SPARTAN_CACHE: the download cache to seed from (default ~/.cache/spartan).
# SPARTAN_BENCH_IMAGES="static base": only these images (a quick check of the script).
# SPARTAN_BENCH_VARIANTS="runtime": only these variants (default: every variant of each spec).
# SPARTAN_BENCH_KEEP=1 keeps the work directory.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(1 4)
W=$(mktemp -d /tmp/spartan-scale.XXXXXX)
regpid=
cleanup() {
  [ -z "$regpid" ] || kill "$regpid" 2>/dev/null || true
  [ -n "${SPARTAN_BENCH_KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
seedfrom=${SPARTAN_CACHE:-$HOME/.cache/spartan}
go build -o "$W/spartan" ./cmd/spartan
S="$W/spartan"

# The catalog, locked (every variant, the specs' architectures). Locking reads the indexes
# through the shared cache; it is not part of what is measured.
mkdir -p "$W/catalog"
for d in images/*/; do
  img=$(basename "$d")
  [ -f "$d/spartan.yaml" ] || continue
  [ -z "${SPARTAN_BENCH_IMAGES:-}" ] || [[ " $SPARTAN_BENCH_IMAGES " == *" $img "* ]] || continue
  cp -r "$d" "$W/catalog/"
done
for spec in "$W"/catalog/*/spartan.yaml; do
  for v in runtime $(python3 -c 'import sys,yaml; print(" ".join((yaml.safe_load(open(sys.argv[1])).get("variants") or {}).keys()))' "$spec"); do
    [ -z "${SPARTAN_BENCH_VARIANTS:-}" ] || [[ " $SPARTAN_BENCH_VARIANTS " == *" $v "* ]] || continue
    flag=(); [ "$v" = runtime ] || flag=(--variant "$v")
    "$S" --cache "$seedfrom" lock "${flag[@]}" "$spec" >/dev/null 2>"$W/lock.err" || { echo "lock $spec $v failed:" >&2; tail -3 "$W/lock.err" >&2; exit 1; }
  done
done
planflags=()
for v in ${SPARTAN_BENCH_VARIANTS:-}; do planflags+=(--variant "$v"); done
mkdir -p "$W/seed"
[ -d "$seedfrom/blobs" ] && cp -al "$seedfrom/blobs" "$W/seed/blobs"

start_registry() { # dir → sets host (host:port) and regpid
  local dir=$1 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$dir/storage"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$dir/storage" "$port" >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  regpid=$!
  for _ in $(seq 50); do
    curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && { host="127.0.0.1:$port"; return; }
    sleep 0.1
  done
  echo "docker-registry did not start: $dir/registry.log" >&2
  exit 1
}

now() { date +%s.%N; }

# worker RUN N: takes lines "spec variant arch ref" from RUN/queue (RUN/next counts, under a
# lock) until none is left; appends "id worker seconds uploaded-bytes" to RUN/units.tsv.
worker() {
  local run=$1 n=$2 line spec variant arch ref id t0 t1 bytes i
  local cache="$run/cache-$n"
  [ -d "$cache" ] || cp -al "$W/seed" "$cache"
  while :; do
    i=$(flock "$run/next" bash -c 'n=$(cat "$1"); echo $((n+1)) >"$1"; echo "$n"' _ "$run/next")
    line=$(sed -n "$((i + 1))p" "$run/queue")
    [ -n "$line" ] || return 0
    read -r spec variant arch ref id <<<"$line"
    t0=$(now)
    if ! "$S" --cache "$cache" build --locked --skip-existing --variant "$variant" --arch "$arch" --push "$ref" "$spec" >"$run/unit-$i.out" 2>"$run/unit-$i.err"; then
      echo "unit $id failed:" >&2
      tail -5 "$run/unit-$i.err" >&2
      echo failed >"$run/failed"
      return 0
    fi
    t1=$(now)
    bytes=$(grep -o 'uploaded [0-9]* bytes' "$run/unit-$i.err" | awk '{s+=$2} END {printf "%.0f\n", s}')
    echo "$id $n $(echo "$t1 - $t0" | bc) $bytes" >>"$run/units.tsv"
  done
}

for workers in "${runs[@]}"; do
  run="$W/run-$workers"
  mkdir -p "$run"
  start_registry "$run/registry"
  reg="$host/bench"
  "$S" --cache "$seedfrom" plan --format json --registry "$reg" "${planflags[@]}" "$W/catalog" >"$run/plan.json"
  nunits=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["units"]))' "$run/plan.json")
  levels=$(python3 -c 'import json,sys; print(" ".join(str(l) for l in sorted({u["level"] for u in json.load(open(sys.argv[1]))["units"]})))' "$run/plan.json")
  t0=$(now)
  for level in $levels; do
    python3 - "$run/plan.json" "$level" >"$run/queue" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
for u in p["units"]:
    if u["level"] == int(sys.argv[2]):
        print(u["spec"], u["variant"], u["arch"], u["ref"], u["id"])
PY
    echo 0 >"$run/next"
    pids=()
    for n in $(seq "$workers"); do
      worker "$run" "$n" &
      pids+=($!)
    done
    wait "${pids[@]}" # not a bare wait: the registry is a child too
  done
  t1=$(now)
  [ ! -f "$run/failed" ] || { echo "run with $workers workers: a unit failed" >&2; exit 1; }
  python3 - "$run/plan.json" >"$run/indexes" <<'PY'
import json, sys
for x in json.load(open(sys.argv[1]))["indexes"]:
    print(x["spec"], x["variant"], x["id"])
PY
  : >"$run/digests"
  while read -r spec variant id; do
    d=$("$S" --cache "$run/cache-1" index --registry "$reg" --variant "$variant" "$spec" 2>>"$run/index.err" | tail -1)
    echo "$id $d" >>"$run/digests"
  done <"$run/indexes"
  t2=$(now)
  kill "$regpid"; wait "$regpid" 2>/dev/null || true; regpid=
  stored=$(du -sb "$run/registry/storage/docker/registry/v2/blobs" | cut -f1)
  uploaded=$(awk '{s+=$4} END {printf "%.0f\n", s}' "$run/units.tsv")
  nidx=$(wc -l <"$run/indexes")
  printf '%s worker(s): %d units in %.0f s, %d indexes in %.0f s; uploaded %d bytes, registry blobs %d bytes\n' \
    "$workers" "$nunits" "$(echo "$t1 - $t0" | bc)" "$nidx" "$(echo "$t2 - $t1" | bc)" "$uploaded" "$stored"
  echo "$workers $nunits $(echo "$t1 - $t0" | bc) $nidx $(echo "$t2 - $t1" | bc) $uploaded $stored" >"$run/summary"
  rm -rf "$run"/cache-*
done

first="$W/run-${runs[0]}"
for workers in "${runs[@]:1}"; do
  if diff <(sort "$first/digests") <(sort "$W/run-$workers/digests") >/dev/null; then
    echo "index digests: all $(wc -l <"$first/digests") identical between ${runs[0]} and $workers worker(s)"
  else
    echo "index digests DIFFER between ${runs[0]} and $workers worker(s):"
    diff <(sort "$first/digests") <(sort "$W/run-$workers/digests") || true
    exit 1
  fi
done
echo
echo "per-unit times and uploads (${runs[0]} worker run), slowest first:"
sort -k3 -n -r "$first/units.tsv" | awk '{printf "  %-28s %6.1f s %12d bytes\n", $1, $3, $4}'
echo
echo "index digests:"
sort "$first/digests" | sed 's/^/  /'
echo
# Projection. Model: N images with the measured catalog's mix (units per image, time and upload
# per unit); W workers each take the next unit when free (a CI matrix with max-parallel W);
# the registry and the mirror are not the bottleneck. Wall ≈ total unit time / W + the
# longest unit (list scheduling's bound), plus the index steps likewise.
python3 - "$first/units.tsv" "$first/summary" <<'PY'
import sys
units = [l.split() for l in open(sys.argv[1])]
s = open(sys.argv[2]).read().split()
images = len({u[0].split("/")[0] for u in units})
t = [float(u[2]) for u in units]
b = [int(u[3]) for u in units]
nidx, tidx = int(s[3]), float(s[4])
N, W = 1000, 50
scale = N / images
ut, ub = sum(t) * scale, sum(b) * scale
it = tidx * scale
wall = ut / W + max(t) + it / W
print(f"projection: {N} images x {len(units)/images:.1f} units/image = {len(units)*scale:.0f} units, "
      f"{nidx*scale:.0f} indexes on {W} workers")
print(f"  measured per unit: mean {sum(t)/len(t):.1f} s, longest {max(t):.1f} s, mean upload {sum(b)/len(b)/1e6:.1f} MB; per index {tidx/nidx:.2f} s")
print(f"  wall ~ {ut:.0f} s / {W} + {max(t):.0f} s + {it:.0f} s / {W} = {wall/60:.0f} min; uploads <= {ub/1e9:.1f} GB")
PY
