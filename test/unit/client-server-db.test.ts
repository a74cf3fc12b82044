/**
 * client/server-db.ts: which cluster members a client may use, from
 * `_Server.Database` rows as the real ovsdb-server 3.1 writes them (the rows
 * below were read from a real 3-member cluster).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerDbRow, unusableReason, type ClusterPosition } from '../../src/ovsdb/client/server-db.js';

const CID = '3b496f8b-f054-48ce-92cc-1b2f9f1c953d';
const member = (leader: boolean, index: number, connected = true, cid = CID): Record<string, unknown> => ({
  cid: ['uuid', cid],
  connected,
  index,
  leader,
  model: 'clustered',
  name: 'OVN_Northbound',
  sid: ['uuid', 'a048c8bc-ee5a-4467-a2d7-59f5507213b6'],
});

test('parseServerDbRow: clustered and standalone rows', () => {
  assert.deepEqual(parseServerDbRow(member(true, 4)), { model: 'clustered', connected: true, leader: true, index: 4n, cid: CID });
  const standalone = {
    cid: ['set', []],
    connected: true,
    index: ['set', []],
    leader: true,
    model: 'standalone',
    name: '_Server',
    sid: ['set', []],
  };
  assert.deepEqual(parseServerDbRow(standalone), { model: 'standalone', connected: true, leader: true, index: undefined, cid: undefined });
});

test('unusableReason: leader-only, disconnected, stale index; the position follows usable members', () => {
  const pos: ClusterPosition = { cid: undefined, minIndex: 0n };
  assert.equal(unusableReason(parseServerDbRow(member(false, 4)), pos, true), 'clustered database server is not cluster leader');
  assert.equal(pos.minIndex, 0n, 'a refused member moves nothing');
  assert.equal(unusableReason(parseServerDbRow(member(false, 4)), pos, false), undefined);
  assert.equal(pos.minIndex, 4n);
  assert.equal(unusableReason(parseServerDbRow(member(true, 9)), pos, true), undefined);
  assert.equal(pos.minIndex, 9n);
  // A member behind what the client has seen would move it back in time.
  assert.equal(unusableReason(parseServerDbRow(member(true, 8)), pos, true), 'clustered database server has stale data');
  assert.equal(
    unusableReason(parseServerDbRow(member(true, 9, false)), pos, false),
    'clustered database server is disconnected from cluster',
  );
  // Another cluster (re-created): its indexes start over.
  assert.equal(unusableReason(parseServerDbRow(member(true, 2, true, '00000000-0000-0000-0000-000000000001')), pos, true), undefined);
  assert.equal(pos.minIndex, 2n);
  // Standalone servers are always usable.
  assert.equal(
    unusableReason({ model: 'standalone', connected: true, leader: true, index: undefined, cid: undefined }, pos, true),
    undefined,
  );
});
