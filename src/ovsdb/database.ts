/**
 * The committed state of one database: its tables of rows, the unique indexes
 * declared by the schema, and the reference counts that referential integrity
 * and garbage collection need (RFC 7047 section 3.2, ovsdb-server(1)).
 *
 * Rows are immutable: a transaction builds new Row objects and `apply` swaps
 * them in, so readers (monitors, select) never see a half-applied change.
 */
import { datumToJson, datumFromJson, type Atom, type Datum, defaultDatum, UuidSource } from './datum.js';
import { OvsdbError, OVSDB_ERROR } from './error.js';
import type { ColumnSchema, DatabaseSchema, TableSchema } from './schema.js';
import { stringifyJson } from '../lib/json-int.js';

export interface Row {
  readonly uuid: string;
  readonly version: string;
  /** Every column of the table's schema, in schema order. */
  readonly cols: Readonly<Record<string, Datum>>;
}

/** One row's change in a commit: old null for an insert, new null for a delete. */
export interface RowChange {
  readonly table: Table;
  readonly uuid: string;
  readonly old: Row | null;
  readonly new: Row | null;
}

export class Table {
  readonly schema: TableSchema;
  readonly rows = new Map<string, Row>();
  /** One map per schema index: the index key of a row → its UUID. */
  readonly indexes: Map<string, string>[];
  /** Columns in schema order, cached because every row build walks them. */
  readonly columns: readonly ColumnSchema[];
  /**
   * An object with every column as a property, in schema order, that row
   * columns are cloned from: V8 gives JSON.parse results (and their spread
   * clones) all properties in-object, where an object filled key by key keeps
   * the ones past the fourth in a separate array (~30 bytes more per row).
   */
  private readonly colsTemplate: Readonly<Record<string, Datum>>;

  constructor(schema: TableSchema) {
    this.schema = schema;
    this.indexes = schema.indexes.map(() => new Map<string, string>());
    this.columns = [...schema.columns.values()];
    this.colsTemplate = JSON.parse(JSON.stringify(Object.fromEntries(this.columns.map((c) => [c.name, 0])))) as Record<string, Datum>;
  }

  get name(): string {
    return this.schema.name;
  }

  indexKey(i: number, row: Row): string {
    const cols = this.schema.indexes[i] as readonly string[];
    let key = '';
    for (const c of cols) {
      const d = c === '_uuid' ? { keys: [row.uuid] } : (row.cols[c] as Datum);
      key += stringifyJson(d.keys) + (d.values === undefined ? '' : stringifyJson(d.values)) + '\u0000';
    }
    return key;
  }

  /** A row with every column at its default, for inserts. */
  defaultCols(): Record<string, Datum> {
    const cols: Record<string, Datum> = { ...this.colsTemplate };
    for (const c of this.columns) cols[c.name] = defaultDatum(c.type);
    return cols;
  }
}

/** A column's value in a row, the implicit `_uuid` and `_version` included. */
export function rowCell(row: Pick<Row, 'uuid' | 'version' | 'cols'>, name: string): Datum {
  if (name === '_uuid') return { keys: [row.uuid] };
  if (name === '_version') return { keys: [row.version] };
  return row.cols[name] as Datum;
}

/** Strong and weak reference targets of a row, as uuid → count. */
export interface RowRefs {
  strong: Map<string, number>;
  weak: Map<string, number>;
}

/**
 * `self` is the referring row's UUID: ovsdb-server does not count a row's
 * strong references to itself, so a non-root row that only refers to itself
 * is garbage.
 */
export function rowRefs(table: Table, cols: Readonly<Record<string, Datum>>, self?: string): RowRefs {
  const strong = new Map<string, number>();
  const weak = new Map<string, number>();
  for (const c of table.columns) {
    const { key, value } = c.type;
    const d = cols[c.name] as Datum;
    if (key.refTable !== undefined) {
      const m = key.refType === 'weak' ? weak : strong;
      for (const k of d.keys) if (k !== self || m === weak) m.set(k as string, (m.get(k as string) ?? 0) + 1);
    }
    if (value?.refTable !== undefined && d.values !== undefined) {
      const m = value.refType === 'weak' ? weak : strong;
      for (const v of d.values) if (v !== self || m === weak) m.set(v as string, (m.get(v as string) ?? 0) + 1);
    }
  }
  return { strong, weak };
}

export class Database {
  readonly schema: DatabaseSchema;
  readonly tables = new Map<string, Table>();
  /** Which table each row UUID lives in: UUIDs are unique across a database. */
  readonly rowTable = new Map<string, Table>();
  /** Number of strong references to each row (rows with none are absent). */
  readonly strongRefs = new Map<string, number>();
  /** Rows that hold weak references to each row: target → source → count. */
  readonly weakReferrers = new Map<string, Map<string, number>>();
  /** New row UUIDs and versions for the transactions on this database. */
  readonly uuids = new UuidSource();

  constructor(schema: DatabaseSchema) {
    this.schema = schema;
    for (const t of schema.tables.values()) this.tables.set(t.name, new Table(t));
  }

  get name(): string {
    return this.schema.name;
  }

  table(name: string): Table {
    const t = this.tables.get(name);
    if (t === undefined) throw new OvsdbError(OVSDB_ERROR.UNKNOWN_TABLE, `No table named ${name}.`);
    return t;
  }

  getRow(uuid: string): Row | undefined {
    return this.rowTable.get(uuid)?.rows.get(uuid);
  }

  /** Applies an already validated set of changes. Never throws for valid input. */
  apply(changes: Iterable<RowChange>): void {
    for (const ch of changes) {
      const { table, uuid } = ch;
      if (ch.old !== null) {
        for (let i = 0; i < table.indexes.length; i++) {
          const idx = table.indexes[i] as Map<string, string>;
          const k = table.indexKey(i, ch.old);
          if (idx.get(k) === uuid) idx.delete(k);
        }
        this.adjustRefs(uuid, rowRefs(table, ch.old.cols, uuid), -1);
      }
      if (ch.new === null) {
        table.rows.delete(uuid);
        this.rowTable.delete(uuid);
      } else {
        table.rows.set(uuid, ch.new);
        this.rowTable.set(uuid, table);
      }
    }
    // Second pass so that an index key moving between two rows of one commit
    // is not deleted after the new owner set it.
    for (const ch of changes) {
      if (ch.new === null) continue;
      const { table } = ch;
      for (let i = 0; i < table.indexes.length; i++) {
        (table.indexes[i] as Map<string, string>).set(table.indexKey(i, ch.new), ch.uuid);
      }
      this.adjustRefs(ch.uuid, rowRefs(table, ch.new.cols, ch.uuid), 1);
    }
  }

  private adjustRefs(src: string, refs: RowRefs, sign: 1 | -1): void {
    for (const [dst, n] of refs.strong) {
      const v = (this.strongRefs.get(dst) ?? 0) + sign * n;
      if (v === 0) this.strongRefs.delete(dst);
      else this.strongRefs.set(dst, v);
    }
    for (const [dst, n] of refs.weak) {
      let m = this.weakReferrers.get(dst);
      if (m === undefined) {
        m = new Map();
        this.weakReferrers.set(dst, m);
      }
      const v = (m.get(src) ?? 0) + sign * n;
      if (v === 0) m.delete(src);
      else m.set(src, v);
      if (m.size === 0) this.weakReferrers.delete(dst);
    }
  }

  /**
   * The whole database as one storage record {table: {uuid: row}}, rows with
   * only their non-default columns: what a compacted database file holds.
   */
  snapshot(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const t of this.tables.values()) {
      if (t.rows.size === 0) continue;
      const rows: Record<string, unknown> = {};
      for (const row of t.rows.values()) rows[row.uuid] = rowToJson(t, row.cols, undefined, true);
      out[t.name] = rows;
    }
    return out;
  }
}

/**
 * A row's columns in RFC 7047 notation. `columns` limits the output; with
 * `skipDefaults` columns that hold their default value are left out (storage).
 */
export function rowToJson(
  table: Table,
  cols: Readonly<Record<string, Datum>>,
  columns?: Iterable<string>,
  skipDefaults = false,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns === undefined ? table.columns : columnsByName(table, columns)) {
    const d = cols[c.name] as Datum;
    if (skipDefaults && isDefault(d, c)) continue;
    out[c.name] = datumToJson(d, c.type);
  }
  return out;
}

function* columnsByName(table: Table, names: Iterable<string>): Iterable<ColumnSchema> {
  for (const n of names) {
    const c = table.schema.columns.get(n);
    if (c !== undefined) yield c;
  }
}

function isDefault(d: Datum, c: ColumnSchema): boolean {
  const def = defaultDatum(c.type);
  if (d.keys.length !== def.keys.length) return false;
  if (d.keys.length === 0) return true;
  return d.keys[0] === def.keys[0] && (d.values === undefined || d.values[0] === (def.values as Atom[])[0]);
}

/** Parses a storage/update row object onto `base` (a full row's columns). */
export function rowFromJson(table: Table, json: Record<string, unknown>, base: Record<string, Datum>): Record<string, Datum> {
  const cols = { ...base };
  for (const [name, value] of Object.entries(json)) {
    const c = table.schema.columns.get(name);
    if (c === undefined) throw new OvsdbError(OVSDB_ERROR.UNKNOWN_COLUMN, `No column ${name} in table ${table.name}.`);
    cols[name] = datumFromJson(value, c.type, { noConstraints: true, relaxSize: true });
  }
  return cols;
}
