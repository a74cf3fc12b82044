/**
 * The real `ovsdb-client transact` runs the same table of transactions —
 * valid ones and invalid ones — against the real ovsdb-server and against
 * `ovnts ovsdb-server`; results and errors must be the same (UUIDs normalised).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bothServers } from '../helpers/ovsdb-servers.js';
import { normalizeTransactOutput } from '../helpers/normalize.js';
import { run } from '../helpers/proc.js';

const ovsdbClient = (args: string[]) => run('ovsdb-client', ['--timeout=10', ...args]);

const NB = 'OVN_Northbound';
const ls = (name: string, extra: Record<string, unknown> = {}) => ({ op: 'insert', table: 'Logical_Switch', row: { name, ...extra } });

/** Run in order on one database: later cases see earlier cases' commits. */
const CASES: Array<[string, unknown[]]> = [
  ['insert', [ls('sw0')]],
  [
    'insert with named-uuid port',
    [
      { op: 'insert', table: 'Logical_Switch_Port', row: { name: 'p0', tag_request: 0 }, 'uuid-name': 'p' },
      ls('sw1', { ports: ['named-uuid', 'p'] }),
    ],
  ],
  [
    'select by name',
    [{ op: 'select', table: 'Logical_Switch', where: [['name', '==', 'sw0']], columns: ['name', 'ports', 'other_config'] }],
  ],
  ['select all switches, sorted', [{ op: 'select', table: 'Logical_Switch', where: [], columns: ['name'] }]],
  [
    'select with includes on a set of uuids',
    [{ op: 'select', table: 'Logical_Switch', where: [['ports', 'excludes', ['set', []]]], columns: ['name'] }],
  ],
  [
    'select ordering on optional integer',
    [{ op: 'select', table: 'Logical_Switch_Port', where: [['tag_request', '<', 5]], columns: ['name'] }],
  ],
  ['update', [{ op: 'update', table: 'Logical_Switch', where: [['name', '==', 'sw0']], row: { external_ids: ['map', [['a', 'b']]] } }]],
  [
    'mutate map insert and delete',
    [
      {
        op: 'mutate',
        table: 'Logical_Switch',
        where: [['name', '==', 'sw0']],
        mutations: [
          [
            'external_ids',
            'insert',
            [
              'map',
              [
                ['c', 'd'],
                ['a', 'z'],
              ],
            ],
          ],
          ['other_config', 'insert', ['map', [['k', 'v']]]],
        ],
      },
      { op: 'select', table: 'Logical_Switch', where: [['name', '==', 'sw0']], columns: ['external_ids', 'other_config'] },
    ],
  ],
  [
    'mutate integer',
    [
      { op: 'insert', table: 'NB_Global', row: { nb_cfg: 3 } },
      {
        op: 'mutate',
        table: 'NB_Global',
        where: [],
        mutations: [
          ['nb_cfg', '+=', 4],
          ['nb_cfg', '%=', 5],
        ],
      },
      { op: 'select', table: 'NB_Global', where: [], columns: ['nb_cfg'] },
    ],
  ],
  [
    'comment and commit',
    [
      { op: 'comment', comment: 'hello' },
      { op: 'commit', durable: true },
    ],
  ],
  [
    'wait satisfied',
    [
      {
        op: 'wait',
        table: 'Logical_Switch',
        where: [['name', '==', 'sw0']],
        columns: ['name'],
        until: '==',
        rows: [{ name: 'sw0' }],
        timeout: 0,
      },
    ],
  ],
  [
    'wait timed out',
    [{ op: 'wait', table: 'Logical_Switch', where: [], columns: ['name'], until: '==', rows: [{ name: 'zz' }], timeout: 0 }],
  ],
  ['abort', [ls('never'), { op: 'abort' }, ls('never2')]],
  ['assert without lock', [{ op: 'assert', lock: 'foo' }]],
  ['dangling named-uuid', [ls('bad', { ports: ['named-uuid', 'nope'] })]],
  ['dangling uuid', [ls('bad', { ports: ['uuid', '11111111-2222-3333-4444-555555555555'] })]],
  ['delete referenced row', [{ op: 'delete', table: 'Logical_Switch_Port', where: [['name', '==', 'p0']] }]],
  ['maxRows', [{ op: 'insert', table: 'NB_Global', row: {} }]],
  ['unknown table', [{ op: 'insert', table: 'Nope', row: {} }]],
  ['unknown column', [ls('x', { nope: 1 })]],
  ['wrong type', [{ op: 'insert', table: 'Logical_Switch', row: { name: 1 } }]],
  ['ordering on a string', [{ op: 'select', table: 'Logical_Switch', where: [['name', '<', 'a']] }]],
  ['unknown operation', [{ op: 'frob', table: 'Logical_Switch' }]],
  ['unknown operation after a good one', [ls('q'), { op: 'frob' }]],
  ['enum violation', [{ op: 'insert', table: 'ACL', row: { direction: 'sideways', priority: 5, action: 'allow', match: '1' } }]],
  ['range violation', [{ op: 'insert', table: 'ACL', row: { direction: 'to-lport', priority: 50000, action: 'allow', match: '1' } }]],
  ['tag range', [{ op: 'insert', table: 'Logical_Switch_Port', row: { name: 'a', tag: 5000 } }]],
  ['set too big', [{ op: 'insert', table: 'Logical_Switch_Port', row: { name: 'a', tag: ['set', [1, 2]] } }]],
  ['scalar given empty set', [{ op: 'insert', table: 'Logical_Switch', row: { name: ['set', []] } }]],
  ['map given as set', [ls('a', { other_config: ['set', ['a']] })]],
  ['map pair malformed', [ls('a', { external_ids: ['map', [['a']]] })]],
  [
    'duplicate map key',
    [
      ls('a', {
        external_ids: [
          'map',
          [
            ['a', 'b'],
            ['a', 'c'],
          ],
        ],
      }),
    ],
  ],
  [
    'duplicate set member',
    [
      ls('a', {
        ports: [
          'set',
          [
            ['uuid', '11111111-2222-3333-4444-555555555555'],
            ['uuid', '11111111-2222-3333-4444-555555555555'],
          ],
        ],
      }),
    ],
  ],
  ['invalid uuid', [ls('a', { ports: ['set', [['uuid', '1']]] })]],
  [
    'immutable column update',
    [{ op: 'update', table: 'Logical_Switch', where: [], row: { _uuid: ['uuid', '11111111-2222-3333-4444-555555555555'] } }],
  ],
  ['division by zero', [{ op: 'mutate', table: 'NB_Global', where: [], mutations: [['nb_cfg', '/=', 0]] }]],
  [
    'arithmetic out of column range',
    [
      { op: 'insert', table: 'ACL', row: { direction: 'to-lport', priority: 5, action: 'allow', match: '1' } },
      { op: 'mutate', table: 'ACL', where: [], mutations: [['priority', '+=', 40000]] },
    ],
  ],
  ['insert mutator on a scalar', [{ op: 'mutate', table: 'Logical_Switch', where: [], mutations: [['name', 'insert', 'a']] }]],
  ['unknown mutator', [{ op: 'mutate', table: 'Logical_Switch', where: [], mutations: [['external_ids', 'frob', ['map', []]]] }]],
  ['unknown function', [{ op: 'select', table: 'Logical_Switch', where: [['name', 'frob', 'a']] }]],
  ['unknown column in where', [{ op: 'select', table: 'Logical_Switch', where: [['nope', '==', 'a']] }]],
  ['bad until', [{ op: 'wait', table: 'Logical_Switch', where: [], columns: ['name'], until: '!!', rows: [] }]],
  ['bad uuid-name', [{ op: 'insert', table: 'Logical_Switch', row: { name: 'y' }, 'uuid-name': '1bad' }]],
  [
    'duplicate uuid-name',
    [
      { ...ls('y'), 'uuid-name': 'a' },
      { ...ls('z'), 'uuid-name': 'a' },
    ],
  ],
  ['commit durable not boolean', [{ op: 'commit', durable: 'yes' }]],
  ['missing table', [{ op: 'insert', row: {} }]],
  ['missing row', [{ op: 'insert', table: 'Logical_Switch' }]],
  ['bad select column', [{ op: 'select', table: 'Logical_Switch', where: [], columns: ['nope'] }]],
  ['operation not an object', [5]],
  [
    'delete everything that can be deleted',
    [
      { op: 'delete', table: 'Logical_Switch', where: [['name', '!=', 'sw1']] },
      { op: 'select', table: 'Logical_Switch', where: [], columns: ['name'] },
    ],
  ],
  [
    'gc of a port when its switch goes',
    [
      { op: 'delete', table: 'Logical_Switch', where: [] },
      { op: 'select', table: 'Logical_Switch_Port', where: [], columns: ['name'] },
    ],
  ],
];

const servers = bothServers();

test('transactions give the same results and errors as ovsdb-server', async () => {
  const { real, ovnts } = servers;
  for (const [name, ops] of CASES) {
    const txn = JSON.stringify([NB, ...ops]);
    const a = await ovsdbClient(['transact', real.remote, txn]);
    const b = await ovsdbClient(['transact', ovnts.remote, txn]);
    assert.equal(b.code, a.code, `${name}: exit code`);
    assert.equal(normalizeTransactOutput(b.stdout), normalizeTransactOutput(a.stdout), `${name}: result`);
  }
});

test('ovsdb-client list-dbs, get-schema, list-tables, list-columns agree', async () => {
  const { real, ovnts } = servers;
  for (const args of [
    ['list-dbs'],
    ['get-schema', NB],
    ['get-schema-version', NB],
    ['list-tables', NB],
    ['list-columns', NB, 'Logical_Switch_Port'],
  ]) {
    const [cmd, ...rest] = args as [string, ...string[]];
    const a = await ovsdbClient([cmd, real.remote, ...rest]);
    const b = await ovsdbClient([cmd, ovnts.remote, ...rest]);
    assert.equal(b.code, a.code, args.join(' '));
    assert.equal(b.stdout, a.stdout, args.join(' '));
  }
});

test('unknown database is refused the same way', async () => {
  const { real, ovnts } = servers;
  const txn = JSON.stringify(['Nope', { op: 'comment', comment: 'x' }]);
  const a = await ovsdbClient(['transact', real.remote, txn]);
  const b = await ovsdbClient(['transact', ovnts.remote, txn]);
  assert.equal(b.code, a.code);
  assert.equal(b.stderr, a.stderr);
});
