/**
 * The db-ctl working copy: the client's replica plus this invocation's changes.
 * Commands read and write it as if the transaction had already happened (the way
 * an IDL transaction shows its own writes); `toOps()` turns the changes into one
 * OVSDB transaction (RFC 7047 5.2: insert with uuid-name, update, delete).
 */
import { datumToJson, emptyDatum, defaultDatum, newUuid, type Atom, type Datum } from '../ovsdb/datum.js';
import type { OvsdbClient } from '../ovsdb/client.js';
import type { ColumnType, DatabaseSchema, TableSchema } from '../ovsdb/schema.js';

/**
 * What this invocation has the server send: table → the columns replicated, or
 * 'all'. ovn-nbctl registers only what its commands read; so do we, by running the
 * commands and starting over with more whenever they read something not fetched.
 */
export type Needs = Map<string, Set<string> | 'all'>;

/** Thrown when a command reads a table or column that is not replicated yet (null column: all of them). */
export class NeedData extends Error {
  constructor(
    readonly table: string,
    readonly column: string | null | undefined,
  ) {
    super(`need ${table}.${column ?? '*'}`);
    this.name = 'NeedData';
  }
}

/**
 * Adds what `e` asks for. A table seen for the first time comes with its
 * `companions` (the columns commands usually read together, like a switch's name
 * and ports) so that one round trip serves most commands; a table asked for column
 * by column more than 4 times is fetched whole.
 */
export function addNeed(needs: Needs, e: NeedData, companions: Readonly<Record<string, readonly string[]>> = {}): void {
  const cur = needs.get(e.table);
  if (cur === 'all') return;
  if (e.column === null || (cur !== undefined && cur.size >= 4)) {
    needs.set(e.table, 'all');
    return;
  }
  const set = cur ?? new Set<string>(companions[e.table] ?? []);
  if (e.column !== undefined) set.add(e.column);
  needs.set(e.table, set);
}

/** `needs` as OvsdbClient's `tables` option. */
export function needsToTables(needs: Needs): Record<string, readonly string[] | true> {
  const out: Record<string, readonly string[] | true> = {};
  for (const [t, cols] of needs) out[t] = cols === 'all' ? true : [...cols];
  return out;
}

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
    if (this.base !== undefined) this.db.checkColumn(this.table, col);
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

  /** `needs`: what the client replicates; reading anything else throws NeedData. Undefined: everything. */
  constructor(
    readonly client: OvsdbClient,
    readonly schema: DatabaseSchema,
    readonly needs?: Needs,
  ) {}

  /** Throws NeedData unless `table.col` is replicated. */
  checkColumn(table: string, col: string): void {
    if (this.needs === undefined) return;
    const cur = this.needs.get(table);
    if (cur === 'all' || (cur !== undefined && cur.has(col))) return;
    throw new NeedData(table, col);
  }

  /** Throws NeedData unless every column of `table` is replicated (for commands that print whole rows). */
  needTable(table: string): void {
    if (this.needs !== undefined && this.needs.get(table) !== 'all') throw new NeedData(table, null);
  }

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
      if (this.needs !== undefined && !this.needs.has(table)) throw new NeedData(table, undefined);
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
    this.checkColumn(table, col);
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
        // As the IDL's verify: the update replaces whole columns, so it must apply
        // only to the values this invocation read, or a concurrent writer's change
        // (another port added to the same switch) would be lost. A mismatch fails
        // the transaction with "timed out" and the commands run again.
        const where = [['_uuid', '==', ['uuid', r.uuid]]];
        const row: Record<string, unknown> = {};
        const seenRow: Record<string, unknown> = {};
        for (const [col, d] of r.written) {
          row[col] = json(r.table, col, d);
          const base = r.base?.[col];
          if (base !== undefined) seenRow[col] = datumToJson(base, this.columnType(r.table, col));
        }
        const cols = Object.keys(seenRow);
        if (cols.length > 0) ops.push({ op: 'wait', table: r.table, where, columns: cols, until: '==', rows: [seenRow], timeout: 0 });
        ops.push({ op: 'update', table: r.table, where, row });
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
