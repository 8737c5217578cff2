#!/usr/bin/env bash
# Measures every catalog image and variant that exists when it runs (images/*/spartan.yaml;
# the runtime image plus each variant the spec declares) against its general-purpose
# equivalent: `mmdebstrap --variant=minbase --include=<the packages the spec requests>` (the
# variant's packages added; busybox-static for a debug variant, which its profile requests),
# from the same mirrors, as one gzip -6 tarball.
# Packages: the dpkg records in the image (status.d; not spartan-rootfs, the record Spartan
# writes for its own synthesized files) vs the peer's /var/lib/dpkg/status.
# SPARTAN_BENCH_PEERS=DIR keeps the peers' measures between runs (keyed by release, package
# list and UTC day), since each mmdebstrap takes minutes.
# Usage (as root, on a Debian host with mmdebstrap): bash bench/catalog.sh > table.md
# The mirror comes from SPARTAN_MIRROR or the host's apt sources, as Spartan reads it.
set -euo pipefail
cd "$(dirname "$0")/.."
W=$(mktemp -d /tmp/spartan-catalog.XXXXXX)
trap 'rm -rf "$W"' EXIT
go build -o "$W/spartan" ./cmd/spartan

mirror=${SPARTAN_MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null | grep -E '^(URIs:|deb )' | grep -v security | head -1 | awk '{print $2}' || true)}
[ -n "$mirror" ] || { echo "no Debian mirror: set SPARTAN_MIRROR" >&2; exit 1; }
security=${SPARTAN_SECURITY_MIRROR:-${mirror}-security}

# Prints "<release> <profile> <comma-separated requested packages>" for a spec and variant.
requested() {
  python3 - "$1" "$2" <<'PY'
import sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))
v = sys.argv[2]
over = {} if v == "runtime" else spec["variants"][v]
release = over.get("release", spec.get("release", "trixie"))
profile = over.get("profile", spec.get("profile", "runtime"))
pkgs = list(spec["packages"]) + [p for p in over.get("packages", []) if p not in spec["packages"]]
if profile == "debug" and "busybox-static" not in pkgs:
    pkgs.append("busybox-static")
print(release, profile, ",".join(pkgs))
PY
}

# Prints "<packages> <gzip bytes>" of an OCI layout's (single) image.
measure_oci() {
  python3 - "$1" <<'PY'
import gzip, io, json, os, sys, tarfile
root = sys.argv[1]
idx = json.load(open(os.path.join(root, "index.json")))
def blob(d): return os.path.join(root, "blobs", *d.split(":"))
m = json.load(open(blob(idx["manifests"][0]["digest"])))
gz, pkgs = 0, set()
for l in m["layers"]:
    gz += l["size"]
    with tarfile.open(fileobj=io.BytesIO(gzip.open(blob(l["digest"])).read())) as t:
        for n in t.getnames():
            n = n.lstrip("./")
            if n.startswith("var/lib/dpkg/status.d/"):
                base = n[len("var/lib/dpkg/status.d/"):]
                if base and not base.endswith(".md5sums") and base != "spartan-rootfs":
                    pkgs.add(base)
print(len(pkgs), gz)
PY
}

mb() { python3 -c "print(f'{$1/1e6:.1f} MB')"; }

echo "| image | variant | Spartan packages | Spartan gzip | general-purpose packages | general-purpose gzip | size ratio |"
echo "|---|---|---|---|---|---|---|"
for spec in images/*/spartan.yaml; do
  img=$(basename "$(dirname "$spec")")
  variants="runtime $(python3 -c 'import sys,yaml; print(" ".join((yaml.safe_load(open(sys.argv[1])).get("variants") or {}).keys()))' "$spec")"
  for v in $variants; do
    flag=(); [ "$v" = runtime ] || flag=(--variant "$v")
    if ! "$W/spartan" --cache "${SPARTAN_CACHE:-$HOME/.cache/spartan}" build "$spec" "${flag[@]}" --arch amd64 --oci "$W/$img-$v" >/dev/null 2>"$W/err"; then
      echo "| $img | $v | build failed: $(tail -1 "$W/err" | tr '|' '/') | | | | |"
      continue
    fi
    read -r sp_pkgs sp_gz < <(measure_oci "$W/$img-$v")
    read -r release _ pkgs < <(requested "$spec" "$v")
    peers=${SPARTAN_BENCH_PEERS:-$W}
    mkdir -p "$peers"
    key=$(echo "$release $pkgs $(date -u +%F)" | sha256sum | cut -c1-16)
    if [ ! -f "$peers/peer-$key" ]; then
      sources=("deb $mirror $release main" "deb $mirror $release-updates main" "deb $security $release-security main")
      if mmdebstrap --quiet --variant=minbase --architectures=amd64 --include="$pkgs" "$release" "$W/peer.tar" "${sources[@]}" 2>"$W/err"; then
        echo "$(tar -xOf "$W/peer.tar" ./var/lib/dpkg/status | grep -c '^Package:') $(gzip -6 -c "$W/peer.tar" | wc -c)" > "$peers/peer-$key"
      else
        echo "- -" > "$peers/peer-$key"
      fi
      rm -f "$W/peer.tar"
    fi
    read -r mb_pkgs mb_gz < "$peers/peer-$key"
    if [ "$mb_gz" = - ]; then
      echo "| $img | $v | $sp_pkgs | $(mb "$sp_gz") | mmdebstrap failed | | |"
    else
      echo "| $img | $v | $sp_pkgs | $(mb "$sp_gz") | $mb_pkgs | $(mb "$mb_gz") | $(python3 -c "print(f'{$sp_gz/$mb_gz:.2f}')") |"
    fi
  done
done
