/**
 * An OVSDB atom as this implementation holds it (RFC 7047 §5.1 <atom>):
 * integers and reals as numbers — integers beyond 2^53 as BigInts, so int64
 * stays exact —, strings and UUIDs as strings, booleans.
 * Its own module (with {@link Datum}) because the schema (enum constraints),
 * the datum code and the datum printer use it, and the datum code imports both.
 */
export type Atom = number | bigint | string | boolean;

/** A column's value: a set of atoms, or a map when `values` is present. */
export interface Datum {
  readonly keys: readonly Atom[];
  /** Present exactly when the column is a map; values[i] belongs to keys[i]. */
  readonly values?: readonly Atom[];
}
