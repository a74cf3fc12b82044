/**
 * The native OpenFlow 1.5 connection against a real ovs-vswitchd (userspace
 * datapath, br-int with fail-mode secure), on the bridge's management
 * socket: OVN-like flows installed in one bundle read back equal through our
 * flow-stats decoder and through the real `ovs-ofctl dump-flows` (learn
 * included); a bundle
 * with one bad flow is refused whole; a paused controller action resumes
 * with NXT_RESUME and the pipeline continues; the connection survives an
 * ovs-vswitchd restart.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createNetns, runId } from '../helpers/netns.js';
import { startOvs, addIntegrationBridge } from '../helpers/ovs.js';
import { cleanupAll, runOk, spawnDaemon, waitFor } from '../helpers/proc.js';
import { OpenFlowConnection, OpenFlowError } from '../../src/openflow/connection.js';
import {
  type Action,
  type Flow,
  type FlowMod,
  type FlowStats,
  fieldRef,
  flow,
  mf,
  normalizeMatch,
  OFPMF,
  OFPP,
} from '../../src/openflow/flow.js';
import { normalizeActions } from '../../src/openflow/codec/actions.js';
import type { OfpMessage, PacketIn2 } from '../../src/openflow/codec/messages.js';

type PortStatus = Extract<OfpMessage, { kind: 'port_status' }>;
import { parseActions, parseFlow, parseGroup } from '../../src/openflow/flow-text.js';

after(cleanupAll);

const ip = 0x0800n;
const r = fieldRef;

/** OVN-like flows: registers, metadata, conjunction, ct with nat, controller with userdata and pause, resubmit, VLAN push/pop, tun_metadata0. */
const FLOWS: Flow[] = [
  flow(
    0,
    100,
    [mf('in_port', BigInt(OFPP.LOCAL))],
    [
      { type: 'set_field', field: 'metadata', value: 1n },
      { type: 'set_field', field: 'reg14', value: 1n },
      { type: 'resubmit', table: 8 },
    ],
    0x1n,
  ),
  flow(0, 0, [], []),
  flow(
    8,
    50,
    [mf('metadata', 1n), mf('dl_type', ip), mf('reg14', 1n), mf('nw_src', 0x0a000000n, 0xff000000n)],
    [
      { type: 'load', dst: r('reg10', 5, 1), value: 1n },
      { type: 'resubmit', table: 9 },
    ],
  ),
  flow(8, 40, [mf('dl_type', ip), mf('nw_proto', 6n), mf('tcp_dst', 80n)], [{ type: 'conjunction', id: 7, clause: 1, nClauses: 2 }]),
  flow(8, 40, [mf('dl_type', ip), mf('nw_dst', 0x0a010000n, 0xffff0000n)], [{ type: 'conjunction', id: 7, clause: 2, nClauses: 2 }]),
  flow(8, 40, [mf('conj_id', 7n), mf('dl_type', ip)], [{ type: 'resubmit', table: 9 }]),
  flow(
    9,
    10,
    [mf('dl_type', ip)],
    [
      {
        type: 'ct',
        commit: true,
        zone: r('reg13', 0, 16),
        table: 10,
        nat: { kind: 'src', ipMin: 0xc0000201n, ipMax: 0xc0000202n, portMin: 1000, portMax: 2000 },
        exec: [
          { type: 'set_field', field: 'ct_mark', value: 1n },
          { type: 'set_field', field: 'ct_label', value: 2n, mask: 2n },
        ],
      },
    ],
  ),
  flow(
    10,
    10,
    [mf('ct_state', 0x22n, 0x22n), mf('dl_type', ip)],
    [
      { type: 'controller', userdata: new Uint8Array([0, 0, 0, 1, 0xaa]), pause: true },
      { type: 'output', port: 2 },
    ],
  ),
  flow(11, 5, [mf('vlan_tci', 0x1033n, 0x1fffn)], [{ type: 'pop_vlan' }, { type: 'output', port: 3 }]),
  flow(
    11,
    4,
    [mf('reg15', 2n)],
    [
      { type: 'push_vlan', ethertype: 0x8100 },
      { type: 'set_field', field: 'vlan_vid', value: 0x1033n },
      { type: 'output', port: 2 },
    ],
  ),
  flow(
    12,
    10,
    [mf('tun_metadata0', 0x10000n, 0x7fff0000n)],
    [
      { type: 'move', src: r('tun_metadata0', 16, 15), dst: r('reg14', 0, 15) },
      { type: 'output_reg', src: r('reg15') },
    ],
  ),
  flow(13, 1, [], [], 0xabcn),
  {
    ...flow(
      13,
      90,
      [mf('dl_type', 0x0806n), mf('arp_op', 1n)],
      [
        { type: 'move', src: r('dl_src'), dst: r('dl_dst') },
        { type: 'set_field', field: 'dl_src', value: 0x02000000000an },
        { type: 'set_field', field: 'arp_op', value: 2n },
        { type: 'ct_clear' },
        { type: 'resubmit', port: OFPP.IN_PORT, table: 14 },
      ],
    ),
  },
  flow(
    14,
    10,
    [mf('dl_type', 0x86ddn), mf('nw_proto', 58n), mf('icmpv6_type', 135n), mf('nd_target', 0xfd000000000000000000000000000001n)],
    [
      { type: 'set_field', field: 'xxreg0', value: 0xfd000000000000000000000000000001n },
      { type: 'note', data: new Uint8Array([1, 2, 3, 4, 5, 6]) },
      { type: 'dec_ttl' },
    ],
  ),
  flow(
    15,
    100,
    [mf('dl_type', ip), mf('nw_proto', 6n)],
    parseActions(
      'set_field:0x80/0x80->reg10,learn(table=69,delete_learned,cookie=0x1234,OXM_OF_METADATA[],eth_type=0x800,NXM_OF_IP_SRC[],ip_dst=10.0.0.1,nw_proto=6,NXM_OF_TCP_SRC[]=NXM_OF_TCP_DST[],load:0x1->NXM_NX_REG10[7])',
    ),
  ),
];

const add = (f: Flow): FlowMod => ({ command: 'ADD', flow: f });

/** A flow reduced to what must survive the trip through the switch. */
function canon(f: Flow): string {
  return JSON.stringify(
    { table: f.table, priority: f.priority, cookie: f.cookie, match: normalizeMatch(f.match), actions: normalizeActions(f.actions) },
    (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v),
  );
}
const canonSet = (fs: readonly Flow[]): string[] => fs.map(canon).sort();

test(
  'OpenFlow connection on a real ovs-vswitchd: bundle install, read-back, refused bundle, pause/resume, restart',
  { timeout: 180_000 },
  async () => {
    const ns = await createNetns(`${runId()}-ofc`);
    const ovs = await startOvs({ netns: ns });
    await addIntegrationBridge(ovs, 'protocols=OpenFlow15');
    const conn = new OpenFlowConnection({ target: `unix:${join(ovs.dir, 'br-int.mgmt')}`, probeIntervalMs: 1000, backoffMaxMs: 500 });
    try {
      await conn.start();
      assert.ok(conn.features !== undefined && conn.features.nTables > 0);

      // Geneve option class 0x0102 type 0x80 length 4 → tun_metadata0, as OVN maps it.
      await conn.tlvTableMod('ADD', [{ optClass: 0x0102, optType: 0x80, optLen: 4, index: 0 }]);
      assert.deepEqual(await conn.tlvTable(), [{ optClass: 0x0102, optType: 0x80, optLen: 4, index: 0 }]);
      assert.match(await ovs.ofctl('-O', 'OpenFlow15', 'dump-tlv-map', 'br-int'), /0x102\s+0x80\s+4\s+tun_metadata0/);

      await conn.transactFlows(FLOWS.map(add));

      // Read back through our own flow-stats decoder.
      const mine: FlowStats[] = await conn.dumpFlows();
      assert.deepEqual(canonSet(mine), canonSet(FLOWS));

      // And through the real ovs-ofctl, parsed with our parser.
      const dump = await ovs.ofctl('-O', 'OpenFlow15', '--no-stats', 'dump-flows', 'br-int');
      const theirs = dump
        .split('\n')
        .filter((l) => l.includes('actions='))
        .map((l) => parseFlow(l));
      assert.deepEqual(canonSet(theirs), canonSet(FLOWS));

      // A select group (OVN's ct_lb_mark form) and a flow using it, in one bundle; read back with ovs-ofctl dump-groups.
      await conn.transactFlows([
        {
          command: 'ADD',
          groupId: 5,
          type: 'select',
          buckets: [
            {
              weight: 100,
              actions: [
                {
                  type: 'ct',
                  commit: true,
                  table: 8,
                  zone: r('reg11', 0, 16),
                  nat: { kind: 'dst', ipMin: 0x0a000001n, ipMax: 0x0a000001n, portMin: 80, portMax: 80 },
                },
              ],
            },
            {
              weight: 100,
              actions: [
                {
                  type: 'ct',
                  commit: true,
                  table: 8,
                  zone: r('reg11', 0, 16),
                  nat: { kind: 'dst', ipMin: 0x0a000002n, ipMax: 0x0a000002n, portMin: 8080, portMax: 8080 },
                },
              ],
            },
          ],
        },
        add(flow(16, 10, [mf('dl_type', ip)], [{ type: 'group', groupId: 5 }])),
      ]);
      const mineGroups = await conn.dumpGroups();
      assert.deepEqual(
        mineGroups.map((g) => ({ ...g, buckets: g.buckets.map((b) => ({ ...b, actions: normalizeActions(b.actions) })) })),
        [
          {
            groupId: 5,
            type: 'select',
            buckets: [
              {
                bucketId: 0,
                weight: 100,
                actions: normalizeActions([
                  {
                    type: 'ct',
                    commit: true,
                    table: 8,
                    zone: r('reg11', 0, 16),
                    nat: { kind: 'dst', ipMin: 0x0a000001n, ipMax: 0x0a000001n, portMin: 80, portMax: 80 },
                  },
                ]),
              },
              {
                bucketId: 1,
                weight: 100,
                actions: normalizeActions([
                  {
                    type: 'ct',
                    commit: true,
                    table: 8,
                    zone: r('reg11', 0, 16),
                    nat: { kind: 'dst', ipMin: 0x0a000002n, ipMax: 0x0a000002n, portMin: 8080, portMax: 8080 },
                  },
                ]),
              },
            ],
          },
        ],
      );
      const groups = await ovs.ofctl('-O', 'OpenFlow15', 'dump-groups', 'br-int');
      const parsedGroups = groups
        .split('\n')
        .filter((l) => l.includes('group_id='))
        .map(parseGroup);
      const canonGroups = (gs: readonly { groupId: number; type: string; buckets: readonly { actions: readonly Action[] }[] }[]): unknown =>
        gs.map((g) => ({ ...g, buckets: g.buckets.map((b) => ({ ...b, actions: normalizeActions(b.actions) })) }));
      assert.deepEqual(canonGroups(parsedGroups), canonGroups(mineGroups), 'ovs-ofctl dump-groups and our group desc decoder agree');
      assert.match(
        groups,
        /group_id=5,type=select,bucket=bucket_id:0,weight:100,actions=ct\(commit,table=8,zone=NXM_NX_REG11\[0\.\.15\],nat\(dst=10\.0\.0\.1:80\)\),bucket=bucket_id:1,weight:100,actions=ct\(commit,table=8,zone=NXM_NX_REG11\[0\.\.15\],nat\(dst=10\.0\.0\.2:8080\)\)/,
      );
      await conn.transactFlows([
        { command: 'DELETE_STRICT', flow: flow(16, 10, [mf('dl_type', ip)], []) },
        { command: 'DELETE', groupId: 5, type: 'select', buckets: [] },
      ]);
      assert.doesNotMatch(await ovs.ofctl('-O', 'OpenFlow15', 'dump-groups', 'br-int'), /group_id=5/);
      assert.deepEqual(await conn.dumpGroups(), []);
      assert.deepEqual(canonSet(await conn.dumpFlows()), canonSet(FLOWS));

      // A meter (OVN's CoPP/ACL-log kind), then removed.
      await conn.meterMod({
        command: 'ADD',
        meterId: 3,
        flags: OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS,
        bands: [{ rate: 100, burstSize: 10 }],
      });
      assert.match(
        await ovs.ofctl('-O', 'OpenFlow15', 'dump-meters', 'br-int'),
        /meter=3 pktps burst stats bands=\s*type=drop rate=100 burst_size=10/,
      );
      await conn.meterMod({ command: 'DELETE', meterId: 3, flags: 0, bands: [] });
      assert.doesNotMatch(await ovs.ofctl('-O', 'OpenFlow15', 'dump-meters', 'br-int'), /meter=3/);

      // Port description and port status.
      assert.ok((await conn.portDesc()).some((pd) => pd.portNo === OFPP.LOCAL && pd.name === 'br-int'));
      const added = new Promise<PortStatus>((resolve) =>
        conn.on('port-status', (m: PortStatus) => m.reason === 'add' && m.port.name === 'p1' && resolve(m)),
      );
      await ovs.vsctl('add-port', 'br-int', 'p1', '--', 'set', 'Interface', 'p1', 'type=internal', 'ofport_request=7');
      assert.equal((await added).port.portNo, 7);
      assert.ok((await conn.portDesc()).some((pd) => pd.portNo === 7 && pd.name === 'p1'));

      // A bundle with one bad flow (output to a reserved port number OVS refuses) changes nothing.
      const bad: FlowMod[] = [
        { command: 'DELETE', flow: { table: 0xff, priority: 0, cookie: 0n, match: [], actions: [] } },
        add(flow(20, 1, [], [{ type: 'output', port: 0xffffff00 + 0x50 }])),
      ];
      await assert.rejects(
        conn.transactFlows(bad),
        (e: unknown) => e instanceof OpenFlowError && /^OFPBAC_BAD_OUT_PORT$/.test(e.errorName),
      );
      assert.deepEqual(canonSet(await conn.dumpFlows()), canonSet(FLOWS), 'refused bundle left the table as it was');

      // Pause and resume: packet-out into table 20, which pauses at a controller action; table 21 counts the resumed packet.
      await conn.transactFlows([
        add(
          flow(
            20,
            10,
            [],
            [
              { type: 'controller', userdata: new Uint8Array([0xde, 0xad]), pause: true },
              { type: 'resubmit', table: 21 },
            ],
          ),
        ),
        add(flow(21, 10, [mf('dl_type', 0x0806n)], [])),
      ]);
      const counter = async (): Promise<bigint> => (await conn.dumpFlows(21)).find((f) => f.priority === 10)?.packetCount ?? -1n;
      const frame = Buffer.from(`ffffffffffff020000000001080600010800060400010200000000010a0000010000000000000a000002`, 'hex');
      const got = new Promise<PacketIn2>((resolve) => conn.once('packet-in2', resolve));
      await conn.packetOut(frame, [{ type: 'resubmit', table: 20 }]);
      const pin = await got;
      assert.deepEqual(Buffer.from(pin.packet), frame);
      assert.deepEqual(Buffer.from(pin.userdata ?? []), Buffer.from([0xde, 0xad]));
      assert.ok(pin.continuation !== undefined && pin.continuation.length > 0, 'paused packet-in carries a continuation');
      assert.equal(await counter(), 0n, 'nothing after the pause ran yet');
      await conn.resume(pin);
      await waitFor(async () => (await counter()) === 1n, { what: 'resumed packet counted in table 21' });

      // ovs-vswitchd restarted: the connection comes back by itself.
      const connectionsBefore = conn.connections;
      const ctlPath = ovs.vswitchdCtl;
      await runOk('ovs-appctl', ['-t', ctlPath, 'exit'], { env: ovs.env });
      await ovs.vswitchd.exited;
      const vswitchd2 = await spawnDaemon(
        'ip',
        [
          'netns',
          'exec',
          ns,
          'ovs-vswitchd',
          ovs.dbRemote,
          `--unixctl=${ctlPath}`,
          `--log-file=${join(ovs.dir, 'ovs-vswitchd2.log')}`,
          '--no-chdir',
          '-vconsole:err',
        ],
        {
          name: 'ovs-vswitchd (restarted)',
          env: { ...ovs.env },
          readyWhen: async () =>
            runOk('ovs-appctl', ['-t', ctlPath, 'version'], { env: ovs.env }).then(
              () => true,
              () => false,
            ),
        },
      );
      try {
        await waitFor(() => conn.connected && conn.connections > connectionsBefore, {
          what: 'reconnected after the ovs-vswitchd restart',
          timeoutMs: 30000,
        });
        await conn.tlvTableMod('ADD', [{ optClass: 0x0102, optType: 0x80, optLen: 4, index: 0 }]);
        await conn.transactFlows(FLOWS.map(add));
        assert.deepEqual(canonSet(await conn.dumpFlows()), canonSet(FLOWS));
      } finally {
        await runOk('ovs-appctl', ['-t', ctlPath, 'exit', '--cleanup'], { env: ovs.env }).catch(() => undefined);
        await vswitchd2.stop();
      }
    } finally {
      await conn.stop();
      await ovs.stop();
    }
  },
);
