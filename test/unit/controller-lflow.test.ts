/**
 * Logical flows → OpenFlow (src/controller/lflow): the symbol → OVS field
 * mapping, action translation goldens (expected strings recorded from the
 * real ovn-controller 23.03's `dump-flows` for the seed lab's logical flows),
 * and a property: for random packets, our OpenFlow matches — interpreted by a
 * tiny matcher over the field tests — select the same packets as the lflow
 * library's `evaluate` of the logical match.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evaluate, packetFields, parseMatch, type Packet } from '../../src/lib/lflow/index.js';
import { planMatch, toMatch, translateMatch, type MatchContext, type OfMatch } from '../../src/controller/lflow/match.js';
import { formatActions, formatMatch as formatModelMatch } from '../../src/openflow/flow-text.js';
import { translateActions, type ActionContext } from '../../src/controller/lflow/actions.js';
import { BASE_FIELDS } from '../../src/controller/lflow/fields.js';
import { encodeOfpacts, dotted } from '../../src/controller/lflow/ofpacts.js';

const PORTS = new Map([
  ['p1', 1],
  ['p2', 2],
  ['p3', 3],
  ['dmz-tenant1', 1],
  ['_MC_flood_l2', 0x8004],
]);
const ctx: MatchContext = {
  portKey: (n) => (n === 'none' ? 0 : PORTS.get(n)),
  isResident: (p) => p === 'p1',
  addressSet: (n) => (n === 'as1' ? ['10.0.0.1', '10.0.0.2'] : undefined),
  portGroup: (n) => (n === 'pg1' ? ['p1', 'p2'] : undefined),
};
/** A built match as ovs-ofctl prints it (the one printer, openflow/flow-text.ts). */
const formatMatch = (m: OfMatch): string => formatModelMatch(toMatch(m));
const ofMatch = (m: string): string[] => translateMatch(m, ctx).map(formatMatch);

test('match: OVN symbols map to the OVS fields ovn-controller uses', () => {
  const cases: [string, string[]][] = [
    ['eth.src[40]', ['dl_src=01:00:00:00:00:00/01:00:00:00:00:00']],
    ['vlan.present', ['vlan_tci=0x1000/0x1000']],
    ['eth.dst == 02:ac:10:ff:01:29', ['dl_dst=02:ac:10:ff:01:29']],
    ['reg0[15] == 1', ['reg0=0x8000/0x8000']],
    ['reg9[2] == 1', ['reg9=0x4/0x4']],
    ['reg8[0..15] == 0', ['reg8=0/0xffff']],
    ['xxreg0 == 1', ['reg0=0,reg1=0,reg2=0,reg3=0x1']],
    ['flags.loopback == 0', ['reg10=0/0x1']],
    ['inport == "p2"', ['reg14=0x2']],
    ['outport == "none"', ['reg15=0']],
    ['ip4.src == 172.16.255.128/26', ['ip,nw_src=172.16.255.128/26']],
    ['ip4.dst == 224.0.0.0/4 && eth.mcast', ['ip,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,nw_dst=224.0.0.0/4']],
    ['ip6.dst == ff02::16 && icmp6.type == 143', ['icmp6,ipv6_dst=ff02::16,icmp_type=143']],
    ['ip6.dst[120..127] == 0xff', ['ipv6,ipv6_dst=ff00::/8']],
    ['arp.op == 1 && arp.tpa == 172.16.255.129', ['arp,arp_tpa=172.16.255.129,arp_op=1']],
    ['ct.est', ['ct_state=+est+trk']],
    ['!ct.new && ct.rel', ['ct_state=-new+rel+trk']],
    ['ct_mark.blocked == 0', ['ct_mark=0/0x1']],
    ['ip4 && !ip.later_frag', ['ip,nw_frag=not_later']],
    ['ip4 && ip.ttl == 255', ['ip,nw_ttl=255']],
    ['udp.src == 68 && ip4', ['udp,tp_src=68']],
    ['tcp.dst == 80', ['tcp,tp_dst=80', 'tcp6,tp_dst=80']],
    ['sctp && ip4', ['sctp']],
    ['icmp4.type == 8', ['icmp,icmp_type=8']],
    ['nd_ns && nd.sll == 00:00:00:00:00:00', ['icmp6,nw_ttl=255,icmp_type=135,icmp_code=0,nd_sll=00:00:00:00:00:00']],
    ['eth.type == 0x88cc', ['dl_type=0x88cc']],
    ['ip4.src == $as1', ['ip,nw_src=10.0.0.1', 'ip,nw_src=10.0.0.2']],
    ['inport == @pg1', ['reg14=0x1', 'reg14=0x2']],
    ['is_chassis_resident("p1") && inport == "p3"', ['reg14=0x3']],
    ['is_chassis_resident("p2")', []],
    ['inport == "unknown-port"', []],
  ];
  const sortFields = (s: string): string => s.split(',').sort().join(',');
  for (const [m, want] of cases) {
    assert.deepEqual(ofMatch(m).map(sortFields).sort(), want.map(sortFields).sort(), m);
  }
  // Every OVN base field has an OVS spelling in all three positions.
  for (const [name, f] of BASE_FIELDS) assert.ok(f.field !== '' && f.width > 0, name);
});

test('match: ANDs of two sets on different fields become a conjunctive match; prerequisite sets do not', () => {
  const p = planMatch('reg0[7] == 1 && ip4.src == {10.0.0.1, 10.0.0.2} && tcp.dst == {80, 443}', ctx);
  assert.equal(p.kind, 'conj');
  if (p.kind !== 'conj') return;
  assert.equal(formatMatch(p.base), 'tcp,reg0=0x80/0x80');
  assert.deepEqual(
    p.dims.map((d) => d.map(formatMatch)),
    [
      ['nw_src=10.0.0.1', 'nw_src=10.0.0.2'],
      ['tp_dst=80', 'tp_dst=443'],
    ],
  );
  // ip.ttl == {0, 1} needs `ip` (IPv4 or IPv6): four plain flows, as ovn-controller installs them.
  const q = planMatch('ip.ttl == {0, 1}', ctx);
  assert.equal(q.kind, 'plain');
  if (q.kind === 'plain') assert.equal(q.matches.length, 4);
  // A set collapsing to one member against the rest is no dimension.
  const r = planMatch('ip4.src == {10.0.0.1, 10.0.0.2} && ip4.src == 10.0.0.1 && tcp.dst == {80, 443}', ctx);
  assert.equal(r.kind, 'plain');
});

const actx = (over: Partial<ActionContext> = {}): ActionContext => ({
  pipeline: 'ingress',
  table: 0,
  isSwitch: true,
  portKey: (n) => (n === 'none' ? 0 : PORTS.get(n)),
  ...over,
});

test('actions: goldens from the real ovn-controller', () => {
  const cases: [string, Partial<ActionContext>, string, string[]][] = [
    ['next;', { table: 2 }, 'resubmit(,11)', []],
    ['output;', { table: 26 }, 'resubmit(,37)', []],
    ['output;', { pipeline: 'egress', table: 9 }, 'resubmit(,64)', []],
    ['drop;', {}, 'drop', []],
    [
      'reg0[15] = check_in_port_sec(); next;',
      { table: 0 },
      'set_field:0/0x1000->reg10,resubmit(,73),move:NXM_NX_REG10[12]->NXM_NX_XXREG0[111],resubmit(,9)',
      [],
    ],
    [
      'xreg0[0..47] = 02:ac:10:ff:01:29; next;',
      { table: 0, isSwitch: false },
      'set_field:0x2ac10ff01290000000000000000/0xffffffffffff0000000000000000->xxreg0,resubmit(,9)',
      [],
    ],
    ['ct_next;', { table: 6 }, 'ct(table=15,zone=NXM_NX_REG13[0..15])', ['ip']],
    ['ct_lb_mark;', { table: 6 }, 'ct(table=15,zone=NXM_NX_REG13[0..15],nat)', ['ip']],
    [
      'ct_commit { ct_mark.blocked = 0; ct_label.label = reg3; }; next;',
      { table: 18 },
      'ct(commit,zone=NXM_NX_REG13[0..15],nat(src),exec(set_field:0/0x1->ct_mark,move:NXM_NX_XXREG0[0..31]->NXM_NX_CT_LABEL[96..127])),resubmit(,27)',
      ['ip'],
    ],
    ['ct_clear; next;', { pipeline: 'egress', table: 1 }, 'ct_clear,resubmit(,44)', []],
    [
      'ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 0; flags.loopback = 1; next; ',
      { table: 3, isSwitch: false },
      'push:NXM_OF_IP_SRC[],push:NXM_OF_IP_DST[],pop:NXM_OF_IP_SRC[],pop:NXM_OF_IP_DST[],set_field:255->nw_ttl,set_field:0->icmp_type,set_field:0x1/0x1->reg10,resubmit(,12)',
      ['ip4', 'ip', 'icmp4'],
    ],
    [
      'ip.ttl--; reg8[0..15] = 0; reg0 = ip4.dst; reg1 = 172.16.255.129; eth.src = 02:ac:10:ff:01:29; outport = "dmz-tenant1"; flags.loopback = 1; next;',
      { table: 13, isSwitch: false },
      'dec_ttl(),set_field:0/0xffff00000000->xreg4,move:NXM_OF_IP_DST[]->NXM_NX_XXREG0[96..127],set_field:0xac10ff810000000000000000/0xffffffff0000000000000000->xxreg0,set_field:02:ac:10:ff:01:29->eth_src,set_field:0x1->reg15,set_field:0x1/0x1->reg10,resubmit(,22)',
      ['ip', 'ip4'],
    ],
    [
      'get_arp(outport, reg0); next;',
      { table: 17, isSwitch: false },
      'push:NXM_NX_REG0[],push:NXM_NX_XXREG0[96..127],pop:NXM_NX_REG0[],set_field:00:00:00:00:00:00->eth_dst,resubmit(,66),pop:NXM_NX_REG0[],resubmit(,26)',
      [],
    ],
    [
      'get_nd(outport, xxreg0); next;',
      { table: 17, isSwitch: false },
      'set_field:00:00:00:00:00:00->eth_dst,resubmit(,66),resubmit(,26)',
      [],
    ],
    [
      'reg9[2] = lookup_arp(inport, arp.spa, arp.sha); next;',
      { table: 1, isSwitch: false },
      'push:NXM_NX_REG0[],push:NXM_OF_ETH_SRC[],push:NXM_NX_ARP_SHA[],push:NXM_OF_ARP_SPA[],pop:NXM_NX_REG0[],pop:NXM_OF_ETH_SRC[],set_field:0/0x40->reg10,resubmit(,67),move:NXM_NX_REG10[6]->OXM_OF_PKT_REG4[2],pop:NXM_OF_ETH_SRC[],pop:NXM_NX_REG0[],resubmit(,10)',
      ['arp'],
    ],
    [
      'put_nd(inport, nd.target, eth.src); next;',
      { table: 2, isSwitch: false },
      'push:NXM_NX_XXREG0[],push:NXM_NX_ND_TARGET[],pop:NXM_NX_XXREG0[],controller(userdata=00.00.00.04.00.00.00.00),pop:NXM_NX_XXREG0[],resubmit(,11)',
      ['nd'],
    ],
    ['outport = get_fdb(eth.dst); next;', { table: 25 }, 'set_field:0->reg15,resubmit(,71),resubmit(,34)', []],
    [
      'reg0[3] = put_dhcp_opts(offerip = 172.16.255.132, lease_time = 3600, netmask = 255.255.255.192, router = 172.16.255.129, server_id = 172.16.255.129); next;',
      { table: 20 },
      'controller(userdata=00.00.00.02.00.00.00.00.00.01.de.10.00.00.00.63.ac.10.ff.84.33.04.00.00.0e.10.01.04.ff.ff.ff.c0.03.04.ac.10.ff.81.36.04.ac.10.ff.81,pause),resubmit(,29)',
      [],
    ],
    [
      'clone {outport = "dmz-tenant1"; output; }; outport = "_MC_flood_l2"; output;',
      { table: 25 },
      'clone(set_field:0x1->reg15,resubmit(,37)),set_field:0x8004->reg15,resubmit(,37)',
      [],
    ],
    [
      'eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1; arp.tpa = reg0; arp.op = 1; output;',
      { table: 21, isSwitch: false },
      'set_field:ff:ff:ff:ff:ff:ff->eth_dst,move:NXM_NX_XXREG0[64..95]->NXM_OF_ARP_SPA[],move:NXM_NX_XXREG0[96..127]->NXM_OF_ARP_TPA[],set_field:1->arp_op,resubmit(,37)',
      ['arp'],
    ],
    [
      'arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1; arp.tpa = reg0; arp.op = 1; output; };',
      { table: 21, isSwitch: false },
      'controller(userdata=00.00.00.00.00.00.00.00.00.19.00.10.80.00.06.06.ff.ff.ff.ff.ff.ff.00.00.00.1c.00.18.00.20.00.40.00.00.00.00.00.01.de.10.80.00.2c.04.00.00.00.00.00.1c.00.18.00.20.00.60.00.00.00.00.00.01.de.10.80.00.2e.04.00.00.00.00.00.19.00.10.80.00.2a.02.00.01.00.00.00.00.00.00.ff.ff.00.10.00.00.23.20.00.0e.ff.f8.25.00.00.00)',
      ['ip4'],
    ],
    ['handle_svc_check(inport);', { table: 25 }, 'controller(userdata=00.00.00.12.00.00.00.00)', []],
  ];
  for (const [text, over, want, prereqs] of cases) {
    const got = translateActions(text, actx(over));
    assert.equal(formatActions(got.actions), want, text);
    assert.deepEqual([...got.prereqs].sort(), [...prereqs].sort(), `prerequisites of ${text}`);
  }
});

test('actions: unsupported ones are errors naming the action', () => {
  assert.throws(
    () => translateActions('ct_lb_mark(backends=10.0.0.2:80);', actx()),
    /ct_lb_mark\(backends=10\.0\.0\.2:80\) is not supported/,
  );
  assert.throws(() => translateActions('reg0[0] = dns_lookup(); next;', actx()), /dns_lookup is not supported/);
});

test('ofpacts: OpenFlow 1.5 encodings inside controller userdata', () => {
  // set_field eth_src, copy_field xxreg0[64..111] -> eth_src, stack push of NXM_OF_ETH_SRC, resubmit(,37).
  assert.equal(
    dotted(
      encodeOfpacts([
        { type: 'set_field', field: 'eth_src', value: 0x02ac10ff0129n },
        { type: 'copy_field', src: 'NXM_NX_XXREG0', srcOfs: 64, dst: 'NXM_OF_ETH_SRC', dstOfs: 0, nBits: 48 },
        { type: 'push', field: 'NXM_OF_ETH_SRC', ofs: 0, nBits: 48 },
        { type: 'set_field', field: 'reg10', value: 1n, mask: 1n },
        { type: 'resubmit', table: 37 },
      ]),
    ),
    [
      '00.19.00.10.80.00.08.06.02.ac.10.ff.01.29.00.00',
      '00.1c.00.18.00.30.00.40.00.00.00.00.00.01.de.10.80.00.08.06.00.00.00.00',
      'ff.ff.00.18.00.00.23.20.00.1b.00.00.00.00.04.06.00.30.00.00.00.00.00.00',
      '00.19.00.10.00.01.15.08.00.00.00.01.00.00.00.01',
      'ff.ff.00.10.00.00.23.20.00.0e.ff.f8.25.00.00.00',
    ].join('.'),
  );
});

// ---- property: OpenFlow matches select the packets the logical match does ----

/** A packet's value of an OVS match field, from the OVN view of the same packet. */
function ovsValue(field: string, fields: Map<string, bigint | string>, present: ReadonlySet<string>): bigint {
  const n = (name: string): bigint => {
    const v = fields.get(name);
    return typeof v === 'bigint' ? v : 0n;
  };
  const reg = /^reg(\d+)$/.exec(field);
  if (reg !== null) {
    const i = Number(reg[1]);
    if (i < 4) return (n('xxreg0') >> BigInt(32 * (3 - i))) & 0xffffffffn;
    if (i < 8) return (n('xxreg1') >> BigInt(32 * (7 - i))) & 0xffffffffn;
    if (i === 8) return (n('xreg4') >> 32n) & 0xffffffffn;
    if (i === 9) return n('xreg4') & 0xffffffffn;
    if (i === 10) return n('flags');
    if (i === 14 || i === 15) {
      const v = fields.get(i === 14 ? 'inport' : 'outport');
      return BigInt(typeof v === 'string' ? (PORTS.get(v) ?? 0) : 0);
    }
  }
  for (const [ovn, f] of BASE_FIELDS) if (f.field === field && present.has(ovn)) return n(ovn);
  return 0n;
}

function ofMatches(m: OfMatch, fields: Map<string, bigint | string>, present: ReadonlySet<string>): boolean {
  for (const t of m.values()) if ((ovsValue(t.field, fields, present) & t.mask) !== t.value) return false;
  return true;
}

const ip4s = ['10.0.0.1', '10.0.0.2', '10.1.0.1', '192.168.0.1'];
const packetArb: fc.Arbitrary<Packet> = fc
  .record({
    type: fc.constantFrom(0x800, 0x86dd, 0x806),
    proto: fc.constantFrom(1, 6, 17),
    src: fc.constantFrom(...ip4s),
    dst: fc.constantFrom(...ip4s),
    sport: fc.oneof(fc.constantFrom(22, 53, 80, 443), fc.integer({ min: 995, max: 1015 })),
    dport: fc.oneof(fc.constantFrom(22, 53, 80, 443), fc.integer({ min: 995, max: 1015 })),
    mac: fc.constantFrom('00:00:00:00:00:01', '01:00:5e:00:00:01', 'ff:ff:ff:ff:ff:ff'),
    reg0: fc.integer({ min: 0, max: 0x3ff }),
    inport: fc.constantFrom('p1', 'p2', 'p3'),
    outport: fc.constantFrom('p1', 'p2', 'p3'),
    ttl: fc.integer({ min: 0, max: 3 }),
  })
  .map((r) => {
    const p: Record<string, bigint | number | string> = {
      'eth.type': r.type,
      'eth.dst': r.mac,
      reg0: r.reg0,
      inport: r.inport,
      outport: r.outport,
    };
    if (r.type === 0x800) {
      Object.assign(p, { 'ip.proto': r.proto, 'ip4.src': r.src, 'ip4.dst': r.dst, 'ip.ttl': r.ttl });
      if (r.proto === 6) Object.assign(p, { 'tcp.src': r.sport, 'tcp.dst': r.dport });
      if (r.proto === 17) Object.assign(p, { 'udp.src': r.sport, 'udp.dst': r.dport });
    }
    if (r.type === 0x86dd) Object.assign(p, { 'ip.proto': r.proto, 'ip.ttl': r.ttl });
    return p;
  });

const PROPERTY_MATCHES = [
  'ip4.src == {10.0.0.1, 10.0.0.2} && tcp.dst == {80, 443}',
  'reg0[7] == 1 && ip4.src == $as1 && udp.dst == {53, 1000}',
  'ip && reg0[0] == 1',
  'tcp.dst >= 1000 && tcp.dst <= 1010',
  'inport == "p1" && ip4.dst != 10.0.0.0/8',
  'outport == {"p1", "p3"} && eth.type == 0x800 && ip4.src == {10.0.0.1, 10.1.0.1}',
  'eth.dst[40] || ip4.dst == 10.0.0.1',
  '!(tcp.src == 22) && ip4',
  'inport == @pg1 && ip4 && ip.ttl == {0, 1}',
  'ip.ttl == {0, 1}',
  'reg0[0..3] > 5 && udp',
  'outport == "none" || eth.dst == ff:ff:ff:ff:ff:ff',
];

test('property: our OpenFlow matches select the same packets as evaluate()', () => {
  for (const m of PROPERTY_MATCHES) {
    const plan = planMatch(m, ctx);
    const expr = parseMatch(m, ctx);
    fc.assert(
      fc.property(packetArb, (pkt) => {
        const fields = packetFields(pkt);
        const present = new Set(Object.keys(pkt));
        for (const k of Object.keys(pkt)) if (k === 'reg0') present.add('xxreg0');
        const want = evaluate(expr, pkt, ctx);
        const got =
          plan.kind === 'plain'
            ? plan.matches.some((x) => ofMatches(x, fields, present))
            : ofMatches(plan.base, fields, present) && plan.dims.every((d) => d.some((x) => ofMatches(x, fields, present)));
        return got === want;
      }),
      { numRuns: 300 },
    );
  }
});
