/** Commits in memory for unit tests of what a commit produces (monitor updates, log records). */
import assert from 'node:assert/strict';
import type { Database, RowChange } from '../../src/ovsdb/database.js';
import { executeTransaction } from '../../src/ovsdb/transaction.js';
import { parseSchema } from '../../src/ovsdb/schema.js';
import { SCHEMA_FILES, loadSchemaJson } from '../../src/ovsdb/schema-files.js';

/** The OVN_Northbound schema, parsed. */
export const NB_SCHEMA = parseSchema(loadSchemaJson(SCHEMA_FILES.OVN_Northbound));

/** Runs `ops` as one transaction, which must commit, applies it to `db` and returns its changes. */
export function commitOps(db: Database, ...ops: unknown[]): RowChange[] {
  const out = executeTransaction(db, ops, { startMs: 0, nowMs: 0 });
  assert.equal(out.status, 'committed', JSON.stringify(out));
  const { changes } = out as { changes: RowChange[] };
  db.apply(changes);
  return changes;
}
