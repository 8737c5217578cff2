#!/bin/sh
# Regenerates the mixed-*, zeros-5m and refuse-* files with the xz tool (XZ Utils 5.4.1 made the
# committed ones; the text-*, concatenated, empty, zeros, random and mixed-sizes files came
# earlier from the same tool, TestTestdataFiles says what each exercises). The inputs are
# whatever this machine's files hold, so a new run makes new bytes: SHA256SUMS records what
# `xz -dc` makes of each file, which is what the tests compare against.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Text and machine code, like a data.tar: licenses then part of an ELF binary.
find /usr/share/common-licenses -type f | LC_ALL=C sort | xargs cat 2>/dev/null | head -c 200000 >"$tmp/mixed"
head -c 150000 /bin/bash >>"$tmp/mixed"
head -c 5000000 /dev/zero >"$tmp/zeros"

xz -0 -c "$tmp/mixed" >mixed-0.xz
xz -6 -c "$tmp/mixed" >mixed-6.xz
xz -9e -c "$tmp/mixed" >mixed-9e.xz
# Several blocks with sizes in their headers, as dpkg-deb -Zxz with threads writes.
xz -6 -T2 --block-size=65536 -c "$tmp/mixed" >mixed-T2-blocks.xz
# 5 MB of zeros: several 2 MiB LZMA2 chunks that continue the state.
xz -6 -c "$tmp/zeros" >zeros-5m.xz
# Filters the decoder refuses (not in SHA256SUMS): BCJ and delta before LZMA2.
xz --x86 --lzma2 -c "$tmp/mixed" | head -c 4096 >refuse-x86-head.xz
xz --delta=dist=4 --lzma2 -c "$tmp/zeros" >refuse-delta.xz

for f in mixed-0.xz mixed-6.xz mixed-9e.xz mixed-T2-blocks.xz zeros-5m.xz; do
	grep -v "  $f\$" SHA256SUMS >"$tmp/sums" || true
	printf '%s  %s\n' "$(xz -dc "$f" | sha256sum | cut -d' ' -f1)" "$f" >>"$tmp/sums"
	LC_ALL=C sort -k2 "$tmp/sums" >SHA256SUMS
done
