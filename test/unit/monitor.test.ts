import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Database } from '../../src/ovsdb/database.js';
import { Monitor, datumDiff } from '../../src/ovsdb/monitor.js';
import { NB_SCHEMA as NB, commitOps as commit } from '../helpers/ovsdb-commit.js';

test('update2: initial rows omit defaults, modify carries diffs, delete is null', () => {
  const db = new Database(NB);
  commit(db, {
    op: 'insert',
    table: 'Logical_Switch',
    row: {
      name: 'a',
      external_ids: [
        'map',
        [
          ['k', '1'],
          ['x', 'y'],
        ],
      ],
    },
  });
  const m = new Monitor(db, 'monitor_cond', 'm', { Logical_Switch: [{ columns: ['name', 'external_ids', 'other_config'] }] });
  const init = m.initial();
  const [uuid, row] = Object.entries(init['Logical_Switch'] ?? {})[0] as [string, unknown];
  assert.deepEqual(row, {
    initial: {
      name: 'a',
      external_ids: [
        'map',
        [
          ['k', '1'],
          ['x', 'y'],
        ],
      ],
    },
  });

  const ch = commit(
    db,
    {
      op: 'mutate',
      table: 'Logical_Switch',
      where: [],
      mutations: [
        ['external_ids', 'delete', ['set', ['x']]],
        ['external_ids', 'insert', ['map', [['z', '2']]]],
      ],
    },
    {
      op: 'update',
      table: 'Logical_Switch',
      where: [],
      row: {
        external_ids: [
          'map',
          [
            ['k', '9'],
            ['z', '2'],
          ],
        ],
      },
    },
  );
  // k changed value, x was removed (its old value listed), z was added.
  assert.deepEqual(m.update(ch), {
    Logical_Switch: {
      [uuid]: {
        modify: {
          external_ids: [
            'map',
            [
              ['k', '9'],
              ['x', 'y'],
              ['z', '2'],
            ],
          ],
        },
      },
    },
  });
  // A change to a column the monitor does not watch sends nothing.
  assert.equal(
    m.update(
      commit(db, {
        op: 'update',
        table: 'Logical_Switch',
        where: [],
        row: {
          load_balancer_group: ['set', []],
          copp: ['set', []],
          forwarding_groups: ['set', []],
          dns_records: ['set', []],
          qos_rules: ['set', []],
          acls: ['set', []],
        },
      }),
    ),
    null,
  );
  assert.equal(
    m.update(commit(db, { op: 'mutate', table: 'Logical_Switch', where: [], mutations: [['other_config', 'insert', ['map', []]]] })),
    null,
  );
  assert.deepEqual(m.update(commit(db, { op: 'delete', table: 'Logical_Switch', where: [] })), {
    Logical_Switch: { [uuid]: { delete: null } },
  });
});

test('update (v1): old holds the changed columns only, new the whole row', () => {
  const db = new Database(NB);
  commit(db, { op: 'insert', table: 'Logical_Switch', row: { name: 'a' } });
  const m = new Monitor(db, 'monitor', 'm', { Logical_Switch: { columns: ['name', 'external_ids'] } });
  const ch = commit(db, { op: 'update', table: 'Logical_Switch', where: [], row: { name: 'b' } });
  const u = m.update(ch) as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.values(u['Logical_Switch'] ?? {})[0], { old: { name: 'a' }, new: { name: 'b', external_ids: ['map', []] } });
});

test('conditions are ORed; rows moving in and out of them are inserts and deletes', () => {
  const db = new Database(NB);
  commit(db, { op: 'insert', table: 'Logical_Switch', row: { name: 'a' } }, { op: 'insert', table: 'Logical_Switch', row: { name: 'b' } });
  const m = new Monitor(db, 'monitor_cond', 'm', {
    Logical_Switch: [
      {
        columns: ['name'],
        where: [
          ['name', '==', 'a'],
          ['name', '==', 'c'],
        ],
      },
    ],
  });
  assert.equal(Object.keys(m.initial()['Logical_Switch'] ?? {}).length, 1);
  const renamed = commit(db, { op: 'update', table: 'Logical_Switch', where: [['name', '==', 'b']], row: { name: 'c' } });
  assert.deepEqual(Object.values(m.update(renamed)?.['Logical_Switch'] ?? {}), [{ insert: { name: 'c' } }]);
  const gone = commit(db, { op: 'update', table: 'Logical_Switch', where: [['name', '==', 'a']], row: { name: 'z' } });
  assert.deepEqual(Object.values(m.update(gone)?.['Logical_Switch'] ?? {}), [{ delete: null }]);
  // monitor_cond_change to [false] deletes what was visible; to [true] brings all back.
  assert.deepEqual(Object.values(m.changeConditions({ Logical_Switch: [{ where: [false] }] })?.['Logical_Switch'] ?? {}), [
    { delete: null },
  ]);
  assert.equal(Object.keys(m.changeConditions({ Logical_Switch: [{ where: [true] }] })?.['Logical_Switch'] ?? {}).length, 2);
});

test('select flags suppress row kinds', () => {
  const db = new Database(NB);
  const m = new Monitor(db, 'monitor_cond', 'm', { Logical_Switch: [{ select: { insert: false, initial: true } }] });
  assert.equal(m.update(commit(db, { op: 'insert', table: 'Logical_Switch', row: { name: 'a' } })), null);
  assert.notEqual(m.update(commit(db, { op: 'update', table: 'Logical_Switch', where: [], row: { name: 'b' } })), null);
});

test('datumDiff of sets is the symmetric difference; scalars and optional values carry the new value', () => {
  const set = { key: { type: 'string' as const }, min: 0, max: Infinity };
  assert.deepEqual(datumDiff({ keys: ['a', 'b'] }, { keys: ['b', 'c'] }, set), { keys: ['a', 'c'] });
  const scalar = { key: { type: 'integer' as const }, min: 1, max: 1 };
  assert.deepEqual(datumDiff({ keys: [1] }, { keys: [2] }, scalar), { keys: [2] });
  const optional = { key: { type: 'integer' as const }, min: 0, max: 1 };
  assert.deepEqual(datumDiff({ keys: [1] }, { keys: [2] }, optional), { keys: [2] });
  assert.deepEqual(datumDiff({ keys: [1] }, { keys: [] }, optional), { keys: [] });
});

test('updateText is update as JSON text, for monitor and monitor_cond, across tables, inserts, modifies and deletes', () => {
  const db = new Database(NB);
  const spec = {
    Logical_Switch: [{ columns: ['name', 'ports', 'other_config'] }],
    Logical_Switch_Port: [{ columns: ['name', 'tag_request'] }],
  };
  const monitors = [new Monitor(db, 'monitor', 'v1', spec), new Monitor(db, 'monitor_cond', 'v2', spec)];
  const steps: unknown[][] = [
    [
      { op: 'insert', table: 'Logical_Switch_Port', row: { name: 'p1' }, 'uuid-name': 'p1' },
      { op: 'insert', table: 'Logical_Switch', row: { name: 's1', ports: ['named-uuid', 'p1'] } },
      { op: 'insert', table: 'Logical_Switch', row: { name: 's2', other_config: ['map', [['a', '"quoted"\\ é']]] } },
    ],
    [
      { op: 'update', table: 'Logical_Switch_Port', where: [['name', '==', 'p1']], row: { tag_request: 7 } },
      { op: 'delete', table: 'Logical_Switch', where: [['name', '==', 's2']] },
    ],
    [{ op: 'update', table: 'Logical_Switch', where: [['name', '==', 's1']], row: { ports: ['set', []] } }],
  ];
  for (const ops of steps) {
    const ch = commit(db, ...ops);
    for (const m of monitors) {
      const text = m.updateText(ch);
      assert.notEqual(text, null);
      assert.deepEqual(JSON.parse(text as string), m.update(ch));
    }
  }
  // A commit no monitor selects gives no update at all.
  const ch = commit(db, { op: 'insert', table: 'Address_Set', row: { name: 'as' } });
  for (const m of monitors) assert.equal(m.updateText(ch), null);
});
