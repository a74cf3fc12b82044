/**
 * The physical flows (src/controller/physical.ts) over a synthetic SB: a VIF
 * with two container ports nested in it (VLAN 10 and 20), a logical switch
 * patched to a router, a port on a remote chassis behind a Geneve tunnel, a
 * multicast group over all of them, logical flows on a datapath group that is
 * only partly local, a tagged flow of a remote port and an unsupported action.
 * Every flow text is also fed to the real `ovs-ofctl parse-flows`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Row } from '../../src/ovsdb/client/replica.js';
import type { Atom, Datum } from '../../src/ovsdb/datum.js';
import { computeDesiredFlows as computeModel, type ComputeOptions, type LocalState } from '../../src/controller/physical.js';
import { LflowCache } from '../../src/controller/lflow/translate.js';
import type { SbView } from '../../src/controller/lflow/translate.js';
import { textFlowOf, type TextFlow } from '../../src/controller/ofctl-link.js';
import { runOk, tmpDir } from '../helpers/proc.js';

type Col = Atom | readonly Atom[] | Readonly<Record<string, Atom>>;

function datum(v: Col): Datum {
  if (Array.isArray(v)) return { keys: v as readonly Atom[] };
  if (typeof v === 'object' && v !== null) {
    const e = Object.entries(v as Record<string, Atom>).sort(([a], [b]) => (a < b ? -1 : 1));
    return { keys: e.map(([k]) => k), values: e.map(([, x]) => x) };
  }
  return { keys: [v] };
}

const u = (n: number): string => `00000000-0000-0000-0000-${n.toString(16).padStart(12, '0')}`;

class Sb implements SbView {
  private readonly tables = new Map<string, Map<string, Row>>();
  add(table: string, uuid: string, cols: Record<string, Col>): this {
    let t = this.tables.get(table);
    if (t === undefined) this.tables.set(table, (t = new Map<string, Row>()));
    t.set(uuid, new Row(table, uuid, Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, datum(v)]))));
    return this;
  }
  delete(table: string, uuid: string): this {
    this.tables.get(table)?.delete(uuid);
    return this;
  }
  table(name: string): ReadonlyMap<string, Row> {
    return this.tables.get(name) ?? new Map();
  }
}

const C_LOCAL = u(0xc1);
const C_REMOTE = u(0xc2);
const LS = u(0xd1);
const LR = u(0xd2);
const FAR = u(0xd3);

function pb(name: string, n: number, dp: string, key: number, extra: Record<string, Col> = {}): [string, string, Record<string, Col>] {
  return [
    'Port_Binding',
    u(n),
    { logical_port: name, datapath: dp, tunnel_key: key, type: '', options: {}, chassis: [], port_security: [], ...extra },
  ];
}

function lflow(n: number, cols: Record<string, Col>): [string, string, Record<string, Col>] {
  return [
    'Logical_Flow',
    u(n),
    { logical_datapath: [], logical_dp_group: [], pipeline: 'ingress', table_id: 0, priority: 100, tags: {}, ...cols },
  ];
}

function scenario(): { sb: Sb; local: LocalState } {
  const sb = new Sb()
    .add('Chassis', C_LOCAL, { name: 'ch-local', other_config: { 'ct-no-masked-label': 'true' } })
    .add('Chassis', C_REMOTE, { name: 'ch-remote', other_config: {} })
    .add('Datapath_Binding', LS, { tunnel_key: 1, external_ids: { 'logical-switch': u(0x51) } })
    .add('Datapath_Binding', LR, { tunnel_key: 2, external_ids: { 'logical-router': u(0x52) } })
    .add('Datapath_Binding', FAR, { tunnel_key: 3, external_ids: { 'logical-switch': u(0x53) } })
    .add('Logical_DP_Group', u(0xe1), { datapaths: [LS, FAR] })
    .add('SB_Global', u(0xf1), { options: {} })
    .add('Load_Balancer', u(0xab1), {
      name: 'lb1',
      protocol: ['udp'],
      vips: { '10.0.0.100:53': '10.0.0.1:5353' },
      datapaths: [LS],
      datapath_group: [],
    })
    .add('Load_Balancer', u(0xab2), {
      name: 'far',
      protocol: ['tcp'],
      vips: { '10.9.0.100:80': '10.9.0.1:80' },
      datapaths: [FAR],
      datapath_group: [],
    });
  const rows = [
    pb('vm', 0x101, LS, 1, { chassis: [C_LOCAL], port_security: ['0a:00:00:00:00:01 10.0.0.1'] }),
    pb('c10', 0x102, LS, 2, { chassis: [C_LOCAL], parent_port: ['vm'], tag: [10] }),
    pb('c20', 0x103, LS, 3, { chassis: [C_LOCAL], parent_port: ['vm'], tag: [20] }),
    pb('ls-lr', 0x104, LS, 4, { type: 'patch', options: { peer: 'lr-ls' } }),
    pb('lr-ls', 0x105, LR, 1, { type: 'patch', options: { peer: 'ls-lr' } }),
    pb('remote', 0x106, LS, 5, { chassis: [C_REMOTE] }),
    [
      'Multicast_Group',
      u(0x201),
      { name: '_MC_flood', datapath: LS, tunnel_key: 0x8000, ports: [u(0x101), u(0x102), u(0x103), u(0x104), u(0x106)] },
    ],
    lflow(0x301, { logical_dp_group: [u(0xe1)], match: 'ip4', actions: 'next;' }),
    lflow(0x302, { logical_datapath: [LS], table_id: 1, match: 'inport == "remote"', actions: 'next;', tags: { in_out_port: 'remote' } }),
    lflow(0x303, { logical_datapath: [LS], table_id: 2, match: '1', actions: 'reg0[0] = dns_lookup(); next;' }),
    lflow(0x304, { logical_datapath: [LR], pipeline: 'egress', table_id: 0, match: 'outport == "lr-ls"', actions: 'output;' }),
  ] as const;
  for (const [t, id, cols] of rows) sb.add(t, id, cols);
  const local: LocalState = {
    chassisUuid: C_LOCAL,
    chassisName: 'ch-local',
    vifs: [{ logicalPort: 'vm', ofport: 7 }],
    containers: [
      { logicalPort: 'c10', ofport: 7, parent: 'vm', tag: 10 },
      { logicalPort: 'c20', ofport: 7, parent: 'vm', tag: 20 },
    ],
    otherResident: [],
    localDatapaths: new Set([LS, LR]),
    ctZones: new Map([
      ['vm', 1],
      ['c10', 2],
      ['c20', 3],
      [`${LS}_dnat`, 4],
      [`${LS}_snat`, 5],
      [`${LR}_dnat`, 6],
      [`${LR}_snat`, 7],
    ]),
    tunnels: new Map([['ch-remote', { ofport: 9, type: 'geneve' }]]),
    localnetPorts: new Map(),
  };
  return { sb, local };
}

/** The flows as ovs-ofctl prints them (the assertions below are OVS's text). */
const computeDesiredFlows = (sb: SbView, local: LocalState, opts?: ComputeOptions): TextFlow[] =>
  computeModel(sb, local, opts).map(textFlowOf);

const find = (flows: readonly TextFlow[], table: number, match: string): TextFlow[] =>
  flows.filter((f) => f.table === table && f.match === match);
const one = (flows: readonly TextFlow[], table: number, match: string): string => {
  const fs = find(flows, table, match);
  assert.equal(fs.length, 1, `one flow in table ${table} on ${match}: ${JSON.stringify(fs.map((f) => `${f.match} actions=${f.actions}`))}`);
  return fs[0]!.actions;
};

test('physical: VIF, nested containers, patch, tunnel, multicast', () => {
  const { sb, local } = scenario();
  const log: string[] = [];
  const flows = computeDesiredFlows(sb, local, { log: (m) => log.push(m) });

  // Ingress from the VIF and from the containers' VLANs on the same OpenFlow port.
  assert.equal(
    one(flows, 0, 'in_port=7'),
    'set_field:0x1->reg13,set_field:0x4->reg11,set_field:0x5->reg12,set_field:0x1->metadata,set_field:0x1->reg14,resubmit(,8)',
  );
  assert.equal(
    one(flows, 0, 'in_port=7,dl_vlan=10'),
    'set_field:0x20/0x20->reg10,pop_vlan,set_field:0x2->reg13,set_field:0x4->reg11,set_field:0x5->reg12,set_field:0x1->metadata,set_field:0x2->reg14,resubmit(,8)',
  );
  assert.equal(find(flows, 0, 'in_port=7,dl_vlan=10')[0]!.priority, 150);
  // Delivery: the VIF untagged, containers tagged on the parent's port.
  assert.equal(one(flows, 65, 'reg15=0x1,metadata=0x1'), 'output:7');
  assert.equal(one(flows, 65, 'reg15=0x3,metadata=0x1'), 'push_vlan:0x8100,set_field:4116->vlan_vid,output:7,pop_vlan');
  // Siblings and parent share in_port: containers are always delivered; the parent when the packet came from a container.
  assert.ok(one(flows, 64, 'reg15=0x2,metadata=0x1').startsWith('push:NXM_OF_IN_PORT[],set_field:ANY->in_port'));
  assert.ok(one(flows, 64, 'reg10=0x20/0x20,reg15=0x1,metadata=0x1').includes('resubmit(,65)'));
  assert.equal(find(flows, 64, 'reg10=0x1/0x1,reg15=0x2,metadata=0x1').length, 0);
  // Logical patch into the router's ingress with the router's zones.
  assert.match(
    one(flows, 65, 'reg15=0x4,metadata=0x1'),
    /^clone\(ct_clear,.*set_field:0x6->reg11,set_field:0x7->reg12,set_field:0x2->metadata,set_field:0x1->reg14,.*resubmit\(,8\)\)$/,
  );
  assert.equal(one(flows, 40, 'reg15=0x4,metadata=0x1'), 'set_field:0x4->reg11,set_field:0x5->reg12,resubmit(,41)');
  // The remote port: Geneve with the datapath in tun_id and ports in tun_metadata0; tunnel input.
  assert.equal(
    one(flows, 39, 'reg15=0x5,metadata=0x1'),
    'set_field:0x1/0xffffff->tun_id,set_field:0x5->tun_metadata0,move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30],output:9,resubmit(,40)',
  );
  assert.match(one(flows, 0, 'in_port=9'), /^move:NXM_NX_TUN_ID\[0\.\.23\]->OXM_OF_METADATA\[0\.\.23\],.*resubmit\(,40\)$/);
  // Multicast: local members in 40, the patch member and the tunnel in 39.
  assert.equal(
    one(flows, 40, 'reg15=0x8000,metadata=0x1'),
    'set_field:0x1->reg13,set_field:0x1->reg15,resubmit(,41),set_field:0x2->reg13,set_field:0x2->reg15,resubmit(,41),set_field:0x3->reg13,set_field:0x3->reg15,resubmit(,41),set_field:0x8000->reg15',
  );
  assert.equal(
    one(flows, 39, 'reg15=0x8000,metadata=0x1'),
    'set_field:0x4->reg15,resubmit(,41),set_field:0x8000->reg15,set_field:0x1/0xffffff->tun_id,set_field:0x8000->tun_metadata0,move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30],output:9,resubmit(,40)',
  );
  // Port security of the VIF.
  assert.equal(one(flows, 73, 'ip,reg14=0x1,metadata=0x1,dl_src=0a:00:00:00:00:01,nw_src=10.0.0.1'), 'set_field:0/0x1000->reg10');
  assert.equal(one(flows, 75, 'reg15=0x1,metadata=0x1'), 'set_field:0x1000/0x1000->reg10');

  // Load-balancer hairpin for the local switch's LB only; ct_label because not every chassis has ct-no-masked-label.
  assert.equal(one(flows, 70, 'udp,reg1=0xa000064,reg2=0x35/0xffff'), 'ct(commit,zone=NXM_NX_REG12[0..15],nat(src=10.0.0.100))');
  assert.equal(
    one(flows, 68, 'ct_label=0x2/0x2,udp,reg1=0xa000064,reg2=0x35/0xffff,nw_src=10.0.0.1,nw_dst=10.0.0.1,tp_dst=5353'),
    `set_field:0x80/0x80->reg10,learn(table=69,delete_learned,OXM_OF_METADATA[],eth_type=0x800,NXM_OF_IP_SRC[],ip_dst=10.0.0.100,nw_proto=17,NXM_OF_UDP_SRC[]=NXM_OF_UDP_DST[],load:0x1->NXM_NX_REG10[7])`,
  );
  assert.equal(flows.filter((f) => f.match.includes('reg1=0xa090064')).length, 0);

  // Logical flows: the datapath group only where it is local; a remote port's tagged flow nowhere; bad actions logged.
  assert.deepEqual(
    find(flows, 8, 'ip,metadata=0x1').map((f) => f.actions),
    ['resubmit(,9)'],
  );
  assert.equal(flows.filter((f) => f.match.includes('metadata=0x3')).length, 0);
  assert.equal(flows.filter((f) => f.table === 9 && f.match.includes('reg14=0x5')).length, 0);
  assert.equal(one(flows, 42, 'reg15=0x1,metadata=0x2'), 'resubmit(,64)');
  assert.equal(log.length, 1);
  assert.match(log[0]!, /dns_lookup is not supported/);

  // No two flows with the same table, priority and match (ofctrl's identity).
  const ids = flows.map((f) => `${f.table}/${f.priority}/${f.match.split(',').sort().join(',')}`);
  assert.equal(new Set(ids).size, ids.length);
});

test('physical: the container moves out (its parent leaves) and the flows follow', () => {
  const { sb, local } = scenario();
  const flows = computeDesiredFlows(sb, { ...local, vifs: [], containers: [] });
  assert.equal(find(flows, 0, 'in_port=7').length + find(flows, 0, 'in_port=7,dl_vlan=10').length, 0);
  assert.equal(find(flows, 65, 'reg15=0x2,metadata=0x1').length, 0);
  // The multicast group has no local member left: no local-output flow for it.
  assert.equal(find(flows, 40, 'reg15=0x8000,metadata=0x1').length, 0);
});

test('physical: every flow is valid ovs-ofctl syntax (real ovs-ofctl parse-flows)', async () => {
  const { sb, local } = scenario();
  const flows = computeDesiredFlows(sb, local);
  const dir = tmpDir('ovnts-physical-parse');
  try {
    const file = join(dir.path, 'flows');
    writeFileSync(
      file,
      flows.map((f) => `table=${f.table},priority=${f.priority}${f.match === '' ? '' : `,${f.match}`} actions=${f.actions}`).join('\n') +
        '\n',
    );
    const out = await runOk('ovs-ofctl', ['-O', 'OpenFlow15', 'parse-flows', file]);
    assert.equal(out.split('\n').filter((l) => l.includes('OFPT_FLOW_MOD')).length, flows.length);
  } finally {
    dir.cleanup();
  }
});

test('cache: unchanged logical flows are not translated again, and the result equals a full recompute', () => {
  const { sb, local } = scenario();
  const cache = new LflowCache();
  const key = (fs: readonly TextFlow[]): string[] => fs.map((f) => `${f.table}/${f.priority}/${f.match} ${f.actions}`).sort();
  const full = key(computeDesiredFlows(sb, local));
  assert.deepEqual(key(computeDesiredFlows(sb, local, { cache })), full);
  assert.equal(cache.stats.reused, 0);
  assert.deepEqual(key(computeDesiredFlows(sb, local, { cache })), full);
  assert.deepEqual(cache.stats, { translated: 0, reused: 4 });
  // One logical flow changes its actions: only it is translated again.
  sb.add('Logical_Flow', u(0x301), {
    logical_datapath: [],
    logical_dp_group: [u(0xe1)],
    pipeline: 'ingress',
    table_id: 0,
    priority: 100,
    tags: {},
    match: 'ip4',
    actions: 'next(3);',
  });
  const changed = key(computeDesiredFlows(sb, local, { cache }));
  assert.deepEqual(cache.stats, { translated: 1, reused: 3 });
  assert.deepEqual(changed, key(computeDesiredFlows(sb, local)));
  assert.ok(changed.some((f) => f.includes('resubmit(,11)')));
  // The local facts change (the router is no longer local): only the router's flow is translated again, still equal.
  const fewer = { ...local, localDatapaths: new Set([LS]) };
  assert.deepEqual(key(computeDesiredFlows(sb, fewer, { cache })), key(computeDesiredFlows(sb, fewer)));
  assert.deepEqual(cache.stats, { translated: 1, reused: 3 });
  // The remote port becomes resident here: only the flow tagged with it is translated again.
  const bound = { ...fewer, otherResident: ['remote'] };
  assert.deepEqual(key(computeDesiredFlows(sb, bound, { cache })), key(computeDesiredFlows(sb, bound)));
  assert.deepEqual(cache.stats, { translated: 1, reused: 3 });
  // A logical flow goes away: nothing is translated, its flows are gone.
  sb.delete('Logical_Flow', u(0x304));
  assert.deepEqual(key(computeDesiredFlows(sb, local, { cache })), key(computeDesiredFlows(sb, local)));
});

test('physical: VXLAN carries outport and datapath in the VNI (as ovn-controller encodes them)', () => {
  const { sb, local } = scenario();
  const flows = computeDesiredFlows(sb, { ...local, tunnels: new Map([['ch-remote', { ofport: 9, type: 'vxlan' }]]) });
  assert.equal(one(flows, 39, 'reg15=0x5,metadata=0x1'), 'set_field:0x5001/0xffffff->tun_id,output:9,resubmit(,40)');
  assert.match(one(flows, 39, 'reg15=0x8000,metadata=0x1'), /set_field:0x800001\/0xffffff->tun_id,output:9,resubmit\(,40\)$/);
  assert.equal(
    one(flows, 0, 'in_port=9'),
    'move:NXM_NX_TUN_ID[12..23]->NXM_NX_REG15[0..11],move:NXM_NX_TUN_ID[0..11]->OXM_OF_METADATA[0..11],resubmit(,40)',
  );
  assert.equal(
    one(flows, 0, 'tun_id=0x800000/0x800000,in_port=9'),
    'set_field:0x8000/0x8000->reg15,move:NXM_NX_TUN_ID[12..22]->NXM_NX_REG15[0..10],move:NXM_NX_TUN_ID[0..11]->OXM_OF_METADATA[0..11],resubmit(,40)',
  );
});
