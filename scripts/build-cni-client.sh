#!/bin/sh
# Builds the resident agent's thin clients (src/cni/client/*.c) into dist/bin/: ovnts-cni
# (the CNI plugin) and ovn-container. Static, so an exec costs about a millisecond. Without
# a C compiler the build goes on; bin/ovnts-cni and bin/ovn-container then run in Node.
set -e
cd "$(dirname "$0")/.."
cc=${CC:-cc}
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "build-cni-client: no C compiler ($cc); dist/bin/ovnts-cni and dist/bin/ovn-container not built, they will run without the agent" >&2
  exit 0
fi
mkdir -p dist/bin
for name in ovnts-cni ovn-container; do
  src=src/cni/client/$name.c
  out=dist/bin/$name
  "$cc" -O2 -Wall -Wextra -static -o "$out.tmp" "$src" 2>/dev/null || "$cc" -O2 -Wall -Wextra -o "$out.tmp" "$src"
  mv -f "$out.tmp" "$out"
done
