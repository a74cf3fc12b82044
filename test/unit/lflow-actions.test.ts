/**
 * Actions (ovn-sb(5) "Logical_Flow TABLE", actions): parsing, type errors in
 * OVN's words, canonical printing.
 *
 * Error messages were recorded from the real `ovn-trace` (OVN 23.03), which
 * logs "parsing actions failed (<message>)" for a Logical_Flow row with bad
 * actions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LflowError, parseActions, printActions, type Action } from '../../src/lib/lflow/index.js';
import { INVALID_ACTIONS } from './lflow-fixtures.js';

/** Every distinct actions string ovn-northd 23.03 wrote for the seed lab (see test/compat/lflow-real-sb.test.ts). */
const NORTHD_ACTIONS: readonly string[] = [
  '/* drop */',
  'arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1; arp.tpa = reg0; arp.op = 1; output; };',
  'clone {outport = "dmz-tenant1"; output; }; outport = "_MC_flood_l2"; output;',
  'ct_commit { ct_mark.blocked = 0; ct_label.label = reg3; }; next;',
  'ct_commit { ct_mark.blocked = 0; }; next;',
  'ct_commit { ct_mark.blocked = 1; }; /* drop */',
  'ct_commit; next;',
  'ct_commit_nat;',
  'ct_lb_mark;',
  'ct_next;',
  'drop;',
  'eth.dst = 02:ac:10:ff:01:32; next;',
  'eth.dst = eth.src; eth.src = 02:ac:10:ff:01:29; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = 02:ac:10:ff:01:29; arp.tpa = arp.spa; arp.spa = 172.16.255.129; outport = inport; flags.loopback = 1; output;',
  'eth.dst = eth.src; eth.src = 02:ac:10:ff:01:29; ip4.src = 172.16.255.129; udp.src = 67; udp.dst = 68; outport = inport; flags.loopback = 1; output;',
  'eth.dst = eth.src; eth.src = 02:ac:10:ff:01:32; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = 02:ac:10:ff:01:32; arp.tpa = arp.spa; arp.spa = 172.16.255.132; outport = inport; flags.loopback = 1; output;',
  'eth.dst = eth.src; eth.src = xreg0[0..47]; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = xreg0[0..47]; arp.tpa <-> arp.spa; outport = inport; flags.loopback = 1; output;',
  'get_arp(outport, reg0); next;',
  'get_nd(outport, xxreg0); next;',
  'handle_svc_check(inport);',
  'icmp4 {eth.dst <-> eth.src; icmp4.type = 11; /* Time exceeded */ icmp4.code = 0; /* TTL exceeded in transit */ ip4.dst = ip4.src; ip4.src = 172.16.255.129 ; ip.ttl = 254; outport = "tenant1-dmz"; flags.loopback = 1; output; };',
  'icmp4 {eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 3; icmp4.code = 2; next; };',
  'icmp4 {eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 3; icmp4.code = 3; next; };',
  'icmp6 {eth.dst <-> eth.src; ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 1; icmp6.code = 3; next; };',
  'icmp6 {eth.dst <-> eth.src; ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 1; icmp6.code = 4; next; };',
  'ip.ttl--; reg8[0..15] = 0; reg0 = ip4.dst; reg1 = 172.16.255.129; eth.src = 02:ac:10:ff:01:29; outport = "tenant1-dmz"; flags.loopback = 1; next;',
  'ip.ttl--; reg8[0..15] = 0; xxreg0 = ip6.dst; xxreg1 = fe80::ac:10ff:feff:129; eth.src = 02:ac:10:ff:01:29; outport = "tenant1-dmz"; flags.loopback = 1; next;',
  'ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 0; flags.loopback = 1; next;',
  'ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 129; flags.loopback = 1; next;',
  'nd_na_router { eth.src = 02:ac:10:ff:01:29; ip6.src = fe80::ac:10ff:feff:129; nd.target = fe80::ac:10ff:feff:129; nd.tll = 02:ac:10:ff:01:29; outport = inport; flags.loopback = 1; output; };',
  'nd_na_router { eth.src = xreg0[0..47]; ip6.src = nd.target; nd.tll = xreg0[0..47]; outport = inport; flags.loopback = 1; output; };',
  'nd_ns { nd.target = xxreg0; output; };',
  'next;',
  'outport = "_MC_flood"; output;',
  'outport = "_MC_flood_l2"; output;',
  'outport = "dmz-tenant1"; output;',
  'outport = "dmz-vm5"; output;',
  'outport = get_fdb(eth.dst); next;',
  'output;',
  'put_arp(inport, arp.spa, arp.sha); next;',
  'put_nd(inport, ip6.src, nd.sll); next;',
  'put_nd(inport, nd.target, eth.src); next;',
  'put_nd(inport, nd.target, nd.tll); next;',
  'reg0 = 0; handle_dhcpv6_reply;',
  'reg0[0] = 1; next;',
  'reg0[10] = 1; next;',
  'reg0[15] = 0; next;',
  'reg0[15] = check_in_port_sec(); next;',
  'reg0[15] = check_out_port_sec(); next;',
  'reg0[17] = 1; ct_commit_nat;',
  'reg0[1] = 1; next;',
  'reg0[3] = put_dhcp_opts(offerip = 172.16.255.132, lease_time = 3600, netmask = 255.255.255.192, router = 172.16.255.129, server_id = 172.16.255.129); next;',
  'reg0[7] = 1; reg0[9] = 1; next;',
  'reg0[8] = 1; reg0[10] = 1; next;',
  'reg0[8] = 1; reg0[9] = 1; next;',
  'reg0[9] = 0; reg0[10] = 0; reg0[17] = 1; next;',
  'reg0[9] = 1; next;',
  'reg7 = 0; next;',
  'reg8[0..15] = 0; next;',
  'reg9[2] = 1; next;',
  'reg9[2] = lookup_arp(inport, arp.spa, arp.sha); next;',
  'reg9[2] = lookup_nd(inport, ip6.src, nd.sll); next;',
  'reg9[2] = lookup_nd(inport, nd.target, nd.tll); next;',
  'reg9[4] = 0; next;',
  'sctp_abort {eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };',
  'sctp_abort {eth.dst <-> eth.src; ip6.dst <-> ip6.src; next; };',
  'tcp_reset {eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };',
  'tcp_reset {eth.dst <-> eth.src; ip6.dst <-> ip6.src; next; };',
  'xreg0[0..47] = 02:ac:10:ff:01:29; next;',
];

test('every actions string ovn-northd writes for the seed lab parses and round-trips', () => {
  for (const s of NORTHD_ACTIONS) {
    const a = parseActions(s);
    const p = printActions(a);
    // An empty list (only comments) means drop and prints as `drop;`.
    assert.deepEqual(parseActions(p), a.length === 0 ? [{ type: 'keyword', name: 'drop' }] : a, s);
    assert.equal(printActions(parseActions(p)), p);
  }
});

/** [input, canonical print] */
const VALID: readonly (readonly [string, string])[] = [
  ['', 'drop;'],
  ['/* drop */', 'drop;'],
  ['drop;', 'drop;'],
  ['next;', 'next;'],
  ['next(5);', 'next(5);'],
  ['next(pipeline=egress, table=3);', 'next(pipeline=egress, table=3);'],
  ['next(table=3, pipeline=ingress);', 'next(pipeline=ingress, table=3);'],
  ['output;', 'output;'],
  ['outport = "dmz-vm5"; output;', 'outport = "dmz-vm5"; output;'],
  ['inport = "";', 'inport = "";'],
  ['eth.dst <-> eth.src;', 'eth.dst <-> eth.src;'],
  ['ip.ttl--;', 'ip.ttl--;'],
  ['flags.loopback = 1;', 'flags.loopback = 1;'],
  ['xreg0[0..47] = 02:ac:10:ff:01:29;', 'xreg0[0..47] = 02:ac:10:ff:01:29;'],
  ['reg0 = 1.2.3.4/8;', 'reg0 = 1.0.0.0/8;'],
  ['ct_next;', 'ct_next;'],
  ['ct_commit;', 'ct_commit;'],
  ['ct_commit{ct_mark.blocked=0;ct_label.label=reg3;};next;', 'ct_commit { ct_mark.blocked = 0; ct_label.label = reg3; }; next;'],
  ['ct_commit { };', 'ct_commit { };'],
  ['get_arp(outport, reg0);', 'get_arp(outport, reg0);'],
  ['put_arp(inport, arp.spa, arp.sha);', 'put_arp(inport, arp.spa, arp.sha);'],
  ['reg9[2] = lookup_arp(inport, arp.spa, arp.sha);', 'reg9[2] = lookup_arp(inport, arp.spa, arp.sha);'],
  [
    'reg0[3] = put_dhcp_opts(offerip = 1.2.3.4, netmask = 255.255.255.0, router = 1.2.3.1, lease_time = 3600, server_id = 1.2.3.1, dns_server = {8.8.8.8, 7.7.7.7}, domain_name = "ovn.org");',
    'reg0[3] = put_dhcp_opts(offerip = 1.2.3.4, netmask = 255.255.255.0, router = 1.2.3.1, lease_time = 3600, server_id = 1.2.3.1, dns_server = {8.8.8.8, 7.7.7.7}, domain_name = "ovn.org");',
  ],
  ['arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.op = 1; output; };', 'arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.op = 1; output; };'],
  ['nd_na { nd.tll = 02:00:00:00:00:01; output; };', 'nd_na { nd.tll = 02:00:00:00:00:01; output; };'],
  ['icmp4 { icmp4.type = 3; next; };', 'icmp4 { icmp4.type = 3; next; };'],
  ['clone { clone { output; }; };', 'clone { clone { output; }; };'],
  [
    'ct_lb_mark(backends=10.0.0.2:80,[fd00::2]:80; hash_fields="ip_src");',
    'ct_lb_mark(backends=10.0.0.2:80,[fd00::2]:80; hash_fields="ip_src");',
  ],
  ['ct_dnat(10.0.0.2);', 'ct_dnat(10.0.0.2);'],
  ['log(name="acl1", severity=alert, verdict=drop);', 'log(name = "acl1", severity = alert, verdict = drop);'],
  ['outport = get_fdb(eth.dst); next;', 'outport = get_fdb(eth.dst); next;'],
  ['reg0[15] = check_in_port_sec(); next;', 'reg0[15] = check_in_port_sec(); next;'],
  ['ct_commit { ct_mark = reg0; ct_label = 1; ct_mark.natted = 1; };', 'ct_commit { ct_mark = reg0; ct_label = 1; ct_mark.natted = 1; };'],
  ['ct_commit { next; };', 'ct_commit { next; };'],
  ['vlan.vid = 5; icmp4.type = 3; arp.op = 2; flags = 1; nd.tll = 0;', 'vlan.vid = 5; icmp4.type = 3; arp.op = 2; flags = 1; nd.tll = 0;'],
];

test('valid actions print canonically and re-parse to the same list', () => {
  for (const [input, printed] of VALID) {
    const a = parseActions(input);
    assert.equal(printActions(a), printed, input);
    assert.deepEqual(parseActions(printed), a.length === 0 ? [{ type: 'keyword', name: 'drop' }] : a, input);
  }
});

test('the parsed form is structured', () => {
  const a: Action[] = parseActions('reg9[2] = lookup_arp(inport, arp.spa, arp.sha); next(pipeline=egress, table=3); ip.ttl--;');
  assert.deepEqual(a, [
    {
      type: 'result',
      dst: { name: 'reg9', lo: 2 },
      name: 'lookup_arp',
      args: [
        { type: 'field', field: { name: 'inport' } },
        { type: 'field', field: { name: 'arp.spa' } },
        { type: 'field', field: { name: 'arp.sha' } },
      ],
    },
    { type: 'next', pipeline: 'egress', table: 3 },
    { type: 'dec_ttl' },
  ]);
});

test('invalid actions: the same message as ovn-trace', () => {
  for (const [input, message] of INVALID_ACTIONS) {
    assert.throws(
      () => parseActions(input),
      (e: unknown) => e instanceof LflowError && e.message === message,
      `${input} should fail with: ${message}`,
    );
  }
});

test('next(N) beyond the pipeline: maxTable', () => {
  assert.throws(() => parseActions('next(29);', { maxTable: 28 }), { message: '"next" action cannot advance beyond table 28.' });
  assert.deepEqual(parseActions('next(28);', { maxTable: 28 }), [{ type: 'next', table: 28 }]);
});

const arbSimple: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'next;',
    'output;',
    'drop;',
    'ct_next;',
    'ct_commit;',
    'ip.ttl--;',
    'eth.dst <-> eth.src;',
    'outport = inport;',
    'reg0 = ip4.dst;',
  ),
  fc.integer({ min: 0, max: 253 }).map((n) => `next(${n});`),
  fc.tuple(fc.constantFrom('ingress', 'egress'), fc.integer({ min: 0, max: 253 })).map(([p, n]) => `next(pipeline=${p}, table=${n});`),
  fc.bigInt({ min: 0n, max: 0xffffffffn }).map((v) => `reg0 = ${v};`),
  fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }).map((v) => `eth.src = 0x${v.toString(16)};`),
  fc.string({ maxLength: 8 }).map((s) => `outport = ${JSON.stringify(s)};`),
);

const arbActions: fc.Arbitrary<string> = fc.letrec<{ list: string }>((tie) => ({
  list: fc
    .array(
      fc.oneof(
        { depthSize: 'small' },
        arbSimple,
        fc.tuple(fc.constantFrom('clone', 'arp', 'icmp4'), tie('list')).map(([n, l]) => `${n} { ${l} };`),
        // Inside ct_commit only ct_mark and ct_label may be assigned.
        fc
          .array(fc.constantFrom('ct_mark.blocked = 1;', 'ct_label.label = reg3;', 'ct_mark = 0x10;', 'ct_label = ct_label;'), {
            maxLength: 3,
          })
          .map((xs) => `ct_commit { ${xs.join(' ')} };`),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((xs) => xs.join(' ')),
})).list;

test('property: print → parse gives the same list', () => {
  fc.assert(
    fc.property(arbActions, (s) => {
      const a = parseActions(s);
      const p = printActions(a);
      assert.deepEqual(parseActions(p), a);
      assert.equal(printActions(parseActions(p)), p);
    }),
    { numRuns: 300 },
  );
});

test('property: arbitrary text never throws anything but LflowError', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (s) => {
      try {
        parseActions(s);
      } catch (e) {
        if (!(e instanceof LflowError)) throw e;
      }
    }),
    { numRuns: 1000 },
  );
});

const VOCAB = [
  'next',
  'output',
  'drop',
  'ct_commit',
  'clone',
  'arp',
  'get_arp',
  'lookup_arp',
  'put_dhcp_opts',
  'ct_lb_mark',
  'log',
  'ip.ttl',
  'outport',
  'inport',
  'reg0',
  'reg9',
  'eth.src',
  'eth.dst',
  'arp.spa',
  'arp.sha',
  'ip4',
  'offerip',
  'pipeline',
  'table',
  'egress',
  '=',
  '<->',
  '--',
  ';',
  '(',
  ')',
  '{',
  '}',
  '[',
  ']',
  '..',
  ',',
  '!',
  '==',
  '0',
  '1',
  '2',
  '3',
  '47',
  '0x10',
  '1.2.3.4',
  '02:00:00:00:00:01',
  'fe80::1',
  '"a"',
];

test('property: token soup never throws anything but LflowError; what parses re-parses the same', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...VOCAB), { maxLength: 14 }), (toks) => {
      const s = toks.join(' ');
      let a;
      try {
        a = parseActions(s);
      } catch (err) {
        if (!(err instanceof LflowError)) throw err;
        return;
      }
      const p = printActions(a);
      assert.equal(printActions(parseActions(p)), p, `${s} → ${p}`);
    }),
    { numRuns: 3000 },
  );
});
