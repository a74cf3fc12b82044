/**
 * Mutations (RFC 7047 section 5.1 <mutation>): arithmetic on integer and real
 * columns, insert and delete on sets and maps.
 */
import {
  checkAtom,
  compareAtoms,
  datumFromJson,
  datumSubtract,
  datumUnion,
  type Atom,
  type Datum,
  type NamedUuidResolver,
} from './datum.js';
import { OvsdbError, OVSDB_ERROR, constraintViolation, syntaxError } from './error.js';
import { typeToEnglish } from './condition.js';
import { findColumn, type ColumnSchema, type TableSchema } from './schema.js';
import { integerValue } from '../lib/json-int.js';

export const MUTATORS = ['+=', '-=', '*=', '/=', '%=', 'insert', 'delete'] as const;
export type Mutator = (typeof MUTATORS)[number];

export interface Mutation {
  readonly column: ColumnSchema;
  readonly mutator: Mutator;
  readonly arg: Datum;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function parseMutation(table: TableSchema, json: unknown, resolve?: NamedUuidResolver): Mutation {
  if (!Array.isArray(json) || json.length !== 3 || typeof json[0] !== 'string' || typeof json[1] !== 'string') {
    throw syntaxError(json, 'Parse error in mutation.');
  }
  const [name, mutName, argJson] = json as [string, string, unknown];
  const column = findColumn(table, name);
  if (column === undefined) {
    throw new OvsdbError(OVSDB_ERROR.UNKNOWN_COLUMN, `No column ${name} in table ${table.name}.`, json);
  }
  if (!(MUTATORS as readonly string[]).includes(mutName)) {
    throw new OvsdbError(OVSDB_ERROR.UNKNOWN_MUTATOR, `No mutator named ${mutName}.`);
  }
  const mutator = mutName as Mutator;
  if (!column.mutable || name.startsWith('_')) {
    throw new OvsdbError(OVSDB_ERROR.CONSTRAINT_VIOLATION, `Cannot mutate immutable column ${name} in table ${table.name}.`, json);
  }
  const { type } = column;
  const mismatch = (): OvsdbError =>
    syntaxError(json, `Type mismatch: "${mutator}" operator may not be applied to column ${name} of type ${typeToEnglish(type)}.`);
  const opts = resolve === undefined ? { relaxSize: true } : { relaxSize: true, resolve };
  if (mutator === 'insert' || mutator === 'delete') {
    if (type.value === undefined && type.min === 1 && type.max === 1) throw mismatch();
    // A map's "delete" may name keys only: try the map form first.
    if (mutator === 'delete' && type.value !== undefined && !(Array.isArray(argJson) && argJson[0] === 'map')) {
      return { column, mutator, arg: datumFromJson(argJson, type, { ...opts, keysOnly: true, noConstraints: true }) };
    }
    if (mutator === 'delete') return { column, mutator, arg: datumFromJson(argJson, type, { ...opts, noConstraints: true }) };
    // ovsdb-server parses an "insert" argument as the column's type with
    // no minimum: it may be empty, but not larger than the column allows.
    return { column, mutator, arg: datumFromJson(argJson, { ...type, min: 0 }, resolve === undefined ? {} : { resolve }) };
  }
  const kt = type.key.type;
  if (type.value !== undefined || (kt !== 'integer' && kt !== 'real') || (mutator === '%=' && kt !== 'integer')) {
    throw mismatch();
  }
  // The argument of arithmetic is one atom of the column's key type, and
  // is not subject to the column's own range constraints.
  const scalar = { key: { type: kt }, min: 1, max: 1 } as const;
  return { column, mutator, arg: datumFromJson(argJson, scalar, opts) };
}

function arith(mutator: Mutator, a: number | bigint, b: number | bigint, integer: boolean): number | bigint {
  if (integer) return intArith(mutator, BigInt(a), BigInt(b));
  const x = Number(a);
  const y = Number(b);
  let r: number;
  switch (mutator) {
    case '+=':
      r = x + y;
      break;
    case '-=':
      r = x - y;
      break;
    case '*=':
      r = x * y;
      break;
    default:
      if (y === 0) throw new OvsdbError(OVSDB_ERROR.DOMAIN_ERROR, 'Division by zero.');
      r = x / y;
      break;
  }
  if (!Number.isFinite(r)) throw new OvsdbError(OVSDB_ERROR.RANGE_ERROR, `Result of "${mutator}" operation is out of range.`);
  return r;
}

/** int64 arithmetic, exact (C's truncating division and remainder); the result a number when a double holds it. */
function intArith(mutator: Mutator, a: bigint, b: bigint): number | bigint {
  let r: bigint;
  switch (mutator) {
    case '+=':
      r = a + b;
      break;
    case '-=':
      r = a - b;
      break;
    case '*=':
      r = a * b;
      break;
    case '/=':
      if (b === 0n) throw new OvsdbError(OVSDB_ERROR.DOMAIN_ERROR, 'Division by zero.');
      r = a / b;
      break;
    default:
      if (b === 0n) throw new OvsdbError(OVSDB_ERROR.DOMAIN_ERROR, 'Division by zero.');
      r = a % b;
      break;
  }
  if (r < INT64_MIN || r > INT64_MAX) throw new OvsdbError(OVSDB_ERROR.RANGE_ERROR, `Result of "${mutator}" operation is out of range.`);
  return integerValue(r);
}

/** A set or map mutated out of its column's size bounds, worded as ovsdb-server words it. */
function checkSize(d: Datum, column: ColumnSchema): void {
  const { type } = column;
  const n = d.keys.length;
  if (n < type.min || n > type.max) {
    throw constraintViolation(`Attempted to store ${n} elements in ${typeToEnglish(type)}.`);
  }
}

/** Applies one mutation to a column value; throws on constraint or domain errors. */
export function applyMutation(d: Datum, m: Mutation): Datum {
  const { type } = m.column;
  switch (m.mutator) {
    case 'insert': {
      const r = datumUnion(d, m.arg);
      checkSize(r, m.column);
      return r;
    }
    case 'delete': {
      const r = datumSubtract(d, m.arg);
      checkSize(r, m.column);
      return r;
    }
    default: {
      const integer = type.key.type === 'integer';
      const b = m.arg.keys[0] as number | bigint;
      const keys: Atom[] = d.keys.map((a) => {
        const r = arith(m.mutator, a as number | bigint, b, integer);
        checkAtom(r, type.key);
        return r;
      });
      // Arithmetic preserves order for + and - but not for * / %, and may
      // collapse two elements of a set into one value.
      keys.sort(compareAtoms);
      for (let i = 1; i < keys.length; i++) {
        if (keys[i] === keys[i - 1]) {
          throw constraintViolation(`Result of "${m.mutator}" operation contains duplicate values.`);
        }
      }
      return { keys };
    }
  }
}
