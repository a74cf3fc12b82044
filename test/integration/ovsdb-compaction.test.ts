/**
 * Online compaction of a hosted database: under a stream of commits the log
 * is rewritten as schema + snapshot; reopening gives exactly the database
 * that was in memory, and the real ovsdb-tool reads the compacted file.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostedDatabase } from '../../src/ovsdb/hosted-database.js';
import { DatabaseLog } from '../../src/ovsdb/storage.js';
import { executeTransaction } from '../../src/ovsdb/transaction.js';
import { loadSchemaJson, SCHEMA_FILES } from '../../src/ovsdb/schema-files.js';
import { run } from '../helpers/proc.js';

const dir = mkdtempSync(join(tmpdir(), 'ovnts-compact-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function commit(h: HostedDatabase, ...ops: unknown[]): Promise<void> {
  const out = executeTransaction(h.db, ops, { startMs: 0, nowMs: 0 });
  assert.equal(out.status, 'committed', JSON.stringify(out));
  if (out.status === 'committed' && out.changes.length > 0) await h.commit(out.changes, undefined);
}

test('the log is compacted online and reopens to the same database', async () => {
  const path = join(dir, 'nb.db');
  await (await DatabaseLog.create(path, loadSchemaJson(SCHEMA_FILES.OVN_Northbound))).close();
  const h = await HostedDatabase.open(path, { compactMinBytes: 20_000, compactGrowth: 2 });
  const pending: Promise<void>[] = [];
  for (let i = 0; i < 400; i++) {
    pending.push(commit(h, { op: 'insert', table: 'Logical_Switch', row: { name: `ls${i}`, external_ids: ['map', [['i', String(i)]]] } }));
    if (i % 3 === 0) pending.push(commit(h, { op: 'delete', table: 'Logical_Switch', where: [['name', '==', `ls${i}`]] }));
    if (i % 5 === 0) {
      pending.push(
        commit(h, {
          op: 'mutate',
          table: 'Logical_Switch',
          where: [['name', '==', `ls${i - 1}`]],
          mutations: [['other_config', 'insert', ['map', [['k', 'v']]]]],
        }),
      );
    }
    if (i % 50 === 0) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  const stats = (h.storage as DatabaseLog).stats;
  assert.ok(stats.compactions > 0, `compacted (${JSON.stringify(stats)})`);
  const before = JSON.stringify(strip(h.db.snapshot()));
  await h.close();

  const reopened = await HostedDatabase.open(path);
  assert.equal(JSON.stringify(strip(reopened.db.snapshot())), before);
  assert.equal(reopened.db.table('Logical_Switch').rows.size, 400 - 134);
  await reopened.close();

  const q = await run('ovsdb-tool', [
    'query',
    path,
    JSON.stringify(['OVN_Northbound', { op: 'select', table: 'Logical_Switch', where: [], columns: ['name'] }]),
  ]);
  assert.equal(q.code, 0, q.stderr);
  assert.equal((JSON.parse(q.stdout) as Array<{ rows: unknown[] }>)[0]?.rows.length, 400 - 134);
});

/** Snapshots carry no dates; sort rows so insertion order does not matter. */
function strip(snap: Record<string, unknown>): unknown {
  return Object.fromEntries(
    Object.entries(snap)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([t, rows]) => [t, Object.fromEntries(Object.entries(rows as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))]),
  );
}
