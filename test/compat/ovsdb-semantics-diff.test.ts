/**
 * ovsdb-server's semantics, differentially: the same JSON-RPC requests go to
 * the real ovsdb-server and to `ovnts ovsdb-server` on the same schema
 * (test/fixtures/ovsdb/semantics.ovsschema), and the replies and monitor
 * notifications must be the same once UUIDs are normalised.
 *
 * Facts learned from the real server 3.1 this way (and so asserted here):
 * a non-root row referenced only by itself is garbage, but a cycle of
 * unreferenced rows is kept; an insert's omitted columns have their defaults
 * checked against the column's constraints; select and wait with "columns"
 * work on the distinct projections; standalone monitor_cond_since never finds
 * the client's transaction and answers with the zero UUID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { bothServers, REPO } from '../helpers/ovsdb-servers.js';
import { normalizeTranscript, runSteps, type Step, type Transcript } from '../helpers/ovsdb-diff.js';
import { normalizeUuids } from '../helpers/normalize.js';
import { canonicalJson } from '../../src/ovsdb/error.js';

export const SEM_SCHEMA = join(REPO, 'test', 'fixtures', 'ovsdb', 'semantics.ovsschema');
const DB = 'Semantics';
const servers = bothServers([SEM_SCHEMA]);

const tx = (...ops: unknown[]): Step => ['transact', [DB, ...ops]];
const sel = (table: string, columns?: string[], where: unknown[] = []): Record<string, unknown> =>
  columns === undefined ? { op: 'select', table, where } : { op: 'select', table, where, columns };
const U1 = '11111111-2222-3333-4444-555555555555';

/**
 * Which of two rows with the same index key ovsdb-server calls "First" is
 * the order of its hash table, not something a client can rely on: the two
 * clauses are compared as a pair.
 */
function unorderedIndexRows(text: string): string {
  return text.replace(
    /First row, (with UUID [^,]+, [^.]+)\. {2}Second row, (with UUID [^,]+, [^.]+)\./g,
    (_m, a: string, b: string) => `Rows ${[a, b].sort().join(' / ')}.`,
  );
}

async function same(name: string, steps: readonly Step[], opts: { ordered?: boolean } = {}): Promise<void> {
  const [a, b] = await Promise.all([runSteps(servers.real.sockPath, steps), runSteps(servers.ovnts.sockPath, steps)]);
  const norm = opts.ordered === true ? (t: Transcript): string => normalizeUuids(canonicalJson(t)) : normalizeTranscript;
  if (process.env['OVSDB_DIFF_DEBUG'] !== undefined) console.log(`${norm(a)}\n${norm(b)}`);
  assert.equal(unorderedIndexRows(norm(b)), unorderedIndexRows(norm(a)), name);
}

test('garbage collection: self-referencing rows go, cycles stay (as ovsdb-server 3.1)', async () => {
  await same('gc', [
    tx({ op: 'insert', table: 'Node', row: { label: 'self', next: ['named-uuid', 'a'] }, 'uuid-name': 'a' }, sel('Node', ['label'])),
    tx(
      { op: 'insert', table: 'Node', row: { label: 'c1', next: ['named-uuid', 'b'] }, 'uuid-name': 'a' },
      { op: 'insert', table: 'Node', row: { label: 'c2', next: ['named-uuid', 'a'] }, 'uuid-name': 'b' },
    ),
    tx(
      { op: 'insert', table: 'Node', row: { label: 'held', next: ['named-uuid', 'h'] }, 'uuid-name': 'h' },
      { op: 'insert', table: 'Root', row: { name: 'holder', child: ['named-uuid', 'h'] } },
    ),
    tx(sel('Node', ['label'])),
    tx({ op: 'delete', table: 'Root', where: [['name', '==', 'holder']] }, sel('Node', ['label'])),
    tx({ op: 'delete', table: 'Node', where: [['label', '==', 'c1']] }),
    tx({ op: 'delete', table: 'Node', where: [] }, sel('Node', ['label'])),
  ]);
});

test('defaults are checked against the column constraints', async () => {
  await same('defaults', [
    tx({ op: 'insert', table: 'Strict', row: { mode: 'on' } }),
    tx({ op: 'insert', table: 'Strict', row: { port: 1 } }),
    tx({ op: 'insert', table: 'Strict', row: { port: 1, mode: 'on' } }),
    tx({ op: 'insert', table: 'Strict', row: { port: 1, mode: 'on', must: ['uuid', U1] } }),
    tx({ op: 'insert', table: 'Root', row: { name: 'd' } }, sel('Root', ['level', 'color'])),
  ]);
});

test('select and wait with columns work on distinct projections; select sorts', async () => {
  const rows = ['a', 'b', 'c', 'e'].map((name, i) => ({ op: 'insert', table: 'Root', row: { name, i: i % 2, b: i > 1, r: 4 - i } }));
  await same('distinct', [
    tx(...rows),
    tx(sel('Root', ['i'])),
    tx(sel('Root', ['i', 'b'])),
    tx({ op: 'wait', table: 'Root', where: [], columns: ['i'], until: '==', rows: [{ i: 0 }, { i: 1 }], timeout: 0 }),
    tx({ op: 'wait', table: 'Root', where: [], columns: ['i'], until: '==', rows: [{ i: 0 }, { i: 0 }, { i: 1 }], timeout: 0 }),
    tx({ op: 'wait', table: 'Root', where: [], columns: ['i'], until: '!=', rows: [{ i: 1 }], timeout: 0 }),
    tx({ op: 'wait', table: 'Root', where: [], columns: ['i'], until: '==', rows: [{ i: 1 }], timeout: 0 }),
    tx({ ...sel('Root', ['name']), sort: 'i' }),
    tx({ ...sel('Root', ['name']), sort: ['-name'] }),
    tx({ ...sel('Root', ['name']), sort: ['nope'] }),
  ]);
  await same(
    'sort',
    [
      tx({ ...sel('Root', ['name', 'i']), sort: ['i', 'name'] }),
      tx({ ...sel('Root', ['name']), sort: ['r'] }),
      tx({ ...sel('Root', ['name', 'b']), sort: ['b', 'r'] }),
      tx({ ...sel('Root', ['i', 'b']), sort: ['b', 'i'] }),
    ],
    { ordered: true },
  );
});

test('_version and _uuid are ordinary columns to select, monitor and monitor_cond', async () => {
  await same('version', [
    ['monitor', [DB, 'm1', { Pair: { columns: ['a', '_version'] } }]],
    ['monitor_cond', [DB, 'm2', { Pair: [{ columns: ['a', '_version', '_uuid'] }] }]],
    tx({ op: 'insert', table: 'Pair', row: { a: 'x' } }),
    tx({ op: 'update', table: 'Pair', where: [], row: { b: 7 } }),
    tx(sel('Pair', ['_version', 'b'])),
    tx({ op: 'delete', table: 'Pair', where: [] }),
  ]);
});

test('monitor_cond_since on a standalone database: never found, zero transaction id', async () => {
  await same('since', [
    ['monitor_cond_since', [DB, 's1', { Pair: [{ columns: ['a'] }] }, '00000000-0000-0000-0000-000000000000']],
    tx({ op: 'insert', table: 'Pair', row: { a: 'y' } }),
    ['monitor_cond_since', [DB, 's2', { Pair: [{ columns: ['a'] }] }, '00000000-0000-0000-0000-000000000000']],
    ['monitor_cond_since', [DB, 's3', { Pair: [{ columns: ['a'] }] }, U1]],
    ['monitor_cond_change', ['s1', 's1b', { Pair: [{ where: [['a', '==', 'zz']] }] }]],
    tx({ op: 'delete', table: 'Pair', where: [] }),
  ]);
});

test('_Server describes every database, itself included', async () => {
  await same('server', [
    ['transact', ['_Server', sel('Database')]],
    ['get_schema', ['_Server']],
    ['get_schema', [DB]],
    ['list_dbs', []],
  ]);
});

test('errors carry the same error, details and syntax', async () => {
  await same('errors', [
    tx({ op: 'insert', table: 'Root', row: { name: 'e1' } }, { op: 'insert', table: 'Root', row: { name: 'e1' } }),
    tx({ op: 'insert', table: 'Pair', row: { a: 'p', b: 1 } }, { op: 'insert', table: 'Pair', row: { a: 'p', b: 1 } }),
    tx(
      { op: 'insert', table: 'Root', row: { name: 'h4', fixed: 'a' } },
      { op: 'update', table: 'Root', where: [['name', '==', 'h4']], row: { fixed: 'b' } },
    ),
    tx({ op: 'insert', table: 'Root', row: { name: 'h5', nums: ['set', [1, 2, 3, 4]] } }),
    tx({ op: 'mutate', table: 'Root', where: [], mutations: [['nums', 'insert', ['set', [1, 2, 3, 4]]]] }),
    tx({ op: 'insert', table: 'Root', uuid: U1, row: { name: 'u1' } }),
    tx({ op: 'insert', table: 'Root', uuid: U1, row: { name: 'u2' } }),
    tx({ op: 'insert', table: 'Root', row: { kv: ['map', [['a']]] } }),
    tx({ op: 'insert', table: 'Root', row: { kv: ['map', [['a', 'b']]] } }),
    tx({ op: 'insert', table: 'Root', row: { tags: ['set', ['a', 'a']] } }),
    tx({ op: 'insert', table: 'Root', row: { tags: ['set', 'a'] } }),
    tx({
      op: 'insert',
      table: 'Root',
      row: {
        kv: [
          'map',
          [
            ['a', 1],
            ['a', 2],
          ],
        ],
      },
    }),
    tx({ op: 'insert', table: 'Root', row: { r: 'x' } }),
    tx({ op: 'insert', table: 'Root', row: { i: 1.5 } }),
    tx({ op: 'insert', table: 'Root', row: { level: 11 } }),
    tx({ op: 'insert', table: 'Root', row: { color: 'pink' } }),
    tx({ op: 'insert', table: 'Nope', row: {} }),
    tx({ op: 'insert', table: 'Root', row: { nope: 1 } }),
    tx({ op: 'insert', table: 'Root', row: { child: ['uuid', U1] } }),
    tx(
      { op: 'insert', table: 'Pair', row: { a: '1' } },
      { op: 'insert', table: 'Pair', row: { a: '2' } },
      { op: 'insert', table: 'Pair', row: { a: '3' } },
      { op: 'insert', table: 'Pair', row: { a: '4' } },
    ),
  ]);
});

test('several faults in one transaction: the same one is reported', async () => {
  // Commit-time faults of each kind; every ordered pair of them goes in one transaction.
  const faults: Record<string, unknown[]> = {
    maxRows: [0, 1, 2, 3].map((i) => ({ op: 'insert', table: 'Pair', row: { a: `m${i}`, b: i } })),
    pairIndex: [0, 1].map(() => ({ op: 'insert', table: 'Pair', row: { a: 'd', b: 1 } })),
    rootIndex: [0, 1].map(() => ({ op: 'insert', table: 'Root', row: { name: 'dup' } })),
    dangling: [{ op: 'insert', table: 'Root', row: { name: 'dg', child: ['uuid', U1] } }],
    nodeDangling: [{ op: 'insert', table: 'Node', row: { label: 'nd', next: ['uuid', U1] } }],
    weakMin: [{ op: 'insert', table: 'Strict', row: { port: 1, mode: 'on' } }],
    stillReferenced: [{ op: 'delete', table: 'Node', where: [['label', '==', 'held']] }],
  };
  const steps: Step[] = [
    tx(
      { op: 'insert', table: 'Node', row: { label: 'held' }, 'uuid-name': 'h' },
      { op: 'insert', table: 'Root', row: { name: 'holder', child: ['named-uuid', 'h'] } },
    ),
  ];
  for (const a of Object.keys(faults)) for (const b of Object.keys(faults)) if (a !== b) steps.push(tx(...faults[a]!, ...faults[b]!));
  // Several bad columns of one row, in different member orders: ovsdb-server names the first in its own order.
  const bad: Array<[string, unknown]> = [
    ['level', -1],
    ['color', 'pink'],
    ['i', 1.5],
    ['name', 3],
    ['nums', ['set', [1, 2, 3, 4]]],
    ['nope', 1],
    ['kv', ['map', [['k']]]],
  ];
  for (let n = 2; n <= bad.length; n++) {
    for (let start = 0; start < bad.length; start++) {
      const cols = Array.from({ length: n }, (_, j) => bad[(start + j) % bad.length] as [string, unknown]);
      steps.push(tx({ op: 'insert', table: 'Root', row: Object.fromEntries(cols) }));
      steps.push(tx({ op: 'update', table: 'Root', where: [], row: Object.fromEntries([...cols].reverse()) }));
    }
  }
  await same('multi-fault', steps);
});

test('64-bit integers are exact: stored, returned, monitored, written to disk, read by the real ovsdb-tool', async () => {
  const big = [9223372036854775807n, -9223372036854775808n, 9007199254740993n, 1234567890123456789n];
  await same('int64', [
    ['monitor_cond', [DB, 'big', { Root: [{ columns: ['i', 'nums', 'kv'], where: [['i', '>', 9007199254740992n]] }] }]],
    tx(...big.map((i, n) => ({ op: 'insert', table: 'Root', row: { name: `big${n}`, i, nums: ['set', [i]], kv: ['map', [['k', i]]] } }))),
    tx({ ...sel('Root', ['name', 'i', 'nums', 'kv'], [['i', '>', 9007199254740992n]]), sort: ['i'] }),
    tx({
      op: 'mutate',
      table: 'Root',
      where: [['name', '==', 'big2']],
      mutations: [
        ['i', '+=', 2],
        ['nums', 'insert', ['set', [9007199254740995n]]],
      ],
    }),
    tx({ op: 'mutate', table: 'Root', where: [['name', '==', 'big0']], mutations: [['i', '+=', 1]] }),
    tx({ op: 'mutate', table: 'Root', where: [['name', '==', 'big3']], mutations: [['i', '*=', 10]] }),
    tx({ ...sel('Root', ['i'], [['i', '==', 9007199254740995n]]) }),
  ]);
  // From the file: the real ovsdb-tool reads what ovnts wrote, with the same values.
  const query = JSON.stringify([
    DB,
    { op: 'select', table: 'Root', where: [['i', '>', 9007199254740000]], columns: ['name', 'i', 'nums'] },
  ]);
  const { run } = await import('../helpers/proc.js');
  const [a, b] = await Promise.all([
    run('ovsdb-tool', ['query', servers.real.dbFiles[0] as string, query]),
    run('ovsdb-tool', ['query', servers.ovnts.dbFiles[0] as string, query]),
  ]);
  assert.equal(b.stderr, a.stderr);
  const rows = (t: string): string[] => [...t.matchAll(/"name":"(big\d)"[^}]*?|"i":(-?\d+)/g)].map((m) => m[0]).sort();
  assert.deepEqual(rows(b.stdout), rows(a.stdout));
  assert.match(b.stdout, /9223372036854775807/);
  assert.match(b.stdout, /9007199254740995/);
});
