/**
 * Match expressions (ovn-sb(5) "Logical_Flow TABLE", match): parsing, type
 * errors in OVN's words, canonical printing, expansion, evaluation.
 *
 * The invalid-input table was produced by feeding each input to the real
 * `ovn-trace` (OVN 23.03) as a microflow and recording its message;
 * test/compat/lflow-real-sb.test.ts re-checks it against the real tool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  LflowError,
  createSymbolTable,
  evaluate,
  expandMatch,
  parseMatch,
  printMatch,
  printNormalized,
} from '../../src/lib/lflow/index.js';
import { INVALID_MATCHES } from './lflow-fixtures.js';

test('invalid matches: the same message as ovn-trace', () => {
  for (const [input, message] of INVALID_MATCHES) {
    assert.throws(
      () => parseMatch(input),
      (e: unknown) => e instanceof LflowError && e.message === message,
      `${input} should fail with: ${message}`,
    );
  }
});

test('errors carry the offset of the offending token and a caret rendering', () => {
  const at = (input: string): number => {
    try {
      parseMatch(input);
    } catch (e) {
      if (e instanceof LflowError) return e.pos;
    }
    return -1;
  };
  assert.equal(at('ip4 && foo == 1'), 7);
  assert.equal(at('tcp.src == 70000'), 11);
  assert.equal(at('ip4.src == #'), 11);
  assert.equal(at('inport == "a" || outport == "b" && tcp'), 32);
  try {
    parseMatch('ip4 && foo == 1');
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof LflowError);
    assert.equal(e.detail(), "Syntax error at `foo' expecting field name.\nip4 && foo == 1\n       ^");
  }
});

/** [input, canonical print] */
const VALID: readonly (readonly [string, string])[] = [
  ['1', '1'],
  ['0', '0'],
  ['ip4.src == 1.2.3.4', 'ip4.src == 1.2.3.4'],
  ['ip4.src==10.0.0.0/8', 'ip4.src == 10.0.0.0/8'],
  ['ip4.src == 10.1.2.3/8', 'ip4.src == 10.0.0.0/8'],
  ['ip4.src == 1.2.3.4/255.255.0.255', 'ip4.src == 1.2.0.4/255.255.0.255'],
  ['ip6.dst == fe80:0:0:0:0:0:0:1', 'ip6.dst == fe80::1'],
  ['ip6.dst == ::ffff:1.2.3.4', 'ip6.dst == ::ffff:1.2.3.4'],
  ['ip6.dst == fe80::/64', 'ip6.dst == fe80::/64'],
  ['eth.dst == FF:ff:ff:ff:ff:ff', 'eth.dst == ff:ff:ff:ff:ff:ff'],
  ['eth.src == {02:ac:10:ff:01:29}', 'eth.src == {02:ac:10:ff:01:29}'],
  ['tcp.dst == {80 443,}', 'tcp.dst == {80, 443}'],
  ['tcp.flags == 0x3/0xf', 'tcp.flags == 0x3/0xf'],
  ['80 == tcp.dst', 'tcp.dst == 80'],
  ['1024 <= tcp.src <= 49151', 'tcp.src >= 1024 && tcp.src <= 49151'],
  ['!ct.est', '!ct.est'],
  ['!(ct.est && ct.rpl)', '!(ct.est && ct.rpl)'],
  ['!!ct.est', '!!ct.est'],
  ['!(arp.op != 1)', '!(arp.op != 1)'],
  ['inport == "dmz-vm5" && outport == "x\\"y"', 'inport == "dmz-vm5" && outport == "x\\"y"'],
  ['((ip4)) && ((tcp))', 'ip4 && tcp'],
  ['ip4 && (tcp && udp)', 'ip4 && tcp && udp'],
  ['ip4 && (tcp || udp)', 'ip4 && (tcp || udp)'],
  ['reg0[3] && reg0[16..31] == 0x5', 'reg0[3] && reg0[16..31] == 0x5'],
  ['xreg0[0..47] == 02:ac:10:ff:01:29', 'xreg0[0..47] == 02:ac:10:ff:01:29'],
  ['ip4.src == $as1 && inport == @pg1', 'ip4.src == $as1 && inport == @pg1'],
  ['is_chassis_resident("dmz-vm5")', 'is_chassis_resident("dmz-vm5")'],
  ['ip4 /* comment */ && udp // to the end\n', 'ip4 && udp'],
  ['ip4.src_mcast ||ip4.src == 255.255.255.255', 'ip4.src_mcast || ip4.src == 255.255.255.255'],
  ['ip.ttl == {0, 1} && !ip.later_frag', 'ip.ttl == {0, 1} && !ip.later_frag'],
  ['!tcp.src', '!tcp.src'],
  ['ip4 == 1', 'ip4 == 1'],
];

test('valid matches print canonically and re-parse to the same tree', () => {
  for (const [input, printed] of VALID) {
    const e = parseMatch(input);
    assert.equal(printMatch(e), printed, input);
    assert.deepEqual(parseMatch(printed), e, input);
  }
});

/** [input, expansion as ovn-trace prints it in "Constraints are ambiguous: …"] */
const EXPANSIONS: readonly (readonly [string, string])[] = [
  ['tcp.dst == 80', 'tcp.dst == 0x50 && ip.proto == 0x6 && (eth.type == 0x800 || eth.type == 0x86dd)'],
  ['!ct.est', '!ct_state[1] && ct_state[5]'],
  ['ct.trk', 'ct_state[5]'],
  ['reg0 < 5', 'xxreg0[96..127] < 0x5'],
  ['reg9[2] == 1', 'xreg4[2]'],
  ['vlan.vid == 0', 'vlan.tci[0..11] == 0 && vlan.tci[12]'],
  ['tcp.flags == 0x3/0xf', 'tcp.flags[0..3] == 0x3 && ip.proto == 0x6 && (eth.type == 0x800 || eth.type == 0x86dd)'],
  ['tcp.src == 1/0', 'tcp.src == 0/0 && ip.proto == 0x6 && (eth.type == 0x800 || eth.type == 0x86dd)'],
  ['ip4.src != {1.2.3.4, 1.2.3.5}', 'ip4.src != 0x1020304 && ip4.src != 0x1020305 && eth.type == 0x800'],
  ['!ip4.mcast', '!eth.dst[40] || ip4.dst[28..31] != 0xe || eth.type != 0x800'],
  ['!ip.later_frag', '!ip.frag[1] || (eth.type != 0x800 && eth.type != 0x86dd)'],
  ['!tcp.src', 'tcp.src == 0 && ip.proto == 0x6 && (eth.type == 0x800 || eth.type == 0x86dd)'],
  ['flags.loopback == 0', '!flags[0]'],
  ['ct_label.label == 0', 'ct_label[96..127] == 0'],
  ['eth.bcast', 'eth.dst == 0xffffffffffff'],
  [
    'icmp',
    '(eth.type == 0x800 && ip.proto == 0x1 && (eth.type == 0x800 || eth.type == 0x86dd)) || (eth.type == 0x86dd && ip.proto == 0x3a && (eth.type == 0x800 || eth.type == 0x86dd))',
  ],
  [
    'mldv1',
    'ip6.src[118..127] == 0x3fa && eth.type == 0x86dd && (icmp6.type == 0x82 || icmp6.type == 0x83 || icmp6.type == 0x84) && eth.type == 0x86dd && ip.proto == 0x3a && (eth.type == 0x800 || eth.type == 0x86dd)',
  ],
  [
    '1 < tcp.dst < 5',
    'tcp.dst > 0x1 && ip.proto == 0x6 && (eth.type == 0x800 || eth.type == 0x86dd) && tcp.dst < 0x5 && ip.proto == 0x6 && (eth.type == 0x800 || eth.type == 0x86dd)',
  ],
  ['ip4.src == 1.2.3.4/255.255.0.255', 'ip4.src == 0x1020004/0xffff00ff && eth.type == 0x800'],
  ['!ip6.mcast_rsvd', 'ip6.dst[116..127] != 0xff0 || ip6.dst[0..111] != 0 || eth.type != 0x86dd'],
  [
    'ip6.mcast_all_nodes',
    '(ip6.dst == 0xff010000000000000000000000000001 || ip6.dst == 0xff020000000000000000000000000001) && eth.type == 0x86dd',
  ],
  ['inport == "a" && 0', '0'],
  ['ip4 || 1', '1'],
];

test('expansion: predicates, subfields, sets and prerequisites, printed like ovn-trace', () => {
  for (const [input, expanded] of EXPANSIONS) assert.equal(printNormalized(expandMatch(parseMatch(input))), expanded, input);
});

test("address sets and port groups resolve through the caller's lookups", () => {
  const lookups = {
    addressSet: (n: string) => (n === 'as1' ? ['10.0.0.1', '10.0.1.0/24'] : n === 'empty' ? [] : undefined),
    portGroup: (n: string) => (n === 'pg1' ? ['p1', 'p2'] : undefined),
  };
  const e = parseMatch('ip4.src == $as1 && inport == @pg1', lookups);
  assert.equal(
    printNormalized(expandMatch(e, lookups)),
    '(ip4.src == 0xa000001 || ip4.src[8..31] == 0xa0001) && eth.type == 0x800 && (inport == "p1" || inport == "p2")',
  );
  assert.equal(printNormalized(expandMatch(parseMatch('ip4.src == $empty', lookups), lookups)), '0');
  assert.throws(() => parseMatch('ip4.src == $nope', lookups), { message: "Syntax error at `$nope' expecting address set name." });
  assert.throws(() => parseMatch('inport == @nope', lookups), { message: "Syntax error at `@nope' expecting port group name." });
  assert.throws(() => parseMatch('tcp.dst == $as1', lookups), { message: '32-bit constant is not compatible with 16-bit field tcp.dst.' });
  // Without lookups the reference parses; expansion needs the contents.
  assert.throws(() => expandMatch(parseMatch('ip4.src == $as1')), { message: "Syntax error at `$as1' expecting address set name." });
});

test('evaluate: fields, prerequisites, registers overlaid on xxregs, strings, sets', () => {
  const tcp80 = { 'eth.type': 0x800, 'ip.proto': 6, 'ip4.src': '172.16.255.133', 'tcp.dst': 22, inport: 'dmz-vm5' };
  const acl = parseMatch('ip4.src == 172.16.255.133 && tcp.dst == 22');
  assert.equal(evaluate(acl, tcp80), true);
  assert.equal(evaluate(acl, { ...tcp80, 'ip.proto': 17 }), false, 'a UDP packet fails the tcp prerequisite');
  assert.equal(evaluate(acl, { ...tcp80, 'eth.type': 0x86dd }), false);
  assert.equal(evaluate(parseMatch('ip4.src == 172.16.255.128/26'), tcp80), true);
  assert.equal(evaluate(parseMatch('ip4.src == 172.16.255.192/26'), tcp80), false);
  assert.equal(evaluate(parseMatch('inport == "dmz-vm5"'), tcp80), true);
  assert.equal(evaluate(parseMatch('inport == {"a", "dmz-vm5"}'), tcp80), true);
  assert.equal(evaluate(parseMatch('!(inport != "dmz-vm5")'), tcp80), true);
  assert.equal(evaluate(parseMatch('tcp.dst != {22, 23}'), tcp80), false);
  assert.equal(evaluate(parseMatch('1024 <= tcp.dst <= 49151'), tcp80), false);
  // reg0 is xxreg0[96..127]; reg9 is xreg4[0..31].
  assert.equal(evaluate(parseMatch('reg0[3] == 1'), { reg0: 8 }), true);
  assert.equal(evaluate(parseMatch('xxreg0[99]'), { reg0: 8 }), true);
  assert.equal(evaluate(parseMatch('reg9[2] == 1 && reg8[0..15] == 0'), { xreg4: 4n }), true);
  assert.equal(evaluate(parseMatch('xreg0[0..47] == 02:ac:10:ff:01:29'), { reg1: 0x10ff0129, reg0: 0x02ac }), true);
  // Conntrack bits and the ct.trk prerequisite.
  assert.equal(evaluate(parseMatch('ct.est && !ct.new'), { 'ct.trk': true, 'ct.est': true }), true);
  assert.equal(evaluate(parseMatch('!ct.est'), { 'ct.est': false }), false, '!ct.est still needs ct.trk');
  assert.equal(evaluate(parseMatch('ct_mark.blocked == 1'), { ct_mark: 1 }), true);
  // VLAN subfields overlay vlan.tci and need vlan.present.
  assert.equal(evaluate(parseMatch('vlan.vid == 51'), { 'vlan.vid': 51 }), false);
  assert.equal(evaluate(parseMatch('vlan.vid == 51'), { 'vlan.vid': 51, 'vlan.tci': 0x1000 }), true);
  assert.equal(evaluate(parseMatch('eth.mcast'), { 'eth.dst': 'ff:ff:ff:ff:ff:ff' }), true);
  assert.equal(evaluate(parseMatch('eth.bcast'), { 'eth.dst': '01:00:5e:00:00:01' }), false);
  assert.equal(evaluate(parseMatch('nd_ns'), { 'eth.type': 0x86dd, 'ip.proto': 58, 'icmp6.type': 135, 'ip.ttl': 255 }), true);
  assert.equal(evaluate(parseMatch('is_chassis_resident("p")'), {}, { isChassisResident: (p) => p === 'p' }), true);
  assert.equal(evaluate(parseMatch('1'), {}), true);
  assert.equal(evaluate(parseMatch('0'), {}), false);
  assert.throws(() => evaluate(parseMatch('1'), { bogus: 1 }), /bogus is not a field/);
});

test('a symbol table of your own: the default one is frozen', () => {
  const t = createSymbolTable().addSubfield('flags.mine', 'flags', 20, 20);
  assert.equal(printNormalized(expandMatch(parseMatch('flags.mine', { symbols: t }), { symbols: t })), 'flags[20]');
  assert.throws(() => parseMatch('flags.mine'), { message: "Syntax error at `flags.mine' expecting field name." });
});

// --- Property tests -------------------------------------------------------

/** Ordinal fields without prerequisites, so `!` is exact logical negation. */
const FIELDS: readonly (readonly [string, number])[] = [
  ['reg0', 32],
  ['reg0[3]', 1],
  ['reg0[8..15]', 8],
  ['ct_mark', 32],
  ['eth.src', 48],
  ['vlan.tci', 16],
  ['flags.loopback', 1],
  ['xxreg1', 128],
];

const arbConst = (w: number): fc.Arbitrary<string> =>
  fc.oneof(
    // Decimal only below 2**64, as OVN's lexer takes it; wider values in hex.
    fc.bigInt({ min: 0n, max: (1n << BigInt(Math.min(w, 64))) - 1n }).map((v) => v.toString()),
    fc.bigInt({ min: 1n, max: (1n << BigInt(w)) - 1n }).map((v) => `0x${v.toString(16)}`),
  );

const arbLeaf: fc.Arbitrary<string> = fc.constantFrom(...FIELDS).chain(([f, w]) =>
  fc.oneof(
    fc.tuple(fc.constantFrom('==', '!=', '<', '<=', '>', '>='), arbConst(w)).map(([op, c]) => `${f} ${op} ${c}`),
    fc.array(arbConst(w), { minLength: 1, maxLength: 3 }).map((cs) => `${f} == {${cs.join(', ')}}`),
    ...(w === 1 ? [fc.constant(f)] : []),
  ),
);

const arbExpr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    arbLeaf,
    tie('e').map((x) => `!(${x})`),
    fc
      .tuple(fc.constantFrom(' && ', ' || '), fc.array(tie('e'), { minLength: 2, maxLength: 3 }))
      .map(([op, xs]) => xs.map((x) => `(${x})`).join(op)),
  ),
})).e;

const arbPacket = fc.record({
  xxreg0: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
  xxreg1: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
  ct_mark: fc.bigInt({ min: 0n, max: 0xffffffffn }),
  'eth.src': fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }),
  'vlan.tci': fc.bigInt({ min: 0n, max: 0xffffn }),
  flags: fc.bigInt({ min: 0n, max: 0xffffffffn }),
});

test('property: print → parse gives the same tree, and printing is a fixed point', () => {
  fc.assert(
    fc.property(arbExpr, (s) => {
      const e = parseMatch(s);
      const p = printMatch(e);
      assert.deepEqual(parseMatch(p), e);
      assert.equal(printMatch(parseMatch(p)), p);
    }),
    { numRuns: 300 },
  );
});

test('property: evaluation respects !, && and || (expansion pushes ! down correctly)', () => {
  fc.assert(
    fc.property(arbExpr, arbExpr, arbPacket, (a, b, pkt) => {
      const ea = parseMatch(a);
      const eb = parseMatch(b);
      const va = evaluate(ea, pkt);
      const vb = evaluate(eb, pkt);
      assert.equal(evaluate(parseMatch(`!(${a})`), pkt), !va);
      assert.equal(evaluate(parseMatch(`(${a}) && (${b})`), pkt), va && vb);
      assert.equal(evaluate(parseMatch(`(${a}) || (${b})`), pkt), va || vb);
      // The normalized form evaluates the same as the tree it came from.
      assert.equal(evaluate(expandMatch(ea), pkt), va);
    }),
    { numRuns: 300 },
  );
});

test('property: arbitrary text never throws anything but LflowError', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (s) => {
      try {
        parseMatch(s);
      } catch (e) {
        if (!(e instanceof LflowError)) throw e;
      }
    }),
    { numRuns: 1000 },
  );
});

const VOCAB = [
  'ip4',
  'ip',
  'tcp',
  'tcp.dst',
  'ip4.src',
  'inport',
  'reg0',
  'ct.est',
  'eth.src',
  'vlan.vid',
  'nd_ns',
  'is_chassis_resident',
  'foo',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  '&&',
  '||',
  '!',
  '(',
  ')',
  '{',
  '}',
  '[',
  ']',
  '..',
  ',',
  '=',
  ';',
  '-',
  '--',
  '<->',
  '0',
  '1',
  '3',
  '22',
  '0x10',
  '70000',
  '1.2.3.4',
  '10.0.0.0/8',
  'fe80::1',
  '02:00:00:00:00:01',
  '"a"',
  '""',
  '$x',
  '@y',
];

test('property: token soup never throws anything but LflowError; what parses re-parses the same', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...VOCAB), { maxLength: 12 }), (toks) => {
      const s = toks.join(' ');
      let e;
      try {
        e = parseMatch(s, { addressSet: (n) => (n === 'x' ? ['1.2.3.4'] : undefined), portGroup: (n) => (n === 'y' ? ['p'] : undefined) });
      } catch (err) {
        if (!(err instanceof LflowError)) throw err;
        return;
      }
      const p = printMatch(e);
      assert.deepEqual(parseMatch(p), e, `${s} → ${p}`);
      expandMatch(e, { addressSet: () => ['1.2.3.4'], portGroup: () => ['p'] });
    }),
    { numRuns: 3000 },
  );
});
