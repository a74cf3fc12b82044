/**
 * Values on the db-ctl command line and in its output (ovs-vsctl(8) "Database
 * Values"): parsing `key=value`, `{...}`, `[...]`, quoted strings and `@name`
 * references into datums, and printing datums as text, bare text or JSON.
 */
import { checkAtom, compareAtoms, datumToJson, UUID_RE, type Atom, type Datum } from '../ovsdb/datum.js';
import { OvsdbError } from '../ovsdb/error.js';
import { atomToText, datumToText, realToText } from '../ovsdb/datum-text.js';

export { atomToText, datumToText };
import type { BaseType, ColumnType } from '../ovsdb/schema.js';

/** A command-line error: printed as `PROGRAM: message`, exit status 1. */
export class CtlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CtlError';
  }
}

/** Resolves `@name` row references to (temporary) UUIDs. */
export type SymbolResolver = (name: string) => string;

const DELIMS = new Set([',', '=', ':', '[', ']', '{', '}']);
const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';

/** Parses a quoted string starting at s[pos] === '"'; returns [value, next position]. */
function parseQuoted(s: string, pos: number): [string, number] {
  let out = '';
  let i = pos + 1;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === '"') return [out, i + 1];
    if (c === '\\') {
      const e = s[i + 1];
      i += 2;
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          const hex = s.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new CtlError(`${s.slice(pos)}: malformed \\u escape`);
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        case undefined:
          throw new CtlError(`${s.slice(pos)}: quoted string extends past end of argument`);
        default:
          out += e;
      }
      continue;
    }
    out += c;
    i++;
  }
  throw new CtlError(`${s.slice(pos)}: quoted string extends past end of argument`);
}

/** Reads one token (quoted or bare) at `pos`; bare tokens end at delimiters or whitespace. */
function readToken(s: string, pos: number): [string, number, boolean] {
  if (s[pos] === '"') {
    const [v, next] = parseQuoted(s, pos);
    return [v, next, true];
  }
  let i = pos;
  while (i < s.length && !DELIMS.has(s[i] as string) && !isSpace(s[i])) i++;
  return [s.slice(pos, i), i, false];
}

function typeWord(base: BaseType, plural: boolean): string {
  const w: Record<string, [string, string]> = {
    integer: ['integer', 'integers'],
    real: ['real', 'reals'],
    boolean: ['boolean', 'booleans'],
    string: ['string', 'strings'],
    uuid: ['uuid', 'uuids'],
  };
  const pair = w[base.type] ?? [base.type, base.type];
  return plural ? pair[1] : pair[0];
}

function describeType(type: ColumnType): string {
  if (type.value !== undefined) return `map of ${type.key.type}-${type.value.type}`;
  return `set of ${typeWord(type.key, true)}`;
}

/** Converts one token to an atom of `base` (no constraint checks). */
export function atomFromToken(tok: string, base: BaseType, resolve?: SymbolResolver, inDatum = false): Atom {
  switch (base.type) {
    case 'integer': {
      if (/^[+-]?\d+$/.test(tok)) return parseInt(tok, 10);
      throw new CtlError(`"${tok}" is not a valid integer${inDatum ? ' or range' : ''}`);
    }
    case 'real': {
      const n = Number(tok);
      if (tok.trim() !== '' && Number.isFinite(n)) return n;
      throw new CtlError(`"${tok}" is not a valid real number`);
    }
    case 'boolean': {
      if (tok === 'true' || tok === 'yes' || tok === 'on' || tok === '1') return true;
      if (tok === 'false' || tok === 'no' || tok === 'off' || tok === '0') return false;
      throw new CtlError(`"${tok}" is not a valid boolean (use "true" or "false")`);
    }
    case 'string':
      return tok;
    case 'uuid': {
      if (UUID_RE.test(tok)) return tok.toLowerCase();
      if (tok.startsWith('@') && resolve !== undefined) return resolve(tok);
      throw new CtlError(`"${tok}" is not a valid UUID`);
    }
  }
}

function checkConstraints(a: Atom, base: BaseType): void {
  try {
    checkAtom(a, base);
  } catch (e) {
    if (e instanceof OvsdbError) throw new CtlError(`constraint violation: ${e.details ?? ''}`);
    throw e;
  }
}

/** Parses a single atom that is the whole string (a map key or value in `col:key=value`). */
export function parseAtom(s: string, base: BaseType, resolve?: SymbolResolver): Atom {
  let tok = s;
  if (s.startsWith('"')) {
    const [v, next] = parseQuoted(s, 0);
    if (next !== s.length) throw new CtlError(`${s}: trailing garbage after quoted string`);
    tok = v;
  } else if (s === '' && base.type !== 'string') {
    throw new CtlError(`"" is not a valid ${typeWord(base, false)}`);
  }
  const a = atomFromToken(tok, base, resolve);
  checkConstraints(a, base);
  return a;
}

/** Parses a datum for `type`: `[a, b]`, `{k=v, ...}`, or bare elements (ovs-vsctl(8) "Database Values"). */
export function parseDatum(
  s: string,
  type: ColumnType,
  resolve?: SymbolResolver,
  opts: { keysOnly?: boolean; relaxSize?: boolean } = {},
): Datum {
  const isMap = type.value !== undefined && opts.keysOnly !== true;
  const open = isMap ? '{' : '[';
  const close = isMap ? '}' : ']';
  let pos = 0;
  const skip = (): void => {
    while (pos < s.length && (isSpace(s[pos]) || s[pos] === ',')) pos++;
  };
  while (isSpace(s[pos])) pos++;
  const bracketed = s[pos] === open;
  if (bracketed) pos++;
  const keys: Atom[] = [];
  const values: Atom[] = [];
  for (;;) {
    skip();
    if (pos >= s.length) {
      if (bracketed) throw new CtlError(`${s}: missing "${close}" at end of data`);
      break;
    }
    if (bracketed && s[pos] === close) {
      pos++;
      while (isSpace(s[pos])) pos++;
      if (pos < s.length) throw new CtlError(`${s}: trailing garbage after "${close}"`);
      break;
    }
    const start = pos;
    const [ktok, knext, kq] = readToken(s, pos);
    if (!kq && ktok === '') throw new CtlError(`${s}: unexpected "${s[pos] ?? ''}" parsing ${describeType(type)}`);
    pos = knext;
    if (!kq && type.key.type === 'integer' && !isMap && /^[+-]?\d+-[+-]?\d+$/.test(ktok)) {
      const m = /^([+-]?\d+)-([+-]?\d+)$/.exec(ktok) as RegExpExecArray;
      const lo = parseInt(m[1] as string, 10);
      const hi = parseInt(m[2] as string, 10);
      if (hi < lo) throw new CtlError(`"${ktok}" is not a valid range. Range end cannot be before start.`);
      for (let v = lo; v <= hi; v++) keys.push(v);
      continue;
    }
    keys.push(atomFromToken(ktok, type.key, resolve, !isMap));
    if (isMap) {
      if (s[pos] !== '=') {
        throw new CtlError(`${s.slice(start)}: syntax error at "${s[pos] ?? ''}" expecting "="`);
      }
      pos++;
      const [vtok, vnext, vq] = readToken(s, pos);
      if (!vq && vtok === '') throw new CtlError(`${s}: unexpected "${s[pos] ?? ''}" parsing ${describeType(type)}`);
      pos = vnext;
      values.push(atomFromToken(vtok, type.value, resolve));
    }
    if (pos < s.length && !isSpace(s[pos]) && s[pos] !== ',' && !(bracketed && s[pos] === close)) {
      throw new CtlError(`${s}: unexpected "${s[pos] ?? ''}" parsing ${describeType(type)}`);
    }
  }
  for (const k of keys) checkConstraints(k, type.key);
  if (isMap) for (const v of values) checkConstraints(v, type.value);
  if (opts.relaxSize !== true) {
    if (keys.length > type.max) throw new CtlError(`${s}: ${keys.length} value(s) specified but the maximum number is ${type.max}`);
    if (keys.length < type.min) throw new CtlError(`${s}: ${keys.length} value(s) specified but the minimum number is ${type.min}`);
  }
  const idx = keys.map((_, i) => i).sort((a, b) => compareAtoms(keys[a] as Atom, keys[b] as Atom));
  const sk: Atom[] = [];
  const sv: Atom[] = [];
  for (const i of idx) {
    const k = keys[i] as Atom;
    if (sk.length > 0 && sk[sk.length - 1] === k) {
      throw new CtlError(`${s}: ${isMap ? 'map contains duplicate key' : 'set contains duplicate value'}`);
    }
    sk.push(k);
    if (isMap) sv.push(values[i] as Atom);
  }
  return isMap ? { keys: sk, values: sv } : { keys: sk };
}

/** An atom without quotes (`--data=bare`). */
export function atomToBare(a: Atom, base: BaseType): string {
  if (base.type === 'real') return realToText(a as number);
  return String(a);
}

/** A datum as bare text: elements separated by spaces, `k=v` for map entries, no quotes. */
export function datumToBare(d: Datum, type: ColumnType): string {
  if (type.value !== undefined) {
    const vt = type.value;
    const vs = d.values ?? [];
    return d.keys.map((k, i) => `${atomToBare(k, type.key)}=${atomToBare(vs[i] as Atom, vt)}`).join(' ');
  }
  return d.keys.map((k) => atomToBare(k, type.key)).join(' ');
}

/** A datum in RFC 7047 JSON notation, as a string. */
export function datumToJsonText(d: Datum, type: ColumnType): string {
  return JSON.stringify(datumToJson(d, type));
}
