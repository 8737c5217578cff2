#!/usr/bin/env bash
# Sizes of a generated catalog site (docs/BENCHMARKS.md, "Catalog site"): the index, the image
# pages (min / median / max), the documents beside them, the feeds, and the whole site.
# Usage: bash bench/site-sizes.sh SITE_DIR
#   The e2e suite keeps the site it generates from the real catalog:
#   SPARTAN_E2E_ARTIFACTS=/tmp/art go test -tags e2e -run TestUpdateTimeline ./e2e/ && bash bench/site-sizes.sh /tmp/art/site
set -euo pipefail
site=${1:?usage: site-sizes.sh SITE_DIR}
python3 - "$site" <<'PY'
import os, statistics, sys
root = sys.argv[1]
sizes = {}
for d, _, fs in os.walk(root):
    for f in fs:
        p = os.path.join(d, f)
        sizes[os.path.relpath(p, root)] = os.path.getsize(p)
pages = {p: n for p, n in sizes.items() if p.startswith("images/") and p.endswith(".html")}
docs = {p: n for p, n in sizes.items() if p.startswith("images/") and not p.endswith(".html")}
feeds = {p: n for p, n in sizes.items() if p.startswith("feeds/") or p == "catalog.json"}
kb = lambda n: f"{n/1000:.1f} kB"
big = max(pages, key=pages.get)
print(f"| index.html | {kb(sizes['index.html'])} |")
print(f"| image pages ({len(pages)}) | min {kb(min(pages.values()))}, median {kb(statistics.median(pages.values()))}, max {kb(pages[big])} ({big}) |")
print(f"| documents beside them ({len(docs)}: SBOMs, provenance, OpenVEX) | {kb(sum(docs.values()))} |")
print(f"| feeds and catalog.json ({len(feeds)} files) | {kb(sum(feeds.values()))} |")
print(f"| whole site ({len(sizes)} files) | {kb(sum(sizes.values()))} |")
PY
