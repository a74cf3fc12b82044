#!/usr/bin/env bash
# Builds the "network container" image of ovn-container from busybox-static and
# imports it into docker (when dockerd answers) or podman; no registry, no internet.
#   scripts/build-image.sh [docker|podman]
# ovn-container container-create does the same by itself the first time it needs it.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f dist/src/host/network-image.js ]] || npm run build >/dev/null
exec node --input-type=module -e '
const { detectRuntime, NETWORK_IMAGE } = await import("./dist/src/host/container-runtime.js");
const { buildNetworkImage } = await import("./dist/src/host/network-image.js");
const rt = process.argv[1] ?? (await detectRuntime());
if (rt !== "docker" && rt !== "podman") { console.error(`build-image.sh: unknown runtime ${rt}`); process.exit(1); }
await buildNetworkImage(rt, NETWORK_IMAGE[rt]);
console.log(`${rt}: ${NETWORK_IMAGE[rt]}`);
' "$@"
