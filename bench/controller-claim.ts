/**
 * bench:controller-claim — how fast a chassis controller claims a new VIF:
 * `ovnts controller` against the real `ovn-controller`, each on its own fresh
 * setup (real NB/SB ovsdb-servers, real ovn-northd, a private userspace OVS in
 * a namespace). N logical ports exist first; then, one at a time, an OVS
 * internal port with `external_ids:iface-id` is added and the time until the
 * SB Port_Binding names the chassis is measured (an SB monitor in this
 * process timestamps the update). Prints p50/p99/max per controller.
 *
 * Not a test (timings); run: `npm run build && node dist/bench/controller-claim.js`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, deleteNetns, runId } from '../test/helpers/netns.js';
import { startOvs } from '../test/helpers/ovs.js';
import { setChassisConfig, startCentral, startRealController } from '../test/helpers/chassis.js';
import { startOvntsController } from '../test/helpers/ovnts-controller.js';
import { cleanupAll, runOk, tmpDir, waitFor } from '../test/helpers/proc.js';
import { OvsdbClient } from '../src/ovsdb/client.js';

const N = Number(process.env['BENCH_PORTS'] ?? 100);

type Kind = 'real' | 'ovnts';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

async function measure(kind: Kind): Promise<number[]> {
  const tmp = tmpDir(`ovnts-bench-claim-${kind}`);
  const dir = tmp.path;
  const central = await startCentral(dir);
  const { dbs } = central;
  const ns = await createNetns(`${runId()}-b`);
  const ovs = await startOvs({ netns: ns });
  const systemId = `bench-${kind}`;
  await setChassisConfig(ovs, { systemId, sbRemote: dbs.sbRemote });
  const cdir = join(dir, 'c');
  mkdirSync(cdir);
  const stopController =
    kind === 'real'
      ? (await startRealController(ovs, cdir)).stop
      : (await startOvntsController({ dbs, dir: cdir, log: () => undefined, ovs, systemId })).stop;
  const sb = new OvsdbClient({
    remotes: dbs.sbRemote,
    database: 'OVN_Southbound',
    tables: { Chassis: ['name'], Port_Binding: ['logical_port', 'chassis'] },
  });
  const claimedAt = new Map<string, number>();
  sb.on('change', (changes) => {
    const now = performance.now();
    for (const c of changes) {
      if (c.table !== 'Port_Binding' || c.new === null || c.new.optional('chassis') === null) continue;
      const lp = String(c.new.scalar('logical_port'));
      if (!claimedAt.has(lp)) claimedAt.set(lp, now);
    }
  });
  await sb.start();
  const out: number[] = [];
  try {
    await waitFor(() => [...sb.table('Chassis').values()].some((r) => r.scalar('name') === systemId), { what: 'chassis' });
    const args: string[] = ['ls-add', 'sw'];
    for (let i = 0; i < N; i++) args.push('--', 'lsp-add', 'sw', `p${i}`);
    await runOk('ovn-nbctl', [`--db=${dbs.nbRemote}`, '--wait=sb', ...args]);
    for (let i = 0; i < N; i++) {
      const lp = `p${i}`;
      const t0 = performance.now();
      await ovs.vsctl('add-port', 'br-int', lp, '--', 'set', 'Interface', lp, 'type=internal', `external_ids:iface-id=${lp}`);
      await waitFor(() => claimedAt.has(lp), { what: `${lp} claimed`, intervalMs: 2 });
      out.push(claimedAt.get(lp)! - t0);
    }
  } finally {
    await sb.stop();
    await stopController();
    await ovs.stop();
    await deleteNetns(ns);
    await central.stop();
    tmp.cleanup();
  }
  return out;
}

const rows: string[] = [];
for (const kind of ['real', 'ovnts'] as Kind[]) {
  const xs = await measure(kind);
  rows.push(
    `${kind.padEnd(6)} ports=${xs.length} p50=${pct(xs, 50).toFixed(1)}ms p99=${pct(xs, 99).toFixed(1)}ms max=${Math.max(...xs).toFixed(1)}ms`,
  );
}
process.stdout.write(`VIF added (ovs-vsctl add-port returned is included) -> SB Port_Binding.chassis set\n${rows.join('\n')}\n`);
await cleanupAll();
