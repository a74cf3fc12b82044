import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  checkAtom,
  datumEquals,
  datumExcludes,
  datumFromJson,
  datumIncludes,
  datumSubtract,
  datumToJson,
  datumUnion,
  type Atom,
  type Datum,
  UuidSource,
} from '../../src/ovsdb/datum.js';
import { parseColumnType, type ColumnType } from '../../src/ovsdb/schema.js';
import { OvsdbError } from '../../src/ovsdb/error.js';

const UUID = fc.uuid().map((u) => u.toLowerCase());

/** Column types with their atom generators: the shapes OVN's schemas use. */
const TYPES: Array<[string, ColumnType, fc.Arbitrary<Atom>, fc.Arbitrary<Atom> | undefined]> = [
  ['integer', parseColumnType('integer'), fc.integer(), undefined],
  [
    'optional integer 0..4095',
    parseColumnType({ key: { type: 'integer', minInteger: 0, maxInteger: 4095 }, min: 0, max: 1 }),
    fc.integer({ min: 0, max: 4095 }),
    undefined,
  ],
  ['set of strings', parseColumnType({ key: 'string', min: 0, max: 'unlimited' }), fc.string(), undefined],
  ['set of uuids', parseColumnType({ key: 'uuid', min: 0, max: 'unlimited' }), UUID, undefined],
  ['map string→string', parseColumnType({ key: 'string', value: 'string', min: 0, max: 'unlimited' }), fc.string(), fc.string()],
  ['map integer→uuid', parseColumnType({ key: 'integer', value: 'uuid', min: 0, max: 'unlimited' }), fc.integer(), UUID],
  ['boolean', parseColumnType('boolean'), fc.boolean(), undefined],
  ['real', parseColumnType('real'), fc.double({ noNaN: true, noDefaultInfinity: true }), undefined],
];

/** A random valid datum for a type, built from unique keys. */
function datumArb(type: ColumnType, key: fc.Arbitrary<Atom>, value: fc.Arbitrary<Atom> | undefined): fc.Arbitrary<Datum> {
  const max = type.max === Infinity ? 8 : type.max;
  return fc.uniqueArray(key, { minLength: type.min, maxLength: max, selector: (k) => k }).chain((keys) => {
    const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (value === undefined) return fc.constant({ keys: sorted });
    return fc.array(value, { minLength: sorted.length, maxLength: sorted.length }).map((values) => ({ keys: sorted, values }));
  });
}

test('datum JSON round-trips for every column shape (property)', () => {
  for (const [name, type, key, value] of TYPES) {
    fc.assert(
      fc.property(datumArb(type, key, value), (d) => {
        const back = datumFromJson(datumToJson(d, type), type);
        assert.ok(datumEquals(back, d), `${name}: ${JSON.stringify(d)}`);
      }),
    );
  }
});

test('set algebra agrees with JS sets (property)', () => {
  const type = parseColumnType({ key: 'integer', min: 0, max: 'unlimited' });
  const arb = datumArb(type, fc.integer({ min: 0, max: 20 }), undefined);
  fc.assert(
    fc.property(arb, arb, (a, b) => {
      const sa = new Set(a.keys);
      const sb = new Set(b.keys);
      assert.deepEqual(
        datumUnion(a, b).keys,
        [...new Set([...sa, ...sb])].sort((x, y) => (x as number) - (y as number)),
      );
      assert.deepEqual(
        datumSubtract(a, b).keys,
        [...sa].filter((x) => !sb.has(x)),
      );
      assert.equal(
        datumIncludes(a, b),
        [...sb].every((x) => sa.has(x)),
      );
      assert.equal(
        datumExcludes(a, b),
        [...sb].every((x) => !sa.has(x)),
      );
    }),
  );
});

test('maps: insert keeps existing values, delete by pair needs the value to match', () => {
  const type = parseColumnType({ key: 'string', value: 'string', min: 0, max: 'unlimited' });
  const m = datumFromJson(
    [
      'map',
      [
        ['a', '1'],
        ['b', '2'],
      ],
    ],
    type,
  );
  assert.deepEqual(
    datumToJson(
      datumUnion(
        m,
        datumFromJson(
          [
            'map',
            [
              ['a', 'x'],
              ['c', '3'],
            ],
          ],
          type,
        ),
      ),
      type,
    ),
    [
      'map',
      [
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
      ],
    ],
  );
  assert.deepEqual(
    datumToJson(
      datumSubtract(
        m,
        datumFromJson(
          [
            'map',
            [
              ['a', 'x'],
              ['b', '2'],
            ],
          ],
          type,
        ),
      ),
      type,
    ),
    ['map', [['a', '1']]],
  );
  assert.deepEqual(datumToJson(datumSubtract(m, datumFromJson(['set', ['a']], type, { keysOnly: true })), type), ['map', [['b', '2']]]);
});

test('atom constraints at their boundaries', () => {
  const tag = { type: 'integer' as const, minInteger: 1, maxInteger: 4095 };
  for (const ok of [1, 4095]) checkAtom(ok, tag);
  for (const bad of [0, 4096])
    assert.throws(
      () => checkAtom(bad, tag),
      (e: unknown) => e instanceof OvsdbError && e.tag === 'constraint violation',
    );
  const name = { type: 'string' as const, minLength: 1, maxLength: 3 };
  checkAtom('é€😀', name); // three characters, more UTF-16 units and bytes
  assert.throws(() => checkAtom('', name), /less than minimum allowed length 1/);
  assert.throws(() => checkAtom('abcd', name), /greater than maximum allowed length 3/);
});

test("malformed datums are refused with ovsdb-server's errors", () => {
  const uuidSet = parseColumnType({ key: 'uuid', min: 0, max: 'unlimited' });
  const cases: Array<[unknown, ColumnType, string]> = [
    [['uuid', 'nope'], uuidSet, '"nope" is not a valid UUID'],
    [['named-uuid', 'x'], uuidSet, 'named-uuid is only allowed in a transaction'],
    [['set', [1, 1]], parseColumnType({ key: 'integer', min: 0, max: 'unlimited' }), 'set contains duplicate'],
    [['set', 5], parseColumnType({ key: 'integer', min: 0, max: 'unlimited' }), 'expected ["set", <array>]'],
    [1.5, parseColumnType('integer'), 'expected integer'],
    [['set', []], parseColumnType('string'), 'set must have exactly one member but 0 are present'],
  ];
  for (const [json, type, details] of cases) {
    assert.throws(
      () => datumFromJson(json, type),
      (e: unknown) => e instanceof OvsdbError && e.details === details,
      JSON.stringify(json),
    );
  }
});

test('UuidSource makes distinct version 4 UUIDs in lower-case text form, across pool refills', () => {
  const source = new UuidSource();
  const seen = new Set<string>();
  // 4 KiB of random bytes make 256 UUIDs: this crosses several refills.
  for (let i = 0; i < 2000; i++) {
    const u = source.next();
    assert.match(u, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(u);
  }
  assert.equal(seen.size, 2000);
  // Two sources do not repeat each other.
  assert.notEqual(new UuidSource().next(), new UuidSource().next());
});
