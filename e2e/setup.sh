#!/usr/bin/env bash
# Installs what the e2e suite needs on a Debian host: a container engine (podman + runc),
# skopeo, mmdebstrap (the benchmark's peer) and a C/C++ toolchain for the catalog's acceptance
# programs, chromium (headless) to render the HTML compare report, and musl + musl-tools for the
# Alpine image test (Debian's musl runtime packaged as apks), node and npm for the site's
# accessibility check (axe-core in headless chromium), gitlab-ci-local (npm, with rsync, which
# it copies the project with) for the GitLab pipeline test, and shellcheck, which actionlint
# runs on the GitHub workflows' scripts. Idempotent; run as root.
set -euo pipefail
need=()
for pkg in podman runc skopeo docker-registry mmdebstrap uidmap gcc g++ libssl-dev zlib1g-dev ca-certificates chromium musl musl-tools rsync shellcheck; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
# A node from elsewhere (e.g. NodeSource's nodejs, which bundles npm and conflicts with
# Debian's npm package) is kept: only a host without node or npm gets Debian's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  need+=(nodejs npm)
fi
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# gitlab-ci-local, pinned: releases after 4.64 need a newer Node.js than Debian's.
gcl_version=4.60.0
if [ "$(gitlab-ci-local --version 2>/dev/null)" != "$gcl_version" ]; then
  npm install --global --no-fund --no-audit "gitlab-ci-local@$gcl_version"
fi
