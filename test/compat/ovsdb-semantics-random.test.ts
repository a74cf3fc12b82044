/**
 * A seeded random differential: fast-check generates transactions on the
 * test schema (inserts with references, updates, mutations, deletes,
 * selects, waits — valid and invalid), and each is sent to the real
 * ovsdb-server and to `ovnts ovsdb-server`; the replies must be the same
 * once UUIDs are normalised. Set OVSDB_RANDOM_SEED / OVSDB_RANDOM_TXNS to
 * reproduce or lengthen a run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { bothServers, REPO } from '../helpers/ovsdb-servers.js';
import { openSession } from '../helpers/ovsdb-diff.js';
import { knownUuids, normalizeUuids, sortRows } from '../helpers/normalize.js';
import { canonicalJson } from '../../src/ovsdb/error.js';
import { parseJson } from '../../src/lib/json-int.js';
import { RpcError } from '../../src/lib/jsonrpc.js';

const SEM_SCHEMA = join(REPO, 'test', 'fixtures', 'ovsdb', 'semantics.ovsschema');
const DB = 'Semantics';
const servers = bothServers([SEM_SCHEMA]);

const SEED = Number(process.env['OVSDB_RANDOM_SEED'] ?? 20261207);
const TXNS = Number(process.env['OVSDB_RANDOM_TXNS'] ?? 300);

const name = fc.constantFrom('a', 'b', 'c', 'd', '', 'x y', 'true', '1');
const label = fc.constantFrom('n1', 'n2', 'n3', 'n4');
const int = fc.oneof(fc.integer({ min: -3, max: 12 }), fc.constantFrom(0, 1, 65535, 65536, -1));
const real = fc.oneof(
  fc.double({ min: -10, max: 10, noNaN: true }).map((x) => Math.round(x * 4) / 4),
  fc.constant(0.5),
);
const strSet = fc.uniqueArray(fc.constantFrom('p', 'q', 'r', 's'), { maxLength: 4 }).map((a) => ['set', a]);
const intSet = fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }).map((a) => ['set', a]);
const kv = fc
  .uniqueArray(fc.tuple(fc.constantFrom('k1', 'k2', 'k3'), fc.integer({ min: 0, max: 3 })), { maxLength: 3, selector: (p) => p[0] })
  .map((a) => ['map', a]);
const named = (n: number): unknown => ['named-uuid', `n${n}`];

const rootRow = fc.record(
  {
    name,
    i: int,
    r: real,
    b: fc.boolean(),
    tags: strSet,
    nums: intSet,
    kv,
    fixed: name,
    level: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.constant(['set', []])),
    color: fc.constantFrom('red', 'blue', ['set', []]),
    child: fc.integer({ min: 0, max: 2 }).map((n) => ['set', Array.from({ length: n }, (_, i) => named(i))]),
    weak: fc.integer({ min: 0, max: 2 }).map((n) => ['set', Array.from({ length: n }, (_, i) => named(i))]),
  },
  { requiredKeys: [] },
);
const nodeRow = fc.record(
  { label, next: fc.constantFrom(['set', []], named(0), named(1)), peer: fc.constantFrom(['set', []], named(1)) },
  { requiredKeys: [] },
);
const where = fc.oneof(
  fc.constant([]),
  name.map((n) => [['name', '==', n]]),
  int.map((i) => [['i', '<', i]]),
  fc.constantFrom('p', 'q').map((t) => [['tags', 'includes', t]]),
  fc.constantFrom('k1', 'k2').map((k) => [['kv', 'includes', ['map', [[k, 1]]]]]),
);
const columns = fc.subarray(['name', 'i', 'b', 'tags', 'level', 'color'], { minLength: 1 });

const op = fc.oneof(
  rootRow.map((row) => ({ op: 'insert', table: 'Root', row })),
  fc.tuple(nodeRow, fc.integer({ min: 0, max: 1 })).map(([row, n]) => ({ op: 'insert', table: 'Node', row, 'uuid-name': `n${n}` })),
  fc.record({ a: name, b: int }).map((row) => ({ op: 'insert', table: 'Pair', row })),
  // One to three bad values in an otherwise good row: which ovsdb-server
  // names is the first in its member order (ovs-member-order.ts).
  fc
    .tuple(
      rootRow,
      fc.uniqueArray(
        fc.constantFrom<[string, unknown]>(
          ['level', -1],
          ['level', 11],
          ['color', 'pink'],
          ['i', 1.5],
          ['name', 3],
          ['nums', ['set', [1, 2, 3, 4]]],
          ['tags', ['set', 'p']],
          ['kv', ['map', [['k1']]]],
          ['nope', 1],
          ['child', ['uuid', '11111111-2222-3333-4444-555555555555']],
        ),
        { minLength: 1, maxLength: 3, selector: (p) => p[0] },
      ),
    )
    .map(([row, bad]) => ({ op: 'insert', table: 'Root', row: { ...row, ...Object.fromEntries(bad) } })),
  fc.tuple(where, rootRow).map(([w, { child: _c, weak: _w, ...row }]) => ({ op: 'update', table: 'Root', where: w, row })),
  fc
    .tuple(
      where,
      fc.constantFrom<[string, string, unknown]>(
        ['i', '+=', 1],
        ['i', '*=', 2],
        ['i', '/=', 0],
        ['i', '%=', 3],
        ['r', '-=', 0.5],
        ['level', '+=', 5],
        ['tags', 'insert', ['set', ['p', 'z']]],
        ['tags', 'delete', 'p'],
        ['nums', 'insert', ['set', [1, 2, 3]]],
        ['kv', 'insert', ['map', [['k1', 9]]]],
        ['kv', 'delete', ['set', ['k1']]],
        ['kv', 'delete', ['map', [['k2', 1]]]],
        ['name', 'insert', 'x'],
        ['fixed', '+=', 1],
        ['b', '+=', 1],
      ),
    )
    .map(([w, m]) => ({ op: 'mutate', table: 'Root', where: w, mutations: [m] })),
  where.map((w) => ({ op: 'delete', table: 'Root', where: w })),
  label.map((l) => ({ op: 'delete', table: 'Node', where: [['label', '==', l]] })),
  fc.constant({ op: 'delete', table: 'Pair', where: [] }),
  fc
    .tuple(where, fc.option(columns, { nil: undefined }))
    .map(([w, c]) => (c === undefined ? { op: 'select', table: 'Root', where: w } : { op: 'select', table: 'Root', where: w, columns: c })),
  fc.constant({ op: 'select', table: 'Node', where: [], columns: ['label', 'next', 'peer'] }),
  fc
    .tuple(where, columns, fc.constantFrom('==', '!='))
    .map(([w, c, until]) => ({ op: 'wait', table: 'Root', where: w, columns: c, until, rows: [], timeout: 0 })),
);
/**
 * Nodes for the named UUIDs a transaction uses, inserted first: when several
 * rows hold one dangling reference, which one ovsdb-server names is its hash
 * order (dangling references are in the fixed tests).
 */
function withNodes(ops: unknown[]): unknown[] {
  const text = JSON.stringify(ops);
  const nodes = ['n0', 'n1'].filter((n) => text.includes(`["named-uuid","${n}"]`) && !text.includes(`"uuid-name":"${n}"`));
  return [...nodes.map((n) => ({ op: 'insert', table: 'Node', row: { label: 'auto' }, 'uuid-name': n })), ...ops];
}

// A Strict row's "must" defaults to the all-zeros UUID, which always fails: one per transaction,
// alone, or which of several fails first is the hash order again.
const strict = fc
  .oneof(
    fc.record({ port: int, mode: fc.constantFrom('on', 'off') }, { requiredKeys: ['mode'] }),
    fc.record({ port: fc.integer({ min: 1, max: 9 }), mode: fc.constantFrom('on', 'x') }),
  )
  .map((row) => [{ op: 'insert', table: 'Strict', row }]);
const txn = fc.oneof(
  { arbitrary: fc.array(op, { minLength: 1, maxLength: 4 }).map(withNodes), weight: 9 },
  { arbitrary: strict, weight: 1 },
);

/**
 * ovsdb-server words a few errors after the order of rows in its hash
 * tables, which depends on their random UUIDs, so the two servers may name
 * different rows for the same fault; those parts are made order-free here:
 * which of two rows with the same index key comes "First"; and, when a
 * transaction breaks an index with several pairs of rows or deletes several
 * rows that are still referenced, or mutates several rows out of a column's
 * range or size, which pair, row or value is named (the index, table and
 * bounds still are compared; the fixed differential tests check
 * the wording of a single fault). Several faults in one transaction are
 * generated: bad columns of one row (reported in OVS's member order, which
 * ovnts follows), faulty operations (the first stops the transaction) and
 * commit-time faults of several kinds (reported by kind, then table by table
 * in the order the transaction touched them).
 */
function orderFree(text: string): string {
  return text
    .replace(
      /identical values \((?:[^()]|\([^()]*\))*\) (for index on columns? [^.]+)\. {2}First row, [^.]+\. {2}Second row, [^.]+\./g,
      (_m, index: string) => `identical values ${index} (rows in UUID order).`,
    )
    .replace(
      /cannot delete (\w+) row <\d+> because of \d+ remaining reference\(s\)/g,
      'cannot delete a $1 row (in UUID order) still referenced',
    )
    .replace(/"-?\d+(?:\.\d+)? is not in the valid range /g, '"(a row in UUID order) is not in the valid range ')
    .replace(
      /Attempted to store \d+ elements in set of up to (\d+)/g,
      'Attempted to store too many elements (row in UUID order) in set of up to $1',
    );
}

/**
 * One server's replies as comparable text, reply by reply (a transcript
 * normalised whole at every step would cost the square of its length): UUIDs
 * keep their numbers from one reply to the next, as normalizeTranscript
 * numbers them over a whole transcript.
 */
class ReplyNormaliser {
  private readonly known = new Map<string, number>();
  private readonly numbers = new Map<string, string>();

  text(reply: unknown): string {
    const canonical = parseJson(canonicalJson(reply));
    knownUuids(canonical, this.known);
    return orderFree(normalizeUuids(canonicalJson(sortRows(canonical, this.known)), this.numbers));
  }
}

test(`random transactions give the same replies (seed ${SEED}, ${TXNS} transactions)`, async () => {
  const txns = fc.sample(txn, { seed: SEED, numRuns: TXNS });
  const [a, b] = await Promise.all([openSession(servers.real.sockPath), openSession(servers.ovnts.sockPath)]);
  const call = async (s: typeof a, ops: unknown[]): Promise<unknown> => {
    try {
      return { result: await s.request('transact', [DB, ...ops]) };
    } catch (e) {
      if (e instanceof RpcError) return { error: e.error };
      throw e;
    }
  };
  const [norma, normb] = [new ReplyNormaliser(), new ReplyNormaliser()];
  try {
    for (let i = 0; i < txns.length; i++) {
      const ops = txns[i] as unknown[];
      const [x, y] = await Promise.all([call(a, ops), call(b, ops)]);
      // Normalised in order, so UUIDs number the same way on both sides.
      assert.equal(normb.text(y), norma.text(x), `transaction ${i} of seed ${SEED}: ${JSON.stringify(ops)}`);
    }
  } finally {
    a.close();
    b.close();
  }
});
