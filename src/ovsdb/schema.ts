/**
 * Database schemas (RFC 7047 section 3.2): parsing and validating the
 * `.ovsschema` JSON into typed descriptions that the engine, storage and client use.
 */
import { syntaxError } from './error.js';
import type { Atom } from './atom.js';

export const ATOMIC_TYPES = ['integer', 'real', 'boolean', 'string', 'uuid'] as const;
export type AtomicType = (typeof ATOMIC_TYPES)[number];

export interface BaseType {
  readonly type: AtomicType;
  /** Allowed values, sorted; undefined when any value of the type is allowed. */
  readonly enum?: readonly Atom[];
  readonly minInteger?: number;
  readonly maxInteger?: number;
  readonly minReal?: number;
  readonly maxReal?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly refTable?: string;
  /** 'strong' unless the schema says 'weak'; meaningful only with refTable. */
  readonly refType?: 'strong' | 'weak';
}

export interface ColumnType {
  readonly key: BaseType;
  readonly value?: BaseType;
  readonly min: number;
  /** Infinity for "unlimited". */
  readonly max: number;
}

export interface ColumnSchema {
  readonly name: string;
  readonly type: ColumnType;
  readonly ephemeral: boolean;
  readonly mutable: boolean;
}

export interface TableSchema {
  readonly name: string;
  readonly columns: ReadonlyMap<string, ColumnSchema>;
  readonly maxRows: number;
  readonly isRoot: boolean;
  /** Each index is a list of column names whose values together must be unique. */
  readonly indexes: readonly (readonly string[])[];
}

export interface DatabaseSchema {
  readonly name: string;
  readonly version: string;
  readonly cksum: string | undefined;
  readonly tables: ReadonlyMap<string, TableSchema>;
  /** The schema exactly as it was given, for get_schema and the storage header. */
  readonly json: Record<string, unknown>;
}

const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VERSION_RE = /^\d+\.\d+\.\d+$/;

export const UUID_COLUMN: ColumnSchema = {
  name: '_uuid',
  type: { key: { type: 'uuid' }, min: 1, max: 1 },
  ephemeral: false,
  mutable: false,
};
export const VERSION_COLUMN: ColumnSchema = { ...UUID_COLUMN, name: '_version' };

/** The column, including the implicit `_uuid` and `_version` that every table has. */
export function findColumn(table: TableSchema, name: string): ColumnSchema | undefined {
  if (name === '_uuid') return UUID_COLUMN;
  if (name === '_version') return VERSION_COLUMN;
  return table.columns.get(name);
}

export function isMap(type: ColumnType): boolean {
  return type.value !== undefined;
}

export function isScalar(type: ColumnType): boolean {
  return type.value === undefined && type.min === 1 && type.max === 1;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function checkMembers(json: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(json)) {
    if (!allowed.includes(k)) throw syntaxError(json, `${what}: unknown member "${k}"`);
  }
}

function parseEnum(json: unknown, type: AtomicType): Atom[] {
  let items: unknown[];
  if (Array.isArray(json) && json[0] === 'set' && Array.isArray(json[1])) items = json[1];
  else items = [json];
  const out: Atom[] = [];
  for (const it of items) {
    const ok =
      (type === 'string' && typeof it === 'string') ||
      (type === 'integer' && Number.isInteger(it)) ||
      (type === 'real' && typeof it === 'number') ||
      (type === 'boolean' && typeof it === 'boolean');
    if (!ok) throw syntaxError(json, `enum value ${JSON.stringify(it)} is not of type ${type}`);
    out.push(it as Atom);
  }
  return [...new Set(out)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function parseBaseType(json: unknown): BaseType {
  if (typeof json === 'string') {
    if (!(ATOMIC_TYPES as readonly string[]).includes(json)) throw syntaxError(json, `unknown atomic type ${json}`);
    return { type: json as AtomicType };
  }
  if (!isObject(json)) throw syntaxError(json, 'base type must be a string or an object');
  checkMembers(
    json,
    ['type', 'enum', 'minInteger', 'maxInteger', 'minReal', 'maxReal', 'minLength', 'maxLength', 'refTable', 'refType'],
    'base type',
  );
  const t = json['type'];
  if (typeof t !== 'string' || !(ATOMIC_TYPES as readonly string[]).includes(t)) {
    throw syntaxError(json, `unknown atomic type ${JSON.stringify(t)}`);
  }
  const type = t as AtomicType;
  const base: { -readonly [K in keyof BaseType]: BaseType[K] } = { type };
  const num = (k: string, integer: boolean): number | undefined => {
    const v = json[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || (integer && !Number.isInteger(v))) throw syntaxError(json, `${k} must be a number`);
    return v;
  };
  if (json['enum'] !== undefined) base.enum = parseEnum(json['enum'], type);
  if (type === 'integer') {
    const lo = num('minInteger', true);
    const hi = num('maxInteger', true);
    if (lo !== undefined) base.minInteger = lo;
    if (hi !== undefined) base.maxInteger = hi;
  } else if (type === 'real') {
    const lo = num('minReal', false);
    const hi = num('maxReal', false);
    if (lo !== undefined) base.minReal = lo;
    if (hi !== undefined) base.maxReal = hi;
  } else if (type === 'string') {
    const lo = num('minLength', true);
    const hi = num('maxLength', true);
    if (lo !== undefined) base.minLength = lo;
    if (hi !== undefined) base.maxLength = hi;
  } else if (type === 'uuid') {
    const rt = json['refTable'];
    if (rt !== undefined) {
      if (typeof rt !== 'string') throw syntaxError(json, 'refTable must be a string');
      base.refTable = rt;
      const kind = json['refType'] ?? 'strong';
      if (kind !== 'strong' && kind !== 'weak') throw syntaxError(json, 'refType must be "strong" or "weak"');
      base.refType = kind;
    }
  }
  return base;
}

export function parseColumnType(json: unknown): ColumnType {
  if (typeof json === 'string') return { key: parseBaseType(json), min: 1, max: 1 };
  if (!isObject(json)) throw syntaxError(json, 'column type must be a string or an object');
  if (json['key'] === undefined) return { key: parseBaseType(json), min: 1, max: 1 };
  checkMembers(json, ['key', 'value', 'min', 'max'], 'column type');
  const key = parseBaseType(json['key']);
  const min = json['min'] ?? 1;
  const maxJson = json['max'] ?? 1;
  if (min !== 0 && min !== 1) throw syntaxError(json, 'min must be 0 or 1');
  const max = maxJson === 'unlimited' ? Infinity : maxJson;
  if (typeof max !== 'number' || !(max >= 1) || (max !== Infinity && !Number.isInteger(max))) {
    throw syntaxError(json, 'max must be a positive integer or "unlimited"');
  }
  if (min > max) throw syntaxError(json, 'min may not be greater than max');
  const out: { key: BaseType; value?: BaseType; min: number; max: number } = { key, min, max };
  if (json['value'] !== undefined) out.value = parseBaseType(json['value']);
  return out;
}

export function parseTableSchema(name: string, json: unknown): TableSchema {
  if (!isObject(json)) throw syntaxError(json, `table ${name} must be an object`);
  checkMembers(json, ['columns', 'maxRows', 'isRoot', 'indexes'], `table ${name}`);
  const colsJson = json['columns'];
  if (!isObject(colsJson) || Object.keys(colsJson).length === 0) {
    throw syntaxError(json, `table ${name} must have at least one column`);
  }
  const columns = new Map<string, ColumnSchema>();
  for (const [cname, cjson] of Object.entries(colsJson)) {
    if (!ID_RE.test(cname) || cname.startsWith('_')) throw syntaxError(cjson, `invalid column name ${cname}`);
    if (!isObject(cjson)) throw syntaxError(cjson, `column ${cname} must be an object`);
    checkMembers(cjson, ['type', 'ephemeral', 'mutable'], `column ${cname}`);
    columns.set(cname, {
      name: cname,
      type: parseColumnType(cjson['type']),
      ephemeral: cjson['ephemeral'] === true,
      mutable: cjson['mutable'] !== false,
    });
  }
  const maxRowsJson = json['maxRows'];
  if (maxRowsJson !== undefined && (!Number.isInteger(maxRowsJson) || (maxRowsJson as number) < 1)) {
    throw syntaxError(json, `maxRows of table ${name} must be at least 1`);
  }
  const indexes: string[][] = [];
  const idxJson = json['indexes'] ?? [];
  if (!Array.isArray(idxJson)) throw syntaxError(json, `indexes of table ${name} must be an array`);
  for (const idx of idxJson) {
    if (!Array.isArray(idx) || idx.length === 0) throw syntaxError(idx, 'index must have at least one column');
    for (const c of idx) {
      const col = typeof c === 'string' ? findColumn({ name, columns, maxRows: 0, isRoot: false, indexes: [] }, c) : undefined;
      if (col === undefined) throw syntaxError(idx, `table ${name} has no column ${String(c)}`);
      if (col.ephemeral) throw syntaxError(idx, `ephemeral column ${String(c)} may not be indexed`);
    }
    indexes.push(idx as string[]);
  }
  return {
    name,
    columns,
    maxRows: maxRowsJson === undefined ? Infinity : (maxRowsJson as number),
    isRoot: json['isRoot'] === true,
    indexes,
  };
}

export function parseSchema(json: unknown): DatabaseSchema {
  if (!isObject(json)) throw syntaxError(json, 'schema must be a JSON object');
  checkMembers(json, ['name', 'version', 'cksum', 'tables'], 'schema');
  const name = json['name'];
  if (typeof name !== 'string' || !ID_RE.test(name)) throw syntaxError(json, 'schema name must be an identifier');
  const version = json['version'] ?? '0.0.0';
  if (typeof version !== 'string' || !VERSION_RE.test(version)) throw syntaxError(json, 'version must be x.y.z');
  const cksum = json['cksum'];
  if (cksum !== undefined && typeof cksum !== 'string') throw syntaxError(json, 'cksum must be a string');
  const tablesJson = json['tables'];
  if (!isObject(tablesJson)) throw syntaxError(json, 'tables must be an object');
  const parsed = new Map<string, TableSchema>();
  for (const [tname, tjson] of Object.entries(tablesJson)) {
    if (!ID_RE.test(tname) || tname.startsWith('_')) throw syntaxError(tjson, `invalid table name ${tname}`);
    parsed.set(tname, parseTableSchema(tname, tjson));
  }
  // RFC 7047 3.2: a schema where no table is a root set is an old schema in
  // which every table counts as root (no garbage collection at all).
  const anyRoot = [...parsed.values()].some((t) => t.isRoot);
  const tables = new Map<string, TableSchema>();
  for (const [tname, t] of parsed) {
    for (const col of t.columns.values()) {
      for (const base of [col.type.key, col.type.value]) {
        if (base?.refTable !== undefined && !parsed.has(base.refTable)) {
          throw syntaxError(tjson(tablesJson, tname), `column ${tname}.${col.name} refers to undefined table ${base.refTable}`);
        }
      }
    }
    tables.set(tname, anyRoot ? t : { ...t, isRoot: true });
  }
  return { name, version, cksum, tables, json };
}

function tjson(tables: Record<string, unknown>, name: string): unknown {
  return tables[name];
}
