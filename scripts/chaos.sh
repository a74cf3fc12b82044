#!/bin/bash
# A longer chaos run on the seed lab: test/integration/chaos-seed-lab.test.ts with
# CHAOS_ROUNDS rounds of kill -9 (NB and SB ovsdb-server, northd, controller; each
# round after the first in a random order from CHAOS_SEED), then ovs-vswitchd.
# Prints the figures for the note: events, recovery p50/p99 (ms from the kill until
# the pings pass again), lost writes and flow mismatches (the test fails on either).
#   CHAOS_ROUNDS=25 CHAOS_SEED=7 bash scripts/chaos.sh      (run as root, after npm run build)
set -u
cd "$(dirname "$0")/.."
rounds=${CHAOS_ROUNDS:-10}
seed=${CHAOS_SEED:-$RANDOM}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
CHAOS_ROUNDS=$rounds CHAOS_SEED=$seed node --test --test-timeout=3600000 dist/test/integration/chaos-seed-lab.test.js >"$out" 2>&1
status=$?
grep -oE 'pings again [0-9]+ ms' "$out" | grep -oE '[0-9]+' | sort -n >"$out.ms"
n=$(wc -l <"$out.ms")
pct() { [ "$n" -gt 0 ] && sed -n "$(( (n * $1 + 99) / 100 ))p" "$out.ms" || echo -; }
echo "chaos: seed $seed, $rounds rounds, $n kill -9 events + 1 ovs-vswitchd restart"
echo "recovery (kill -9 to pings passing, restart included): p50 $(pct 50) ms, p99 $(pct 99) ms, max $(tail -1 "$out.ms" 2>/dev/null) ms"
grep -oE "br-int's flows all back [0-9]+ ms" "$out" | sed 's/^/ovs-vswitchd restart: /'
if [ $status -eq 0 ]; then
  echo "lost writes: 0; flow mismatches: 0"
else
  echo "FAILED (lost writes or flow mismatches or no recovery):"
  grep -E "error:|acknowledged write|flows differ|timed out" "$out" | head -20
fi
rm -f "$out.ms"
exit $status
