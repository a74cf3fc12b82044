/**
 * A controller's links to its chassis' Open vSwitch cut, for the real
 * ovn-controller and for ovnts controller in the same run, each on the seed
 * lab (real databases and ovn-northd, so only the controller differs). Its
 * OVSDB connection to the local ovsdb-server and its OpenFlow connections to
 * br-int.mgmt each run through a proxy (test/helpers/cut-proxy.ts) that drops
 * them and refuses new ones for CUT_MS; the events: the OVSDB link cut, the
 * OpenFlow link cut with br-int's flows deleted behind the controller's back
 * meanwhile (only a full resync after the reconnect brings them back), and
 * both at once. After each: the cut dropped a live connection, the
 * namespaces ping each other again, `ovn-nbctl --wait=hv sync` gets through,
 * and br-int's flow table is the one before. The times from the event's start
 * are printed side by side.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeedLab, startOvnDatabases, startRealController } from '../helpers/ovn-lab.js';
import { startOvntsController } from '../helpers/ovnts-controller.js';
import { startOvsLinkProxies, type OvsLinkProxies } from '../helpers/cut-proxy.js';
import { flowKeys, flowsBack, labReachable } from '../helpers/chaos.js';
import { cleanupAll, tmpDir, waitFor } from '../helpers/proc.js';

after(cleanupAll);

const CUT_MS = Number(process.env['CHAOS_CUT_MS'] ?? 2000);
const RECOVERY_LIMIT_MS = 30_000;

type Impl = 'real' | 'ovnts';

/** Runs the three cuts against one controller; resolves to a figure line per event. */
async function cutLinks(impl: Impl): Promise<string[]> {
  const tmp = tmpDir(`ovnts-ovs-links-${impl}`);
  const dbs = await startOvnDatabases(tmp.path, 'real');
  let links: OvsLinkProxies | undefined;
  const lab = await runSeedLab({
    dbs,
    northd: 'real',
    controller: async (ctx) => {
      links = await startOvsLinkProxies(ctx.ovs!, ctx.dir);
      const via = { ...ctx, ovs: links.ovs };
      return impl === 'real' ? startRealController(via) : startOvntsController(via);
    },
  });
  try {
    for (const h of lab.hosts) assert.ok(h.address !== undefined, `${impl}: ${h.name} has a lease: ${h.dhcpError}`);
    await waitFor(() => labReachable(lab), { what: `${impl}: pings before the cuts`, timeoutMs: 30_000 });
    const before = await flowKeys(lab);
    const { ovsdb, openflow } = links!;
    const cutOpenFlow = async (): Promise<void> => {
      const cut = openflow.cut(CUT_MS);
      await lab.ovs.ofctl('del-flows', 'br-int');
      await cut;
    };
    const events: Array<[string, () => Promise<void>]> = [
      ['OVS DB link cut', () => ovsdb.cut(CUT_MS)],
      ['br-int.mgmt link cut, flows deleted', cutOpenFlow],
      ['both cut, flows deleted', async () => void (await Promise.all([ovsdb.cut(CUT_MS), cutOpenFlow()]))],
    ];
    const figures: string[] = [];
    for (const [what, event] of events) {
      const dropped = ovsdb.dropped + openflow.dropped;
      const t0 = Date.now();
      await event();
      assert.ok(ovsdb.dropped + openflow.dropped > dropped, `${impl}, ${what}: the cut dropped a live connection`);
      await waitFor(() => labReachable(lab), { what: `${impl}: pings after ${what}`, timeoutMs: RECOVERY_LIMIT_MS });
      const pinged = Date.now() - t0;
      await lab.nbctl('--wait=hv', 'sync');
      const synced = Date.now() - t0;
      await flowsBack(lab, before, `${impl}: ${what}`, RECOVERY_LIMIT_MS);
      figures.push(
        `${impl.padEnd(5)} ${what.padEnd(36)} pings again ${String(pinged).padStart(5)} ms, --wait=hv ${String(synced).padStart(5)} ms, flows as before ${String(Date.now() - t0).padStart(5)} ms`,
      );
    }
    return figures;
  } finally {
    await lab.stop();
    await dbs.stop();
  }
}

test(
  `the controller's OVSDB and OpenFlow links to OVS cut for ${CUT_MS} ms (ovn-controller and ovnts controller, same run): it reconnects, resyncs br-int's flows, pings and --wait=hv resume`,
  { timeout: 600_000 },
  async () => {
    const figures: string[] = [];
    for (const impl of ['real', 'ovnts'] as const) figures.push(...(await cutLinks(impl)));
    process.stdout.write(`# from the event's start (cut ${CUT_MS} ms)\n${figures.map((f) => `#   ${f}`).join('\n')}\n`);
  },
);
