#!/bin/sh
# Builds the CNI plugin's thin client (src/cni/client/ovnts-cni.c) into dist/bin/ovnts-cni:
# static, so a runtime's exec of it costs about a millisecond. Without a C compiler the
# build goes on; bin/ovnts-cni then runs the plugin in Node (no agent).
set -e
cd "$(dirname "$0")/.."
src=src/cni/client/ovnts-cni.c
out=dist/bin/ovnts-cni
cc=${CC:-cc}
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "build-cni-client: no C compiler ($cc); $out not built, ovnts-cni will run without the agent" >&2
  exit 0
fi
mkdir -p dist/bin
"$cc" -O2 -Wall -Wextra -static -o "$out.tmp" "$src" 2>/dev/null || "$cc" -O2 -Wall -Wextra -o "$out.tmp" "$src"
mv -f "$out.tmp" "$out"
