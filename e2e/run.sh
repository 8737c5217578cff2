#!/usr/bin/env bash
# Runs the end-to-end suite: real Debian mirror (from the host's apt sources or SPARTAN_MIRROR),
# real podman + runc. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash e2e/setup.sh
# cosign and syft take minutes to `go install`: keep them between runs on this machine.
mkdir -p "$HOME/go/bin-cache"
exec go test -tags e2e -count=1 -timeout 80m -v ./e2e/... "$@"
