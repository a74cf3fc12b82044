/**
 * The lexer of OVN's logical-flow language (ovn-sb(5), "Constants") and the
 * symbol table (ovn-sb(5), "Symbols").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  LflowError,
  createSymbolTable,
  defaultSymbols,
  formatIntConstant,
  formatIpv4,
  formatIpv6,
  formatMac,
  parseIpv4,
  parseIpv6,
  parseMac,
  tokenize,
  type Token,
} from '../../src/lib/lflow/index.js';

const kinds = (s: string): string[] => tokenize(s).map((t) => (t.type === 'punct' ? t.text : t.type));

test('token kinds and positions', () => {
  const toks = tokenize('reg0[0..15] == 0x1f && inport == "vm\\"1" || $as1 <-> @pg_1;');
  assert.deepEqual(
    toks.map((t) => [t.type, t.text, t.pos]),
    [
      ['id', 'reg0', 0],
      ['punct', '[', 4],
      ['int', '0', 5],
      ['punct', '..', 6],
      ['int', '15', 8],
      ['punct', ']', 10],
      ['punct', '==', 12],
      ['int', '0x1f', 15],
      ['punct', '&&', 20],
      ['id', 'inport', 23],
      ['punct', '==', 30],
      ['string', '"vm\\"1"', 33],
      ['punct', '||', 41],
      ['addrset', '$as1', 44],
      ['punct', '<->', 49],
      ['portgroup', '@pg_1', 53],
      ['punct', ';', 58],
      ['end', '', 59],
    ],
  );
  assert.deepEqual(kinds('a = b; c <-> d; ip.ttl--; x -> y { } ( ) , ! != < <= > >='), [
    'id',
    '=',
    'id',
    ';',
    'id',
    '<->',
    'id',
    ';',
    'id',
    '--',
    ';',
    'id',
    '->',
    'id',
    '{',
    '}',
    '(',
    ')',
    ',',
    '!',
    '!=',
    '<',
    '<=',
    '>',
    '>=',
    'end',
  ]);
});

test('comments are skipped', () => {
  assert.deepEqual(kinds('ip4 /* a */ && // rest\n tcp'), ['id', '&&', 'id', 'end']);
  assert.throws(() => tokenize('ip4 /* open'), { message: "`/*' without matching `*/'." });
});

const intTok = (s: string): Extract<Token, { type: 'int' }> => {
  const t = tokenize(s)[0];
  assert.ok(t?.type === 'int', s);
  return t;
};

/** [text, value, format, mask?, printed] */
const CONSTANTS: readonly (readonly [string, bigint, string, bigint | undefined, string])[] = [
  ['0', 0n, 'decimal', undefined, '0'],
  ['65535', 65535n, 'decimal', undefined, '65535'],
  ['0x800', 0x800n, 'hex', undefined, '0x800'],
  ['0X86DD', 0x86ddn, 'hex', undefined, '0x86dd'],
  ['172.16.255.129', 0xac10ff81n, 'ipv4', undefined, '172.16.255.129'],
  ['172.16.255.128/26', 0xac10ff80n, 'ipv4', 0xffffffc0n, '172.16.255.128/26'],
  ['10.1.2.3/8', 0x0a000000n, 'ipv4', 0xff000000n, '10.0.0.0/8'],
  ['1.2.3.4/255.255.0.255', 0x01020004n, 'ipv4', 0xffff00ffn, '1.2.0.4/255.255.0.255'],
  ['0.0.0.0/0', 0n, 'ipv4', 0n, '0.0.0.0/0'],
  ['02:ac:10:ff:01:29', 0x02ac10ff0129n, 'mac', undefined, '02:ac:10:ff:01:29'],
  ['ff:ff:ff:ff:ff:ff', 0xffffffffffffn, 'mac', undefined, 'ff:ff:ff:ff:ff:ff'],
  ['1:2:3:4:5:6', 0x010203040506n, 'mac', undefined, '01:02:03:04:05:06'],
  ['00:11:22:33:44:55/ff:ff:ff:00:00:00', 0x001122000000n, 'mac', 0xffffff000000n, '00:11:22:00:00:00/ff:ff:ff:00:00:00'],
  ['fe80::ac:10ff:feff:129', 0xfe8000000000000000ac10fffeff0129n, 'ipv6', undefined, 'fe80::ac:10ff:feff:129'],
  ['::', 0n, 'ipv6', undefined, '::'],
  ['::1', 1n, 'ipv6', undefined, '::1'],
  ['fe80::/64', 0xfe800000000000000000000000000000n, 'ipv6', 0xffffffffffffffff0000000000000000n, 'fe80::/64'],
  ['ff02::1:ffff:129', 0xff0200000000000000000001ffff0129n, 'ipv6', undefined, 'ff02::1:ffff:129'],
  ['2001:db8:0:0:1:0:0:1', 0x20010db8000000000001000000000001n, 'ipv6', undefined, '2001:db8::1:0:0:1'],
  ['::ffff:1.2.3.4', 0xffff01020304n, 'ipv6', undefined, '::ffff:1.2.3.4'],
  ['0x3/0xf', 3n, 'hex', 0xfn, '0x3/0xf'],
];

test('constants: value, notation, mask, and printed back', () => {
  for (const [text, value, format, mask, printed] of CONSTANTS) {
    const t = intTok(text);
    assert.equal(t.value.value, value, text);
    assert.equal(t.value.format, format, text);
    assert.equal(t.value.mask, mask, text);
    assert.equal(formatIntConstant(t.value), printed, text);
    assert.equal(t.text, text);
  }
});

/** [input, message] — OVN's wording (recorded from ovn-trace). */
const LEX_ERRORS: readonly (readonly [string, string, number])[] = [
  ['"abc', 'Input ends inside quoted string.', 0],
  ['1.2.3.400', 'Invalid numeric constant.', 0],
  ['01:02:03:04:05', 'Invalid numeric constant.', 0],
  ['0x', 'Hex digits expected following 0x.', 0],
  ['0xfg', 'Invalid numeric constant.', 0],
  ['08', 'Decimal constants must not have leading zeros.', 0],
  ['1.2.3.4/33', 'Value and mask have incompatible formats.', 0],
  ['::1/129', 'Value and mask have incompatible formats.', 0],
  ['1.2.3.4/ff:ff:ff:ff:ff:ff', 'Value and mask have incompatible formats.', 0],
  ['a & b', "`&' is only valid as part of `&&'.", 2],
  ['a | b', "`|' is only valid as part of `||'.", 2],
  ['x @', "`@' must be followed by a valid identifier.", 2],
  ['$', "`$' must be followed by a valid identifier.", 0],
  ['a # b', "Invalid character `#' in input.", 2],
  ['"\\q"', "Invalid escape `\\q' in quoted string.", 1],
];

test("lexical errors: OVN's words and the offset", () => {
  for (const [input, message, pos] of LEX_ERRORS) {
    assert.throws(
      () => tokenize(input),
      (e: unknown) => e instanceof LflowError && e.message === message && e.pos === pos,
      `${input} → ${message} at ${pos}`,
    );
  }
});

test('strings: JSON escapes', () => {
  const t = tokenize('"a\\"b\\\\c\\n\\u00e9/"')[0];
  assert.ok(t?.type === 'string');
  assert.equal(t.value, 'a"b\\c\né/');
});

test('property: IPv4, MAC and IPv6 text round-trips', () => {
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: 0xffffffffn }), (v) => assert.equal(parseIpv4(formatIpv4(v)), v)));
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }), (v) => assert.equal(parseMac(formatMac(v)), v)));
  // Addresses with runs of zero groups exercise `::` compression.
  const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  fc.assert(
    fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (gs) => {
      const v = gs.reduce((a, g) => (a << 16n) | BigInt(g), 0n);
      const text = formatIpv6(v);
      assert.equal(parseIpv6(text), v, text);
      assert.equal(parseIpv6(gs.map((g) => g.toString(16)).join(':')), v);
      // The lexer reads it as one IPv6 token.
      const t = intTok(text);
      assert.equal(t.value.value, v);
    }),
    { numRuns: 500 },
  );
});

test('property: the lexer never throws anything but LflowError, and positions increase', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (s) => {
      try {
        const toks = tokenize(s);
        for (let i = 1; i < toks.length; i++) assert.ok(toks[i]!.pos >= toks[i - 1]!.end);
      } catch (e) {
        if (!(e instanceof LflowError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});

/** ovn-sb(5)'s symbols: [name, width (0: string), kind] */
const SYMBOLS: readonly (readonly [string, number, string])[] = [
  ['inport', 0, 'field'],
  ['outport', 0, 'field'],
  ['eth.src', 48, 'field'],
  ['eth.dst', 48, 'field'],
  ['eth.type', 16, 'field'],
  ['vlan.tci', 16, 'field'],
  ['vlan.vid', 12, 'subfield'],
  ['vlan.pcp', 3, 'subfield'],
  ['vlan.present', 1, 'predicate'],
  ['ip4', 1, 'predicate'],
  ['ip6', 1, 'predicate'],
  ['ip', 1, 'predicate'],
  ['ip.proto', 8, 'field'],
  ['ip.dscp', 6, 'field'],
  ['ip.ecn', 2, 'field'],
  ['ip.ttl', 8, 'field'],
  ['ip.frag', 2, 'field'],
  ['ip4.src', 32, 'field'],
  ['ip4.dst', 32, 'field'],
  ['ip4.mcast', 1, 'predicate'],
  ['ip6.src', 128, 'field'],
  ['ip6.dst', 128, 'field'],
  ['ip6.label', 20, 'field'],
  ['arp.op', 16, 'field'],
  ['arp.spa', 32, 'field'],
  ['arp.tpa', 32, 'field'],
  ['arp.sha', 48, 'field'],
  ['arp.tha', 48, 'field'],
  ['rarp', 1, 'predicate'],
  ['nd', 1, 'predicate'],
  ['nd_ns', 1, 'predicate'],
  ['nd_na', 1, 'predicate'],
  ['nd.target', 128, 'field'],
  ['nd.sll', 48, 'field'],
  ['nd.tll', 48, 'field'],
  ['tcp', 1, 'predicate'],
  ['tcp.src', 16, 'field'],
  ['tcp.dst', 16, 'field'],
  ['tcp.flags', 12, 'field'],
  ['udp', 1, 'predicate'],
  ['udp.src', 16, 'field'],
  ['udp.dst', 16, 'field'],
  ['sctp', 1, 'predicate'],
  ['icmp4', 1, 'predicate'],
  ['icmp4.type', 8, 'field'],
  ['icmp4.code', 8, 'field'],
  ['icmp6', 1, 'predicate'],
  ['icmp', 1, 'predicate'],
  ['eth.bcast', 1, 'predicate'],
  ['eth.mcast', 1, 'predicate'],
  ['reg0', 32, 'subfield'],
  ['reg9', 32, 'subfield'],
  ['xreg0', 64, 'subfield'],
  ['xreg4', 64, 'field'],
  ['xxreg0', 128, 'field'],
  ['xxreg1', 128, 'field'],
  ['flags.loopback', 1, 'subfield'],
  ['ct.new', 1, 'subfield'],
  ['ct.est', 1, 'subfield'],
  ['ct.rel', 1, 'subfield'],
  ['ct.rpl', 1, 'subfield'],
  ['ct.inv', 1, 'subfield'],
  ['ct.trk', 1, 'subfield'],
  ['ct.dnat', 1, 'subfield'],
  ['ct.snat', 1, 'subfield'],
  ['ct_label', 128, 'field'],
  ['ct_mark', 32, 'field'],
  ['ct_state', 32, 'field'],
];

test("symbol table: ovn-sb(5)'s symbols with widths and kinds", () => {
  const t = defaultSymbols();
  for (const [name, width, kind] of SYMBOLS) {
    const s = t.get(name);
    assert.ok(s, name);
    assert.equal(s.kind, kind, name);
    assert.equal(t.width(s), width, name);
  }
  // Level of measurement (ovn-sb(5) "Level of Measurement").
  const nominal = (n: string): boolean => t.isNominal(t.get(n)!);
  for (const n of ['inport', 'eth.type', 'ip.proto', 'icmp4.type', 'arp.op', 'ip.ttl', 'ip4', 'tcp', 'ip', 'nd', 'nd_ns', 'icmp'])
    assert.ok(nominal(n), n);
  for (const n of ['eth.src', 'ip4.src', 'reg0', 'ct.est', 'eth.mcast', 'vlan.present', 'ip.later_frag', 'ip4.mcast', 'tcp.src'])
    assert.ok(!nominal(n), n);
  // Register overlays as ovn-trace reports them.
  assert.deepEqual(t.resolveStorage('reg0'), { field: t.get('xxreg0'), lo: 96, width: 32 });
  assert.deepEqual(t.resolveStorage('reg3'), { field: t.get('xxreg0'), lo: 0, width: 32 });
  assert.deepEqual(t.resolveStorage('reg7'), { field: t.get('xxreg1'), lo: 0, width: 32 });
  assert.deepEqual(t.resolveStorage('reg9'), { field: t.get('xreg4'), lo: 0, width: 32 });
  assert.deepEqual(t.resolveStorage('xreg1'), { field: t.get('xxreg0'), lo: 0, width: 64 });
  assert.equal(t.resolveStorage('ip4'), undefined);
});

test('the default table is frozen; createSymbolTable() gives a private one', () => {
  assert.throws(() => defaultSymbols().addField('x', 1), /frozen/);
  const own = createSymbolTable().addField('pkt.len', 16);
  assert.equal(own.width(own.get('pkt.len')!), 16);
  assert.equal(defaultSymbols().get('pkt.len'), undefined);
});
