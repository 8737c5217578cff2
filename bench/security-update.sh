#!/usr/bin/env bash
# What a puller downloads for each catalog image's most recent security update: the runtime
# image (amd64) built without the security suite (the spec with `repositories: [{archive:
# main}]`, i.e. the release and its -updates suite) and as the catalog builds it (with the
# security suite), both with the same Spartan and the same day's mirror. For each image it
# prints the packages the security suite updates, the layers whose digest changed out of all
# layers, the compressed bytes of the changed layers (what a puller of the old image
# downloads; config and manifest not counted), the compressed bytes of the layers that hold
# the updated packages plus spartan-rootfs (the least an update can cost), and the full image.
# SPARTAN=PATH measures another Spartan binary (an older commit, to compare); by default the
# checkout's is built.
# Usage: bash bench/security-update.sh > table.md
# The mirror comes from SPARTAN_MIRROR or the host's apt sources, as Spartan reads it.
set -euo pipefail
cd "$(dirname "$0")/.."
W=$(mktemp -d /tmp/spartan-secupdate.XXXXXX)
trap 'rm -rf "$W"' EXIT
bin=${SPARTAN:-}
if [ -z "$bin" ]; then
  bin=$W/spartan
  go build -o "$bin" ./cmd/spartan
fi
cache=${SPARTAN_CACHE:-$HOME/.cache/spartan}

# Prints one table row comparing two OCI layouts (old, new) of the same image.
compare() {
  python3 - "$@" <<'PY'
import gzip, io, json, os, sys, tarfile
img, old_dir, new_dir = sys.argv[1:4]
def load(root):
    idx = json.load(open(os.path.join(root, "index.json")))
    blob = lambda d: os.path.join(root, "blobs", *d.split(":"))
    m = json.load(open(blob(idx["manifests"][0]["digest"])))
    cfg = json.load(open(blob(m["config"]["digest"])))
    names = [h["created_by"].split()[1] for h in cfg["history"]]
    layers = []
    for name, l in zip(names, m["layers"]):
        versions = {}
        with tarfile.open(fileobj=io.BytesIO(gzip.open(blob(l["digest"])).read())) as t:
            for member in t.getmembers():
                n = member.name.lstrip("./")
                if n.startswith("var/lib/dpkg/status.d/") and not n.endswith(".md5sums") and member.isfile():
                    for line in t.extractfile(member).read().decode().splitlines():
                        if line.startswith("Version:"):
                            versions[n.rsplit("/", 1)[1]] = line.split(":", 1)[1].strip()
        layers.append({"name": name, "digest": l["digest"], "size": l["size"], "versions": versions})
    return layers
old, new = load(old_dir), load(new_dir)
def mb(n): return f"{n/1e6:.2f} MB"
if [l["name"] for l in old] != [l["name"] for l in new]:
    print(f"| {img} | layers differ: {[l['name'] for l in old]} → {[l['name'] for l in new]} | | | | | |")
    sys.exit()
oldv = {p: v for l in old for p, v in l["versions"].items()}
updated, holding = [], set()
for l in new:
    for p, v in sorted(l["versions"].items()):
        if p != "spartan-rootfs" and oldv.get(p) != v:
            updated.append(f"{p} {oldv.get(p, '(new)')} → {v}")
            holding.add(l["name"])
if not updated:
    print(f"| {img} | no security update for its packages | | | | {mb(sum(l['size'] for l in new))} | |")
    sys.exit()
holding.add("spartan-rootfs")
changed = [n for o, n in zip(old, new) if o["digest"] != n["digest"]]
download = sum(l["size"] for l in changed)
least = sum(l["size"] for l in new if l["name"] in holding)
full = sum(l["size"] for l in new)
names = ", ".join(l["name"] for l in changed)
print(f"| {img} | {'; '.join(updated)} | {len(changed)} of {len(new)} ({names}) | {mb(download)} | {mb(least)} | {mb(full)} | {download/least:.2f} |")
PY
}

echo "| image | security update | layers changed | download | layers holding the update + spartan-rootfs | full image | download ÷ least |"
echo "|---|---|---|---|---|---|---|"
for spec in images/*/spartan.yaml; do
  img=$(basename "$(dirname "$spec")")
  if grep -q '^repositories:' "$spec"; then
    echo "| $img | names its own repositories: not measured | | | | | |"
    continue
  fi
  mkdir -p "$W/$img-nosec"
  { cat "$spec"; printf 'repositories:\n  - archive: main\n'; } > "$W/$img-nosec/spartan.yaml"
  ok=1
  for v in nosec full; do
    src=$W/$img-nosec
    [ "$v" = full ] && src=$spec
    if ! "$bin" --cache "$cache" build "$src" --arch amd64 --oci "$W/$img-$v-oci" >/dev/null 2>"$W/err"; then
      echo "| $img | build ($v) failed: $(tail -1 "$W/err" | tr '|' '/') | | | | | |"
      ok=0
      break
    fi
  done
  [ "$ok" = 1 ] && compare "$img" "$W/$img-nosec-oci" "$W/$img-full-oci"
done
