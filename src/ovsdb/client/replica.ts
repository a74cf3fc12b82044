/**
 * The client's in-memory replica of monitored tables, kept current from monitor
 * replies and `update`/`update2`/`update3` notifications (RFC 7047 4.1.6;
 * ovsdb-server(7) 4.1.12-4.1.16).
 */
import { datumFromJson, datumToJson, defaultDatum, datumEquals, type Atom, type Datum } from '../datum.js';
import { applyDatumDiff } from '../datum-diff.js';
import { syntaxError } from '../error.js';
import type { ColumnSchema, DatabaseSchema, TableSchema } from '../schema.js';

/**
 * One replicated row. Rows are immutable: an update replaces the Row object in its
 * table, so a change event can hand out both the old and the new one.
 *
 * `get(col)` is the column's Datum (sorted keys, plus values for maps); `scalar`,
 * `optional`, `set` and `map` read it as plain JS values.
 */
export class Row {
  constructor(
    readonly table: string,
    readonly uuid: string,
    /** Every monitored column's value. */
    readonly cols: Readonly<Record<string, Datum>>,
  ) {}

  /** The column's datum; throws for a column that is not monitored. */
  get(col: string): Datum {
    const d = this.cols[col];
    if (d === undefined) throw new Error(`${this.table} column ${col} is not monitored`);
    return d;
  }

  /** The single atom of a column with exactly one value (throws when the column is empty). */
  scalar(col: string): Atom {
    const k = this.get(col).keys[0];
    if (k === undefined) throw new Error(`${this.table} column ${col} is empty`);
    return k;
  }

  /** The atom of an optional (0..1) column, or null. */
  optional(col: string): Atom | null {
    return this.get(col).keys[0] ?? null;
  }

  /** A set column's elements, sorted. */
  set(col: string): readonly Atom[] {
    return this.get(col).keys;
  }

  /** A map column as a Map (insertion order = key order). */
  map(col: string): Map<Atom, Atom> {
    const d = this.get(col);
    const m = new Map<Atom, Atom>();
    const vs = d.values ?? [];
    for (let i = 0; i < d.keys.length; i++) m.set(d.keys[i] as Atom, vs[i] as Atom);
    return m;
  }
}

export interface RowChange {
  readonly table: string;
  readonly uuid: string;
  readonly old: Row | null;
  readonly new: Row | null;
}

interface TableState {
  readonly schema: TableSchema;
  /** Monitored columns (excluding _uuid). */
  readonly columns: readonly ColumnSchema[];
  rows: Map<string, Row>;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const PARSE = { relaxSize: true, noConstraints: true } as const;

export class Replica {
  readonly schema: DatabaseSchema;
  private readonly tables = new Map<string, TableState>();

  /** `columns`: table name → monitored column names. */
  constructor(schema: DatabaseSchema, columns: ReadonlyMap<string, readonly string[]>) {
    this.schema = schema;
    for (const [name, cols] of columns) {
      const ts = schema.tables.get(name);
      if (ts === undefined) throw new Error(`unknown table ${name}`);
      const cs = cols.map((c) => {
        const col = ts.columns.get(c);
        if (col === undefined) throw new Error(`unknown column ${name}.${c}`);
        return col;
      });
      this.tables.set(name, { schema: ts, columns: cs, rows: new Map() });
    }
  }

  tableNames(): string[] {
    return [...this.tables.keys()];
  }

  monitoredColumns(table: string): readonly string[] {
    return this.state(table).columns.map((c) => c.name);
  }

  /** The live row map of a table (do not modify it). */
  rows(table: string): ReadonlyMap<string, Row> {
    return this.state(table).rows;
  }

  private state(table: string): TableState {
    const t = this.tables.get(table);
    if (t === undefined) throw new Error(`table ${table} is not monitored`);
    return t;
  }

  /** Empties every table, returning the deletions. */
  clear(): RowChange[] {
    const out: RowChange[] = [];
    for (const [name, t] of this.tables) {
      for (const [uuid, row] of t.rows) out.push({ table: name, uuid, old: row, new: null });
      t.rows = new Map();
    }
    return out;
  }

  /**
   * Replaces the whole content with a snapshot (a monitor reply), returning only
   * the differences from what was there (so a reconnect reports real changes).
   */
  replace(updates: unknown, version: 1 | 2): RowChange[] {
    const old = new Map<string, Map<string, Row>>();
    for (const [name, t] of this.tables) {
      old.set(name, t.rows);
      t.rows = new Map();
    }
    this.apply(updates, version);
    const out: RowChange[] = [];
    for (const [name, t] of this.tables) {
      const before = old.get(name) as Map<string, Row>;
      for (const [uuid, row] of t.rows) {
        const prev = before.get(uuid);
        if (prev === undefined) out.push({ table: name, uuid, old: null, new: row });
        else if (!sameRow(prev, row, t.columns)) out.push({ table: name, uuid, old: prev, new: row });
      }
      for (const [uuid, row] of before) if (!t.rows.has(uuid)) out.push({ table: name, uuid, old: row, new: null });
    }
    return out;
  }

  /** Applies `<table-updates>` (version 1) or `<table-updates2>` (version 2); returns the changes. */
  apply(updates: unknown, version: 1 | 2): RowChange[] {
    if (!isObject(updates)) throw syntaxError(updates, 'table updates must be an object');
    const out: RowChange[] = [];
    for (const [name, tu] of Object.entries(updates)) {
      const t = this.tables.get(name);
      if (t === undefined || !isObject(tu)) continue;
      for (const [uuid, ru] of Object.entries(tu)) {
        if (!isObject(ru)) continue;
        const c = version === 1 ? this.applyRow1(name, t, uuid, ru) : this.applyRow2(name, t, uuid, ru);
        if (c !== null) out.push(c);
      }
    }
    return out;
  }

  private applyRow1(name: string, t: TableState, uuid: string, ru: Record<string, unknown>): RowChange | null {
    const prev = t.rows.get(uuid) ?? null;
    const nu = ru['new'];
    if (!isObject(nu)) {
      if (prev === null) return null;
      t.rows.delete(uuid);
      return { table: name, uuid, old: prev, new: null };
    }
    const cols: Record<string, Datum> = prev === null ? this.defaults(t) : { ...prev.cols };
    for (const c of t.columns) {
      const j = nu[c.name];
      if (j !== undefined) cols[c.name] = datumFromJson(j, c.type, PARSE);
    }
    const row = new Row(name, uuid, cols);
    t.rows.set(uuid, row);
    return { table: name, uuid, old: prev, new: row };
  }

  private applyRow2(name: string, t: TableState, uuid: string, ru: Record<string, unknown>): RowChange | null {
    const prev = t.rows.get(uuid) ?? null;
    if ('delete' in ru) {
      if (prev === null) return null;
      t.rows.delete(uuid);
      return { table: name, uuid, old: prev, new: null };
    }
    const full = ru['initial'] ?? ru['insert'];
    if (full !== undefined) {
      // Columns with default values are left out of initial/insert rows.
      if (!isObject(full)) throw syntaxError(full, 'row must be an object');
      const cols = this.defaults(t);
      for (const c of t.columns) {
        const j = full[c.name];
        if (j !== undefined) cols[c.name] = datumFromJson(j, c.type, PARSE);
      }
      const row = new Row(name, uuid, cols);
      t.rows.set(uuid, row);
      return { table: name, uuid, old: prev, new: row };
    }
    const diff = ru['modify'];
    if (diff !== undefined) {
      if (!isObject(diff)) throw syntaxError(diff, 'row must be an object');
      if (prev === null) return null;
      const cols: Record<string, Datum> = { ...prev.cols };
      for (const c of t.columns) {
        const j = diff[c.name];
        if (j !== undefined) cols[c.name] = applyDatumDiff(prev.get(c.name), datumFromJson(j, c.type, PARSE), c.type);
      }
      const row = new Row(name, uuid, cols);
      t.rows.set(uuid, row);
      return { table: name, uuid, old: prev, new: row };
    }
    return null;
  }

  private defaults(t: TableState): Record<string, Datum> {
    const cols: Record<string, Datum> = {};
    for (const c of t.columns) cols[c.name] = defaultDatum(c.type);
    return cols;
  }

  /** The column's value in RFC 7047 JSON notation (for `wait` ops and comparisons). */
  columnJson(table: string, col: string, d: Datum): unknown {
    const c = this.state(table).schema.columns.get(col);
    if (c === undefined) throw new Error(`unknown column ${table}.${col}`);
    return datumToJson(d, c.type);
  }
}

function sameRow(a: Row, b: Row, cols: readonly ColumnSchema[]): boolean {
  for (const c of cols) if (!datumEquals(a.get(c.name), b.get(c.name))) return false;
  return true;
}
