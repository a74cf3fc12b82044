/**
 * A parsed schema back to JSON in ovsdb-server's normal form (what
 * `get_schema` answers and `_Server.Database.schema` holds): members that
 * say the default are left out, enums are sorted sets (a lone value bare),
 * and the text form has its object members sorted.
 */
import { canonicalJson } from './error.js';
import type { BaseType, ColumnSchema, ColumnType, DatabaseSchema, TableSchema } from './schema.js';

function baseTypeToJson(b: BaseType): unknown {
  const out: Record<string, unknown> = { type: b.type };
  if (b.enum !== undefined) {
    const e = b.type === 'uuid' ? b.enum.map((u) => ['uuid', u]) : [...b.enum];
    out['enum'] = e.length === 1 ? e[0] : ['set', e];
  }
  if (b.minInteger !== undefined) out['minInteger'] = b.minInteger;
  if (b.maxInteger !== undefined) out['maxInteger'] = b.maxInteger;
  if (b.minReal !== undefined) out['minReal'] = b.minReal;
  if (b.maxReal !== undefined) out['maxReal'] = b.maxReal;
  if (b.minLength !== undefined && b.minLength !== 0) out['minLength'] = b.minLength;
  if (b.maxLength !== undefined) out['maxLength'] = b.maxLength;
  if (b.refTable !== undefined) {
    out['refTable'] = b.refTable;
    if (b.refType === 'weak') out['refType'] = 'weak';
  }
  return Object.keys(out).length === 1 ? b.type : out;
}

function columnTypeToJson(t: ColumnType): unknown {
  const key = baseTypeToJson(t.key);
  // Only an unconstrained scalar is written as its bare type name.
  if (t.value === undefined && t.min === 1 && t.max === 1 && typeof key === 'string') return key;
  const out: Record<string, unknown> = { key };
  if (t.value !== undefined) out['value'] = baseTypeToJson(t.value);
  if (t.min !== 1) out['min'] = t.min;
  if (t.max !== 1) out['max'] = t.max === Infinity ? 'unlimited' : t.max;
  return out;
}

function columnToJson(c: ColumnSchema): unknown {
  const out: Record<string, unknown> = { type: columnTypeToJson(c.type) };
  if (c.ephemeral) out['ephemeral'] = true;
  if (!c.mutable) out['mutable'] = false;
  return out;
}

function tableToJson(t: TableSchema, defaultIsRoot: boolean): unknown {
  const columns: Record<string, unknown> = {};
  for (const c of t.columns.values()) columns[c.name] = columnToJson(c);
  const out: Record<string, unknown> = { columns };
  if (t.maxRows !== Infinity) out['maxRows'] = t.maxRows;
  if (t.isRoot !== defaultIsRoot) out['isRoot'] = t.isRoot;
  if (t.indexes.length > 0) out['indexes'] = t.indexes.map((i) => [...i]);
  return out;
}

/** The schema as ovsdb-server serialises it. */
export function schemaToJson(s: DatabaseSchema): Record<string, unknown> {
  // A schema without any root table is an old one in which every table is root.
  const defaultIsRoot = [...s.tables.values()].every((t) => t.isRoot);
  const tables: Record<string, unknown> = {};
  for (const t of s.tables.values()) tables[t.name] = tableToJson(t, defaultIsRoot);
  const out: Record<string, unknown> = { name: s.name, version: s.version, tables };
  if (s.cksum !== undefined) out['cksum'] = s.cksum;
  return out;
}

/** The schema's text as `_Server.Database.schema` holds it. */
export function schemaToText(s: DatabaseSchema): string {
  return canonicalJson(schemaToJson(s));
}
