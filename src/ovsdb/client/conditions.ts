/**
 * Monitor conditions a client can change on a live monitor
 * (ovsdb-server(7) 4.1.12 `monitor_cond`, 4.1.13 `monitor_cond_change`).
 *
 * A table's condition is a `where` array whose clauses are ORed: a row is
 * replicated when any clause holds; `[true]` selects every row, `[false]`
 * none. A table without a condition is replicated whole. Changing a
 * condition sends only the tables whose condition differs; the server
 * answers with an update that inserts the rows now selected and deletes
 * those no longer selected, before its reply.
 */

/** Conditions by table; a missing table is replicated whole. */
export type Conditions = Readonly<Record<string, readonly unknown[]>>;

/** A change: a table's new condition, or `undefined` to replicate it whole again. */
export type ConditionChanges = Readonly<Record<string, readonly unknown[] | undefined>>;

/** Selects every row (what a table without a condition gets). */
export const ALL_ROWS: readonly unknown[] = [true];

/** Selects no row. */
export const NO_ROWS: readonly unknown[] = [false];

const same = (a: readonly unknown[] | undefined, b: readonly unknown[] | undefined): boolean =>
  JSON.stringify(a ?? ALL_ROWS) === JSON.stringify(b ?? ALL_ROWS);

/**
 * Applies `changes` to `current`: the conditions after the change and the
 * `<monitor-cond-update-requests>` object for `monitor_cond_change` (only the
 * tables whose condition differs), or `undefined` when nothing differs.
 */
export function changeConditions(
  current: Conditions,
  changes: ConditionChanges,
): { next: Conditions; requests: Record<string, unknown> | undefined } {
  const next: Record<string, readonly unknown[]> = { ...current };
  const requests: Record<string, unknown> = {};
  for (const [table, where] of Object.entries(changes)) {
    if (same(current[table], where)) continue;
    if (where === undefined) delete next[table];
    else next[table] = where;
    requests[table] = [{ where: where ?? ALL_ROWS }];
  }
  return { next, requests: Object.keys(requests).length === 0 ? undefined : requests };
}

/**
 * A condition that selects rows whose `column` equals one of `values` (JSON
 * atoms: strings, numbers, `["uuid", …]`); `[false]` for no values.
 */
export function anyOf(column: string, values: Iterable<unknown>): unknown[] {
  const out: unknown[] = [];
  for (const v of values) out.push([column, '==', v]);
  return out.length === 0 ? [...NO_ROWS] : out;
}
