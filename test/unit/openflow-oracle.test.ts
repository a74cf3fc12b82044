/**
 * The real `ovs-ofctl` as the oracle for the codec and the text syntax:
 * every message kind we encode, decoded by `ovs-ofctl ofp-print`, means what
 * we intended (flows are parsed back from its output with our parser and
 * compared); flows printed by our printer and re-printed by
 * `ovs-ofctl parse-flow` parse back to the same flow; error names agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOk } from '../helpers/proc.js';
import { toHex } from '../../src/openflow/codec/bytes.js';
import { normalizeActions } from '../../src/openflow/codec/actions.js';
import { errorName } from '../../src/openflow/codec/errors.js';
import {
  encodeBarrierRequest,
  encodeBundleAdd,
  encodeBundleControl,
  encodeEchoRequest,
  encodeError,
  encodeFeaturesRequest,
  encodeFlowMod,
  encodeFlowStatsRequest,
  encodeGetConfigRequest,
  encodeGroupDescRequest,
  encodeGroupMod,
  encodeMeterMod,
  encodeHello,
  encodePacketOut,
  encodePortDescRequest,
  encodeRoleRequest,
  encodeSetConfig,
  encodeSetPacketInFormat,
  encodeTlvTableMod,
  encodeTlvTableRequest,
  OFPBF,
} from '../../src/openflow/codec/messages.js';
import { type Action, type Flow, fieldRef, flow, mf, normalizeMatch, OFPMF, OFPP } from '../../src/openflow/flow.js';
import { formatActions, formatFlow, formatMatch, parseActions, parseFlow } from '../../src/openflow/flow-text.js';

const ofpPrint = (b: Uint8Array): Promise<string> => runOk('ovs-ofctl', ['ofp-print', toHex(b)]);

function canon(f: Flow): string {
  return JSON.stringify(
    {
      table: f.table,
      priority: f.priority,
      cookie: f.cookie,
      match: normalizeMatch(f.match),
      actions: normalizeActions(f.actions),
      idle: f.idleTimeout ?? 0,
      hard: f.hardTimeout ?? 0,
    },
    (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v),
  );
}

/** The flow in an ofp-print FLOW_MOD line, in add-flow syntax. */
function flowOfPrint(out: string, cookie: bigint): Flow {
  const m = /\): ADD (?:table:(\d+) )?(.*)$/m.exec(out);
  assert.ok(m !== null, out);
  const f = parseFlow(m[2] ?? '');
  return { ...f, table: Number(m[1] ?? '0'), cookie };
}

const ip = mf('dl_type', 0x0800n);
const r = fieldRef;

/** Each action with a match that satisfies its prerequisites. */
const CASES: [string, Flow][] = [
  [
    'output',
    flow(
      1,
      10,
      [ip],
      [
        { type: 'output', port: 3 },
        { type: 'output', port: OFPP.LOCAL },
        { type: 'output', port: OFPP.IN_PORT },
      ],
    ),
  ],
  [
    'output:reg',
    flow(
      1,
      10,
      [],
      [
        { type: 'output_reg', src: r('reg15') },
        { type: 'output_reg', src: r('reg14', 0, 16) },
      ],
    ),
  ],
  ['controller plain', flow(1, 10, [], [{ type: 'controller' }, { type: 'controller', maxLen: 128 }])],
  [
    'controller2',
    flow(
      1,
      10,
      [],
      [{ type: 'controller', reason: 'no_match', id: 5, maxLen: 100, userdata: new Uint8Array([0, 0, 0, 1, 2]), pause: true, meterId: 3 }],
    ),
  ],
  [
    'resubmit',
    flow(
      1,
      10,
      [],
      [
        { type: 'resubmit', table: 8 },
        { type: 'resubmit', port: 2, table: 9 },
        { type: 'resubmit', port: 7 },
      ],
    ),
  ],
  [
    'set_field/load',
    flow(
      1,
      10,
      [ip],
      [
        { type: 'set_field', field: 'reg14', value: 5n },
        { type: 'set_field', field: 'reg10', value: 0x20n, mask: 0x20n },
        { type: 'load', dst: r('reg11', 1, 3), value: 5n },
        { type: 'set_field', field: 'metadata', value: 0xffffffffffffffffn },
        { type: 'set_field', field: 'dl_src', value: 0x001122334455n },
        { type: 'set_field', field: 'nw_dst', value: 0xc0000201n },
        { type: 'set_field', field: 'xxreg1', value: 1n << 100n },
        { type: 'set_field', field: 'tun_id', value: 0xabcn },
        { type: 'set_field', field: 'pkt_mark', value: 7n },
      ],
    ),
  ],
  [
    'move',
    flow(
      1,
      10,
      [],
      [
        { type: 'move', src: r('reg14', 0, 4), dst: r('reg15', 4, 4) },
        { type: 'move', src: r('dl_src'), dst: r('dl_dst') },
        { type: 'move', src: r('xxreg0'), dst: r('xxreg1') },
      ],
    ),
  ],
  [
    'vlan',
    flow(
      1,
      10,
      [mf('vlan_tci', 0x1033n, 0x1fffn)],
      [{ type: 'pop_vlan' }, { type: 'push_vlan', ethertype: 0x8100 }, { type: 'set_field', field: 'vlan_vid', value: 0x1034n }],
    ),
  ],
  [
    'conjunction',
    flow(
      1,
      10,
      [ip],
      [
        { type: 'conjunction', id: 9, clause: 2, nClauses: 3 },
        { type: 'conjunction', id: 10, clause: 1, nClauses: 2 },
      ],
    ),
  ],
  [
    'ct nat',
    flow(
      1,
      10,
      [ip],
      [
        {
          type: 'ct',
          commit: true,
          zone: r('reg13', 0, 16),
          table: 8,
          nat: { kind: 'src', ipMin: 0x01020304n, ipMax: 0x01020305n, portMin: 100, portMax: 200, persistent: true, random: true },
          exec: [
            { type: 'set_field', field: 'ct_mark', value: 1n },
            { type: 'set_field', field: 'ct_label', value: 2n, mask: 2n },
          ],
        },
      ],
    ),
  ],
  [
    'ct plain',
    flow(
      1,
      10,
      [ip],
      [
        { type: 'ct', zone: 5, table: 3 },
        { type: 'ct', nat: {} },
        { type: 'ct', commit: true, force: true },
      ],
    ),
  ],
  ['ct alg', flow(1, 10, [ip, mf('nw_proto', 6n)], [{ type: 'ct', commit: true, alg: 21 }])],
  [
    'ct nat6',
    flow(
      1,
      10,
      [mf('dl_type', 0x86ddn)],
      [
        {
          type: 'ct',
          commit: true,
          nat: { kind: 'dst', ipv6: true, ipMin: 0xfd000000000000000000000000000001n, ipMax: 0xfd000000000000000000000000000002n },
        },
      ],
    ),
  ],
  [
    'misc',
    flow(
      1,
      10,
      [ip],
      [
        // ovs-ofctl's text parser wants meter first (it becomes an instruction before apply-actions in OpenFlow 1.1-1.4).
        { type: 'meter', meterId: 3 },
        { type: 'ct_clear' },
        { type: 'dec_ttl' },
        { type: 'dec_ttl', ids: [1, 2] },
        { type: 'note', data: new Uint8Array([1, 2, 3, 4, 5, 6]) },
        { type: 'group', groupId: 5 },
        { type: 'push', src: r('reg0') },
        { type: 'pop', dst: r('reg1', 0, 8) },
        {
          type: 'clone',
          actions: [
            { type: 'output', port: 1 },
            { type: 'resubmit', table: 4 },
          ],
        },
        { type: 'exit' },
      ],
    ),
  ],
  ['drop', flow(1, 10, [ip], [])],
  ['resubmit ct', flow(1, 10, [mf('ct_state', 0x20n, 0x30n), ip], [{ type: 'resubmit', table: 8, ct: true }])],
  [
    'check_pkt_larger',
    flow(
      1,
      10,
      [ip],
      [
        { type: 'check_pkt_larger', pktLen: 1514, dst: r('reg9', 1, 1) },
        { type: 'check_pkt_larger', pktLen: 0, dst: r('xxreg0', 127, 1) },
      ],
    ),
  ],
  // The load-balancer hairpin learn OVN's physical pipeline writes.
  [
    'learn',
    flow(
      68,
      100,
      [ip, mf('nw_proto', 6n)],
      parseActions(
        'set_field:0x80/0x80->reg10,learn(table=69,delete_learned,cookie=0x1234,OXM_OF_METADATA[],eth_type=0x800,NXM_OF_IP_SRC[],ip_dst=10.0.0.1,nw_proto=6,NXM_OF_TCP_SRC[]=NXM_OF_TCP_DST[],load:0x1->NXM_NX_REG10[7])',
      ),
    ),
  ],
  [
    'learn all parts',
    flow(
      68,
      100,
      [ip],
      parseActions(
        'learn(table=3,priority=7,idle_timeout=10,hard_timeout=20,fin_idle_timeout=1,fin_hard_timeout=2,send_flow_rem,NXM_NX_REG0[0..7]=NXM_NX_REG1[8..15],load:NXM_NX_REG2[]->NXM_NX_REG3[],output:NXM_NX_REG4[0..15])',
      ),
    ),
  ],
  [
    'matches',
    flow(
      7,
      65535,
      [
        mf('in_port', 5n),
        mf('metadata', 0x1n),
        mf('reg0', 1n, 0xffn),
        mf('reg15', 0xffffffffn),
        ...[mf('dl_type', 0x0800n), mf('nw_proto', 6n)],
        mf('dl_src', 0x020000000001n),
        mf('dl_dst', 0x010000000000n, 0x010000000000n),
        mf('nw_src', 0x0a000000n, 0xff000000n),
        mf('nw_dst', 0xc0000201n),
        mf('nw_tos', 0x10n),
        mf('nw_ttl', 3n),
        mf('ip_frag', 0n, 1n),
        mf('tcp_src', 1024n),
        mf('tcp_dst', 80n, 0xfff0n),
        mf('tcp_flags', 0x002n, 0x012n),
        mf('ct_state', 0x21n, 0x2fn),
        mf('ct_zone', 5n),
        mf('ct_mark', 1n, 1n),
        mf('ct_label', 1n << 127n, 1n << 127n),
        mf('pkt_mark', 4n),
        mf('tun_id', 0x10n),
        mf('tun_src', 0xc0000201n),
        mf('tun_dst', 0xc0000202n),
        mf('conj_id', 7n),
      ],
      [{ type: 'resubmit', table: 8 }],
      0xdeadn,
    ),
  ],
  [
    'matches v6',
    flow(
      7,
      1,
      [
        mf('dl_type', 0x86ddn),
        mf('nw_proto', 58n),
        mf('ipv6_src', 0xfe800000000000000000000000000000n, 0xffffffffffffffff0000000000000000n),
        mf('ipv6_label', 5n),
        mf('icmpv6_type', 135n),
        mf('icmpv6_code', 0n),
        mf('nd_target', 1n),
        mf('nd_sll', 0x020000000001n),
      ],
      [],
    ),
  ],
  [
    'matches arp',
    flow(
      7,
      1,
      [
        mf('dl_type', 0x0806n),
        mf('arp_op', 1n),
        mf('arp_spa', 0x0a000001n),
        mf('arp_tpa', 0x0a000000n, 0xffffff00n),
        mf('arp_sha', 0x020000000001n),
        mf('arp_tha', 0n),
      ],
      [],
    ),
  ],
  [
    'matches udp + vlan',
    flow(
      7,
      1,
      [
        mf('vlan_tci', 0x1033n, 0x1fffn),
        mf('dl_type', 0x0800n),
        mf('nw_proto', 17n),
        mf('udp_src', 68n),
        mf('udp_dst', 67n),
        mf('nw_ecn', 1n),
      ],
      [],
    ),
  ],
];

for (const [name, f] of CASES) {
  test(`ofp-print decodes our FLOW_MOD to the intended flow: ${name}`, async () => {
    const out = await ofpPrint(encodeFlowMod(1, { command: 'ADD', flow: f }));
    assert.doesNotMatch(out, /decode error|\*\*\*/, out);
    assert.equal(canon(flowOfPrint(out, f.cookie)), canon(f));
  });
  test(`our printer → ovs-ofctl parse-flow → our parser is the same flow: ${name}`, async () => {
    const text = formatFlow(f);
    const out = await runOk('ovs-ofctl', ['-O', 'OpenFlow15', 'parse-flow', text]);
    assert.equal(canon(flowOfPrint(out, f.cookie)), canon(f), `${text}\n${out}`);
    assert.equal(canon(parseFlow(text)), canon(f), 'our own parser reads our printer');
  });
  test(`our printer writes the match and actions as ovs-ofctl prints them: ${name}`, async () => {
    const out = await ofpPrint(encodeFlowMod(1, { command: 'ADD', flow: f }));
    const m = /\): ADD (?:table:\d+ )?(?:cookie:\S+ )?priority=\d+,?(\S*)(?: cookie:\S+)? actions=(.*)$/m.exec(out);
    assert.ok(m !== null, out);
    // The actions as the switch reports them back (load as set_field, xreg halves as regs).
    assert.equal(`${formatMatch(f.match)} actions=${formatActions(normalizeActions(f.actions))}`, `${m[1]} actions=${m[2]}`);
  });
}

test('ofp-print decodes every other message kind as intended', async () => {
  const expect: [Uint8Array, RegExp][] = [
    [encodeHello(1), /OFPT_HELLO \(OF1\.5\)[\s\S]*version bitmap: 0x06/],
    [encodeEchoRequest(2, new Uint8Array([1, 2])), /OFPT_ECHO_REQUEST \(OF1\.5\) \(xid=0x2\): 2 bytes of payload/],
    [encodeFeaturesRequest(3), /OFPT_FEATURES_REQUEST \(OF1\.5\) \(xid=0x3\)/],
    [encodeGetConfigRequest(4), /OFPT_GET_CONFIG_REQUEST \(OF1\.5\)/],
    [encodeSetConfig(4), /OFPT_SET_CONFIG \(OF1\.5\) \(xid=0x4\): frags=normal miss_send_len=65535/],
    [encodeBarrierRequest(5), /OFPT_BARRIER_REQUEST \(OF1\.5\) \(xid=0x5\)/],
    [encodeRoleRequest(6, 2, 7n), /OFPT_ROLE_REQUEST \(OF1\.5\) \(xid=0x6\): role=primary generation_id=7/],
    [encodeFlowStatsRequest(6), /OFPST_FLOW request \(OF1\.5\) \(xid=0x6\)/],
    [encodeFlowStatsRequest(6, 3, [mf('reg0', 1n)]), /OFPST_FLOW request \(OF1\.5\) \(xid=0x6\): table=3 reg0=0x1/],
    [encodeGroupDescRequest(7), /OFPST_GROUP_DESC request \(OF1\.5\) \(xid=0x7\): group_id=ALL/],
    [encodePortDescRequest(7), /OFPST_PORT_DESC request \(OF1\.5\) \(xid=0x7\): port=ANY/],
    [
      encodePacketOut(8, new Uint8Array(60), [{ type: 'resubmit', table: 20 }], 1),
      /OFPT_PACKET_OUT \(OF1\.5\) \(xid=0x8\): in_port=1 actions=resubmit\(,20\) data_len=60/,
    ],
    [encodePacketOut(8, new Uint8Array(60), [{ type: 'output', port: 2 }]), /in_port=CONTROLLER actions=output:2 data_len=60/],
    [encodeSetPacketInFormat(9), /NXT_SET_PACKET_IN_FORMAT \(OF1\.5\) \(xid=0x9\): format=nxt_packet_in2/],
    [
      encodeTlvTableMod(10, 'ADD', [{ optClass: 0x102, optType: 0x80, optLen: 4, index: 0 }]),
      /NXT_TLV_TABLE_MOD[\s\S]*ADD mapping table:[\s\S]*0x102\s+0x80\s+4\s+tun_metadata0/,
    ],
    [encodeTlvTableMod(10, 'CLEAR', []), /NXT_TLV_TABLE_MOD[\s\S]*CLEAR/],
    [encodeTlvTableRequest(11), /NXT_TLV_TABLE_REQUEST \(OF1\.5\)/],
    [
      encodeBundleControl(12, 7, 'OPEN_REQUEST', OFPBF.ATOMIC | OFPBF.ORDERED),
      /OFPT_BUNDLE_CONTROL[\s\S]*bundle_id=0x7 type=OPEN_REQUEST flags=atomic ordered/,
    ],
    [encodeBundleControl(12, 7, 'COMMIT_REQUEST', OFPBF.ATOMIC), /type=COMMIT_REQUEST flags=atomic/],
    [encodeBundleControl(12, 7, 'DISCARD_REQUEST'), /type=DISCARD_REQUEST/],
    [
      encodeBundleAdd(
        13,
        7,
        encodeFlowMod(13, { command: 'DELETE', flow: { table: 255, priority: 0, cookie: 0n, match: [], actions: [] } }),
        OFPBF.ATOMIC,
      ),
      /OFPT_BUNDLE_ADD_MESSAGE[\s\S]*bundle_id=0x7 flags=atomic[\s\S]*OFPT_FLOW_MOD \(OF1\.5\) \(xid=0xd\): DEL table:255 priority=0 actions=drop/,
    ],
    [
      encodeFlowMod(14, { command: 'DELETE_STRICT', flow: { table: 3, priority: 5, cookie: 0n, match: [mf('reg0', 1n)], actions: [] } }),
      /DEL_STRICT table:3 priority=5,reg0=0x1 actions=drop/,
    ],
    [
      encodeFlowMod(15, {
        command: 'MODIFY',
        cookieMask: 0xffn,
        flow: { table: 3, priority: 5, cookie: 0x12n, match: [], actions: [{ type: 'output', port: 1 }] },
      }),
      /MOD table:3 priority=5 cookie:0x12\/0xff actions=output:1/,
    ],
    [
      encodeGroupMod(17, {
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
                zone: fieldRef('reg11', 0, 16),
                nat: { kind: 'dst', ipMin: 0x0a000001n, ipMax: 0x0a000001n, portMin: 80, portMax: 80 },
              },
            ],
          },
          { bucketId: 7, weight: 50, actions: [{ type: 'output', port: 2 }] },
        ],
      }),
      /OFPT_GROUP_MOD \(OF1\.5\) \(xid=0x11\):\s+ADD group_id=5,type=select,bucket=bucket_id:0,weight:100,actions=ct\(commit,table=8,zone=NXM_NX_REG11\[0\.\.15\],nat\(dst=10\.0\.0\.1:80\)\),bucket=bucket_id:7,weight:50,actions=output:2/,
    ],
    [
      encodeGroupMod(18, {
        command: 'MODIFY',
        groupId: 6,
        type: 'ff',
        buckets: [{ watchPort: 3, actions: [{ type: 'output', port: 3 }] }],
      }),
      /MOD group_id=6,type=ff,bucket=bucket_id:0,watch_port:3,actions=output:3/,
    ],
    [encodeGroupMod(19, { command: 'DELETE', groupId: 5, type: 'all', buckets: [] }), /DEL group_id=5,type=all/],
    [
      encodeMeterMod(20, {
        command: 'ADD',
        meterId: 3,
        flags: OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS,
        bands: [{ rate: 100, burstSize: 10 }],
      }),
      /OFPT_METER_MOD \(OF1\.5\) \(xid=0x14\): ADD meter=3 pktps burst stats bands=\s*type=drop rate=100 burst_size=10/,
    ],
    [encodeMeterMod(21, { command: 'DELETE', meterId: 3, flags: 0, bands: [] }), /DEL meter=3/],
    [
      encodeFlowMod(16, { command: 'DELETE', outPort: 4, flow: { table: 255, priority: 0, cookie: 0n, match: [], actions: [] } }),
      /DEL table:255 priority=0 out_port:4 actions=drop/,
    ],
  ];
  for (const [b, re] of expect) assert.match(await ofpPrint(b), re);
});

test('error names agree with ofp-print', async () => {
  for (const [type, code] of [
    [1, 6],
    [2, 4],
    [4, 9],
    [5, 0],
    [17, 13],
    [3, 1],
  ] as const) {
    const out = await ofpPrint(encodeError(1, type, code, encodeBarrierRequest(1)));
    assert.ok(out.includes(errorName(type, code)), `${errorName(type, code)} in\n${out}`);
  }
});

void (0 as unknown as Action);
