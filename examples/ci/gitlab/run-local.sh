#!/usr/bin/env bash
# Runs .gitlab-ci.yml for real on this machine with gitlab-ci-local (shell executor) against
# a registry, twice: the first run plans, builds every unit in parallel jobs, stitches and
# signs the indexes; the second must build nothing. Then cosign verifies each index.
#
#   REGISTRY=127.0.0.1:5000/catalog bash examples/ci/gitlab/run-local.sh
#
# Needs: spartan (SPARTAN, default: built from this checkout), gitlab-ci-local (GITLAB_CI_LOCAL; not GCL, whose GCL_ prefix gitlab-ci-local reads as its own options) and rsync,
# cosign (COSIGN), a registry at REGISTRY, and a Debian mirror for `spartan lock`
# (SPARTAN_MIRROR or the host's apt sources). SPECS defaults to images/static images/base.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
: "${REGISTRY:?set REGISTRY=host:port/path of a registry to push to}"
GITLAB_CI_LOCAL=${GITLAB_CI_LOCAL:-gitlab-ci-local}
COSIGN=${COSIGN:-cosign}
SPECS=${SPECS:-images/static images/base}
PLAN_FLAGS=${PLAN_FLAGS:---variant runtime}
CONCURRENCY=${CONCURRENCY:-4}
work=${WORK:-$(mktemp -d)}
mkdir -p "$work/bin"
if [ -z "${SPARTAN:-}" ]; then
  (cd "$root" && go build -o "$work/bin/spartan" ./cmd/spartan)
  SPARTAN=$work/bin/spartan
fi
export PATH="$(dirname "$(command -v "$SPARTAN")"):$PATH"
export SPARTAN_CACHE=${SPARTAN_CACHE:-$work/cache}

# The project: the CI file, the specs with their locks, the matrix made from them.
proj=$work/project
rm -rf "$proj" && mkdir -p "$proj/images"
cp "$here/.gitlab-ci.yml" "$proj/"
for s in $SPECS; do
  cp -r "$root/$s" "$proj/images/"
done
cd "$proj"
for s in $SPECS; do
  "$SPARTAN" lock "$s" >/dev/null  # the runtime variant's lock; add --variant for others
done
"$SPARTAN" plan --format gitlab $PLAN_FLAGS $SPECS > spartan-matrix.yml
if [ ! -f "$work/cosign.key" ]; then
  (cd "$work" && COSIGN_PASSWORD=ci "$SPARTAN" keygen >/dev/null)
fi
git init -q . && git add -A && git -c user.name=ci -c user.email=ci@example.invalid commit -qm catalog

gcl() {
  "$GITLAB_CI_LOCAL" --shell-isolation --concurrency "$CONCURRENCY" \
    --variable "SPARTAN_REGISTRY=$REGISTRY" --variable "SPECS=$SPECS" --variable "PLAN_FLAGS=$PLAN_FLAGS" \
    --variable "COSIGN_KEY_FILE=$work/cosign.key" --variable "COSIGN_PASSWORD=ci" \
    --variable "SPARTAN_CACHE=$SPARTAN_CACHE" "$@"
}

echo "== pipeline, first run"
start=$(date +%s)
gcl 2>&1 | tee "$work/run1.log"
echo "first run: $(( $(date +%s) - start ))s"

echo "== pipeline, second run"
start=$(date +%s)
gcl 2>&1 | tee "$work/run2.log"
echo "second run: $(( $(date +%s) - start ))s"
built=$(grep -c 'pushed .*key-' "$work/run2.log" || true)
skipped=$(grep -c 'nothing to build' "$work/run2.log" || true)
echo "second run: $built units pushed, $skipped skipped"
[ "$built" -eq 0 ] || { echo "the second run built something" >&2; exit 1; }

echo "== cosign verify"
"$SPARTAN" plan --registry "$REGISTRY" $PLAN_FLAGS $SPECS
for tag in $("$SPARTAN" plan --registry "$REGISTRY" --format json $PLAN_FLAGS $SPECS | grep -o "\"$REGISTRY/[^\"]*:latest\"" | tr -d '"' | sort -u); do
  COSIGN_PASSWORD= "$COSIGN" verify --key "$work/cosign.pub" --insecure-ignore-tlog=true --allow-http-registry "$tag" >/dev/null
  echo "cosign verify $tag: ok"
done
