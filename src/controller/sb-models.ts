/**
 * The SB replica as the generated typed models (src/ovsdb/models/ovn-sb.ts):
 * the controller's flow computation reads `pb.logical_port`, `pb.chassis`,
 * `lf.table_id` instead of untyped `scalar('…')` lookups. Replica rows are
 * immutable (an update replaces the Row), so each row is converted once and
 * the model object kept, weakly, for as long as the row lives.
 */
import { rowToModel } from '../ovsdb/client/model-rows.js';
import type { Row } from '../ovsdb/client.js';
import type { OVN_SouthboundTables } from '../ovsdb/models/ovn-sb.js';
import { parseSchema, type DatabaseSchema } from '../ovsdb/schema.js';
import { SCHEMA_FILES, loadSchemaJson } from '../ovsdb/schema-files.js';

/** The SB tables as the client's replica exposes them. */
export interface SbView {
  table(name: string): ReadonlyMap<string, Row>;
}

export type SbTable = keyof OVN_SouthboundTables;

/** Typed rows of an {@link SbView}, converted once per replica row. */
export class SbModels {
  private readonly models = new WeakMap<Row, object>();

  /** `schema`: the SB schema the rows follow; default the one shipped in schemas/. */
  constructor(private readonly schema: DatabaseSchema = parseSchema(loadSchemaJson(SCHEMA_FILES.OVN_Southbound))) {}

  private model<K extends SbTable>(table: K, row: Row): OVN_SouthboundTables[K] {
    let m = this.models.get(row);
    if (m === undefined) {
      const ts = this.schema.tables.get(table);
      if (ts === undefined) throw new Error(`${table}: not an OVN_Southbound table`);
      m = rowToModel<OVN_SouthboundTables[K]>(row, ts);
      this.models.set(row, m);
    }
    return m as OVN_SouthboundTables[K];
  }

  /** Every row of `table` in `sb`, typed. */
  *rows<K extends SbTable>(sb: SbView, table: K): IterableIterator<OVN_SouthboundTables[K]> {
    for (const r of sb.table(table).values()) yield this.model(table, r);
  }

  /** The typed model of one replica row of `table`. */
  of<K extends SbTable>(table: K, row: Row): OVN_SouthboundTables[K] {
    return this.model(table, row);
  }
}
