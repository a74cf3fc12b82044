/**
 * Replica rows as the plain typed objects of `src/ovsdb/models/` (the generated
 * interfaces): a 1..1 column is its value, a 0..1 column its value or null, a set
 * an array, a map a `Map`; UUIDs are strings. `_uuid` is always set.
 */
import type { Atom, Datum } from '../datum.js';
import type { ColumnSchema, TableSchema } from '../schema.js';
import type { Row } from './replica.js';

function columnValue(col: ColumnSchema, d: Datum): unknown {
  const t = col.type;
  if (t.value !== undefined) {
    const m = new Map<Atom, Atom>();
    const vs = d.values ?? [];
    for (let i = 0; i < d.keys.length; i++) m.set(d.keys[i] as Atom, vs[i] as Atom);
    return m;
  }
  if (t.min === 1 && t.max === 1) return d.keys[0];
  if (t.min === 0 && t.max === 1) return d.keys[0] ?? null;
  return d.keys;
}

/**
 * The row as its model type `T`. Only monitored columns are set; reading one that
 * was not monitored gives `undefined` whatever `T` says.
 */
export function rowToModel<T extends { _uuid: string }>(row: Row, table: TableSchema): T {
  const out: Record<string, unknown> = { _uuid: row.uuid };
  for (const [name, d] of Object.entries(row.cols)) {
    const col = table.columns.get(name);
    if (col !== undefined) out[name] = columnValue(col, d);
  }
  return out as T;
}
