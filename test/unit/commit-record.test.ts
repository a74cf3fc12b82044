import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Database, type RowChange } from '../../src/ovsdb/database.js';
import { commitRecordText, replayRecord } from '../../src/ovsdb/hosted-database.js';
import type { LogRecord } from '../../src/ovsdb/storage.js';
import { NB_SCHEMA as NB, commitOps as run } from '../helpers/ovsdb-commit.js';

test('commitRecordText: inserts with their non-default columns, modifies with the changed ones, deletes as null; replaying it rebuilds the rows', () => {
  const db = new Database(NB);
  const replica = new Database(NB);
  const replay = (changes: RowChange[], comment?: string): LogRecord => {
    const rec = JSON.parse(commitRecordText(changes, comment)) as LogRecord;
    replayRecord(replica, rec);
    return rec;
  };
  const first = run(
    db,
    { op: 'insert', table: 'Logical_Switch_Port', row: { name: 'p1', tag_request: 5 }, 'uuid-name': 'p1' },
    { op: 'insert', table: 'Logical_Switch', row: { name: 's1', ports: ['named-uuid', 'p1'], external_ids: ['map', [['k', 'é "x"']]] } },
  );
  const rec1 = replay(first, 'first\ncommit');
  const sw = first.find((c) => c.table.name === 'Logical_Switch') as RowChange;
  const port = first.find((c) => c.table.name === 'Logical_Switch_Port') as RowChange;
  assert.deepEqual(rec1['Logical_Switch'], {
    [sw.uuid]: { name: 's1', ports: ['uuid', port.uuid], external_ids: ['map', [['k', 'é "x"']]] },
  });
  assert.deepEqual(rec1['Logical_Switch_Port'], { [port.uuid]: { name: 'p1', tag_request: 5 } });
  assert.equal(rec1['_comment'], 'first\ncommit');
  assert.equal(typeof rec1['_date'], 'number');

  const rec2 = replay(run(db, { op: 'update', table: 'Logical_Switch_Port', where: [['name', '==', 'p1']], row: { tag_request: 6 } }));
  assert.deepEqual(rec2['Logical_Switch_Port'], { [port.uuid]: { tag_request: 6 } });
  assert.equal('_comment' in rec2, false);

  const rec3 = replay(
    run(db, { op: 'delete', table: 'Logical_Switch', where: [] }, { op: 'insert', table: 'Logical_Switch', row: { name: 's2' } }),
  );
  assert.equal((rec3['Logical_Switch'] as Record<string, unknown>)[sw.uuid], null);

  for (const t of ['Logical_Switch', 'Logical_Switch_Port']) {
    const rows = (d: Database): unknown => [...d.table(t).rows.values()].map((r) => [r.uuid, JSON.stringify(r.cols)]).sort();
    assert.deepEqual(rows(replica), rows(db), t);
  }
});
