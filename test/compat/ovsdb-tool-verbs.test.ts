/**
 * `ovnts ovsdb-tool` and the real `ovsdb-tool` on the same files: create,
 * compact, convert, needs-conversion, db-version, schema-version, db-cksum,
 * show-log and show-log -m/-mm (and `check`, which the real tool does not have either) —
 * the same output, and files the real tool reads back the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OVNTS, REPO, startServer } from '../helpers/ovsdb-servers.js';
import { run } from '../helpers/proc.js';
import { normalizeUuids } from '../helpers/normalize.js';

const SEM_SCHEMA = join(REPO, 'test', 'fixtures', 'ovsdb', 'semantics.ovsschema');
const NB_SCHEMA = join(REPO, 'schemas', 'ovn-nb.ovsschema');

async function tool(kind: 'real' | 'ovnts', args: string[]): Promise<string> {
  const r = kind === 'real' ? await run('ovsdb-tool', args) : await run(OVNTS, ['ovsdb-tool', ...args]);
  return `${r.code}|${r.stdout}|${r.stderr}`;
}

test('ovsdb-tool verbs print the same and write files the real tool reads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-tool-'));
  try {
    const schema = JSON.parse(readFileSync(SEM_SCHEMA, 'utf8')) as {
      version: string;
      tables: Record<string, { columns: Record<string, unknown> }>;
    };
    schema.version = '1.4.0';
    (schema.tables['Root'] as { columns: Record<string, unknown> }).columns['extra'] = { type: { key: 'integer', min: 0, max: 1 } };
    const v2 = join(dir, 'v2.ovsschema');
    writeFileSync(v2, JSON.stringify(schema));
    const dumps: string[] = [];
    for (const kind of ['real', 'ovnts'] as const) {
      const db = join(dir, `${kind}.db`);
      assert.equal(await tool(kind, ['create', db, SEM_SCHEMA]), '0||');
      // Content written by the real tool, so both sides convert the same rows.
      const txn = JSON.stringify(['Semantics', { op: 'insert', table: 'Root', row: { name: 'r', i: 3, tags: ['set', ['a', 'b']] } }]);
      assert.match(await tool('real', ['transact', db, txn]), /^0\|/);
      dumps.push(
        ...(
          await Promise.all([
            tool(kind, ['db-version', db]),
            tool(kind, ['db-cksum', db]),
            tool(kind, ['schema-version', SEM_SCHEMA]),
            tool(kind, ['schema-cksum', NB_SCHEMA]),
            tool(kind, ['needs-conversion', db, SEM_SCHEMA]),
            tool(kind, ['needs-conversion', db, v2]),
          ])
        ).map((t) => `${kind}:${t}`),
      );
      dumps.push(`${kind}:${(await tool(kind, ['show-log', db])).replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}/g, 'DATE')}`);
      dumps.push(`${kind}:${await tool(kind, ['check', db])}`);
      assert.equal(await tool(kind, ['convert', db, v2]), '0||');
      assert.equal(await tool(kind, ['compact', db]), '0||');
      dumps.push(`${kind}:${await tool(kind, ['db-version', db])}`);
      const q = await run('ovsdb-tool', [
        'query',
        db,
        JSON.stringify(['Semantics', { op: 'select', table: 'Root', where: [], columns: ['name', 'i', 'tags', 'extra'] }]),
      ]);
      dumps.push(`${kind}:${normalizeUuids(q.stdout)}`);
    }
    const half = dumps.length / 2;
    assert.deepEqual(
      dumps.slice(half).map((d) => d.replace(/^ovnts:/, '')),
      dumps.slice(0, half).map((d) => d.replace(/^real:/, '')),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('show-log -m and -mm print what the real tool prints, on files written by the real tool, ovnts ovsdb-server and both compactors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ovnts-tool-showlog-'));
  const server = await startServer('ovnts', [SEM_SCHEMA]);
  try {
    // Several tables in one record, named and nameless rows, a rename, a deletion,
    // maps, sets, references, reals, strings that need quotes, a comment with quotes.
    const txns = [
      [
        { op: 'insert', table: 'Node', row: { label: 'n1' }, 'uuid-name': 'a' },
        {
          op: 'insert',
          table: 'Root',
          row: {
            name: 'r',
            i: 3,
            r: 1.5,
            b: true,
            color: 'red',
            kv: [
              'map',
              [
                ['k', 1],
                ['z', 2],
              ],
            ],
            child: ['named-uuid', 'a'],
            weak: ['named-uuid', 'a'],
          },
        },
        { op: 'insert', table: 'Root', row: { name: 'x y', tags: ['set', ['a', 'b c', '']] } },
        { op: 'insert', table: 'Pair', row: { a: 'x y', b: 1 } },
        { op: 'insert', table: 'Strict', row: { port: 1, mode: 'on', must: ['named-uuid', 'a'] } },
      ],
      [
        { op: 'update', table: 'Root', where: [['name', '==', 'r']], row: { name: 'r2', kv: ['map', [['k', 5]]], tags: ['set', ['a']] } },
        { op: 'update', table: 'Pair', where: [], row: { a: 'y' } },
        { op: 'mutate', table: 'Root', where: [['name', '==', 'x y']], mutations: [['tags', 'delete', ['set', ['a']]]] },
      ],
      [
        { op: 'delete', table: 'Pair', where: [] },
        { op: 'comment', comment: 'say "hi"' },
      ],
    ];
    const realDb = join(dir, 'real.db');
    assert.equal(await tool('real', ['create', realDb, SEM_SCHEMA]), '0||');
    for (const t of txns) assert.match(await tool('real', ['transact', realDb, JSON.stringify(['Semantics', ...t])]), /^0\|/);
    for (const t of txns) {
      const r = await run('ovsdb-client', ['transact', server.remote, JSON.stringify(['Semantics', ...t])]);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /"error"/);
    }
    await server.kill9();
    const ovntsDb = server.dbFiles[0] as string;
    const files = [realDb, ovntsDb, join(dir, 'real-compacted.db'), join(dir, 'ovnts-compacted.db')];
    assert.equal(await tool('real', ['compact', realDb, files[2] as string]), '0||');
    assert.equal(await tool('ovnts', ['compact', ovntsDb, files[3] as string]), '0||');
    for (const file of files) {
      for (const more of [[], ['-m'], ['-mm'], ['--more', '--more']]) {
        const [theirs, mine] = [await tool('real', ['show-log', ...more, file]), await tool('ovnts', ['show-log', ...more, file])];
        assert.equal(mine, theirs, `show-log ${more.join(' ')} ${file}`);
      }
    }
    // Not vacuous: the changes and values are there.
    const mm = await tool('ovnts', ['show-log', '-mm', ovntsDb]);
    for (const line of ['table Root row "r" (', 'delete row', 'kv={k=5', 'name="x y"', 'tags=["", a, "b c"]', '"say "hi""'])
      assert.ok(mm.includes(line), `${line} in\n${mm}`);
  } finally {
    await server.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
