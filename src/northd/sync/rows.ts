/**
 * Desired rows against replica rows: the minimal insert/update/delete operations
 * that make a table hold exactly the desired rows (by an identity key), touching
 * only the columns northd owns — so columns other daemons write (Port_Binding
 * `chassis`/`up`, written by ovn-controller) are never overwritten.
 */
import type { OvsdbClient, Row, Txn } from '../../ovsdb/client.js';
import { datumEquals, datumFromJson } from '../../ovsdb/datum.js';

/** OVSDB JSON notation builders (RFC 7047 5.1). */
export const set = (xs: readonly unknown[]): unknown => ['set', xs];
export const map = (m: ReadonlyMap<string, string> | Readonly<Record<string, string>>): unknown => [
  'map',
  (m instanceof Map ? [...m] : Object.entries(m)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
];
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A reference to an existing row (UUID) or to one inserted in the same transaction (uuid-name). */
/** True for a row's UUID, false for a uuid-name (a row inserted in the transaction being built). */
export const isUuid = (u: string): boolean => UUID_RE.test(u);
export const ref = (u: string): unknown => (isUuid(u) ? ['uuid', u] : ['named-uuid', u]);

/** A string or optional string column's value, '' when empty. */
export function str(row: Row, col: string): string {
  const v = row.optional(col);
  return v === null ? '' : String(v);
}
export const optional = (v: unknown): unknown => (v === null || v === undefined ? ['set', []] : v);

export interface DesiredRow {
  /** Column → OVSDB JSON value. */
  readonly cols: Record<string, unknown>;
  /** Named-uuid for an inserted row (so other rows in the transaction can refer to it). */
  readonly uuidName?: string;
  /**
   * Columns set when the row is new or the column is still empty, never changed
   * after: their owner is another daemon (Port_Binding `up` starts false and is
   * the controller's from then on).
   */
  readonly initial?: Record<string, unknown>;
  /** `JSON.stringify(cols)`, when the caller keeps it. */
  readonly text?: string;
}

function containsNamed(j: unknown): boolean {
  if (!Array.isArray(j)) return false;
  if (j[0] === 'named-uuid') return true;
  return j.some(containsNamed);
}

/**
 * Adds to `txn` what makes `table` equal `desired` (key → row). `keyOf` gives the
 * identity key of an existing row, or undefined for rows that are not northd's.
 * Returns the UUID (or uuid-name) of each desired key.
 */
/**
 * What earlier passes learnt about replica rows, which are immutable objects: a
 * row's identity key, and the desired columns (as JSON text) it was found equal
 * to. An unchanged row is then skipped without decoding its columns again — what
 * keeps a pass over tens of thousands of flows cheap when one port changed.
 */
export class RowMemo {
  readonly keys = new WeakMap<Row, string | undefined>();
  readonly verified = new WeakMap<Row, string>();
  /** Rows this memo's table got inserted by northd and not yet seen: UUID → the desired columns as written. */
  private readonly trusted = new Map<string, string>();
  private inserted: Array<[name: string, text: string]> = [];

  /** Remembers a row inserted under uuid-name `name` with columns `text`. */
  noteInsert(name: string, text: string): void {
    this.inserted.push([name, text]);
  }

  /**
   * After the transaction committed: the server stored exactly what was inserted,
   * so when the rows show up they need no comparing (named references resolved).
   */
  afterCommit(txn: Txn): void {
    const real = (name: string): string => txn.insertedUuid(name) ?? name;
    for (const [name, text] of this.inserted) {
      const uuid = txn.insertedUuid(name);
      if (uuid !== undefined)
        this.trusted.set(
          uuid,
          text.replace(/\["named-uuid","([^"]+)"\]/g, (_m, n: string) => `["uuid","${real(n)}"]`),
        );
    }
    this.inserted = [];
  }

  /** After a failed transaction, or a reconnection. */
  forgetInserts(): void {
    this.inserted = [];
    this.trusted.clear();
  }

  /** True (once) when `row` is one northd inserted with exactly `text`. */
  takeTrusted(row: Row, text: string): boolean {
    const t = this.trusted.get(row.uuid);
    if (t === undefined) return false;
    this.trusted.delete(row.uuid);
    return t === text;
  }
}

export function syncTable(
  client: OvsdbClient,
  txn: Txn,
  table: string,
  desired: ReadonlyMap<string, DesiredRow>,
  keyOf: (row: Row) => string | undefined,
  /** False for non-root tables: rows nobody refers to any more are collected by the server. */
  deleteUnwanted = true,
  memo: RowMemo = new RowMemo(),
): Map<string, string> {
  const ts = client.schema.tables.get(table);
  if (ts === undefined) throw new Error(`no table ${table}`);
  const ids = new Map<string, string>();
  const seen = new Set<string>();
  for (const row of client.table(table).values()) {
    let key: string | undefined;
    if (memo.keys.has(row)) key = memo.keys.get(row);
    else {
      key = keyOf(row);
      // Keys that name other rows ("gone:") are not stable: do not keep them.
      if (key === undefined || !key.startsWith('gone:')) memo.keys.set(row, key);
    }
    const want = key === undefined ? undefined : desired.get(key);
    if (key === undefined || want === undefined || seen.has(key)) {
      if (key !== undefined && deleteUnwanted) txn.delete(table, row.uuid);
      continue;
    }
    seen.add(key);
    ids.set(key, row.uuid);
    const text = want.text ?? JSON.stringify(want.cols);
    // A row verified (or inserted) with these columns had its initial columns set then, and rows never change.
    if (memo.verified.get(row) === text || memo.takeTrusted(row, text)) {
      memo.verified.set(row, text);
      continue;
    }
    const changed: Record<string, unknown> = {};
    for (const [col, json] of Object.entries(want.cols)) {
      const c = ts.columns.get(col);
      if (c === undefined) continue;
      if (containsNamed(json) || !datumEquals(datumFromJson(json, c.type, { relaxSize: true }), row.get(col))) changed[col] = json;
    }
    for (const [col, json] of Object.entries(want.initial ?? {})) {
      if (ts.columns.has(col) && row.get(col).keys.length === 0) changed[col] = json;
    }
    if (Object.keys(changed).length > 0) txn.update(table, row.uuid, changed);
    else if (!containsNamed(want.cols)) memo.verified.set(row, text);
  }
  for (const [key, want] of desired) {
    if (seen.has(key)) continue;
    const [, name] = txn.insert(table, { ...want.initial, ...want.cols }, want.uuidName);
    ids.set(key, name);
    memo.noteInsert(name, want.text ?? JSON.stringify(want.cols));
  }
  return ids;
}
