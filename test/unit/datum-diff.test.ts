/**
 * update2 column diffs (ovsdb-server(7) 4.1.14): applying a diff to the old value
 * gives the new one, for scalars, optional columns, sets and maps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyDatumDiff } from '../../src/ovsdb/datum-diff.js';
import { datumDiff } from '../../src/ovsdb/monitor.js';
import { datumFromJson, type Datum } from '../../src/ovsdb/datum.js';
import { parseColumnType, type ColumnType } from '../../src/ovsdb/schema.js';

const SCALAR = parseColumnType('string');
const OPTIONAL = parseColumnType({ key: 'integer', min: 0, max: 1 });
const SET = parseColumnType({ key: 'string', min: 0, max: 'unlimited' });
const MAP = parseColumnType({ key: 'string', value: 'string', min: 0, max: 'unlimited' });

const d = (json: unknown, type: ColumnType): Datum => datumFromJson(json, type, { relaxSize: true });

test('scalar: the diff is the new value', () => {
  assert.deepEqual(applyDatumDiff(d('a', SCALAR), d('b', SCALAR), SCALAR), d('b', SCALAR));
});

test('optional column: the diff is the new value, as ovsdb-server sends it', () => {
  assert.deepEqual(applyDatumDiff(d(51, OPTIONAL), d(52, OPTIONAL), OPTIONAL), d(52, OPTIONAL));
  assert.deepEqual(applyDatumDiff(d(['set', []], OPTIONAL), d(7, OPTIONAL), OPTIONAL), d(7, OPTIONAL));
  assert.deepEqual(applyDatumDiff(d(7, OPTIONAL), d(['set', []], OPTIONAL), OPTIONAL), d(['set', []], OPTIONAL));
});

test('set: symmetric difference', () => {
  assert.deepEqual(applyDatumDiff(d(['set', ['a', 'b', 'c']], SET), d(['set', ['b', 'd']], SET), SET), d(['set', ['a', 'c', 'd']], SET));
});

test('map: add, remove on equal value, replace on different value', () => {
  const old = d(
    [
      'map',
      [
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
      ],
    ],
    MAP,
  );
  const diff = d(
    [
      'map',
      [
        ['a', '1'],
        ['b', '9'],
        ['z', '0'],
      ],
    ],
    MAP,
  );
  assert.deepEqual(
    applyDatumDiff(old, diff, MAP),
    d(
      [
        'map',
        [
          ['b', '9'],
          ['c', '3'],
          ['z', '0'],
        ],
      ],
      MAP,
    ),
  );
});

test('property: applying the server-side diff of (old, new) to old gives new', () => {
  const atom = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
  const setArb = fc.uniqueArray(atom, { maxLength: 6 }).map((ks) => d(['set', ks], SET));
  const mapArb = fc.uniqueArray(fc.tuple(atom, atom), { maxLength: 6, selector: (p) => p[0] }).map((ps) => d(['map', ps], MAP));
  for (const [arb, type] of [
    [setArb, SET],
    [mapArb, MAP],
  ] as const) {
    fc.assert(
      fc.property(arb, arb, (a, b) => {
        assert.deepEqual(applyDatumDiff(a, datumDiff(a, b, type), type), b);
      }),
    );
  }
});
