#!/usr/bin/env bash
# Benchmarks the python image against its peers in one run, on this machine:
#  - Spartan cold build (empty cache: indexes + .debs downloaded) vs `mmdebstrap --variant=extract`
#    of the very same package set from the same mirror (mmdebstrap always starts cold);
#  - Spartan warm rebuild (same cache);
#  - package count and size vs a general-purpose equivalent, `mmdebstrap --variant=minbase
#    --include=python3`.
# Usage (as root, on a Debian host with mmdebstrap): bash bench/python.sh
# Another catalog image the same way: BENCH_SPEC=images/node bash bench/python.sh (the
# general-purpose peer then installs BENCH_PEER, by default the image's runtime package).
# The mirror comes from SPARTAN_MIRROR or the host's apt sources, as Spartan reads it.
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${BENCH_SPEC:-images/python}
name=$(basename "$spec")
case "$name" in
python) peer_default=python3 ;;
node) peer_default=nodejs ;;
java) peer_default=openjdk-21-jre-headless ;;
java25) peer_default=openjdk-25-jre-headless ;;
nginx) peer_default=nginx ;;
*) peer_default=ca-certificates ;;
esac
peer=${BENCH_PEER:-$peer_default}
W=$(mktemp -d /tmp/spartan-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
go build -o "$W/spartan" ./cmd/spartan

mirror=${SPARTAN_MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null | grep -E '^(URIs:|deb )' | grep -v security | head -1 | awk '{print $2}' || true)}
[ -n "$mirror" ] || { echo "no Debian mirror: set SPARTAN_MIRROR" >&2; exit 1; }
security=${SPARTAN_SECURITY_MIRROR:-${mirror}-security}
release=trixie
sources=("deb $mirror $release main" "deb $mirror $release-updates main" "deb $security $release-security main")

# secs prints the wall time of a command and leaves its CPU time (user + system, children
# included) in $W/cpu: the machine may be shared, and CPU time shows what the wall time hides.
secs() {
	/usr/bin/time -f '%e %U %S' -o "$W/t" "$@" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; return 1; }
	read -r e u s < "$W/t"
	python3 -c "print(f'{$u+$s:.2f}')" > "$W/cpu"
	echo "$e"
}
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# BENCH_CPUPROFILE=FILE also writes the cold build's CPU profile there.
cold=$(SPARTAN_CPUPROFILE=${BENCH_CPUPROFILE:-} secs "$W/spartan" --cache "$W/cache" build "$spec" --arch amd64 --oci "$W/py")
cold_cpu=$(cat "$W/cpu")
# BENCH_BEFORE=BINARY also times a cold build by another spartan binary (main's, say), with an
# empty cache of its own, in the same run: after this binary's, so that any cache between here
# and the mirror favours it rather than this one.
before_row=
if [ -n "${BENCH_BEFORE:-}" ]; then
	before=$(secs "$BENCH_BEFORE" --cache "$W/cache0" build "$spec" --arch amd64 --oci "$W/py0")
	before_row=$'\n'"| cold build by $BENCH_BEFORE (s) | $before (CPU $(cat "$W/cpu")) | | |"
fi
warm=$(secs "$W/spartan" --cache "$W/cache" build "$spec" --arch amd64 --oci "$W/py2")
warm_cpu=$(cat "$W/cpu")
"$W/spartan" --cache "$W/cache" resolve "$spec" --arch amd64 --json > "$W/resolve.json"
pkgs=$(python3 -c 'import json,sys; print(",".join(p["name"] for p in json.load(open(sys.argv[1]))[0]["packages"]))' "$W/resolve.json")
npkgs=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))[0]["packages"]))' "$W/resolve.json")

extract=$(secs mmdebstrap --variant=extract --architectures=amd64 --include="$pkgs" "$release" "$W/extract.tar" "${sources[@]}")
extract_cpu=$(cat "$W/cpu")
load1=$(cut -d' ' -f1-3 /proc/loadavg)
mmdebstrap --quiet --variant=minbase --architectures=amd64 --include="$peer" "$release" "$W/minbase.tar" "${sources[@]}" 2>/dev/null

# Image sizes: the layers as pulled (gzip) and unpacked (tar bytes).
read -r sp_gz sp_raw < <(python3 - "$W/py" <<'PY'
import gzip, json, os, sys
root = sys.argv[1]
idx = json.load(open(os.path.join(root, "index.json")))
def blob(d): return os.path.join(root, "blobs", *d.split(":"))
m = json.load(open(blob(idx["manifests"][0]["digest"])))
gz = sum(l["size"] for l in m["layers"])
raw = sum(len(gzip.open(blob(l["digest"])).read()) for l in m["layers"])
print(gz, raw)
PY
)
mb_raw=$(stat -c %s "$W/minbase.tar")
mb_gz=$(gzip -6 -c "$W/minbase.tar" | wc -c)
mb_pkgs=$(tar -xOf "$W/minbase.tar" ./var/lib/dpkg/status | grep -c '^Package:')

mb() { python3 -c "print(f'{$1/1e6:.1f} MB')"; }
ratio=$(python3 -c "print(f'{$cold/$extract:.2f}')")
cat <<EOF2
| measure | Spartan $name | peer | peer value |
|---|---|---|---|
| cold build (s) | $cold | mmdebstrap --variant=extract, same $npkgs packages | $extract (Spartan/peer = $ratio) |
| cold build CPU time (s, user + sys) | $cold_cpu | mmdebstrap --variant=extract | $extract_cpu |
| warm rebuild (s) | $warm (CPU $warm_cpu) | | |${before_row}
| load average (1, 5, 15 min) before / after the timed runs | $load0 / $load1 | | |
| packages | $npkgs | mmdebstrap minbase + $peer | $mb_pkgs |
| size uncompressed | $(mb $sp_raw) | mmdebstrap minbase + $peer (tar) | $(mb $mb_raw) |
| size gzip | $(mb $sp_gz) | mmdebstrap minbase + $peer (tar, gzip -6) | $(mb $mb_gz) |
EOF2
