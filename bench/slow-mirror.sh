#!/usr/bin/env bash
# Runs bench/python.sh (same variables: BENCH_SPEC, BENCH_BEFORE…) through bench/throttle, a
# local proxy in front of the mirror that shares BENCH_RATE MB/s (default 25, about a CI
# runner's link) between all connections and delays each request by BENCH_LATENCY (default
# 20ms): Spartan and mmdebstrap then download through the same slow link, as they would on a
# runner far from the mirror, instead of next to it.
# Usage (as root, on a Debian host with mmdebstrap): bash bench/slow-mirror.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mirror=${SPARTAN_MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null | grep -E '^(URIs:|deb )' | grep -v security | head -1 | awk '{print $2}' || true)}
[ -n "$mirror" ] || { echo "no Debian mirror: set SPARTAN_MIRROR" >&2; exit 1; }
security=${SPARTAN_SECURITY_MIRROR:-${mirror}-security}
origin=$(sed -E 's|^(https?://[^/]+).*|\1|' <<<"$mirror")
[ "$(sed -E 's|^(https?://[^/]+).*|\1|' <<<"$security")" = "$origin" ] || { echo "the security mirror must be on the mirror's host for one proxy" >&2; exit 1; }
out=$(mktemp)
go build -o "$out.bin" ./bench/throttle
"$out.bin" -upstream "$origin" -rate "${BENCH_RATE:-25}" -latency "${BENCH_LATENCY:-20ms}" >"$out" &
proxy=$!
trap 'kill $proxy 2>/dev/null; rm -f "$out" "$out.bin"' EXIT
for _ in $(seq 50); do [ -s "$out" ] && break; sleep 0.1; done
via=$(head -1 "$out")
echo "link: ${BENCH_RATE:-25} MB/s shared, ${BENCH_LATENCY:-20ms} per request, via $via" >&2
SPARTAN_MIRROR="$via${mirror#"$origin"}" SPARTAN_SECURITY_MIRROR="$via${security#"$origin"}" bash bench/python.sh
