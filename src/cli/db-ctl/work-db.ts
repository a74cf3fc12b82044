/**
 * The db-ctl working copy: the client's replica plus this invocation's changes.
 * Commands read and write it as if the transaction had already happened (the way
 * an IDL transaction shows its own writes); `toOps()` turns the changes into one
 * OVSDB transaction (RFC 7047 5.2: insert with uuid-name, update, delete).
 */
import { datumToJson, emptyDatum, defaultDatum, newUuid, type Atom, type Datum } from '../../ovsdb/datum.js';
import type { OvsdbClient } from '../../ovsdb/client.js';
import type { ColumnType, DatabaseSchema, TableSchema } from '../../ovsdb/schema.js';

export class WRow {
  /** Columns written by this invocation. */
  readonly written = new Map<string, Datum>();
  deleted = false;
  constructor(
    readonly db: WorkDb,
    readonly table: string,
    readonly uuid: string,
    readonly base: Readonly<Record<string, Datum>> | undefined,
  ) {}

  get isNew(): boolean {
    return this.base === undefined;
  }

  get(col: string): Datum {
    if (col === '_uuid') return { keys: [this.uuid] };
    const w = this.written.get(col);
    if (w !== undefined) return w;
    const b = this.base?.[col];
    if (b !== undefined) return b;
    const ts = this.db.schema.tables.get(this.table);
    const c = ts?.columns.get(col);
    if (c === undefined) return { keys: [] };
    return defaultDatum(c.type);
  }

  /** The string of a string column's single value, or '' when empty. */
  str(col: string): string {
    const k = this.get(col).keys[0];
    return k === undefined ? '' : String(k);
  }

  set(col: string, d: Datum): void {
    this.db.write(this, col, d);
  }
}

export class WorkDb {
  private readonly tables = new Map<string, Map<string, WRow>>();
  private readonly indexes = new Map<string, Map<string, WRow[]>>();
  private readonly order: WRow[] = [];

  constructor(
    readonly client: OvsdbClient,
    readonly schema: DatabaseSchema,
  ) {}

  tableSchema(name: string): TableSchema {
    const t = this.schema.tables.get(name);
    if (t === undefined) throw new Error(`no table ${name}`);
    return t;
  }

  columnType(table: string, col: string): ColumnType {
    if (col === '_uuid' || col === '_version') return { key: { type: 'uuid' }, min: 1, max: 1 };
    const c = this.tableSchema(table).columns.get(col);
    if (c === undefined) throw new Error(`no column ${table}.${col}`);
    return c.type;
  }

  private rowsOf(table: string): Map<string, WRow> {
    let m = this.tables.get(table);
    if (m === undefined) {
      m = new Map();
      for (const [uuid, row] of this.client.table(table)) m.set(uuid, new WRow(this, table, uuid, row.cols));
      this.tables.set(table, m);
    }
    return m;
  }

  /** The live rows of a table (deleted ones left out). */
  *rows(table: string): Iterable<WRow> {
    for (const r of this.rowsOf(table).values()) if (!r.deleted) yield r;
  }

  count(table: string): number {
    let n = 0;
    for (const r of this.rowsOf(table).values()) if (!r.deleted) n++;
    return n;
  }

  get(table: string, uuid: string): WRow | undefined {
    const r = this.rowsOf(table).get(uuid);
    return r === undefined || r.deleted ? undefined : r;
  }

  /** Rows whose string column `col` holds `value`, through an index kept current with writes. */
  lookup(table: string, col: string, value: Atom): WRow[] {
    const key = `${table}\0${col}`;
    let idx = this.indexes.get(key);
    if (idx === undefined) {
      idx = new Map();
      for (const r of this.rows(table)) for (const k of r.get(col).keys) push(idx, String(k), r);
      this.indexes.set(key, idx);
    }
    return (idx.get(String(value)) ?? []).filter((r) => !r.deleted);
  }

  insert(table: string, cols: Record<string, Datum> = {}, uuid: string = newUuid()): WRow {
    const r = new WRow(this, table, uuid, undefined);
    this.rowsOf(table).set(uuid, r);
    this.order.push(r);
    const ts = this.tableSchema(table);
    for (const [name, c] of ts.columns) r.written.set(name, cols[name] ?? defaultDatum(c.type));
    for (const [key, idx] of this.indexes) {
      const [t, col] = key.split('\0') as [string, string];
      if (t === table) for (const k of r.get(col).keys) push(idx, String(k), r);
    }
    return r;
  }

  write(r: WRow, col: string, d: Datum): void {
    const idx = this.indexes.get(`${r.table}\0${col}`);
    if (idx !== undefined) {
      for (const k of r.get(col).keys) {
        const list = idx.get(String(k));
        if (list !== undefined) {
          const i = list.indexOf(r);
          if (i >= 0) list.splice(i, 1);
        }
      }
      for (const k of d.keys) push(idx, String(k), r);
    }
    if (!r.isNew && !r.written.has(col)) this.order.push(r);
    r.written.set(col, d);
  }

  delete(r: WRow): void {
    if (r.deleted) return;
    r.deleted = true;
    if (!r.isNew) this.order.push(r);
  }

  /** True when this invocation changed anything. */
  get dirty(): boolean {
    return this.order.length > 0;
  }

  /** The named-uuid this invocation uses for a new row. */
  static uuidName(uuid: string): string {
    return `row${uuid.replace(/-/g, '_')}`;
  }

  /** The changes as OVSDB operations, new rows referenced by named-uuid. */
  toOps(): unknown[] {
    const ops: unknown[] = [];
    const seen = new Set<WRow>();
    const newRows = new Set<string>();
    for (const r of this.order) if (r.isNew && !r.deleted) newRows.add(r.uuid);
    const json = (table: string, col: string, d: Datum): unknown => {
      const type = this.columnType(table, col);
      const j = datumToJson(d, type);
      if (type.key.type !== 'uuid' && type.value?.type !== 'uuid') return j;
      return fixRefs(j, newRows);
    };
    for (const r of this.order) {
      if (seen.has(r)) continue;
      seen.add(r);
      if (r.isNew) {
        if (r.deleted) continue;
        const row: Record<string, unknown> = {};
        const ts = this.tableSchema(r.table);
        for (const [col, d] of r.written) {
          const c = ts.columns.get(col);
          if (c === undefined) continue;
          if (d.keys.length === 0 && c.type.min === 0) continue;
          row[col] = json(r.table, col, d);
        }
        ops.push({ op: 'insert', table: r.table, row, 'uuid-name': WorkDb.uuidName(r.uuid) });
      } else if (r.deleted) {
        ops.push({ op: 'delete', table: r.table, where: [['_uuid', '==', ['uuid', r.uuid]]] });
      } else {
        const row: Record<string, unknown> = {};
        for (const [col, d] of r.written) row[col] = json(r.table, col, d);
        ops.push({ op: 'update', table: r.table, where: [['_uuid', '==', ['uuid', r.uuid]]], row });
      }
    }
    return ops;
  }
}

function push(idx: Map<string, WRow[]>, k: string, r: WRow): void {
  const l = idx.get(k);
  if (l === undefined) idx.set(k, [r]);
  else l.push(r);
}

function fixRefs(j: unknown, newRows: ReadonlySet<string>): unknown {
  if (Array.isArray(j)) {
    if (j.length === 2 && j[0] === 'uuid' && typeof j[1] === 'string') {
      return newRows.has(j[1]) ? ['named-uuid', WorkDb.uuidName(j[1])] : j;
    }
    return j.map((x) => fixRefs(x, newRows));
  }
  return j;
}

export { emptyDatum };
