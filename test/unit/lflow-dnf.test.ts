/**
 * Matches as conjunctions of masked bit tests (what OpenFlow can match): the
 * conjunctions hold for exactly the packets the expression matches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  LflowError,
  conjunctionHolds,
  evaluate,
  expandMatch,
  packetFields,
  parseMatch,
  printConjunction,
  toConjunctions,
} from '../../src/lib/lflow/index.js';

const conj = (s: string): string[] => toConjunctions(expandMatch(parseMatch(s))).map(printConjunction);

test('conjunctions: prerequisites split, same-field tests merge, contradictions drop', () => {
  assert.deepEqual(conj('tcp.dst == 80'), [
    'tcp.dst == 0x50 && ip.proto == 0x6 && eth.type == 0x800',
    'tcp.dst == 0x50 && ip.proto == 0x6 && eth.type == 0x86dd',
  ]);
  assert.deepEqual(conj('!ct.est && ct.rel'), ['ct_state == 0x24/0x26']);
  assert.deepEqual(conj('reg0 < 5'), ['xxreg0[98..127] == 0', 'xxreg0[96..127] == 0x4']);
  assert.deepEqual(conj('reg0[0..3] >= 14'), ['xxreg0[96..99] == 0xf', 'xxreg0[96..99] == 0xe']);
  assert.equal(conj('tcp.src != 0').length, 32);
  assert.deepEqual(conj('1'), ['1']);
  assert.deepEqual(conj('0'), []);
  assert.deepEqual(conj('ip.proto == 1 && ip.proto == 2'), [], 'contradictory');
  assert.deepEqual(conj('inport == "a" && inport == "b"'), []);
  assert.deepEqual(conj('ip4.src == 10.0.0.0/8 && ip4.src == 1.1.1.1'), []);
  assert.deepEqual(conj('ip4.src == 10.0.0.0/8 && ip4.src == 10.1.1.1'), ['ip4.src == 0xa010101 && eth.type == 0x800']);
  assert.deepEqual(conj('inport == "a" && inport == "a"'), ['inport == "a"']);
  assert.deepEqual(conj('is_chassis_resident("p") && !is_chassis_resident("p")'), []);
  assert.equal(conj('ip4.src == {1.2.3.4, 1.2.3.5} && tcp.dst == {80, 443}').length, 4);
});

test('conjunctions: a size limit instead of a blow-up', () => {
  const big = Array.from({ length: 8 }, (_, i) => `reg${i} != 0`).join(' && ');
  assert.throws(
    () => toConjunctions(expandMatch(parseMatch(big)), { maxConjunctions: 1000 }),
    (e: unknown) => e instanceof LflowError && /more than 1000 conjunctions/.test(e.message),
  );
});

const FIELDS: readonly (readonly [string, number])[] = [
  ['reg0', 32],
  ['reg0[3]', 1],
  ['reg0[8..11]', 4],
  ['tcp.dst', 16],
  ['ip4.src', 32],
  ['ct.est', 1],
  ['vlan.vid', 12],
  ['eth.src[40]', 1],
];

const arbLeaf: fc.Arbitrary<string> = fc.oneof(
  fc
    .constantFrom(...FIELDS)
    .chain(([f, w]) =>
      fc
        .tuple(fc.constantFrom('==', '!=', '<', '<=', '>', '>='), fc.bigInt({ min: 0n, max: (1n << BigInt(w)) - 1n }))
        .map(([op, c]) => `${f} ${op} ${c}`),
    ),
  fc.constantFrom(
    'ip4',
    'tcp',
    'udp',
    'eth.mcast',
    'ct.trk',
    'ip4.src == 10.0.0.0/8',
    'ip4.src == 1.2.0.4/255.255.0.255',
    'inport == "a"',
    'inport == {"a", "b"}',
  ),
);

const arbExpr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    arbLeaf,
    fc
      .tuple(fc.constantFrom(' && ', ' || '), fc.array(tie('e'), { minLength: 2, maxLength: 3 }))
      .map(([op, xs]) => xs.map((x) => `(${x})`).join(op)),
  ),
})).e;

const arbPacket = fc.record({
  'eth.type': fc.constantFrom(0x800, 0x86dd, 0x806),
  'ip.proto': fc.constantFrom(6, 17, 1),
  'tcp.dst': fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(0, 1, 80)),
  'ip4.src': fc.oneof(fc.bigInt({ min: 0n, max: 0xffffffffn }), fc.constantFrom(0x0a000001n, 0x01020304n)),
  xxreg0: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
  ct_state: fc.integer({ min: 0, max: 0xff }),
  'vlan.tci': fc.integer({ min: 0, max: 0xffff }),
  'eth.src': fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }),
  inport: fc.constantFrom('a', 'b', 'c'),
});

test('property: the conjunctions hold exactly when the expression does', () => {
  fc.assert(
    fc.property(arbExpr, fc.array(arbPacket, { minLength: 1, maxLength: 8 }), (s, pkts) => {
      const norm = expandMatch(parseMatch(s));
      let cs;
      try {
        cs = toConjunctions(norm, { maxConjunctions: 20000 });
      } catch (e) {
        // Products of several `!=`/`<` tests grow fast; that limit is tested above.
        if (e instanceof LflowError && /conjunctions/.test(e.message)) return;
        throw e;
      }
      for (const pkt of pkts) {
        const fields = packetFields(pkt);
        assert.equal(
          cs.some((c) => conjunctionHolds(c, fields)),
          evaluate(norm, pkt),
          `${s} on ${JSON.stringify(pkt, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v))}`,
        );
      }
    }),
    { numRuns: 300 },
  );
});
