/**
 * client/conditions.ts: which tables a monitor_cond_change request names, and
 * the conditions after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anyOf, changeConditions, NO_ROWS } from '../../src/ovsdb/client/conditions.js';

test('changeConditions: only tables whose condition differs; undefined means the whole table', () => {
  const cur = { A: [['x', '==', 1]], B: [...NO_ROWS] };
  assert.deepEqual(changeConditions(cur, { A: [['x', '==', 1]] }), { next: cur, requests: undefined });
  // A table without a condition is the same as [true].
  assert.equal(changeConditions({}, { C: [true] }).requests, undefined);
  const r = changeConditions(cur, { A: [['x', '==', 2]], B: undefined, C: [false] });
  assert.deepEqual(r.next, { A: [['x', '==', 2]], C: [false] });
  assert.deepEqual(r.requests, { A: [{ where: [['x', '==', 2]] }], B: [{ where: [true] }], C: [{ where: [false] }] });
});

test('anyOf: one clause per value, [false] for none', () => {
  assert.deepEqual(
    anyOf('datapath', [
      ['uuid', 'u1'],
      ['uuid', 'u2'],
    ]),
    [
      ['datapath', '==', ['uuid', 'u1']],
      ['datapath', '==', ['uuid', 'u2']],
    ],
  );
  assert.deepEqual(anyOf('logical_port', []), [false]);
});
