/**
 * ofctrl over the native OpenFlow link on a real ovs-vswitchd, for what the
 * full-table comparison (compat/controller-native-openflow) does not reach:
 * a table holding a flow our codec cannot decode (another controller's, here
 * `fin_timeout`) is replaced whole in one bundle instead of blocking every
 * install; a bundle OVS refuses names the refused flow and changes nothing;
 * the Geneve TLV map is added once and an equal existing one is kept. The
 * ovs-ofctl link's flush is checked on the same bridge.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createNetns, runId } from '../helpers/netns.js';
import { startOvs, type OvsInstance, addIntegrationBridge } from '../helpers/ovs.js';
import { cleanupAll } from '../helpers/proc.js';
import { Ofctrl } from '../../src/controller/ofctrl.js';
import { OfctlLink, flowOfText, parseDumpLine, textFlowIdentity, type TextFlow } from '../../src/controller/ofctl-link.js';
import { OpenFlowLink } from '../../src/controller/openflow-link.js';
import { OVN_GENEVE_OPTION } from '../../src/controller/pipeline.js';

after(cleanupAll);

async function table(ovs: OvsInstance): Promise<string[]> {
  const out = await ovs.ofctl('-O', 'OpenFlow15', '--no-stats', 'dump-flows', 'br-int');
  return out
    .split('\n')
    .flatMap((l) => {
      const f = parseDumpLine(l);
      return f === undefined ? [] : [`${textFlowIdentity(f)} cookie=0x${(f.cookie ?? 0n).toString(16)} actions=${f.actions}`];
    })
    .sort();
}

const want = (flows: readonly TextFlow[]): string[] =>
  flows.map((f) => `${textFlowIdentity(f)} cookie=0x${(f.cookie ?? 0n).toString(16)} actions=${f.actions}`).sort();

const A: TextFlow[] = [
  { table: 0, priority: 100, match: 'in_port=LOCAL', actions: 'set_field:0x1->metadata,resubmit(,8)', cookie: 0x1n },
  { table: 0, priority: 0, match: '', actions: 'drop' },
  { table: 8, priority: 10, match: 'ip,reg14=0x2,nw_src=10.0.0.0/8', actions: 'set_field:0x20/0x20->reg10,resubmit(,9)' },
  {
    table: 9,
    priority: 100,
    match: 'tun_metadata0=0x10002',
    actions: 'move:NXM_NX_TUN_METADATA0[16..30]->NXM_NX_REG14[0..14],resubmit(,10)',
  },
  {
    table: 64,
    priority: 100,
    match: 'reg10=0x1/0x1',
    actions: 'push:NXM_OF_IN_PORT[],set_field:ANY->in_port,resubmit(,65),pop:NXM_OF_IN_PORT[]',
  },
];

test(
  'native link: unreadable installed flows are replaced whole; refused bundles change nothing; TLV map kept',
  { timeout: 120_000 },
  async () => {
    const ns = await createNetns(`${runId()}-nl`);
    const ovs = await startOvs({ netns: ns });
    const logs: string[] = [];
    const links: OpenFlowLink[] = [];
    const connect = async (): Promise<OpenFlowLink> => {
      const l = new OpenFlowLink({ target: `unix:${join(ovs.env['OVS_RUNDIR']!, 'br-int.mgmt')}`, log: (m) => logs.push(m) });
      links.push(l);
      l.start();
      await l.ready();
      return l;
    };
    try {
      await addIntegrationBridge(ovs);
      const first = await connect();
      await first.ensureTlvMap(OVN_GENEVE_OPTION);
      await first.ensureTlvMap(OVN_GENEVE_OPTION);
      assert.match(await ovs.ofctl('-O', 'OpenFlow15', 'dump-tlv-map', 'br-int'), /^\s*0x102\s+0x80\s+4\s+tun_metadata0\s*$/m);
      const o1 = new Ofctrl(first);
      assert.equal(await o1.install(A.map(flowOfText)), true);
      assert.deepEqual(await table(ovs), want(A));

      // A bundle with one flow OVS refuses (tun_metadata1 has no TLV mapping): rejected whole, the flow named.
      const bad: TextFlow = { table: 10, priority: 5, match: 'tun_metadata1=0x1', actions: 'drop' };
      await assert.rejects(
        o1.install([...A.slice(1), { table: 10, priority: 1, match: '', actions: 'drop' }, bad].map(flowOfText)),
        (e: Error) => {
          assert.match(e.message, /bundle add #\d+ \(ADD table=10,priority=5,tun_metadata1=0x1 actions=drop\)/);
          return true;
        },
      );
      assert.deepEqual(await table(ovs), want(A), 'nothing changed');

      // Another controller's flow with an action we do not decode: a new connection cannot read
      // the table, so its first bundle deletes everything and installs the desired table.
      await ovs.ofctl('add-flow', 'br-int', 'table=20,priority=7,tcp actions=fin_timeout(idle_timeout=5),resubmit(,21)');
      await ovs.ofctl('-O', 'OpenFlow15', 'add-flow', 'br-int', 'table=20,priority=6,arp actions=drop');
      const second = await connect();
      const o2 = new Ofctrl(second, { log: (m) => logs.push(m) });
      assert.equal(await o2.install(A.map(flowOfText)), true);
      assert.deepEqual(await table(ovs), want(A));
      assert.ok(
        logs.some((l) => /installed flows not understood/.test(l)),
        logs.join('\n'),
      );
      // Then it is back to differences only.
      assert.equal(await o2.install(A.slice(1).map(flowOfText)), true);
      assert.deepEqual(await table(ovs), want(A.slice(1)));
      assert.equal(o2.stats.flowsRemoved, 1);

      // The ovs-ofctl link honours a flush the same way (`delete` first in its bundle file).
      await ovs.ofctl('add-flow', 'br-int', 'table=20,priority=7,tcp actions=fin_timeout(idle_timeout=5),resubmit(,21)');
      await new OfctlLink({ target: 'br-int', env: { ...process.env, ...ovs.env } }).commitBundle({
        flush: true,
        add: A,
        modify: [],
        remove: [],
      });
      assert.deepEqual(await table(ovs), want(A));
    } finally {
      for (const l of links) await l.stop();
      await ovs.stop();
    }
  },
);
