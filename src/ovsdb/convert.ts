/**
 * Online schema conversion (ovsdb-server(7) 4.1.17 "convert", ovsdb-tool(1)
 * "convert"): the rows of a database under a new schema. Tables and columns
 * the new schema drops are dropped, new ones start at their defaults, and
 * every kept value must be valid under its new type, or nothing changes.
 */
import { Database, type RowChange } from './database.js';
import { datumFromJson, datumToJson } from './datum.js';
import { OvsdbError } from './error.js';
import type { DatabaseSchema } from './schema.js';
import { executeTransaction } from './transaction.js';

/** The database `old` converted to `schema`; throws an OvsdbError when a value does not fit. */
export function convertDatabase(old: Database, schema: DatabaseSchema): Database {
  const db = new Database(schema);
  const changes: RowChange[] = [];
  for (const table of db.tables.values()) {
    const from = old.tables.get(table.name);
    if (from === undefined) continue;
    for (const row of from.rows.values()) {
      const cols = table.defaultCols();
      for (const c of table.columns) {
        const oc = from.schema.columns.get(c.name);
        const v = row.cols[c.name];
        if (oc === undefined || v === undefined) continue;
        cols[c.name] = datumFromJson(datumToJson(v, oc.type), c.type);
      }
      changes.push({ table, uuid: row.uuid, old: null, new: { uuid: row.uuid, version: row.version, cols } });
    }
  }
  db.apply(changes);
  // Referential integrity under the new schema: a no-op transaction runs the commit checks.
  const check = executeTransaction(db, [], { startMs: 0, nowMs: 0 });
  if (check.status === 'failed') {
    const e = check.results[check.results.length - 1] as { error: string; details?: string };
    throw new OvsdbError(e.error, e.details);
  }
  return db;
}
