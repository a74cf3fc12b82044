/**
 * Monitors (RFC 7047 4.1.5 "monitor", and ovsdb-server(7) 4.1.12-4.1.16
 * "monitor_cond", "monitor_cond_change", "monitor_cond_since"): which rows and
 * columns a client replicates, and the <table-updates> / <table-updates2>
 * messages that bring its replica from one committed state to the next.
 */
import { datumEquals, datumToJson, defaultDatum, type Atom, type Datum } from './datum.js';
import { Database, rowCell as cell, type Row, type RowChange, type Table } from './database.js';
import { OvsdbError, OVSDB_ERROR, syntaxError } from './error.js';
import { evalClause, parseClause, type Clause, type RowView } from './condition.js';
import { findColumn, type ColumnSchema, type ColumnType } from './schema.js';
import { stringifyJson } from '../lib/json-int.js';

export type MonitorKind = 'monitor' | 'monitor_cond' | 'monitor_cond_since';

interface Select {
  initial: boolean;
  insert: boolean;
  delete: boolean;
  modify: boolean;
}

interface TableMonitor {
  readonly table: Table;
  readonly columns: readonly ColumnSchema[];
  readonly select: Select;
  /** Clauses ORed together; null means every row. */
  where: readonly Clause[] | null;
}

type TableUpdates = Record<string, Record<string, unknown>>;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function parseSelect(json: unknown): Select {
  const s: Select = { initial: true, insert: true, delete: true, modify: true };
  if (json === undefined) return s;
  if (!isObject(json)) throw syntaxError(json, 'select must be an object');
  for (const k of ['initial', 'insert', 'delete', 'modify'] as const) {
    const v = json[k];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw syntaxError(json, `${k} must be a boolean`);
    s[k] = v;
  }
  return s;
}

function parseWhereOr(table: Table, json: unknown): Clause[] | null {
  if (json === undefined) return null;
  if (!Array.isArray(json)) throw syntaxError(json, 'where must be an array');
  if (json.length === 0) return null;
  return json.map((c) => parseClause(table.schema, c, undefined, true));
}

function matches(where: readonly Clause[] | null, row: RowView): boolean {
  if (where === null) return true;
  for (const c of where) if (evalClause(c, row)) return true;
  return false;
}

/**
 * The diff of one column for update2 "modify" (ovsdb-server(7) 4.1.14): the
 * new value for columns that hold at most one atom (scalars and optional
 * values), the elements to toggle for sets, and for maps the pairs to add,
 * remove or change.
 */
export function datumDiff(old: Datum, nu: Datum, type: ColumnType): Datum {
  if (type.value === undefined && type.max === 1) return nu;
  const keys: Atom[] = [];
  const values: Atom[] | undefined = type.value !== undefined ? [] : undefined;
  let i = 0;
  let j = 0;
  const ok = old.keys;
  const nk = nu.keys;
  while (i < ok.length || j < nk.length) {
    const a = ok[i];
    const b = nk[j];
    if (b === undefined || (a !== undefined && a < b)) {
      keys.push(a as Atom);
      values?.push((old.values as readonly Atom[])[i] as Atom);
      i++;
    } else if (a === undefined || b < a) {
      keys.push(b);
      values?.push((nu.values as readonly Atom[])[j] as Atom);
      j++;
    } else {
      if (values !== undefined) {
        const nv = (nu.values as readonly Atom[])[j] as Atom;
        if ((old.values as readonly Atom[])[i] !== nv) {
          keys.push(b);
          values.push(nv);
        }
      }
      i++;
      j++;
    }
  }
  return values === undefined ? { keys } : { keys, values };
}

function isDefault(d: Datum, type: ColumnType): boolean {
  const def = defaultDatum(type);
  if (d.keys.length !== def.keys.length) return false;
  return d.keys.length === 0 || (d.keys[0] === def.keys[0] && (d.values?.[0] ?? null) === (def.values?.[0] ?? null));
}

export class Monitor {
  readonly tables = new Map<string, TableMonitor>();
  /**
   * Identifies what this monitor selects (kind, tables, columns, flags, conditions):
   * monitors with equal keys see every commit identically, so the server
   * computes and serialises their updates once.
   */
  specKey = '';

  constructor(
    readonly db: Database,
    readonly kind: MonitorKind,
    /** The client's <json-value> naming this monitor in notifications. */
    public id: unknown,
    requests: unknown,
  ) {
    if (!isObject(requests)) throw syntaxError(requests, 'monitor requests must be an object');
    for (const [name, reqJson] of Object.entries(requests)) {
      const table = db.tables.get(name);
      if (table === undefined) throw new OvsdbError(OVSDB_ERROR.SYNTAX_ERROR, `no table named ${name}`);
      const reqs = Array.isArray(reqJson) ? reqJson : [reqJson];
      // Several requests for one table are merged: their columns are united
      // and a row kind is selected if any request selects it.
      const columns = new Map<string, ColumnSchema>();
      const select: Select = { initial: false, insert: false, delete: false, modify: false };
      let where: Clause[] | null = [];
      for (const req of reqs) {
        if (!isObject(req)) throw syntaxError(req, 'monitor request must be an object');
        const cols = req['columns'];
        if (cols === undefined) for (const c of table.columns) columns.set(c.name, c);
        else {
          if (!Array.isArray(cols)) throw syntaxError(req, 'columns must be an array');
          for (const cn of cols) {
            // `_uuid` and `_version` are ordinary columns to a monitor.
            const c = typeof cn === 'string' ? findColumn(table.schema, cn) : undefined;
            if (c === undefined) throw syntaxError(cols, `${String(cn)} is not a valid column name`);
            columns.set(c.name, c);
          }
        }
        const s = parseSelect(req['select']);
        for (const k of ['initial', 'insert', 'delete', 'modify'] as const) select[k] ||= s[k];
        if (kind === 'monitor') {
          if (req['where'] !== undefined) throw syntaxError(req, 'where is not allowed in monitor requests');
          where = null;
        } else {
          const w = parseWhereOr(table, req['where']);
          where = w === null || where === null ? null : [...where, ...w];
        }
      }
      this.tables.set(name, { table, columns: [...columns.values()], select, where: where ?? null });
    }
    this.specKey = this.computeSpecKey();
  }

  private computeSpecKey(): string {
    const parts: unknown[] = [this.kind];
    for (const [name, tm] of this.tables) {
      const where = tm.where?.map((c) => (c.kind === 'const' ? c.value : [c.column.name, c.fn, c.arg]));
      parts.push(
        name,
        tm.columns.map((c) => c.name),
        tm.select,
        where ?? null,
      );
    }
    return stringifyJson(parts);
  }

  /** The initial contents: the reply to the monitor request. */
  initial(): TableUpdates {
    const out: TableUpdates = {};
    for (const [name, tm] of this.tables) {
      if (!tm.select.initial) continue;
      const rows: Record<string, unknown> = {};
      let n = 0;
      for (const row of tm.table.rows.values()) {
        if (!matches(tm.where, row)) continue;
        rows[row.uuid] = this.kind === 'monitor' ? { new: this.fullRow(tm, row) } : { initial: this.compactRow(tm, row) };
        n++;
      }
      if (n > 0) out[name] = rows;
    }
    return out;
  }

  /** The update notification's <table-updates(2)> for one commit, or null when nothing is visible. */
  update(changes: readonly RowChange[]): TableUpdates | null {
    let out: TableUpdates | null = null;
    for (const ch of changes) {
      const tm = this.tables.get(ch.table.name);
      if (tm === undefined) continue;
      const u = this.rowUpdate(tm, ch.old, ch.new);
      if (u === undefined) continue;
      out ??= {};
      (out[ch.table.name] ??= {})[ch.uuid] = u;
    }
    return out;
  }

  /**
   * {@link update} as JSON text, written directly: an object keyed by row
   * UUIDs would make V8 intern every UUID as a property name, once per
   * commit, and the server sends the text anyway.
   */
  updateText(changes: readonly RowChange[]): string | null {
    let byTable: Map<string, string[]> | null = null;
    for (const ch of changes) {
      const tm = this.tables.get(ch.table.name);
      if (tm === undefined) continue;
      const u = this.rowUpdate(tm, ch.old, ch.new);
      if (u === undefined) continue;
      byTable ??= new Map();
      let rows = byTable.get(ch.table.name);
      if (rows === undefined) byTable.set(ch.table.name, (rows = []));
      // A UUID is hex digits and dashes: nothing to escape.
      rows.push(`"${ch.uuid}":${stringifyJson(u)}`);
    }
    if (byTable === null) return null;
    const tables: string[] = [];
    for (const [name, rows] of byTable) tables.push(`${JSON.stringify(name)}:{${rows.join(',')}}`);
    return `{${tables.join(',')}}`;
  }

  private rowUpdate(tm: TableMonitor, old: Row | null, nu: Row | null): unknown {
    const was = old !== null && matches(tm.where, old);
    const is = nu !== null && matches(tm.where, nu);
    const v1 = this.kind === 'monitor';
    if (!was && is) {
      if (!tm.select.insert) return undefined;
      return v1 ? { new: this.fullRow(tm, nu) } : { insert: this.compactRow(tm, nu) };
    }
    if (was && !is) {
      if (!tm.select.delete) return undefined;
      return v1 ? { old: this.fullRow(tm, old) } : { delete: null };
    }
    if (!was || !is || !tm.select.modify) return undefined;
    let changed: Record<string, unknown> | undefined;
    for (const c of tm.columns) {
      const a = cell(old, c.name);
      const b = cell(nu, c.name);
      if (datumEquals(a, b)) continue;
      changed ??= {};
      changed[c.name] = datumToJson(v1 ? a : datumDiff(a, b, c.type), c.type);
    }
    if (changed === undefined) return undefined;
    return v1 ? { old: changed, new: this.fullRow(tm, nu) } : { modify: changed };
  }

  private fullRow(tm: TableMonitor, row: Row): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const c of tm.columns) out[c.name] = datumToJson(cell(row, c.name), c.type);
    return out;
  }

  private compactRow(tm: TableMonitor, row: Row): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const c of tm.columns) {
      const d = cell(row, c.name);
      if (!isDefault(d, c.type)) out[c.name] = datumToJson(d, c.type);
    }
    return out;
  }

  /**
   * monitor_cond_change: installs new conditions and returns the update that
   * moves the client's replica from the old selection to the new one.
   */
  changeConditions(requests: unknown): TableUpdates | null {
    if (!isObject(requests)) throw syntaxError(requests, 'monitor-cond-update-requests must be an object');
    let out: TableUpdates | null = null;
    for (const [name, reqJson] of Object.entries(requests)) {
      const tm = this.tables.get(name);
      if (tm === undefined) throw syntaxError(requests, `${name} is not monitored`);
      const reqs = Array.isArray(reqJson) ? reqJson : [reqJson];
      let where: Clause[] | null = [];
      for (const req of reqs) {
        if (!isObject(req)) throw syntaxError(req, 'monitor-cond-update-request must be an object');
        const w = parseWhereOr(tm.table, req['where']);
        where = w === null || where === null ? null : [...where, ...w];
      }
      const old = tm.where;
      tm.where = where;
      this.specKey = this.computeSpecKey();
      for (const row of tm.table.rows.values()) {
        const was = matches(old, row);
        const is = matches(where, row);
        if (was === is) continue;
        if (is && !tm.select.insert) continue;
        if (!is && !tm.select.delete) continue;
        out ??= {};
        (out[name] ??= {})[row.uuid] = is ? { insert: this.compactRow(tm, row) } : { delete: null };
      }
    }
    return out;
  }
}
