#!/usr/bin/env bash
# What trim.java-modules costs and saves (docs/BENCHMARKS.md, "Java runtime: modules and CDS"):
# the java image (OpenJDK 21, amd64) built three ways and `java -version` timed 20 times in each
# (after one warm-up run), from its root file system through chroot:
#  1. full   — the spec with `trim.java-modules: []`: Debian's whole lib/modules and its CDS archive;
#  2. trimmed — the catalog spec: the JDK's tools removed, no CDS archive;
#  3. trimmed+CDS — 2. after `java -Xshare:dump`, the Containerfile recipe in images/java.
# Also prints each image's gzip size (its layers) and lib/modules size.
# Usage (as root): bash bench/java-startup.sh [IMAGE_DIR, default images/java]
set -euo pipefail
cd "$(dirname "$0")/.."
IMG=${1:-images/java}
W=$(mktemp -d /tmp/spartan-jbench.XXXXXX)
cleanup() { for r in "$W"/root-*; do umount "$r/proc" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT
go build -o "$W/spartan" ./cmd/spartan

# Unpacks the single image of an OCI layout into a directory; prints its layers' gzip bytes.
unpack() {
  python3 - "$1" "$2" <<'PY'
import json, os, subprocess, sys
root, dest = sys.argv[1], sys.argv[2]
def blob(d): return os.path.join(root, "blobs", *d.split(":"))
m = json.load(open(blob(json.load(open(os.path.join(root, "index.json")))["manifests"][0]["digest"])))
if "manifests" in m:
    m = json.load(open(blob(m["manifests"][0]["digest"])))
os.makedirs(dest, exist_ok=True)
for l in m["layers"]:
    subprocess.run(["tar", "-xzf", blob(l["digest"]), "-C", dest], check=True)
print(sum(l["size"] for l in m["layers"]))
PY
}

mkdir -p "$W/full-spec"
cp -r "$IMG"/. "$W/full-spec/"
python3 - "$W/full-spec/spartan.yaml" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s, n = re.subn(r"(?m)^  java-modules: \[[^\]]*\]$", "  java-modules: []", s)
assert n == 1, "no trim.java-modules line in the spec"
open(p, "w").write(s)
PY
gz_full=$( "$W/spartan" build "$W/full-spec" --arch amd64 --oci "$W/oci-full" >/dev/null 2>&1; unpack "$W/oci-full" "$W/root-full")
gz_trim=$( "$W/spartan" build "$IMG" --arch amd64 --oci "$W/oci-trim" >/dev/null 2>&1; unpack "$W/oci-trim" "$W/root-trimmed")
cp -a "$W/root-trimmed" "$W/root-cds"
java=$(cd "$W/root-full" && ls -d usr/lib/jvm/java-*-openjdk-amd64 | head -1)/bin/java
mount -t proc proc "$W/root-cds/proc"
chroot "$W/root-cds" "/$java" -Xshare:dump >/dev/null
umount "$W/root-cds/proc"

echo "| build | lib/modules | image gzip | java -version mean | best |"
echo "|---|---|---|---|---|"
for r in full trimmed cds; do
  root="$W/root-$r"
  mount -t proc proc "$root/proc"
  chroot "$root" "/$java" -version >/dev/null 2>&1
  best=999999 total=0
  for _ in $(seq 20); do
    s=$(date +%s%N)
    chroot "$root" "/$java" -version >/dev/null 2>&1
    d=$(( ($(date +%s%N) - s) / 1000000 ))
    total=$((total + d)); [ "$d" -lt "$best" ] && best=$d
  done
  umount "$root/proc"
  mods=$(stat -c %s "$root/$(dirname "$(dirname "$java")")/lib/modules")
  case $r in full) gz=$gz_full label="full (Debian's lib/modules + CDS)";; trimmed) gz=$gz_trim label="trimmed, no CDS (the catalog image)";; cds) gz="" label="trimmed + \`java -Xshare:dump\`";; esac
  printf '| %s | %.1f MB | %s | %d ms | %d ms |\n' "$label" "$(echo "$mods/1000000" | bc -l)" \
    "$( [ -n "$gz" ] && printf '%.1f MB' "$(echo "$gz/1000000" | bc -l)" || printf '+ %.1f MB archive (%.1f MB gzip)' "$(echo "$(stat -c %s "$root"/$(dirname "$(dirname "$java")")/lib/server/classes.jsa)/1000000" | bc -l)" "$(echo "$(gzip -6 -c "$root"/$(dirname "$(dirname "$java")")/lib/server/classes.jsa | wc -c)/1000000" | bc -l)")" $((total / 20)) "$best"
done
