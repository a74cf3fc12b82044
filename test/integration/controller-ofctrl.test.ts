/**
 * ofctrl against a real ovs-vswitchd (userspace datapath, br-int with
 * fail-mode secure), through the ovs-ofctl link: the desired table is
 * installed exactly; a second ofctrl (a restarted controller) reads the
 * installed flows and sends only the difference — unchanged flows keep their
 * packet counters, so they were never removed or re-added; a difference with
 * one flow OVS refuses is rejected whole and nothing changes.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetns, runId } from '../helpers/netns.js';
import { startOvs, type OvsInstance, addIntegrationBridge } from '../helpers/ovs.js';
import { cleanupAll } from '../helpers/proc.js';
import { Ofctrl } from '../../src/controller/ofctrl.js';
import { OfctlLink, parseDumpLine, textFlowContent, textFlowIdentity, type TextFlow } from '../../src/controller/ofctl-link.js';

after(cleanupAll);

/** The installed table as identity → content, read with the real ovs-ofctl. */
async function installed(ovs: OvsInstance): Promise<Map<string, string>> {
  const out = await ovs.ofctl('-O', 'OpenFlow15', '--no-stats', 'dump-flows', 'br-int');
  const m = new Map<string, string>();
  for (const l of out.split('\n')) {
    const f = parseDumpLine(l);
    if (f !== undefined) m.set(textFlowIdentity(f), textFlowContent(f));
  }
  return m;
}

function expected(flows: readonly TextFlow[]): Map<string, string> {
  return new Map(flows.map((f) => [textFlowIdentity(f), textFlowContent(f)]));
}

/** n_packets of the flow in table 0 matching in_port=LOCAL. */
async function localCounter(ovs: OvsInstance): Promise<number> {
  const out = await ovs.ofctl('-O', 'OpenFlow15', 'dump-flows', 'br-int', 'table=0,in_port=LOCAL');
  return Number(/n_packets=(\d+)/.exec(out)?.[1] ?? '-1');
}

// An Ethernet frame: broadcast dst, src 02:00:00:00:00:01, ARP ethertype, zero payload.
const FRAME = `ffffffffffff020000000001${'0806'}${'00'.repeat(28)}`;

const A: TextFlow[] = [
  { table: 0, priority: 100, match: 'in_port=LOCAL', actions: 'resubmit(,8)', cookie: 0x1n },
  { table: 0, priority: 0, match: '', actions: 'drop' },
  { table: 8, priority: 50, match: 'metadata=0x1,dl_src=01:00:00:00:00:00/01:00:00:00:00:00', actions: 'drop', cookie: 0xabcn },
  { table: 8, priority: 10, match: 'ip,reg14=0x2,nw_src=10.0.0.0/8', actions: 'set_field:0x20/0x20->reg10,resubmit(,9)' },
  { table: 8, priority: 5, match: 'arp', actions: 'resubmit(,9)' },
  { table: 9, priority: 0, match: '', actions: 'drop' },
];

test(
  'ofctrl on a real ovs-vswitchd: exact install, reconcile without flushing, refused bundles change nothing',
  { timeout: 120_000 },
  async () => {
    const ns = await createNetns(`${runId()}-of`);
    const ovs = await startOvs({ netns: ns });
    try {
      await addIntegrationBridge(ovs);
      const link = new OfctlLink({ target: 'br-int', env: { ...process.env, ...ovs.env } });
      const first = new Ofctrl(link);
      assert.equal(await first.install(A), true);
      assert.deepEqual(await installed(ovs), expected(A));

      // Traffic on the first flow: its counter must survive the reconcile below.
      await ovs.ofctl('-O', 'OpenFlow15', 'packet-out', 'br-int', `in_port=LOCAL packet=${FRAME} actions=resubmit(,0)`);
      const before = await localCounter(ovs);
      assert.equal(before, 1);

      // A restarted controller: new ofctrl, same switch; one flow changed, one removed, one added.
      const B: TextFlow[] = [
        A[0]!,
        A[1]!,
        A[2]!,
        { ...A[3]!, actions: 'set_field:0x20/0x20->reg10,resubmit(,10)' },
        { table: 10, priority: 0, match: '', actions: 'drop' },
        A[5]!,
      ];
      const second = new Ofctrl(link);
      await second.install(B);
      assert.deepEqual(await installed(ovs), expected(B));
      assert.equal(second.stats.reconciles, 1);
      assert.equal(second.stats.flowsAdded + second.stats.flowsModified + second.stats.flowsRemoved, 3);
      assert.equal(await localCounter(ovs), before, 'unchanged flow kept its counter (not re-added)');

      // One flow OVS refuses (output to a group that does not exist): nothing of the bundle applies.
      const bad: TextFlow[] = [
        ...B,
        { table: 11, priority: 1, match: '', actions: 'group:77' },
        { table: 12, priority: 1, match: '', actions: 'drop' },
      ];
      await assert.rejects(second.install(bad), /OFPBAC_BAD_OUT_GROUP[\s\S]*OFPBFC_MSG_FAILED/);
      assert.deepEqual(await installed(ovs), expected(B));
      // The next install re-reads the table and converges.
      await second.install(A);
      assert.deepEqual(await installed(ovs), expected(A));
    } finally {
      await ovs.stop();
    }
  },
);
