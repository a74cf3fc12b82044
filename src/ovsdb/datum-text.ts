/**
 * Datums as text, the way OVSDB's tools and ovsdb-server's error messages
 * print them (ovsdb-client(1) "table" format, ovs-vsctl(8) "Database Values"):
 * strings bare when they are plain identifiers and JSON-quoted otherwise,
 * sets as `[a, b]`, maps as `{k=v}`.
 */
import type { Atom, Datum } from './atom.js';
import type { BaseType, ColumnType } from './schema.js';

const UUID_TEXT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function needsQuotes(s: string): boolean {
  if (s === '' || s === 'true' || s === 'false' || UUID_TEXT.test(s)) return true;
  if (!/^[A-Za-z_]/.test(s)) return true;
  return !/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(s);
}

/** An atom as text: strings quoted (JSON style) unless they are plain identifiers. */
export function atomToText(a: Atom, base: BaseType): string {
  if (base.type === 'string') return needsQuotes(a as string) ? JSON.stringify(a) : (a as string);
  if (base.type === 'real') return realToText(a as number);
  return String(a);
}

export function realToText(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e17) return String(n);
  return String(Number(n.toPrecision(17)));
}

/** A datum as text: `[a, b]` for sets that may hold several values or none, `{k=v}` for maps, else the atom. */
export function datumToText(d: Datum, type: ColumnType): string {
  if (type.value !== undefined) {
    const vt = type.value;
    const vs = d.values ?? [];
    return `{${d.keys.map((k, i) => `${atomToText(k, type.key)}=${atomToText(vs[i] as Atom, vt)}`).join(', ')}}`;
  }
  if (type.max > 1 || d.keys.length === 0) return `[${d.keys.map((k) => atomToText(k, type.key)).join(', ')}]`;
  return atomToText(d.keys[0] as Atom, type.key);
}
