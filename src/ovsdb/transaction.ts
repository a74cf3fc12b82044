/**
 * The transaction engine (RFC 7047 section 5.2): executes the operations of one
 * "transact" request against a Database atomically.
 *
 * Operations run against an overlay of pending row changes; nothing touches the
 * committed state until every operation and the commit-time checks (referential
 * integrity, garbage collection, weak references, maxRows, unique indexes) have
 * passed. A failed transaction therefore needs no rollback.
 */
import { checkAtom, compareDatums, datumFromJson, datumEquals, datumToJson, UUID_RE, ZERO_UUID, type Datum } from './datum.js';
import { Database, rowCell as cell, rowRefs, type Row, type RowChange, type Table } from './database.js';
import { OvsdbError, OVSDB_ERROR, constraintViolation, syntaxError } from './error.js';
import { evalWhere, parseWhere, uuidEquality, type Clause } from './condition.js';
import { applyMutation, parseMutation } from './mutation.js';
import { ovsMemberOrder } from './ovs-member-order.js';
import { findColumn, UUID_COLUMN, VERSION_COLUMN, type ColumnSchema } from './schema.js';
import { datumToText } from './datum-text.js';
import { stringifyJson } from '../lib/json-int.js';

export interface ExecContext {
  /** Whether the session running the transaction holds a lock ("assert"). */
  hasLock?: (name: string) => boolean;
  /** When the transaction was first received; "wait" timeouts count from it. */
  startMs: number;
  nowMs: number;
}

export type ExecOutcome =
  | {
      readonly status: 'committed';
      readonly results: unknown[];
      /** Rows that really changed; empty for a read-only transaction. */
      readonly changes: RowChange[];
      readonly comment: string | undefined;
      readonly durable: boolean;
    }
  | { readonly status: 'failed'; readonly results: unknown[] }
  /** A "wait" has not been satisfied yet: run the whole request again after the next commit or at retryAtMs. */
  | { readonly status: 'blocked'; readonly retryAtMs: number };

interface Pending {
  readonly table: Table;
  readonly uuid: string;
  readonly old: Row | null;
  cols: Record<string, Datum> | null;
  version: string;
}

/** A row as a transaction sees it (committed, or pending and not deleted). */
interface LiveRow {
  readonly uuid: string;
  readonly version: string;
  readonly cols: Record<string, Datum>;
}

function live(p: Pending): LiveRow | null {
  return p.cols === null ? null : (p as LiveRow);
}

const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Thrown by a `wait` that must be retried later; not a failure (an Error only so it can be thrown). */
class Blocked extends Error {
  constructor(readonly retryAtMs: number) {
    super('blocked');
  }
}

/** Reads and checks the members of one operation object, as ovsdb-server's parser does. */
class OpReader {
  private readonly used = new Set<string>(['op']);
  constructor(
    readonly json: Record<string, unknown>,
    private readonly prefix: string,
  ) {}

  fail(details: string): OvsdbError {
    return syntaxError(this.json, `${this.prefix}${details}`);
  }

  get(name: string, kind: 'string' | 'object' | 'array' | 'integer' | 'boolean' | 'id', optional: boolean): unknown {
    this.used.add(name);
    const v = this.json[name];
    if (v === undefined) {
      if (optional) return undefined;
      throw this.fail(`Required '${name}' member is missing.`);
    }
    const ok =
      kind === 'string'
        ? typeof v === 'string'
        : kind === 'id'
          ? typeof v === 'string' && ID_RE.test(v)
          : kind === 'object'
            ? typeof v === 'object' && v !== null && !Array.isArray(v)
            : kind === 'array'
              ? Array.isArray(v)
              : kind === 'integer'
                ? Number.isInteger(v) || typeof v === 'bigint'
                : typeof v === 'boolean';
    if (!ok) throw this.fail(`Type mismatch for member '${name}'.`);
    return v;
  }

  finish(): void {
    for (const k of Object.keys(this.json)) {
      if (!this.used.has(k)) throw this.fail(`Member '${k}' is present but not allowed here.`);
    }
  }
}

export class Transaction {
  private readonly pending = new Map<string, Pending>();
  private readonly inserted = new Map<Table, string[]>();
  private readonly symbols = new Map<string, { uuid: string; created: boolean }>();
  private comment: string | undefined;
  private durable = false;
  private readonly resolve = (name: string): string => {
    let s = this.symbols.get(name);
    if (s === undefined) {
      s = { uuid: this.db.uuids.next(), created: false };
      this.symbols.set(name, s);
    }
    return s.uuid;
  };

  constructor(
    readonly db: Database,
    private readonly ctx: ExecContext,
  ) {}

  /** Runs every operation; see ExecOutcome. */
  execute(ops: readonly unknown[]): ExecOutcome {
    const results: unknown[] = new Array(ops.length).fill(null);
    for (let i = 0; i < ops.length; i++) {
      try {
        results[i] = this.executeOp(ops[i], i, ops.length);
      } catch (e) {
        if (e instanceof Blocked) return { status: 'blocked', retryAtMs: e.retryAtMs };
        if (!(e instanceof OvsdbError)) throw e;
        results[i] = e.toJson();
        return { status: 'failed', results };
      }
    }
    let changes: RowChange[];
    try {
      changes = this.precommit();
    } catch (e) {
      if (!(e instanceof OvsdbError)) throw e;
      results.push(e.toJson());
      return { status: 'failed', results };
    }
    return { status: 'committed', results, changes, comment: this.comment, durable: this.durable };
  }

  private executeOp(json: unknown, i: number, n: number): unknown {
    const prefix = `Parsing ovsdb operation ${i + 1} of ${n} failed: `;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new OvsdbError(OVSDB_ERROR.SYNTAX_ERROR, `${prefix}Object expected.`);
    }
    const r = new OpReader(json as Record<string, unknown>, prefix);
    const op = r.get('op', 'string', false) as string;
    switch (op) {
      case 'insert':
        return this.opInsert(r);
      case 'select':
        return this.opSelect(r);
      case 'update':
        return this.opUpdate(r);
      case 'mutate':
        return this.opMutate(r);
      case 'delete':
        return this.opDelete(r);
      case 'wait':
        return this.opWait(r);
      case 'commit': {
        this.durable = r.get('durable', 'boolean', false) as boolean;
        r.finish();
        return {};
      }
      case 'abort':
        r.finish();
        throw new OvsdbError(OVSDB_ERROR.ABORTED, 'aborted by request');
      case 'comment': {
        const c = r.get('comment', 'string', false) as string;
        r.finish();
        this.comment = this.comment === undefined ? c : `${this.comment}\n${c}`;
        return {};
      }
      case 'assert': {
        const lock = r.get('lock', 'string', false) as string;
        r.finish();
        if (this.ctx.hasLock?.(lock) !== true) {
          throw new OvsdbError(OVSDB_ERROR.NOT_OWNER, `Asserted lock ${lock} not held.`);
        }
        return {};
      }
      default:
        throw r.fail(`No operation "${op}"`);
    }
  }

  private tableOf(r: OpReader): Table {
    const name = r.get('table', 'string', false) as string;
    const t = this.db.tables.get(name);
    if (t === undefined) throw r.fail(`No table named ${name}.`);
    return t;
  }

  /** The row as this transaction sees it, or null. */
  lookup(table: Table, uuid: string): LiveRow | null {
    const p = this.pending.get(uuid);
    if (p !== undefined) return p.table === table ? live(p) : null;
    return (table.rows.get(uuid) as LiveRow | undefined) ?? null;
  }

  private *scan(table: Table, where: readonly Clause[]): Iterable<LiveRow> {
    const direct = uuidEquality(where);
    if (direct !== undefined) {
      const row = this.lookup(table, direct);
      if (row !== null && evalWhere(where, row)) yield row;
      return;
    }
    for (const row of table.rows.values()) {
      const p = this.pending.get(row.uuid);
      const view = p === undefined ? row : live(p);
      if (view !== null && evalWhere(where, view)) yield view;
    }
    for (const uuid of this.inserted.get(table) ?? []) {
      const view = live(this.pending.get(uuid) as Pending);
      if (view !== null && evalWhere(where, view)) yield view;
    }
  }

  /** `update` is the update operation, for the error that names it; absent for inserts. */
  private parseRow(table: Table, json: Record<string, unknown>, update?: Record<string, unknown>): Record<string, Datum> {
    const names = Object.keys(json);
    try {
      return this.parseColumns(table, json, names, update);
    } catch (e) {
      // Of several bad columns, ovsdb-server names the first in its own
      // member order; find that one only when something is wrong.
      if (names.length > 1 && e instanceof OvsdbError) this.parseColumns(table, json, ovsMemberOrder(names), update);
      throw e;
    }
  }

  private parseColumns(
    table: Table,
    json: Record<string, unknown>,
    names: readonly string[],
    update: Record<string, unknown> | undefined,
  ): Record<string, Datum> {
    const out: Record<string, Datum> = {};
    for (const name of names) {
      const c = findColumn(table.schema, name);
      if (c === undefined) {
        throw new OvsdbError(OVSDB_ERROR.UNKNOWN_COLUMN, `No column ${name} in table ${table.name}.`, json);
      }
      if (update !== undefined && (!c.mutable || name.startsWith('_'))) {
        throw new OvsdbError(OVSDB_ERROR.CONSTRAINT_VIOLATION, `Cannot update immutable column ${name} in table ${table.name}.`, update);
      }
      if (name.startsWith('_')) {
        throw new OvsdbError(OVSDB_ERROR.UNKNOWN_COLUMN, `No column ${name} in table ${table.name}.`, json);
      }
      out[name] = datumFromJson(json[name], c.type, { resolve: this.resolve });
    }
    return out;
  }

  private touch(table: Table, uuid: string): Pending {
    let p = this.pending.get(uuid);
    if (p === undefined) {
      const row = table.rows.get(uuid) as Row;
      // As in ovsdb-server, a modified row shows its old _version until the commit gives it a new one.
      p = { table, uuid, old: row, cols: { ...row.cols }, version: row.version };
      this.pending.set(uuid, p);
    }
    return p;
  }

  private opInsert(r: OpReader): unknown {
    const table = this.tableOf(r);
    const rowJson = r.get('row', 'object', false) as Record<string, unknown>;
    const uuidName = r.get('uuid-name', 'id', true) as string | undefined;
    const explicit = r.get('uuid', 'string', true) as string | undefined;
    r.finish();
    let uuid: string;
    if (explicit !== undefined) {
      if (!UUID_RE.test(explicit)) throw r.fail(`"${explicit}" is not a valid UUID`);
      uuid = explicit.toLowerCase();
    } else if (uuidName !== undefined) {
      const s = this.symbols.get(uuidName);
      if (s?.created === true) {
        throw new OvsdbError(OVSDB_ERROR.DUPLICATE_UUID_NAME, 'This "uuid-name" appeared on an earlier "insert" operation.', uuidName);
      }
      uuid = s?.uuid ?? this.db.uuids.next();
      this.symbols.set(uuidName, { uuid, created: true });
    } else {
      uuid = this.db.uuids.next();
    }
    if (explicit !== undefined && uuidName !== undefined) this.symbols.set(uuidName, { uuid, created: true });
    if (this.db.rowTable.has(uuid) || this.pending.has(uuid)) {
      throw new OvsdbError(
        OVSDB_ERROR.DUPLICATE_UUID,
        `This UUID would duplicate a UUID already present within the table or deleted within the same transaction.`,
        explicit ?? uuid,
      );
    }
    const cols = table.defaultCols();
    const given = this.parseRow(table, rowJson);
    // ovsdb-server checks the defaults of the columns an insert leaves out
    // against their constraints: an enum or range may exclude the default.
    for (const c of table.columns) {
      if (c.name in given) continue;
      const d = cols[c.name] as Datum;
      for (const k of d.keys) checkAtom(k, c.type.key);
      if (c.type.value !== undefined) for (const v of d.values ?? []) checkAtom(v, c.type.value);
    }
    Object.assign(cols, given);
    this.pending.set(uuid, { table, uuid, old: null, cols, version: this.db.uuids.next() });
    let list = this.inserted.get(table);
    if (list === undefined) {
      list = [];
      this.inserted.set(table, list);
    }
    list.push(uuid);
    return { uuid: ['uuid', uuid] };
  }

  /** A column list member ("columns", "sort"): names of the table's columns, `_uuid` and `_version` included. */
  private columnList(table: Table, json: unknown[] | undefined): ColumnSchema[] | undefined {
    if (json === undefined) return undefined;
    return json.map((c) => {
      const col = typeof c === 'string' ? findColumn(table.schema, c) : undefined;
      if (col === undefined) throw syntaxError(json, `${String(c)} is not a valid column name`);
      return col;
    });
  }

  private opSelect(r: OpReader): unknown {
    const table = this.tableOf(r);
    const where = parseWhere(table.schema, r.get('where', 'array', false), this.resolve);
    const columns = this.columnList(table, r.get('columns', 'array', true) as unknown[] | undefined);
    const sort = this.columnList(table, r.get('sort', 'array', true) as unknown[] | undefined);
    r.finish();
    let found = [...this.scan(table, where)];
    // With "columns", ovsdb-server returns the distinct projections of the
    // matching rows; "sort" then orders them by the listed columns.
    if (columns !== undefined) found = distinctBy(found, columns);
    if (sort !== undefined) {
      found.sort((a, b) => {
        for (const c of sort) {
          const d = compareDatums(cell(a, c.name), cell(b, c.name));
          if (d !== 0) return d;
        }
        return 0;
      });
    }
    const rows = found.map((row) => {
      const out: Record<string, unknown> = {};
      for (const c of columns ?? [...table.columns, UUID_COLUMN, VERSION_COLUMN]) out[c.name] = datumToJson(cell(row, c.name), c.type);
      return out;
    });
    return { rows };
  }

  private opUpdate(r: OpReader): unknown {
    const table = this.tableOf(r);
    const where = parseWhere(table.schema, r.get('where', 'array', false), this.resolve);
    const rowJson = r.get('row', 'object', false) as Record<string, unknown>;
    r.finish();
    const update = this.parseRow(table, rowJson, r.json);
    let count = 0;
    for (const row of [...this.scan(table, where)]) {
      const p = this.touch(table, row.uuid);
      Object.assign(p.cols as Record<string, Datum>, update);
      count++;
    }
    return { count };
  }

  private opMutate(r: OpReader): unknown {
    const table = this.tableOf(r);
    const where = parseWhere(table.schema, r.get('where', 'array', false), this.resolve);
    const mutationsJson = r.get('mutations', 'array', false) as unknown[];
    r.finish();
    const mutations = mutationsJson.map((m) => parseMutation(table.schema, m, this.resolve));
    let count = 0;
    for (const row of [...this.scan(table, where)]) {
      const p = this.touch(table, row.uuid);
      const cols = p.cols as Record<string, Datum>;
      for (const m of mutations) cols[m.column.name] = applyMutation(cols[m.column.name] as Datum, m);
      count++;
    }
    return { count };
  }

  private opDelete(r: OpReader): unknown {
    const table = this.tableOf(r);
    const where = parseWhere(table.schema, r.get('where', 'array', false), this.resolve);
    r.finish();
    let count = 0;
    for (const row of [...this.scan(table, where)]) {
      this.deleteRow(table, row.uuid);
      count++;
    }
    return { count };
  }

  private deleteRow(table: Table, uuid: string): void {
    const p = this.pending.get(uuid);
    if (p === undefined) {
      this.pending.set(uuid, { table, uuid, old: table.rows.get(uuid) as Row, cols: null, version: '' });
    } else {
      p.cols = null;
    }
  }

  private opWait(r: OpReader): unknown {
    const table = this.tableOf(r);
    // Beyond 2^53 an int64 timeout arrives exact (a bigint); as a deadline a double is close enough.
    const timeoutJson = r.get('timeout', 'integer', true) as number | bigint | undefined;
    const timeout = timeoutJson === undefined ? undefined : Number(timeoutJson);
    const where = parseWhere(table.schema, r.get('where', 'array', false), this.resolve);
    // The IDL leaves out "columns" to wait on a table's row count alone.
    const columnsJson = (r.get('columns', 'array', true) as unknown[] | undefined) ?? table.columns.map((c) => c.name);
    const until = r.get('until', 'string', false) as string;
    const rowsJson = r.get('rows', 'array', false) as unknown[];
    r.finish();
    if (until !== '==' && until !== '!=') throw syntaxError(until, '"until" must be "==" or "!="');
    const columns = columnsJson.map((c) => {
      const col = typeof c === 'string' ? findColumn(table.schema, c) : undefined;
      if (col === undefined) throw syntaxError(columnsJson, `${String(c)} is not a valid column name`);
      return col;
    });
    const key = (get: (name: string) => Datum): string =>
      stringifyJson(
        columns.map((c) => {
          const d = get(c.name);
          return [d.keys, d.values ?? null];
        }),
      );
    // Both sides are sets of distinct projections, as in ovsdb-server.
    const expected = new Set(
      rowsJson.map((rj) => {
        if (typeof rj !== 'object' || rj === null || Array.isArray(rj)) throw syntaxError(rj, 'Object expected.');
        const parsed: Record<string, Datum> = {};
        for (const [name, v] of Object.entries(rj)) {
          const col = findColumn(table.schema, name);
          if (col === undefined || !columns.includes(col)) {
            throw syntaxError(rj, `${name} is not a valid column name`);
          }
          parsed[name] = datumFromJson(v, col.type, { resolve: this.resolve, noConstraints: true });
        }
        return key((n) => parsed[n] ?? { keys: [] });
      }),
    );
    const actual = new Set([...this.scan(table, where)].map((row) => key((n) => cell(row, n))));
    const equal = expected.size === actual.size && [...expected].every((e) => actual.has(e));
    if (equal === (until === '==')) return {};
    if (timeout === undefined || this.ctx.startMs + timeout > this.ctx.nowMs) {
      throw new Blocked(timeout === undefined ? Infinity : this.ctx.startMs + timeout);
    }
    // As ovsdb-server: a wait that never blocked failed its test; one that blocked ran out of time.
    if (timeout === 0) throw new OvsdbError(OVSDB_ERROR.TIMED_OUT, '"where" clause test failed');
    throw new OvsdbError(OVSDB_ERROR.TIMED_OUT, `"wait" timed out after ${this.ctx.nowMs - this.ctx.startMs} ms`);
  }

  /** Commit-time checks; returns the real changes or throws. */
  private precommit(): RowChange[] {
    // ovsdb-server's order: strong references first (deleting a row still
    // referenced fails even when garbage collection would take its referrer,
    // so deleting one row of a cycle fails), then garbage, row limits, weak references.
    this.checkStrongReferences();
    this.collectGarbage();
    this.checkMaxRows();
    this.clearWeakReferences();
    const changes: RowChange[] = [];
    for (const p of this.pendingByTable()) {
      if (p.old === null && p.cols === null) continue; // inserted, then deleted
      if (p.old !== null && p.cols !== null && sameCols(p.table, p.old.cols, p.cols)) continue;
      changes.push({
        table: p.table,
        uuid: p.uuid,
        old: p.old,
        new: p.cols === null ? null : { uuid: p.uuid, version: p.old === null ? p.version : this.db.uuids.next(), cols: p.cols },
      });
    }
    this.checkIndexes(changes);
    return changes;
  }

  /** Strong reference counts as they will be after this transaction, for the rows it affects. */
  private refDeltas(): Map<string, number> {
    const delta = new Map<string, number>();
    for (const p of this.pending.values()) {
      if (p.old !== null) for (const [u, n] of rowRefs(p.table, p.old.cols, p.uuid).strong) delta.set(u, (delta.get(u) ?? 0) - n);
      if (p.cols !== null) for (const [u, n] of rowRefs(p.table, p.cols, p.uuid).strong) delta.set(u, (delta.get(u) ?? 0) + n);
    }
    return delta;
  }

  private refCountAfter(uuid: string, delta: Map<string, number>): number {
    return (this.db.strongRefs.get(uuid) ?? 0) + (delta.get(uuid) ?? 0);
  }

  /** Deletes rows of non-root tables that nothing references any more, to a fixpoint. */
  private collectGarbage(): void {
    for (;;) {
      const delta = this.refDeltas();
      const doomed: Pending[] = [];
      const candidates = new Set<string>();
      for (const [u, d] of delta) if (d < 0) candidates.add(u);
      for (const list of this.inserted.values()) for (const u of list) candidates.add(u);
      for (const u of candidates) {
        const p = this.pending.get(u);
        const table = p?.table ?? this.db.rowTable.get(u);
        if (table === undefined || table.schema.isRoot) continue;
        if (p !== undefined && p.cols === null) continue;
        if (p === undefined && !table.rows.has(u)) continue;
        if (this.refCountAfter(u, delta) <= 0) doomed.push(p ?? this.touch(table, u));
      }
      if (doomed.length === 0) return;
      for (const p of doomed) p.cols = null;
    }
  }

  /** Removes weak references to rows that do not exist after this transaction. */
  private clearWeakReferences(): void {
    // Committed rows that weakly reference a row this transaction deletes.
    for (const p of [...this.pending.values()]) {
      if (p.cols !== null || p.old === null) continue;
      for (const src of this.db.weakReferrers.get(p.uuid)?.keys() ?? []) {
        const srcTable = this.db.rowTable.get(src) as Table;
        const sp = this.pending.get(src);
        if (sp?.cols === null) continue;
        this.touch(srcTable, src);
      }
    }
    for (const p of this.pendingByTable()) {
      if (p.cols === null) continue;
      for (const c of p.table.columns) {
        const { key, value } = c.type;
        const weakKey = key.refTable !== undefined && key.refType === 'weak';
        const weakValue = value?.refTable !== undefined && value.refType === 'weak';
        if (!weakKey && !weakValue) continue;
        const d = p.cols[c.name] as Datum;
        const exists = (u: string, t: string): boolean => this.lookup(this.db.tables.get(t) as Table, u) !== null;
        let keep: number[] | undefined;
        for (let i = 0; i < d.keys.length; i++) {
          const ok =
            (!weakKey || exists(d.keys[i] as string, key.refTable)) &&
            (!weakValue || exists((d.values as string[])[i] as string, (value as { refTable: string }).refTable));
          if (!ok && keep === undefined) keep = Array.from({ length: i }, (_, j) => j);
          else if (ok && keep !== undefined) keep.push(i);
        }
        if (keep === undefined) continue;
        const nd: Datum =
          d.values === undefined
            ? { keys: keep.map((i) => d.keys[i] as string) }
            : { keys: keep.map((i) => d.keys[i] as string), values: keep.map((i) => (d.values as string[])[i] as string) };
        if (nd.keys.length < c.type.min) {
          const inserted = p.old === null ? ' (inserted within this transaction)' : '';
          if (inserted !== '' && d.keys.includes(ZERO_UUID)) {
            throw constraintViolation(
              `Weak reference column "${c.name}" in "${p.table.name}" row ${p.uuid}${inserted} contained all-zeros UUID (probably as the default value for this column) but deleting this value caused a constraint volation because this column is not allowed to be empty.`,
            );
          }
          throw constraintViolation(
            `Deletion of ${d.keys.length - nd.keys.length} weak reference(s) to deleted (or never-existing) rows from column "${c.name}" in "${p.table.name}" row ${p.uuid}${inserted} caused this column to become empty, but constraints on this column disallow an empty column.`,
          );
        }
        p.cols[c.name] = nd;
      }
    }
  }

  private checkDeletedRows(delta: Map<string, number>): void {
    for (const p of this.pendingByTable()) {
      if (p.cols !== null || p.old === null) continue;
      const n = this.refCountAfter(p.uuid, delta);
      if (n > 0) {
        throw new OvsdbError(
          OVSDB_ERROR.REFERENTIAL_INTEGRITY,
          `cannot delete ${p.table.name} row ${p.uuid} because of ${n} remaining reference(s)`,
        );
      }
    }
  }

  /** The rows this transaction touched, table by table in the order it first touched each (as ovsdb-server walks them). */
  private pendingByTable(): Iterable<Pending> {
    // Usually they already are (one table, or one table after another): no copy then.
    const seen = new Set<Table>();
    let last: Table | undefined;
    let grouped = true;
    for (const p of this.pending.values()) {
      if (p.table === last) continue;
      if (seen.has(p.table)) {
        grouped = false;
        break;
      }
      seen.add(p.table);
      last = p.table;
    }
    if (grouped) return this.pending.values();
    const byTable = new Map<Table, Pending[]>();
    for (const p of this.pending.values()) {
      const list = byTable.get(p.table);
      if (list === undefined) byTable.set(p.table, [p]);
      else list.push(p);
    }
    return [...byTable.values()].flat();
  }

  private checkStrongReferences(): void {
    const delta = this.refDeltas();
    // ovsdb-server reports a reference to a missing row before a deleted row that is still referenced.
    for (const p of this.pendingByTable()) {
      if (p.cols === null) continue;
      for (const c of p.table.columns) {
        const { key, value } = c.type;
        const strongKey = key.refTable !== undefined && key.refType !== 'weak';
        const strongValue = value?.refTable !== undefined && value.refType !== 'weak';
        if (!strongKey && !strongValue) continue;
        const d = p.cols[c.name] as Datum;
        if (p.old !== null && p.old.cols[c.name] === d) continue;
        const check = (u: string, tableName: string): void => {
          if (this.lookup(this.db.tables.get(tableName) as Table, u) === null) {
            throw new OvsdbError(
              OVSDB_ERROR.REFERENTIAL_INTEGRITY,
              `Table ${p.table.name} column ${c.name} row ${p.uuid} references nonexistent row ${u} in table ${tableName}.`,
            );
          }
        };
        if (strongKey) for (const k of d.keys) check(k as string, key.refTable);
        if (strongValue) for (const v of d.values ?? []) check(v as string, (value as { refTable: string }).refTable);
      }
    }
    this.checkDeletedRows(delta);
  }

  private checkMaxRows(): void {
    const counts = new Map<Table, number>();
    for (const p of this.pending.values()) {
      if (p.table.schema.maxRows === Infinity) continue;
      const d = (p.old === null ? 0 : -1) + (p.cols === null ? 0 : 1);
      counts.set(p.table, (counts.get(p.table) ?? 0) + d);
    }
    for (const [t, d] of counts) {
      const n = t.rows.size + d;
      if (n > t.schema.maxRows) {
        throw constraintViolation(
          `transaction causes "${t.name}" table to contain ${n} rows, greater than the schema-defined limit of ${t.schema.maxRows} row(s)`,
        );
      }
    }
  }

  /** How a row in an index conflict came to be, in ovsdb-server's words. */
  private rowHistory(t: Table, uuid: string, i: number): string {
    const p = this.pending.get(uuid);
    if (p === undefined) return 'existed in the database before this transaction and was not modified by the transaction';
    if (p.old === null) return 'was inserted by this transaction';
    if (p.cols !== null && t.indexKey(i, p.old) === t.indexKey(i, { uuid, version: p.version, cols: p.cols })) {
      return sameCols(t, p.old.cols, p.cols)
        ? 'existed in the database before this transaction and was not modified by the transaction'
        : "existed in the database before this transaction, which modified some of the row's columns but not any columns in this index";
    }
    return `had the following index values before the transaction: ${describeKey(t, p.old, i)}`;
  }

  private checkIndexes(changes: readonly RowChange[]): void {
    const byTable = new Map<Table, Map<string, string>[]>();
    for (const ch of changes) {
      const t = ch.table;
      if (t.indexes.length === 0 || ch.new === null) continue;
      let local = byTable.get(t);
      if (local === undefined) {
        local = t.indexes.map(() => new Map());
        byTable.set(t, local);
      }
      for (let i = 0; i < t.indexes.length; i++) {
        const k = t.indexKey(i, ch.new);
        const seen = (local[i] as Map<string, string>).get(k);
        const committed = (t.indexes[i] as Map<string, string>).get(k);
        let other = seen;
        if (other === undefined && committed !== undefined && committed !== ch.uuid) {
          // The committed owner of the key only conflicts if it still has it.
          const now = this.lookup(t, committed);
          if (now !== null && t.indexKey(i, now) === k) other = committed;
        }
        if (other !== undefined) {
          const names = t.schema.indexes[i] as readonly string[];
          const cols = englishList(names.map((n) => `"${n}"`));
          throw constraintViolation(
            `Transaction causes multiple rows in "${t.name}" table to have identical values (${describeKey(t, ch.new, i)}) for index on column${names.length > 1 ? 's' : ''} ${cols}.  First row, with UUID ${other}, ${this.rowHistory(t, other, i)}.  Second row, with UUID ${ch.uuid}, ${this.rowHistory(t, ch.uuid, i)}.`,
          );
        }
        (local[i] as Map<string, string>).set(k, ch.uuid);
      }
    }
  }
}

function describeKey(t: Table, row: Row, i: number): string {
  return englishList(
    (t.schema.indexes[i] as readonly string[]).map((c) => {
      const col = findColumn(t.schema, c) as ColumnSchema;
      return datumToText(
        c === '_uuid' ? { keys: [row.uuid] } : c === '_version' ? { keys: [row.version] } : (row.cols[c] as Datum),
        col.type,
      );
    }),
  );
}

/** "a", "a and b", "a, b, and c", as ovsdb-server joins index columns and values. */
function englishList(items: readonly string[]): string {
  if (items.length <= 2) return items.join(' and ');
  return `${items.slice(0, -1).join(', ')}, and ${items[items.length - 1] as string}`;
}

function projectionKey(row: LiveRow, columns: readonly ColumnSchema[]): string {
  let key = '';
  for (const c of columns) {
    const d = cell(row, c.name);
    key += `${stringifyJson(d.keys)}${d.values === undefined ? '' : stringifyJson(d.values)}\u0000`;
  }
  return key;
}

/** The first row of each distinct projection onto `columns`. */
function distinctBy(rows: readonly LiveRow[], columns: readonly ColumnSchema[]): LiveRow[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const k = projectionKey(row, columns);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function sameCols(table: Table, a: Readonly<Record<string, Datum>>, b: Readonly<Record<string, Datum>>): boolean {
  for (const c of table.columns) if (!datumEquals(a[c.name] as Datum, b[c.name] as Datum)) return false;
  return true;
}

/** Executes one transact request's operations against `db` (does not apply them). */
export function executeTransaction(db: Database, ops: readonly unknown[], ctx: ExecContext): ExecOutcome {
  return new Transaction(db, ctx).execute(ops);
}
