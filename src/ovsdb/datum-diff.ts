/**
 * Applying the column differences of `update2`/`update3` "modify" notifications
 * (ovsdb-server(7) section 4.1.14), also used by the on-disk log's `_is_diff` records.
 *
 * - A column that holds at most one atom (max 1, not a map: scalars and optional
 *   0..1 columns): the diff is the new value. (ovsdb-server 3.1 sends `52` when an
 *   optional integer goes from 51 to 52, and `["set",[]]` when it is cleared.)
 * - A set with max > 1: the diff holds the elements that are in exactly one of old
 *   and new, so each element of the diff is toggled.
 * - A map: a diff key absent from the old map adds the pair; a key present with the
 *   same value removes it; a key present with another value takes the new value.
 */
import { compareAtoms, type Atom, type Datum } from './datum.js';
import type { ColumnType } from './schema.js';

/** The new value of a column from its old value and an update2 diff. */
export function applyDatumDiff(old: Datum, diff: Datum, type: ColumnType): Datum {
  if (type.value === undefined && type.max === 1) return diff;
  if (diff.keys.length === 0) return old;
  const isMap = type.value !== undefined;
  const ok = old.keys;
  const dk = diff.keys;
  const ov = old.values ?? [];
  const dv = diff.values ?? [];
  const keys: Atom[] = [];
  const values: Atom[] | undefined = isMap ? [] : undefined;
  let i = 0;
  let j = 0;
  // Both key lists are sorted: one merge pass.
  while (i < ok.length || j < dk.length) {
    const c = i >= ok.length ? 1 : j >= dk.length ? -1 : compareAtoms(ok[i] as Atom, dk[j] as Atom);
    if (c < 0) {
      keys.push(ok[i] as Atom);
      values?.push(ov[i] as Atom);
      i++;
    } else if (c > 0) {
      keys.push(dk[j] as Atom);
      values?.push(dv[j] as Atom);
      j++;
    } else {
      if (values !== undefined && ov[i] !== dv[j]) {
        keys.push(dk[j] as Atom);
        values.push(dv[j] as Atom);
      }
      i++;
      j++;
    }
  }
  return values === undefined ? { keys } : { keys, values };
}
