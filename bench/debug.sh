#!/usr/bin/env bash
# Measures `spartan debug`: the toolbox image (packages, gzip bytes as pulled) and the wall
# time of `spartan debug CONTAINER -- true` against a running python server (inspect the
# target, check the toolbox is loaded, start and remove the toolbox container), next to
# `podman run --rm --entrypoint true TOOLBOX` (the container start alone) — median of 9 runs each.
# Usage: bash bench/debug.sh   (podman with runc; the mirror from SPARTAN_MIRROR or the host's
# apt sources; CONTAINERS_CONF may point at a containers.conf with default_ulimits = [])
set -euo pipefail
cd "$(dirname "$0")/.."
W=$(mktemp -d /tmp/spartan-debug-bench.XXXXXX)
name=spartan-bench-debug-$$
trap 'podman rm -f -t 0 "$name" >/dev/null 2>&1 || true; rm -rf "$W"' EXIT
go build -o "$W/spartan" ./cmd/spartan
for img in python toolbox; do
  "$W/spartan" build "images/$img" --arch amd64 --archive "$W/$img.tar" >/dev/null
  podman load -q -i "$W/$img.tar" >/dev/null
done
"$W/spartan" build images/toolbox --arch amd64 --oci "$W/toolbox-oci" >/dev/null
read -r pkgs bytes < <(python3 - "$W/toolbox-oci" <<'PY'
import json, os, sys
d = sys.argv[1]
blob = lambda h: os.path.join(d, "blobs", *h.split(":"))
idx = json.load(open(os.path.join(d, "index.json")))
m = json.load(open(blob(idx["manifests"][0]["digest"])))
size = sum(l["size"] for l in m["layers"])
import tarfile, gzip
pk = set()
for l in m["layers"]:
    with tarfile.open(blob(l["digest"]), "r:gz") as t:
        for n in t.getnames():
            n = n.lstrip("./")
            if n.startswith("var/lib/dpkg/status.d/") and not n.endswith(".md5sums") and not n.endswith("spartan-rootfs"):
                pk.add(n)
print(len(pk), size)
PY
)
podman run -d --name "$name" localhost/spartan/python:3.13 -m http.server 8000 >/dev/null
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_ms() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
"$W/spartan" debug --runtime runc "$name" -- true   # warm
debug=$(for i in 1 2 3 4 5 6 7 8 9; do time_ms "$W/spartan" debug --runtime runc "$name" -- true; done | median)
plain=$(for i in 1 2 3 4 5 6 7 8 9; do time_ms podman --runtime runc run --rm --entrypoint true localhost/spartan/toolbox:latest; done | median)
left=$(podman ps -a -q --filter "label=spartan.debug" | wc -l)
echo "| toolbox packages | toolbox gzip | spartan debug -- true (median of 9) | podman run --rm --entrypoint true toolbox (median of 9) | toolbox containers left |"
echo "|---|---|---|---|---|"
printf '| %s | %.1f MB | %s ms | %s ms | %s |\n' "$pkgs" "$(echo "$bytes / 1000000" | bc -l)" "$debug" "$plain" "$left"
