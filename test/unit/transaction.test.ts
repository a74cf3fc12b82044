import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Database } from '../../src/ovsdb/database.js';
import { executeTransaction, type ExecOutcome } from '../../src/ovsdb/transaction.js';
import { parseSchema } from '../../src/ovsdb/schema.js';
import { SCHEMA_FILES, loadSchemaJson } from '../../src/ovsdb/schema-files.js';

const NB = parseSchema(loadSchemaJson(SCHEMA_FILES.OVN_Northbound));
const SB = parseSchema(loadSchemaJson(SCHEMA_FILES.OVN_Southbound));

/** Runs and applies a transaction like a server would. */
function run(db: Database, ...ops: unknown[]): ExecOutcome {
  const out = executeTransaction(db, ops, { startMs: 0, nowMs: 0 });
  if (out.status === 'committed') db.apply(out.changes);
  return out;
}

function results(out: ExecOutcome): unknown[] {
  assert.notEqual(out.status, 'blocked');
  return (out as { results: unknown[] }).results;
}

function uuidOf(out: ExecOutcome, i = 0): string {
  return (results(out)[i] as { uuid: [string, string] }).uuid[1];
}

test('insert with named-uuid references and select', () => {
  const db = new Database(NB);
  const out = run(
    db,
    {
      op: 'insert',
      table: 'Logical_Switch_Port',
      row: { name: 'p1', addresses: ['set', ['02:00:00:00:00:01 10.0.0.1']] },
      'uuid-name': 'p',
    },
    { op: 'insert', table: 'Logical_Switch', row: { name: 'sw', ports: ['named-uuid', 'p'] } },
  );
  assert.equal(out.status, 'committed');
  const sel = results(run(db, { op: 'select', table: 'Logical_Switch', where: [['name', '==', 'sw']], columns: ['ports', 'name'] }));
  assert.deepEqual(sel, [{ rows: [{ name: 'sw', ports: ['uuid', uuidOf(out, 0)] }] }]);
});

test('unreferenced rows of non-root tables are garbage collected', () => {
  const db = new Database(NB);
  const out = run(db, { op: 'insert', table: 'Logical_Switch_Port', row: { name: 'orphan' } });
  assert.equal(out.status, 'committed');
  assert.equal(db.table('Logical_Switch_Port').rows.size, 0);
  // Removing the last reference deletes the port too.
  const ins = run(
    db,
    { op: 'insert', table: 'Logical_Switch_Port', row: { name: 'p1' }, 'uuid-name': 'p' },
    { op: 'insert', table: 'Logical_Switch', row: { name: 'sw', ports: ['named-uuid', 'p'] } },
  );
  assert.equal(db.table('Logical_Switch_Port').rows.size, 1);
  run(db, { op: 'mutate', table: 'Logical_Switch', where: [], mutations: [['ports', 'delete', ['uuid', uuidOf(ins, 0)]]] });
  assert.equal(db.table('Logical_Switch_Port').rows.size, 0);
  assert.equal(db.strongRefs.size, 0);
});

test('strong references block deletion and must point at existing rows', () => {
  const db = new Database(NB);
  const ins = run(
    db,
    { op: 'insert', table: 'Logical_Switch_Port', row: { name: 'p1' }, 'uuid-name': 'p' },
    { op: 'insert', table: 'Logical_Switch', row: { name: 'sw', ports: ['named-uuid', 'p'] } },
  );
  const port = uuidOf(ins, 0);
  const del = run(db, { op: 'delete', table: 'Logical_Switch_Port', where: [['_uuid', '==', ['uuid', port]]] });
  assert.equal(del.status, 'failed');
  assert.deepEqual(results(del), [
    { count: 1 },
    {
      error: 'referential integrity violation',
      details: `cannot delete Logical_Switch_Port row ${port} because of 1 remaining reference(s)`,
    },
  ]);
  assert.equal(db.table('Logical_Switch_Port').rows.size, 1, 'nothing changed');
  const bad = run(db, {
    op: 'insert',
    table: 'Logical_Switch',
    row: { name: 'x', ports: ['uuid', '11111111-2222-3333-4444-555555555555'] },
  });
  assert.equal(bad.status, 'failed');
  assert.match(
    JSON.stringify(results(bad)[1]),
    /references nonexistent row 11111111-2222-3333-4444-555555555555 in table Logical_Switch_Port/,
  );
});

test('weak references to deleted rows are removed', () => {
  const db = new Database(SB);
  const ch = run(
    db,
    { op: 'insert', table: 'Encap', row: { type: 'geneve', ip: '192.0.2.1', chassis_name: 'hv1' }, 'uuid-name': 'e' },
    { op: 'insert', table: 'Chassis', row: { name: 'hv1', hostname: 'hv1', encaps: ['named-uuid', 'e'] }, 'uuid-name': 'c' },
    { op: 'insert', table: 'Datapath_Binding', row: { tunnel_key: 1 }, 'uuid-name': 'd' },
    {
      op: 'insert',
      table: 'Port_Binding',
      row: { logical_port: 'lp', tunnel_key: 1, datapath: ['named-uuid', 'd'], chassis: ['named-uuid', 'c'] },
    },
  );
  assert.equal(ch.status, 'committed');
  const pb = uuidOf(ch, 3);
  run(db, { op: 'delete', table: 'Chassis', where: [] });
  assert.equal(db.table('Encap').rows.size, 0, 'the encap went with its chassis');
  const row = db.table('Port_Binding').rows.get(pb);
  assert.ok(row);
  assert.deepEqual(row.cols['chassis'], { keys: [] });
  assert.equal(db.weakReferrers.size, 0);
});

test('unique indexes reject duplicates, also across one transaction', () => {
  const db = new Database(SB);
  const dp = (key: number) => ({ op: 'insert', table: 'Datapath_Binding', row: { tunnel_key: key } });
  run(db, dp(1));
  const dup = run(db, dp(1));
  assert.equal(dup.status, 'failed');
  assert.match(JSON.stringify(results(dup)), /constraint violation.*identical values/);
  // Renaming one row and taking its old name in the same transaction is fine.
  const swap = run(db, { op: 'update', table: 'Datapath_Binding', where: [['tunnel_key', '==', 1]], row: { tunnel_key: 2 } }, dp(1));
  assert.equal(swap.status, 'committed', JSON.stringify(results(swap)));
  assert.equal(db.table('Datapath_Binding').rows.size, 2);
});

test('mutations: arithmetic, set and map insert/delete, errors', () => {
  const db = new Database(NB);
  run(db, {
    op: 'insert',
    table: 'NB_Global',
    row: {
      nb_cfg: 5,
      external_ids: [
        'map',
        [
          ['a', '1'],
          ['b', '2'],
        ],
      ],
    },
  });
  const ok = run(db, {
    op: 'mutate',
    table: 'NB_Global',
    where: [],
    mutations: [
      ['nb_cfg', '+=', 3],
      ['nb_cfg', '*=', 2],
      [
        'external_ids',
        'insert',
        [
          'map',
          [
            ['a', 'x'],
            ['c', '3'],
          ],
        ],
      ],
      ['external_ids', 'delete', ['set', ['b']]],
    ],
  });
  assert.deepEqual(results(ok), [{ count: 1 }]);
  const sel = results(run(db, { op: 'select', table: 'NB_Global', where: [], columns: ['nb_cfg', 'external_ids'] }));
  assert.deepEqual(sel, [
    {
      rows: [
        {
          nb_cfg: 16,
          external_ids: [
            'map',
            [
              ['a', '1'],
              ['c', '3'],
            ],
          ],
        },
      ],
    },
  ]);
  const div = run(db, { op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '/=', 0]] });
  assert.deepEqual(results(div), [{ error: 'domain error', details: 'Division by zero.' }]);
  const imm = run(db, { op: 'mutate', table: 'NB_Global', where: [], mutations: [['_uuid', 'insert', ['set', []]]] });
  assert.equal((results(imm)[0] as { error: string }).error, 'constraint violation');
});

test('constraints: enums, integer ranges, set sizes, maxRows', () => {
  const db = new Database(NB);
  const acl = (row: Record<string, unknown>): ExecOutcome =>
    run(db, { op: 'insert', table: 'ACL', row: { direction: 'to-lport', priority: 5, action: 'allow', match: '1', ...row } });
  assert.deepEqual(results(acl({ direction: 'sideways' }))[0], {
    error: 'constraint violation',
    details: 'sideways is not one of the allowed values ([from-lport, to-lport])',
  });
  assert.deepEqual(results(acl({ priority: 50000 }))[0], {
    error: 'constraint violation',
    details: '50000 is not in the valid range 0 to 32767 (inclusive)',
  });
  const two = run(db, { op: 'insert', table: 'Logical_Switch_Port', row: { name: 'a', tag: ['set', [1, 2]] } });
  assert.deepEqual(results(two)[0], {
    error: 'syntax error',
    details: 'set must have 0 to 1 members but 2 are present',
    syntax: '["set",[1,2]]',
  });
  run(db, { op: 'insert', table: 'NB_Global', row: {} });
  const second = run(db, { op: 'insert', table: 'NB_Global', row: {} });
  assert.match(JSON.stringify(results(second)), /greater than the schema-defined limit of 1 row/);
});

test('abort, failed operations and the results array', () => {
  const db = new Database(NB);
  const out = run(
    db,
    { op: 'insert', table: 'Logical_Switch', row: { name: 'a' } },
    { op: 'abort' },
    { op: 'insert', table: 'Logical_Switch', row: { name: 'b' } },
  );
  assert.equal(out.status, 'failed');
  const r = results(out);
  assert.equal(r.length, 3);
  assert.deepEqual(r[1], { error: 'aborted', details: 'aborted by request' });
  assert.equal(r[2], null);
  assert.equal(db.table('Logical_Switch').rows.size, 0);
  const unknown = run(db, { op: 'frob', table: 'Logical_Switch' });
  assert.deepEqual(results(unknown), [
    {
      error: 'syntax error',
      details: 'Parsing ovsdb operation 1 of 1 failed: No operation "frob"',
      syntax: '{"op":"frob","table":"Logical_Switch"}',
    },
  ]);
});

test('wait: satisfied, timed out, and blocked until a deadline', () => {
  const db = new Database(NB);
  run(db, { op: 'insert', table: 'Logical_Switch', row: { name: 'a' } });
  const wait = (until: string, timeout?: number) => ({
    op: 'wait',
    table: 'Logical_Switch',
    where: [],
    columns: ['name'],
    until,
    rows: [{ name: 'a' }],
    ...(timeout === undefined ? {} : { timeout }),
  });
  assert.deepEqual(results(run(db, wait('==', 0))), [{}]);
  assert.deepEqual(results(run(db, wait('!=', 0))), [{ error: 'timed out', details: '"where" clause test failed' }]);
  const blocked = executeTransaction(db, [wait('!=', 1000)], { startMs: 100, nowMs: 200 });
  assert.deepEqual(blocked, { status: 'blocked', retryAtMs: 1100 });
  const forever = executeTransaction(db, [wait('!=')], { startMs: 100, nowMs: 200 });
  assert.deepEqual(forever, { status: 'blocked', retryAtMs: Infinity });
});

test('updates that change nothing commit no row changes', () => {
  const db = new Database(NB);
  run(db, { op: 'insert', table: 'Logical_Switch', row: { name: 'a' } });
  const out = run(db, { op: 'update', table: 'Logical_Switch', where: [], row: { name: 'a' } });
  assert.equal(out.status, 'committed');
  assert.deepEqual((out as { changes: unknown[] }).changes, []);
  assert.deepEqual(results(out), [{ count: 1 }]);
});
