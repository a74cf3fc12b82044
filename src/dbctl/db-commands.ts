/**
 * The generic database commands of every db-ctl tool (ovs-vsctl(8) "Database
 * Commands"): list, find, get, set, add, remove, clear, create, destroy, wait-until.
 */
import { compareAtoms, datumEquals, datumIncludes, datumSubtract, datumUnion, findKey, type Atom, type Datum } from '../ovsdb/datum.js';
import type { ColumnSchema, ColumnType, TableSchema } from '../ovsdb/schema.js';
import { CmdContext, CtlError, TryAgain, tableArgReads, type CommandSpec } from './ctl.js';
import { formatTable, type Cell } from './format.js';
import { datumToText, parseAtom, parseDatum } from './values.js';
import type { WRow } from './work-db.js';

const UUID_TYPE: ColumnType = { key: { type: 'uuid' }, min: 1, max: 1 };

/** Splits `column[:key]` + rest; the key may be quoted. */
function splitColumnKey(arg: string): { col: string; key: string | undefined; rest: string } {
  // A column name runs to the first blank or delimiter, as ovn-nbctl reads it (so `10.0.0.2/24` is one name).
  const m = /^[^\s:=[\]{}!<>,"]*/.exec(arg) as RegExpExecArray;
  const col = m[0];
  let pos = col.length;
  let key: string | undefined;
  if (arg[pos] === ':') {
    pos++;
    const start = pos;
    if (arg[pos] === '"') {
      pos++;
      while (pos < arg.length && arg[pos] !== '"') pos += arg[pos] === '\\' ? 2 : 1;
      pos++;
    } else {
      while (pos < arg.length && !'=!<>{}'.includes(arg[pos] as string)) pos++;
    }
    key = arg.slice(start, pos);
  }
  return { col, key, rest: arg.slice(pos) };
}

function columnsFor(ctx: CmdContext, t: TableSchema): ColumnSchema[] {
  const spec = ctx.opt('--columns');
  const all: ColumnSchema[] = [{ name: '_uuid', type: UUID_TYPE, ephemeral: false, mutable: false }];
  for (const name of [...t.columns.keys()].sort()) all.push(t.columns.get(name) as ColumnSchema);
  if (spec === undefined || spec === null) return all;
  return spec.split(',').map((n) => ctx.column(t, n.trim()));
}

function printRows(ctx: CmdContext, t: TableSchema, rows: WRow[]): void {
  const cols = columnsFor(ctx, t);
  const cells: Cell[][] = rows.map((r) => cols.map((c) => ({ datum: r.get(c.name), type: c.type })));
  if (ctx.globals.format.format === 'list' && cells.length === 0) return;
  ctx.print(formatTable({ headings: cols.map((c) => c.name), rows: cells }, ctx.globals.format));
}

type CondOp = '=' | '!=' | '<' | '>' | '<=' | '>=' | '{=}' | '{!=}' | '{<}' | '{>}' | '{<=}' | '{>=}' | '{in}' | '{not-in}';
const OPS: readonly CondOp[] = ['{not-in}', '{in}', '{<=}', '{>=}', '{!=}', '{=}', '{<}', '{>}', '<=', '>=', '!=', '=', '<', '>'];

function compareDatums(a: Datum, b: Datum): number {
  const n = Math.min(a.keys.length, b.keys.length);
  for (let i = 0; i < n; i++) {
    const c = compareAtoms(a.keys[i] as Atom, b.keys[i] as Atom);
    if (c !== 0) return c;
    if (a.values !== undefined && b.values !== undefined) {
      const v = compareAtoms(a.values[i] as Atom, b.values[i] as Atom);
      if (v !== 0) return v;
    }
  }
  return a.keys.length - b.keys.length;
}

interface Condition {
  col: ColumnSchema;
  key: Atom | undefined;
  op: CondOp;
  value: Datum;
}

function parseCondition(ctx: CmdContext, t: TableSchema, arg: string): Condition {
  const { col, key, rest } = splitColumnKey(arg);
  const op = OPS.find((o) => rest.startsWith(o));
  if (op === undefined || col === '') {
    throw new CtlError(
      `${arg}: argument does not end in "=", "!=", "<", ">", "<=", ">=", "{=}", "{!=}", "{<}", "{>}", "{<=}", "{>=}", "{in}", or "{not-in}" followed by a value.`,
    );
  }
  const c = ctx.column(t, col);
  const valueText = rest.slice(op.length);
  if (key !== undefined) {
    if (c.type.value === undefined) throw new CtlError(`cannot specify key to check for non-map column ${c.name}`);
    const k = parseAtom(key, c.type.key, ctx.symbols.resolve);
    const vt: ColumnType = { key: c.type.value, min: 0, max: op.startsWith('{') ? Infinity : 1 };
    return { col: c, key: k, op, value: parseDatum(valueText, vt, ctx.symbols.resolve, { relaxSize: true }) };
  }
  return { col: c, key: undefined, op, value: parseDatum(valueText, c.type, ctx.symbols.resolve, { relaxSize: true }) };
}

function evalCondition(row: WRow, cond: Condition): boolean {
  let have = row.get(cond.col.name);
  if (cond.key !== undefined) {
    const i = findKey(have, cond.key);
    if (i < 0) return false;
    have = { keys: [(have.values as readonly Atom[])[i] as Atom] };
  }
  const want = cond.value;
  switch (cond.op) {
    case '=':
    case '{=}':
      return datumEquals(have, want);
    case '!=':
    case '{!=}':
      return !datumEquals(have, want);
    case '<':
      return compareDatums(have, want) < 0;
    case '>':
      return compareDatums(have, want) > 0;
    case '<=':
      return compareDatums(have, want) <= 0;
    case '>=':
      return compareDatums(have, want) >= 0;
    case '{<}':
      return datumIncludes(want, have) && !datumEquals(have, want);
    case '{>}':
      return datumIncludes(have, want) && !datumEquals(have, want);
    case '{<=}':
    case '{in}':
      return datumIncludes(want, have);
    case '{>=}':
      return datumIncludes(have, want);
    case '{not-in}':
      return have.keys.every((k, i) => {
        const j = findKey(want, k);
        return j < 0 || (have.values !== undefined && want.values !== undefined && want.values[j] !== have.values[i]);
      });
  }
}

function checkMutable(t: TableSchema, c: ColumnSchema): void {
  if (c.name === '_uuid' || !c.mutable) {
    if (c.name === '_uuid') throw new CtlError(`${t.name} does not contain a column whose name matches "_uuid"`);
    throw new CtlError(`cannot modify read-only column ${c.name} in table ${t.name}`);
  }
}

/** `col[:key]=value` assignment into a row (also the trailing settings of lrp-add and the like). */
export function setColumn(ctx: CmdContext, t: TableSchema, row: WRow, arg: string): void {
  const { col, key, rest } = splitColumnKey(arg);
  // As ovn-nbctl: the column is looked up before the "=value" is checked.
  if (col !== '') {
    const c = col === '_uuid' ? undefined : ctx.column(t, col);
    if (c === undefined || c.name === '_uuid') throw new CtlError(`${t.name} does not contain a column whose name matches "${col}"`);
  }
  if (!rest.startsWith('=') || rest.length === 1 || col === '') {
    throw new CtlError(`${arg}: argument does not end in "=" followed by a value.`);
  }
  const c = col === '_uuid' ? undefined : ctx.column(t, col);
  if (c === undefined || c.name === '_uuid') throw new CtlError(`${t.name} does not contain a column whose name matches "${col}"`);
  checkMutable(t, c);
  const valueText = rest.slice(1);
  if (key !== undefined) {
    if (c.type.value === undefined) throw new CtlError(`cannot specify key to set for non-map column ${c.name}`);
    const k = parseAtom(key, c.type.key, ctx.symbols.resolve);
    const v = parseAtom(valueText, c.type.value, ctx.symbols.resolve);
    const cur = row.get(c.name);
    const without = datumSubtract(cur, { keys: [k] });
    const next = datumUnion(without, { keys: [k], values: [v] });
    if (next.keys.length > c.type.max) {
      throw new CtlError(
        `"set" operation would put ${next.keys.length} values in column ${c.name} of table ${t.name} but the maximum number is ${c.type.max}`,
      );
    }
    row.set(c.name, next);
  } else {
    row.set(c.name, parseDatum(valueText, c.type, ctx.symbols.resolve));
  }
}

function rowFromArgs(ctx: CmdContext, argIndex: number): { t: TableSchema; row: WRow | undefined } {
  const t = ctx.table(ctx.arg(0));
  const row = ctx.findRow(t, ctx.arg(argIndex), !ctx.has('--if-exists'));
  return { t, row };
}

export const DB_COMMANDS: readonly CommandSpec[] = [
  {
    name: 'list',
    reads: tableArgReads,
    minArgs: 1,
    maxArgs: Infinity,
    options: ['--if-exists', '--columns='],
    readOnly: true,
    run(ctx) {
      const t = ctx.table(ctx.arg(0));
      let rows: WRow[];
      if (ctx.args.length > 1) {
        rows = [];
        for (const id of ctx.args.slice(1)) {
          const r = ctx.findRow(t, id, !ctx.has('--if-exists'));
          if (r !== undefined) rows.push(r);
        }
      } else rows = [...ctx.db.rows(t.name)];
      printRows(ctx, t, rows);
    },
  },
  {
    name: 'find',
    reads: tableArgReads,
    minArgs: 1,
    maxArgs: Infinity,
    options: ['--columns='],
    readOnly: true,
    run(ctx) {
      const t = ctx.table(ctx.arg(0));
      const conds = ctx.args.slice(1).map((a) => parseCondition(ctx, t, a));
      const rows = [...ctx.db.rows(t.name)].filter((r) => conds.every((c) => evalCondition(r, c)));
      printRows(ctx, t, rows);
    },
  },
  {
    name: 'get',
    reads: tableArgReads,
    minArgs: 2,
    maxArgs: Infinity,
    options: ['--if-exists', '--id='],
    readOnly: true,
    run(ctx) {
      const { t, row } = rowFromArgs(ctx, 1);
      if (row === undefined) return;
      const id = ctx.opt('--id');
      if (typeof id === 'string') {
        if (!id.startsWith('@')) throw new CtlError(`row id "${id}" does not begin with "@"`);
        ctx.symbols.define(id, row.uuid);
      }
      for (const arg of ctx.args.slice(2)) {
        const { col, key, rest } = splitColumnKey(arg);
        if (rest !== '' || col === '') throw new CtlError(`${arg}: trailing garbage "${rest}" in argument`);
        const c = ctx.column(t, col);
        if (key !== undefined) {
          if (c.type.value === undefined) throw new CtlError(`cannot specify key to get for non-map column ${c.name}`);
          const k = parseAtom(key, c.type.key, ctx.symbols.resolve);
          const d = row.get(c.name);
          const i = findKey(d, k);
          if (i < 0) {
            if (ctx.has('--if-exists')) continue;
            throw new CtlError(`no key "${key}" in ${t.name} record "${ctx.arg(1)}" column ${c.name}`);
          }
          ctx.print(datumToText({ keys: [(d.values as readonly Atom[])[i] as Atom] }, { key: c.type.value, min: 1, max: 1 }) + '\n');
        } else {
          ctx.print(datumToText(row.get(c.name), c.name === '_uuid' ? UUID_TYPE : c.type) + '\n');
        }
      }
    },
  },
  {
    name: 'set',
    reads: tableArgReads,
    minArgs: 3,
    maxArgs: Infinity,
    options: ['--if-exists'],
    run(ctx) {
      const { t, row } = rowFromArgs(ctx, 1);
      if (row === undefined) return;
      for (const arg of ctx.args.slice(2)) setColumn(ctx, t, row, arg);
    },
  },
  {
    name: 'add',
    reads: tableArgReads,
    minArgs: 4,
    maxArgs: Infinity,
    options: ['--if-exists'],
    run(ctx) {
      const { t, row } = rowFromArgs(ctx, 1);
      const c = ctx.column(t, ctx.arg(2));
      checkMutable(t, c);
      if (row === undefined) return;
      let d = row.get(c.name);
      for (const v of ctx.args.slice(3)) d = datumUnion(d, parseDatum(v, c.type, ctx.symbols.resolve, { relaxSize: true }));
      if (d.keys.length > c.type.max) {
        throw new CtlError(
          `"add" operation would put ${d.keys.length} values in column ${c.name} of table ${t.name} but the maximum number is ${c.type.max}`,
        );
      }
      row.set(c.name, d);
    },
  },
  {
    name: 'remove',
    reads: tableArgReads,
    minArgs: 4,
    maxArgs: Infinity,
    options: ['--if-exists'],
    run(ctx) {
      const { t, row } = rowFromArgs(ctx, 1);
      const c = ctx.column(t, ctx.arg(2));
      checkMutable(t, c);
      if (row === undefined) return;
      let d = row.get(c.name);
      for (const v of ctx.args.slice(3)) {
        let rm: Datum;
        try {
          rm = parseDatum(v, c.type, ctx.symbols.resolve, { relaxSize: true });
        } catch (e) {
          if (c.type.value === undefined) throw e;
          rm = parseDatum(v, c.type, ctx.symbols.resolve, { relaxSize: true, keysOnly: true });
        }
        d = datumSubtract(d, rm);
      }
      if (d.keys.length < c.type.min) {
        throw new CtlError(
          `"remove" operation would put ${d.keys.length} values in column ${c.name} of table ${t.name} but the minimum number is ${c.type.min}`,
        );
      }
      row.set(c.name, d);
    },
  },
  {
    name: 'clear',
    reads: tableArgReads,
    minArgs: 3,
    maxArgs: Infinity,
    options: ['--if-exists'],
    run(ctx) {
      const { t, row } = rowFromArgs(ctx, 1);
      for (const name of ctx.args.slice(2)) {
        const c = ctx.column(t, name);
        checkMutable(t, c);
        if (c.type.min > 0) {
          throw new CtlError(
            `"clear" operation cannot be applied to column ${c.name} of table ${t.name}, which is not allowed to be empty`,
          );
        }
        if (row !== undefined) row.set(c.name, c.type.value === undefined ? { keys: [] } : { keys: [], values: [] });
      }
    },
  },
  {
    name: 'create',
    reads: tableArgReads,
    minArgs: 2,
    maxArgs: Infinity,
    options: ['--id='],
    run(ctx) {
      const t = ctx.table(ctx.arg(0));
      const id = ctx.opt('--id');
      const uuid = typeof id === 'string' ? ctx.symbols.define(id) : undefined;
      const row = ctx.db.insert(t.name, {}, uuid);
      for (const arg of ctx.args.slice(1)) setColumn(ctx, t, row, arg);
      if (typeof id !== 'string' && !t.isRoot) {
        const ts = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        process.stderr.write(
          `${ts}|00002|db_ctl_base|WARN|applying "create" command to table ${t.name} without --id option will have no effect\n`,
        );
      }
      ctx.print(`${row.uuid}\n`);
    },
  },
  {
    name: 'destroy',
    reads: tableArgReads,
    minArgs: 1,
    maxArgs: Infinity,
    options: ['--if-exists', '--all'],
    run(ctx) {
      const t = ctx.table(ctx.arg(0));
      if (ctx.has('--all')) {
        if (ctx.args.length > 1) throw new CtlError('--all and records argument should not be specified together');
        for (const r of [...ctx.db.rows(t.name)]) destroyRow(ctx, r);
        return;
      }
      if (ctx.args.length === 1) throw new CtlError('either --all or records argument should be specified');
      for (const id of ctx.args.slice(1)) {
        const r = ctx.findRow(t, id, !ctx.has('--if-exists'));
        if (r !== undefined) destroyRow(ctx, r);
      }
    },
  },
  {
    name: 'wait-until',
    reads: tableArgReads,
    minArgs: 2,
    maxArgs: Infinity,
    options: [],
    readOnly: true,
    run(ctx) {
      const t = ctx.table(ctx.arg(0));
      const row = ctx.findRow(t, ctx.arg(1), false);
      if (row === undefined) throw new TryAgain();
      const conds = ctx.args.slice(2).map((a) => parseCondition(ctx, t, a));
      if (!conds.every((c) => evalCondition(row, c))) throw new TryAgain();
    },
  },
];

/** Deletes a row (a row still strongly referenced makes the transaction fail, as with the real tools). */
export function destroyRow(ctx: CmdContext, r: WRow): void {
  ctx.db.delete(r);
}
