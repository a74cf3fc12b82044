#!/bin/bash
# A longer chaos run on the seed lab: test/integration/chaos-seed-lab.test.ts with
# CHAOS_ROUNDS rounds of events — kill -9 of NB and SB ovsdb-server, northd and
# controller, cuts of the NB↔northd, SB↔northd and SB↔controller connections, and
# cuts of the controller's links to its OVS — its OVSDB connection to the local
# ovsdb-server, its OpenFlow connections to br-int.mgmt (br-int's flows deleted
# meanwhile, so only a full resync brings them back) and both at once, after each
# of which the flow table must be the one before (CHAOS_CUT_MS each, default
# 2000) — each round after the first in a random order
# from CHAOS_SEED, then ovs-vswitchd; then the end state against a fresh start
# (a fresh controller's flows, a fresh northd's SB).
# Prints the figures for the note: events, recovery p50/p99 (ms from the event's
# start until the pings pass again, and until nbctl --wait=hv sync gets through),
# writes checked, lost writes and flow or SB mismatches (the test fails on any).
#   CHAOS_ROUNDS=25 CHAOS_SEED=7 [CHAOS_LOG=FILE] bash scripts/chaos.sh      (run as root, after npm run build)
set -u
cd "$(dirname "$0")/.."
rounds=${CHAOS_ROUNDS:-10}
seed=${CHAOS_SEED:-$RANDOM}
# CHAOS_LOG=FILE keeps the test's output (it prints each event as it happens); by default a temporary file.
out=${CHAOS_LOG:-$(mktemp)}
trap 'rm -f "$out.ms" "$out.hv"; [ -n "${CHAOS_LOG:-}" ] || rm -f "$out"' EXIT
CHAOS_ROUNDS=$rounds CHAOS_SEED=$seed node --test --test-timeout=14400000 dist/test/integration/chaos-seed-lab.test.js >"$out" 2>&1
status=$?
pct() { # FILE PERCENT
  local n
  n=$(wc -l <"$1")
  [ "$n" -gt 0 ] && sed -n "$(((n * $2 + 99) / 100))p" "$1" || echo -
}
summary() { # LABEL: the events whose lines contain LABEL
  grep -E "^# .*#   $1" "$out" | grep -oE 'pings again [0-9]+ ms' | grep -oE '[0-9]+' | sort -n >"$out.ms"
  grep -E "^# .*#   $1" "$out" | grep -oE 'through at [0-9]+ ms' | grep -oE '[0-9]+' | sort -n >"$out.hv"
  printf '%-40s %4d events; pings again p50 %s p99 %s max %s ms; --wait=hv through p50 %s p99 %s max %s ms\n' "$2" \
    "$(wc -l <"$out.ms")" "$(pct "$out.ms" 50)" "$(pct "$out.ms" 99)" "$(tail -1 "$out.ms")" \
    "$(pct "$out.hv" 50)" "$(pct "$out.hv" 99)" "$(tail -1 "$out.hv")"
}
echo "chaos: seed $seed, $rounds rounds (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
for e in 'kill -9 NB' 'kill -9 SB' 'kill -9 northd' 'kill -9 controller' 'cut NB↔northd' 'cut SB↔northd' 'cut SB↔controller' \
  'cut OVS DB↔controller' 'cut br-int.mgmt↔controller' 'cut OVS DB and br-int.mgmt↔controller'; do
  summary "$e" "$e"
done
summary '' 'all events'
grep -oE "br-int's flows all back [0-9]+ ms" "$out" | sed 's/^/ovs-vswitchd restart: /'
grep -oE "connections dropped by the cuts: .*" "$out"
grep -oE "SB compared with a fresh northd's: .*" "$out"
echo "writes checked: $(grep -cE '^# .*#   .*pings again' "$out") (one nbctl ls-add after each event, each looked up in the NB at the end)"
if [ $status -eq 0 ]; then
  echo "lost writes: 0; flow mismatches: 0; fresh controller's flows equal; fresh northd's SB equal"
else
  echo "FAILED (lost writes, flow or SB mismatches, or no recovery):"
  grep -E "error:|acknowledged write|flows differ|fresh|not what|timed out" "$out" | head -20
fi
exit $status
