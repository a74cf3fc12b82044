/**
 * Conditions (RFC 7047 section 5.1 <condition>, and the boolean clauses that
 * monitor_cond adds in ovsdb-server(7)): parsing against a table schema and
 * evaluating against rows.
 */
import { compareAtoms, datumEquals, datumExcludes, datumFromJson, datumIncludes, type Datum, type NamedUuidResolver } from './datum.js';
import { OvsdbError, OVSDB_ERROR, syntaxError } from './error.js';
import { findColumn, type ColumnSchema, type ColumnType, type TableSchema } from './schema.js';

export const CONDITION_FUNCTIONS = ['<', '<=', '==', '!=', '>=', '>', 'includes', 'excludes'] as const;
export type ConditionFunction = (typeof CONDITION_FUNCTIONS)[number];

export type Clause =
  | { readonly kind: 'const'; readonly value: boolean }
  | { readonly kind: 'test'; readonly column: ColumnSchema; readonly fn: ConditionFunction; readonly arg: Datum };

/** What a clause is evaluated against: a row's uuid, version and columns. */
export interface RowView {
  readonly uuid: string;
  readonly version: string;
  readonly cols: Readonly<Record<string, Datum>>;
}

/** Describes a column type the way ovsdb-server's error messages do. */
export function typeToEnglish(type: ColumnType): string {
  const k = type.key.type;
  if (type.value !== undefined) return `map of ${k}-${type.value.type} pairs`;
  if (type.min === 1 && type.max === 1) return k;
  if (type.min === 0 && type.max === 1) return `optional ${k}`;
  const plural = `${k}s`;
  if (type.max === Infinity) return type.min === 0 ? `set of ${plural}` : `set of ${type.min} or more ${plural}`;
  return type.min === 0 ? `set of up to ${type.max} ${plural}` : `set of ${type.min} to ${type.max} ${plural}`;
}

function typeMismatch(op: string, column: ColumnSchema, json: unknown): OvsdbError {
  return syntaxError(
    json,
    `Type mismatch: "${op}" operator may not be applied to column ${column.name} of type ${typeToEnglish(column.type)}.`,
  );
}

export function parseClause(table: TableSchema, json: unknown, resolve?: NamedUuidResolver, allowBoolean = false): Clause {
  if (allowBoolean && typeof json === 'boolean') return { kind: 'const', value: json };
  if (!Array.isArray(json) || json.length !== 3 || typeof json[0] !== 'string' || typeof json[1] !== 'string') {
    throw syntaxError(json, 'Parse error in condition.');
  }
  const [name, fnName, argJson] = json as [string, string, unknown];
  const column = findColumn(table, name);
  if (column === undefined) {
    throw new OvsdbError(OVSDB_ERROR.UNKNOWN_COLUMN, `No column ${name} in table ${table.name}.`, json);
  }
  if (!(CONDITION_FUNCTIONS as readonly string[]).includes(fnName)) {
    throw new OvsdbError(OVSDB_ERROR.UNKNOWN_FUNCTION, `No function named ${fnName}.`);
  }
  const fn = fnName as ConditionFunction;
  const { type } = column;
  if (fn === '<' || fn === '<=' || fn === '>' || fn === '>=') {
    const numeric = type.key.type === 'integer' || type.key.type === 'real';
    if (!numeric || type.value !== undefined || type.max !== 1) throw typeMismatch(fn, column, json);
  }
  // Arguments may hold any number of elements and any value of the type:
  // "includes" tests a subset and comparing with out-of-range values is legal.
  const opts = { relaxSize: true, noConstraints: true } as const;
  const arg = datumFromJson(argJson, type, resolve === undefined ? opts : { ...opts, resolve });
  return { kind: 'test', column, fn, arg };
}

export function parseWhere(table: TableSchema, json: unknown, resolve?: NamedUuidResolver): Clause[] {
  if (!Array.isArray(json)) throw syntaxError(json, 'Parse error in condition.');
  return json.map((c) => parseClause(table, c, resolve));
}

function columnDatum(row: RowView, column: ColumnSchema): Datum {
  if (column.name === '_uuid') return { keys: [row.uuid] };
  if (column.name === '_version') return { keys: [row.version] };
  return row.cols[column.name] as Datum;
}

export function evalClause(clause: Clause, row: RowView): boolean {
  if (clause.kind === 'const') return clause.value;
  const d = columnDatum(row, clause.column);
  const { arg } = clause;
  switch (clause.fn) {
    case '==':
      return datumEquals(d, arg);
    case '!=':
      return !datumEquals(d, arg);
    case 'includes':
      return datumIncludes(d, arg);
    case 'excludes':
      return datumExcludes(d, arg);
    default: {
      // Ordering tests on an empty optional value, or against an empty
      // argument, are false: there is nothing to compare.
      const a = d.keys[0];
      const b = arg.keys[0];
      if (a === undefined || b === undefined) return false;
      const c = compareAtoms(a, b);
      switch (clause.fn) {
        case '<':
          return c < 0;
        case '<=':
          return c <= 0;
        case '>':
          return c > 0;
        default:
          return c >= 0;
      }
    }
  }
}

/** True when every clause holds (RFC 7047: clauses are ANDed; empty is true). */
export function evalWhere(clauses: readonly Clause[], row: RowView): boolean {
  for (const c of clauses) if (!evalClause(c, row)) return false;
  return true;
}

/** A `_uuid == X` clause lets select/update/delete find their one row directly. */
export function uuidEquality(clauses: readonly Clause[]): string | undefined {
  for (const c of clauses) {
    if (c.kind === 'test' && c.fn === '==' && c.column.name === '_uuid' && c.arg.keys.length === 1) {
      return c.arg.keys[0] as string;
    }
  }
  return undefined;
}
