/**
 * Atoms and datums (RFC 7047 section 5.1): the values stored in OVSDB columns,
 * their JSON notation, ordering and constraint checks.
 *
 * In memory an atom is a plain JS value: integers and reals are numbers, booleans
 * are booleans, strings and UUIDs are strings (the column type says which). A datum
 * is a sorted array of unique keys, plus a parallel array of values for maps, so
 * that equality, lookup and set algebra are linear merges.
 */
import { OvsdbError, OVSDB_ERROR, constraintViolation, syntaxError } from './error.js';
import type { AtomicType, BaseType, ColumnType } from './schema.js';
import { atomToText } from './datum-text.js';
import { integerValue } from '../lib/json-int.js';

import type { Atom, Datum } from './atom.js';
export type { Atom, Datum };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const EMPTY: Datum = { keys: [] };
const EMPTY_MAP: Datum = { keys: [], values: [] };

/** Resolves `["named-uuid", NAME]` inside a transaction; absent outside one. */
export type NamedUuidResolver = (name: string) => string;

export function compareAtoms(a: Atom, b: Atom): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders datums as ovsdb-server sorts rows ("sort" in select): by size, then keys, then values. */
export function compareDatums(a: Datum, b: Datum): number {
  if (a.keys.length !== b.keys.length) return a.keys.length < b.keys.length ? -1 : 1;
  for (let i = 0; i < a.keys.length; i++) {
    const c = compareAtoms(a.keys[i] as Atom, b.keys[i] as Atom);
    if (c !== 0) return c;
  }
  const av = a.values ?? [];
  const bv = b.values ?? [];
  for (let i = 0; i < av.length; i++) {
    const c = compareAtoms(av[i] as Atom, bv[i] as Atom);
    if (c !== 0) return c;
  }
  return 0;
}

export function emptyDatum(type: ColumnType): Datum {
  return type.value === undefined ? EMPTY : EMPTY_MAP;
}

export function defaultAtom(type: AtomicType): Atom {
  switch (type) {
    case 'integer':
    case 'real':
      return 0;
    case 'boolean':
      return false;
    case 'string':
      return '';
    case 'uuid':
      return ZERO_UUID;
  }
}

/** The value a column has when an insert does not give one (RFC 7047 5.2.1). */
export function defaultDatum(type: ColumnType): Datum {
  if (type.min === 0) return emptyDatum(type);
  const k = defaultAtom(type.key.type);
  return type.value === undefined ? { keys: [k] } : { keys: [k], values: [defaultAtom(type.value.type)] };
}

function typeName(base: BaseType): string {
  return base.type;
}

export function atomFromJson(json: unknown, base: BaseType, resolve?: NamedUuidResolver): Atom {
  switch (base.type) {
    case 'integer':
      if (typeof json === 'number' && Number.isInteger(json)) {
        if (json >= -(2 ** 63) && json < 2 ** 63) return integerValue(BigInt(json));
      } else if (typeof json === 'bigint' && json >= INT64_MIN && json <= INT64_MAX) {
        return integerValue(json);
      }
      break;
    case 'real':
      if (typeof json === 'number' && Number.isFinite(json)) return json;
      if (typeof json === 'bigint') return Number(json);
      break;
    case 'boolean':
      if (typeof json === 'boolean') return json;
      break;
    case 'string':
      if (typeof json === 'string') return json;
      break;
    case 'uuid':
      if (Array.isArray(json) && json.length === 2 && typeof json[1] === 'string') {
        if (json[0] === 'uuid') {
          if (!UUID_RE.test(json[1])) throw syntaxError(json, `"${json[1]}" is not a valid UUID`);
          return json[1].toLowerCase();
        }
        if (json[0] === 'named-uuid') {
          if (resolve === undefined) throw syntaxError(json, 'named-uuid is only allowed in a transaction');
          return resolve(json[1]);
        }
      }
      break;
  }
  throw syntaxError(json, `expected ${typeName(base)}`);
}

export function atomToJson(atom: Atom, type: AtomicType): unknown {
  return type === 'uuid' ? ['uuid', atom] : atom;
}

/** Throws "constraint violation" when an atom is outside its base type's constraints. */
export function checkAtom(atom: Atom, base: BaseType): void {
  if (base.enum !== undefined && !base.enum.includes(atom)) {
    const allowed = base.enum.map((a) => atomToText(a, base)).join(', ');
    throw constraintViolation(`${atomToText(atom, base)} is not one of the allowed values ([${allowed}])`);
  }
  switch (base.type) {
    case 'integer': {
      const n = atom as number;
      if ((base.minInteger !== undefined && n < base.minInteger) || (base.maxInteger !== undefined && n > base.maxInteger)) {
        throw constraintViolation(`${n} is not in the valid range ${rangeText(base.minInteger, base.maxInteger)} (inclusive)`);
      }
      break;
    }
    case 'real': {
      const n = atom as number;
      if ((base.minReal !== undefined && n < base.minReal) || (base.maxReal !== undefined && n > base.maxReal)) {
        throw constraintViolation(`${n} is not in the valid range ${rangeText(base.minReal, base.maxReal)} (inclusive)`);
      }
      break;
    }
    case 'string': {
      if (base.minLength === undefined && base.maxLength === undefined) break;
      // OVSDB lengths count Unicode characters, not UTF-16 units.
      const len = [...(atom as string)].length;
      if (base.minLength !== undefined && len < base.minLength) {
        throw constraintViolation(`"${String(atom)}" length ${len} is less than minimum allowed length ${base.minLength}`);
      }
      if (base.maxLength !== undefined && len > base.maxLength) {
        throw constraintViolation(`"${String(atom)}" length ${len} is greater than maximum allowed length ${base.maxLength}`);
      }
      break;
    }
    default:
      break;
  }
}

function rangeText(lo: number | undefined, hi: number | undefined): string {
  if (lo !== undefined && hi !== undefined) return `${lo} to ${hi}`;
  if (lo !== undefined) return `${lo} or greater`;
  return `${hi} or less`;
}

export interface DatumParseOptions {
  resolve?: NamedUuidResolver;
  /** Skip min/max size checks (conditions and mutation arguments relax them). */
  relaxSize?: boolean;
  /** For map columns: accept a set of keys instead of a map (map "delete" mutations). */
  keysOnly?: boolean;
  /** Skip enum/range checks (conditions compare against any value of the type). */
  noConstraints?: boolean;
}

/** Parses a datum in RFC 7047 notation for a column of the given type, checking constraints. */
export function datumFromJson(json: unknown, type: ColumnType, opts: DatumParseOptions = {}): Datum {
  const { resolve } = opts;
  let keys: Atom[];
  let values: Atom[] | undefined;
  const map = type.value !== undefined && opts.keysOnly !== true;
  if (map) {
    if (!Array.isArray(json) || json[0] !== 'map' || json.length !== 2 || !Array.isArray(json[1])) {
      throw syntaxError(json, 'expected ["map", <array>]');
    }
    const pairs = json[1] as unknown[];
    keys = new Array<Atom>(pairs.length);
    values = new Array<Atom>(pairs.length);
    for (let i = 0; i < pairs.length; i++) {
      const p = pairs[i];
      if (!Array.isArray(p) || p.length !== 2) throw syntaxError(p, 'expected 2-element array');
      keys[i] = atomFromJson(p[0], type.key, resolve);
      values[i] = atomFromJson(p[1], type.value, resolve);
    }
  } else if (Array.isArray(json) && json[0] === 'set') {
    if (json.length !== 2 || !Array.isArray(json[1])) throw syntaxError(json, 'expected ["set", <array>]');
    const items = json[1] as unknown[];
    keys = items.map((it) => atomFromJson(it, type.key, resolve));
  } else {
    keys = [atomFromJson(json, type.key, resolve)];
  }
  if (opts.noConstraints !== true) {
    for (const k of keys) checkAtom(k, type.key);
    if (values !== undefined) for (const v of values) checkAtom(v, type.value as BaseType);
  }
  if (opts.relaxSize !== true) checkCount(keys.length, type, json);
  // Empty sets and maps are most column values: share one object for them.
  if (keys.length === 0) return values === undefined ? EMPTY : EMPTY_MAP;
  return sortUnique(keys, values);
}

/** The size check of datum parsing, worded as ovsdb-server words it. */
function checkCount(n: number, type: ColumnType, json: unknown): void {
  if (n >= type.min && n <= type.max) return;
  const range =
    type.min === type.max
      ? type.min === 1
        ? 'exactly one member'
        : `exactly ${type.min} members`
      : type.max === Infinity
        ? `at least ${type.min} members`
        : `${type.min} to ${type.max} members`;
  throw syntaxError(json, `set must have ${range} but ${n} ${n === 1 ? 'is' : 'are'} present`);
}

function sortUnique(keys: Atom[], values: Atom[] | undefined): Datum {
  const n = keys.length;
  if (n <= 1) return values === undefined ? { keys } : { keys, values };
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => compareAtoms(keys[a] as Atom, keys[b] as Atom));
  const sk = new Array<Atom>(n);
  const sv = values === undefined ? undefined : new Array<Atom>(n);
  for (let i = 0; i < n; i++) {
    const j = idx[i] as number;
    sk[i] = keys[j] as Atom;
    if (sv !== undefined) sv[i] = (values as Atom[])[j] as Atom;
    if (i > 0 && sk[i] === sk[i - 1]) {
      throw new OvsdbError(OVSDB_ERROR.OVSDB_ERROR, values === undefined ? 'set contains duplicate' : 'map contains duplicate key');
    }
  }
  return sv === undefined ? { keys: sk } : { keys: sk, values: sv };
}

export function datumToJson(d: Datum, type: ColumnType): unknown {
  if (type.value !== undefined) {
    const vt = type.value.type;
    const kt = type.key.type;
    const values = d.values ?? [];
    return ['map', d.keys.map((k, i) => [atomToJson(k, kt), atomToJson(values[i] as Atom, vt)])];
  }
  if (d.keys.length === 1) return atomToJson(d.keys[0] as Atom, type.key.type);
  return ['set', d.keys.map((k) => atomToJson(k, type.key.type))];
}

export function datumEquals(a: Datum, b: Datum): boolean {
  if (a === b) return true;
  const n = a.keys.length;
  if (n !== b.keys.length) return false;
  for (let i = 0; i < n; i++) if (a.keys[i] !== b.keys[i]) return false;
  if (a.values !== undefined || b.values !== undefined) {
    if (a.values === undefined || b.values === undefined) return false;
    for (let i = 0; i < n; i++) if (a.values[i] !== b.values[i]) return false;
  }
  return true;
}

/** Binary search for a key in a datum's sorted keys; the index or -1. */
export function findKey(d: Datum, key: Atom): number {
  let lo = 0;
  let hi = d.keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareAtoms(d.keys[mid] as Atom, key);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** True when every element (key, or key/value pair for maps) of `sub` is in `sup`. */
export function datumIncludes(sup: Datum, sub: Datum): boolean {
  for (let i = 0; i < sub.keys.length; i++) {
    const j = findKey(sup, sub.keys[i] as Atom);
    if (j < 0) return false;
    if (sub.values !== undefined && sup.values !== undefined && sup.values[j] !== sub.values[i]) return false;
  }
  return true;
}

/** True when no element of `b` is in `a` (RFC 7047 5.1 "excludes"). */
export function datumExcludes(a: Datum, b: Datum): boolean {
  for (let i = 0; i < b.keys.length; i++) {
    const j = findKey(a, b.keys[i] as Atom);
    if (j < 0) continue;
    if (b.values === undefined || a.values === undefined || a.values[j] === b.values[i]) return false;
  }
  return true;
}

/** Union; for maps, keys already in `a` keep their value (RFC 7047 5.1 "insert"). */
export function datumUnion(a: Datum, b: Datum): Datum {
  const keys: Atom[] = [];
  const values: Atom[] | undefined = a.values !== undefined ? [] : undefined;
  let i = 0;
  let j = 0;
  while (i < a.keys.length || j < b.keys.length) {
    const c = i >= a.keys.length ? 1 : j >= b.keys.length ? -1 : compareAtoms(a.keys[i] as Atom, b.keys[j] as Atom);
    if (c <= 0) {
      keys.push(a.keys[i] as Atom);
      values?.push((a.values as readonly Atom[])[i] as Atom);
      i++;
      if (c === 0) j++;
    } else {
      keys.push(b.keys[j] as Atom);
      values?.push((b.values as readonly Atom[])[j] as Atom);
      j++;
    }
  }
  return values === undefined ? { keys } : { keys, values };
}

/**
 * Removes from `a` the elements of `b`. When `b` has values (a map argument), a
 * pair is removed only if both key and value match; a set argument removes by key.
 */
export function datumSubtract(a: Datum, b: Datum): Datum {
  const keys: Atom[] = [];
  const values: Atom[] | undefined = a.values !== undefined ? [] : undefined;
  for (let i = 0; i < a.keys.length; i++) {
    const k = a.keys[i] as Atom;
    const j = findKey(b, k);
    const drop = j >= 0 && (b.values === undefined || a.values === undefined || b.values[j] === a.values[i]);
    if (!drop) {
      keys.push(k);
      values?.push((a.values as readonly Atom[])[i] as Atom);
    }
  }
  return values === undefined ? { keys } : { keys, values };
}

const HEX_DIGITS = '0123456789abcdef';

/**
 * Random (version 4) UUIDs in OVSDB's lower-case text form, for a hot path
 * that makes several per transaction: random bytes are drawn 4 KiB at a
 * time, and each UUID is written as bytes and read back as one flat string,
 * a fraction of the cost of randomUUID() plus the copy that flattens it.
 */
export class UuidSource {
  private readonly pool = Buffer.alloc(4096);
  private used = this.pool.length;
  private readonly text = Buffer.alloc(36);

  next(): string {
    if (this.used === this.pool.length) {
      crypto.getRandomValues(this.pool);
      this.used = 0;
    }
    const p = this.pool;
    const at = this.used;
    this.used += 16;
    const t = this.text;
    let o = 0;
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) t[o++] = 0x2d;
      let b = p[at + i] as number;
      if (i === 6) b = (b & 0x0f) | 0x40;
      else if (i === 8) b = (b & 0x3f) | 0x80;
      t[o++] = HEX_DIGITS.charCodeAt(b >> 4);
      t[o++] = HEX_DIGITS.charCodeAt(b & 15);
    }
    return t.toString('latin1', 0, 36);
  }
}

/** A fresh random UUID in OVSDB's lower-case text form. */
export function newUuid(): string {
  // randomUUID() builds its text by concatenation, which V8 keeps as a tree of
  // cons strings (~450 bytes) for as long as the UUID lives — every row's
  // _uuid and _version. A copy through a Buffer is one flat 36-byte string.
  return Buffer.from(crypto.randomUUID(), 'latin1').toString('latin1');
}
