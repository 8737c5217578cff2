#!/usr/bin/env bash
# Layer compression (docs/BENCHMARKS.md, "Layer compression"): builds the node image (amd64),
# takes its two biggest layers as uncompressed tars (libnode; ICU) — what the encoder sees,
# whatever encoder made the image — and compresses each with internal/deflate, GNU gzip -6/-9,
# klauspost/compress 5 (Spartan's encoder before internal/deflate) and 9, and compress/flate 6
# and 9, single-threaded, best of 5 runs (internal/deflate's TestCompareTars).
# Usage: bash bench/compression.sh
set -euo pipefail
cd "$(dirname "$0")/.."
W=$(mktemp -d /tmp/spartan-cbench.XXXXXX)
trap 'rm -rf "$W"' EXIT
go build -o "$W/spartan" ./cmd/spartan
"$W/spartan" build images/node --arch amd64 --oci "$W/oci" >/dev/null
tars=$(python3 - "$W" <<'PY'
import gzip, json, os, shutil, sys
w = sys.argv[1]; root = os.path.join(w, "oci")
def blob(d): return os.path.join(root, "blobs", *d.split(":"))
m = json.load(open(blob(json.load(open(os.path.join(root, "index.json")))["manifests"][0]["digest"])))
if "manifests" in m:
    m = json.load(open(blob(m["manifests"][0]["digest"])))
out = []
for l in sorted(m["layers"], key=lambda l: -l["size"])[:2]:
    p = os.path.join(w, l["digest"].split(":")[1][:12] + ".tar")
    with gzip.open(blob(l["digest"])) as src, open(p, "wb") as dst:
        shutil.copyfileobj(src, dst)
    out.append(p)
print(",".join(out))
PY
)
DEFLATE_COMPARE_RUNS=5 DEFLATE_COMPARE="$tars" go test -count=1 -timeout 30m -run CompareTars -v ./internal/deflate | grep -v '^=== RUN'
