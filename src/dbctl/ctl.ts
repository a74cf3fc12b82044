/**
 * The shared db-ctl machinery of ovnts nbctl and sbctl (ovs-vsctl(8) and
 * ovn-nbctl(8): "Database Commands", "Table Formatting Options", "Options"):
 * command-line splitting on `--`, global and per-command options, table,
 * column and record matching, and the run loop that executes every command of
 * one invocation in a single transaction.
 */
import { missingSslConfig, type SslOptions } from '../ovsdb/remote.js';
import { parseSslOption, sslField } from '../ovsdb/ssl-options.js';
import { OvsdbClient, ConnectFailedError, isTryAgain } from '../ovsdb/client.js';
import { newUuid, UUID_RE } from '../ovsdb/datum.js';
import type { ColumnSchema, DatabaseSchema, TableSchema } from '../ovsdb/schema.js';
import { formatTable, type DataFormat, type FormatOptions, type OutputFormat } from './format.js';
import { CtlError } from './values.js';
import { WorkDb, NeedData, addNeed, needsToTables, type Needs, type WRow } from './work-db.js';
import { errnoSentence } from '../lib/errno-text.js';

export { CtlError } from './values.js';

/** How a table's records can be named on the command line besides by UUID. */
export interface RowId {
  /** Column holding the name (a string, or a reference whose target's `uuidColumn`... kept simple: the name column). */
  readonly nameColumn: string | null;
}

export interface CommandSpec {
  readonly name: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  /** Options this command accepts, e.g. `--if-exists`, `--id=` (takes a value). */
  readonly options: readonly string[];
  /** Changes nothing: the transaction is not sent when only such commands ran. */
  readonly readOnly?: boolean;
  /**
   * What the command reads, registered before connecting as ovn-nbctl's
   * `pre_*` functions do, so that one replica serves the whole invocation.
   * From the command's arguments where they name the table.
   */
  readonly reads?: Reads | ((args: readonly string[], tables: readonly string[]) => Reads);
  run(ctx: CmdContext): void | Promise<void>;
}

/** Table → the columns read, or true for every column. */
export type Reads = Readonly<Record<string, readonly string[] | true>>;

export interface ToolSpec {
  /** As printed before error messages, e.g. `ovn-nbctl`. */
  readonly program: string;
  readonly database: string;
  readonly envVar: string;
  readonly defaultDb: string;
  /** The database's tables, as the tool's models list them (generated from the schema). */
  readonly tables: readonly string[];
  /** Table name → name column (or "." singleton tables), for record lookup. */
  readonly rowIds: Readonly<Record<string, string>>;
  readonly commands: readonly CommandSpec[];
  /** Columns fetched together whenever a command reads a table it did not declare. */
  readonly companionColumns?: Readonly<Record<string, readonly string[]>>;
  /** Tables (and columns, or true for all) the tool itself reads; default none. */
  readonly initialNeeds?: (g: Globals) => Reads;
  /** Runs before the commands on every attempt (e.g. create NB_Global when missing). */
  readonly prepare?: (db: WorkDb) => void;
  /** Extra global options this tool knows, each returning true when consumed. */
  readonly globalOption?: (name: string, value: string | undefined, g: Globals) => boolean;
  /** After a successful commit (e.g. --wait=sb|hv). */
  readonly afterCommit?: (client: OvsdbClient, g: Globals, nbCfg: number | undefined) => Promise<void>;
  /** Adds ops to the transaction (e.g. nb_cfg increment); returns the index of a select op whose result to hand to afterCommit. */
  readonly extraOps?: (db: WorkDb, g: Globals, ops: unknown[]) => number | undefined;
}

export interface Globals {
  db: string | undefined;
  timeoutSec: number;
  wait: 'none' | 'sb' | 'hv';
  format: FormatOptions;
  oneline: boolean;
  dryRun: boolean;
  /** Clustered databases: use only the Raft leader (`--no-leader-only` turns it off). */
  leaderOnly: boolean;
  /** -p/-c/-C and the other SSL options, for ssl: remotes. */
  ssl: SslOptions;
}

/** One command of the invocation, parsed. */
export interface ParsedCommand {
  readonly spec: CommandSpec;
  readonly args: readonly string[];
  readonly options: ReadonlyMap<string, string | null>;
}

/** Raised by a command that has to wait for the database to change (wait-until). */
export class TryAgain extends Error {
  constructor() {
    super('try again');
    this.name = 'TryAgain';
  }
}

export class Symbols {
  private readonly map = new Map<string, { uuid: string; created: boolean; strongRef: boolean }>();
  /** Resolves `@name`, creating a forward reference when unknown. */
  resolve = (name: string): string => {
    let s = this.map.get(name);
    if (s === undefined) {
      s = { uuid: newUuid(), created: false, strongRef: false };
      this.map.set(name, s);
    }
    return s.uuid;
  };
  /** Declares `@name` as the row created or found by a command. */
  define(name: string, uuid?: string): string {
    if (!name.startsWith('@')) throw new CtlError(`row id "${name}" does not begin with "@"`);
    const s = this.map.get(name);
    if (s !== undefined && s.created) throw new CtlError(`row id "${name}" may only be specified on one --id option`);
    const u = uuid ?? s?.uuid ?? newUuid();
    this.map.set(name, { uuid: u, created: true, strongRef: false });
    return u;
  }
  /** Throws for references never defined. */
  check(): void {
    for (const [name, s] of this.map) {
      if (!s.created) throw new CtlError(`row id "${name}" is referenced but never created (e.g. with "-- --id=${name} create ...")`);
    }
  }
}

export class CmdContext {
  readonly out: string[] = [];
  constructor(
    readonly db: WorkDb,
    readonly cmd: ParsedCommand,
    readonly globals: Globals,
    readonly symbols: Symbols,
    readonly tool: ToolSpec,
  ) {}

  get args(): readonly string[] {
    return this.cmd.args;
  }
  arg(i: number): string {
    return this.cmd.args[i] ?? '';
  }
  has(opt: string): boolean {
    return this.cmd.options.has(opt);
  }
  opt(opt: string): string | null | undefined {
    return this.cmd.options.get(opt);
  }
  print(s: string): void {
    this.out.push(s);
  }
  get schema(): DatabaseSchema {
    return this.db.schema;
  }

  /**
   * A table by name: exact, then case-insensitive, then a unique case-insensitive
   * prefix. The database commands name a table to print or edit whole rows of it,
   * so all of its columns are fetched.
   */
  table(name: string): TableSchema {
    const t = matchTable(this.db.schema, name);
    this.db.needTable(t.name);
    return t;
  }

  /** A column by name: exact, then case-insensitive, then a unique case-insensitive prefix. */
  column(t: TableSchema, name: string): ColumnSchema {
    return matchColumn(t, name);
  }

  /** A record by UUID, name (via the table's name column), "." for singletons, or a UUID prefix of 4+ digits. */
  findRow(t: TableSchema, id: string, mustExist: boolean): WRow | undefined {
    return findRow(this.db, this.tool, t, id, mustExist);
  }
}

function uniqueMatch<T>(items: Iterable<[string, T]>, name: string): { one?: T; many?: string[] } {
  const all = [...items];
  const exact = all.find(([n]) => n === name);
  if (exact !== undefined) return { one: exact[1] };
  const lower = name.toLowerCase();
  const ci = all.filter(([n]) => n.toLowerCase() === lower);
  if (ci.length === 1) return { one: (ci[0] as [string, T])[1] };
  const pre = all.filter(([n]) => n.toLowerCase().startsWith(lower));
  if (pre.length === 1) return { one: (pre[0] as [string, T])[1] };
  if (pre.length > 1) return { many: pre.map(([n]) => n).sort() };
  return {};
}

export function matchTable(schema: DatabaseSchema, name: string): TableSchema {
  const m = uniqueMatch(schema.tables.entries(), name);
  if (m.one !== undefined) return m.one;
  if (m.many !== undefined) throw new CtlError(`"${name}" matches multiple table names: ${m.many.join(', ')}`);
  throw new CtlError(`unknown table "${name}"`);
}

/** The table `name` designates among `tables` (as {@link matchTable} finds it), if exactly one. */
export function matchTableName(tables: readonly string[], name: string): string | undefined {
  return uniqueMatch(
    tables.map((t) => [t, t] as [string, string]),
    name,
  ).one;
}

/** A database command's reads: all of the table its first argument names. */
export function tableArgReads(args: readonly string[], tables: readonly string[]): Reads {
  const t = args[0] === undefined ? undefined : matchTableName(tables, args[0]);
  return t === undefined ? {} : { [t]: true };
}

const UUID_COL: ColumnSchema = { name: '_uuid', type: { key: { type: 'uuid' }, min: 1, max: 1 }, ephemeral: false, mutable: false };

export function matchColumn(t: TableSchema, name: string, allowUuid = true): ColumnSchema {
  const cols: Array<[string, ColumnSchema]> = allowUuid ? [['_uuid', UUID_COL]] : [];
  for (const [n, c] of t.columns) cols.push([n, c]);
  const m = uniqueMatch(cols, name);
  if (m.one !== undefined) return m.one;
  if (m.many !== undefined) throw new CtlError(`${t.name} contains more than one column whose name matches "${name}"`);
  throw new CtlError(`${t.name} does not contain a column whose name matches "${name}"`);
}

export function findRow(db: WorkDb, tool: ToolSpec, t: TableSchema, id: string, mustExist: boolean): WRow | undefined {
  let row: WRow | undefined;
  if (UUID_RE.test(id)) row = db.get(t.name, id.toLowerCase());
  const nameCol = tool.rowIds[t.name];
  if (row === undefined && id === '.' && (nameCol === '.' || db.count(t.name) === 1)) {
    const it = db.rows(t.name)[Symbol.iterator]().next();
    row = it.done === true ? undefined : it.value;
  } else if (row === undefined && nameCol !== undefined && nameCol !== '.') {
    const rows = db.lookup(t.name, nameCol, id);
    if (rows.length > 1) throw new CtlError(`multiple rows in ${t.name} match "${id}"`);
    row = rows[0];
  }
  if (row === undefined && /^[0-9a-fA-F]{4,}(-[0-9a-fA-F-]*)?$/.test(id) && id.length < 36) {
    const p = id.toLowerCase();
    let found: WRow | undefined;
    for (const r of db.rows(t.name)) {
      if (r.uuid.startsWith(p)) {
        if (found !== undefined) throw new CtlError(`multiple rows in ${t.name} have UUIDs beginning with "${id}"`);
        found = r;
      }
    }
    row = found;
  }
  if (row === undefined && mustExist) throw new CtlError(`no row "${id}" in table ${t.name}`);
  return row;
}

// ---------------------------------------------------------------------------
// Command line

const FORMATS: readonly OutputFormat[] = ['list', 'table', 'csv', 'json', 'html'];
const DATAS: readonly DataFormat[] = ['string', 'bare', 'json'];

/** Global options that take a value (the rest are flags). */
const VALUE_OPTIONS = new Set([
  'db',
  'timeout',
  'format',
  'data',
  'wait',
  'columns',
  'id',
  'log-file',
  'unixctl',
  'pidfile',
  'verbose',
  'private-key',
  'certificate',
  'ca-cert',
  'bootstrap-ca-cert',
  'peer-ca-cert',
  'ssl-protocols',
  'ssl-ciphers',
]);
const SHORT: Record<string, string> = {
  d: 'db',
  t: 'timeout',
  f: 'format',
  v: 'verbose',
  h: 'help',
  V: 'version',
  p: 'private-key',
  c: 'certificate',
  C: 'ca-cert',
};

export interface ParsedLine {
  globals: Globals;
  commands: ParsedCommand[];
}

export function parseCommandLine(argv: readonly string[], tool: ToolSpec, env: NodeJS.ProcessEnv): ParsedLine {
  const globals: Globals = {
    db: env[tool.envVar],
    timeoutSec: 0,
    wait: 'none',
    format: { format: 'list', data: undefined, headings: true },
    oneline: false,
    dryRun: false,
    leaderOnly: true,
    ssl: {},
  };
  const localOptionNames = new Set<string>();
  for (const c of tool.commands) for (const o of c.options) localOptionNames.add(o.replace(/=$/, '').replace(/^--/, ''));
  const firstLocal: Array<[string, string | null]> = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') break;
    let name: string;
    let value: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      value = eq < 0 ? undefined : a.slice(eq + 1);
    } else if (a.startsWith('-') && a.length >= 2) {
      const long = SHORT[a[1] as string];
      if (long === undefined) throw new CtlError(`invalid option -- '${a[1] as string}'`);
      name = long;
      value = a.length > 2 ? a.slice(2) : undefined;
    } else break;
    if (localOptionNames.has(name)) {
      firstLocal.push([`--${name}`, value ?? null]);
      continue;
    }
    if (VALUE_OPTIONS.has(name) && value === undefined) {
      if (name === 'verbose') {
        value = '';
      } else {
        const next = argv[i + 1];
        if (next === undefined) throw new CtlError(`option '--${name}' requires an argument`);
        value = next;
        i++;
      }
    }
    switch (name) {
      case 'db':
        globals.db = value;
        break;
      case 'timeout': {
        const n = Number(value);
        if (!/^\d+$/.test(value ?? '') || !Number.isFinite(n)) throw new CtlError(`value ${value ?? ''} on -t or --timeout is invalid`);
        globals.timeoutSec = n;
        break;
      }
      case 'format':
        if (!FORMATS.includes(value as OutputFormat)) throw new CtlError(`unknown output format "${value ?? ''}"`);
        globals.format.format = value as OutputFormat;
        break;
      case 'data':
        if (!DATAS.includes(value as DataFormat)) throw new CtlError(`unknown data format "${value ?? ''}"`);
        globals.format.data = value as DataFormat;
        break;
      case 'no-headings':
        globals.format.headings = false;
        break;
      case 'bare':
        globals.format.format = 'list';
        globals.format.data = 'bare';
        globals.format.headings = false;
        break;
      case 'pretty':
        break;
      case 'oneline':
        globals.oneline = true;
        break;
      case 'dry-run':
        globals.dryRun = true;
        break;
      case 'no-leader-only':
        globals.leaderOnly = false;
        break;
      case 'leader-only':
        globals.leaderOnly = true;
        break;
      case 'no-syslog':
      case 'shuffle-remotes':
      case 'no-shuffle-remotes':
      case 'verbose':
      case 'log-file':
        break;
      default:
        if (parseSslOption(globals.ssl, `--${name}`, () => value ?? '')) break;
        if (tool.globalOption?.(name, value, globals) === true) break;
        throw new CtlError(`unrecognized option '${a.startsWith('--') ? a.replace(/=.*$/, '') : a}'`);
    }
  }
  // The rest: commands separated by "--", each with leading options.
  const groups: string[][] = [];
  let cur: string[] = [];
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      groups.push(cur);
      cur = [];
    } else cur.push(a);
  }
  groups.push(cur);
  const commands: ParsedCommand[] = [];
  let first = true;
  for (const g of groups) {
    const opts = new Map<string, string | null>();
    if (first) for (const [k, v] of firstLocal) opts.set(k, v);
    let j = 0;
    for (; j < g.length && (g[j] as string).startsWith('-'); j++) {
      const a = g[j] as string;
      const eq = a.indexOf('=');
      const k = eq < 0 ? a : a.slice(0, eq);
      if (opts.has(k)) throw new CtlError(`'${k}' option specified multiple times`);
      opts.set(k, eq < 0 ? null : a.slice(eq + 1));
    }
    const rest = g.slice(j);
    if (rest.length === 0) {
      if (opts.size > 0) throw new CtlError('missing command name (use --help for help)');
      if (first && groups.length === 1) throw new CtlError('missing command name (use --help for help)');
      first = false;
      continue;
    }
    first = false;
    const name = rest[0] as string;
    const spec = tool.commands.find((c) => c.name === name);
    if (spec === undefined) throw new CtlError(`unknown command '${name}'; use --help for help`);
    for (const [k, v] of opts) {
      const accepted = spec.options.find((o) => o.replace(/=$/, '') === k);
      if (accepted === undefined) throw new CtlError(`'${name}' command has no '${k}' option`);
      if (accepted.endsWith('=') && v === null) throw new CtlError(`missing argument to '${k}' option on '${name}' command`);
      if (!accepted.endsWith('=') && v !== null) throw new CtlError(`'${k}' option on '${name}' does not accept an argument`);
    }
    const args = rest.slice(1);
    if (args.length < spec.minArgs) {
      throw new CtlError(`'${name}' command requires at least ${spec.minArgs} arguments`);
    }
    if (args.length > spec.maxArgs) throw new CtlError(`'${name}' command takes at most ${spec.maxArgs} arguments`);
    commands.push({ spec, args, options: opts });
  }
  return { globals, commands };
}

// ---------------------------------------------------------------------------
// Running

export interface RunIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

function alarmLine(): string {
  const ts = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return `${ts}|00001|fatal_signal|WARN|terminating with signal 14 (Alarm clock)\n`;
}

/** Runs one invocation; resolves with the exit status. */
export async function runCtl(tool: ToolSpec, argv: readonly string[], io: RunIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed: ParsedLine;
  try {
    parsed = parseCommandLine(argv, tool, env);
  } catch (e) {
    if (e instanceof CtlError) {
      io.stderr(`${tool.program}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const { globals, commands } = parsed;
  const remotes = globals.db ?? tool.defaultDb;
  // As the real tools do, an ssl: remote without keys fails at once rather than retrying.
  const sslRemote = remotes
    .split(',')
    .map((r) => r.trim())
    .find((r) => r.startsWith('ssl:'));
  const missing = sslRemote === undefined ? [] : missingSslConfig(globals.ssl);
  if (missing.length > 0) {
    for (const m of missing) io.stderr(`${m}\n`);
    io.stderr(`${tool.program}: ${sslRemote ?? ''}: database connection failed (Protocol not available)\n`);
    return 1;
  }
  // What the tool and each command declare they read. A read outside that
  // (a table named by a prefix or in another case, say) is still served, by
  // NeedData and a new replica, but costs a reconnection.
  const needs: Needs = new Map();
  const want = (tables: Reads | undefined): void => {
    for (const [t, c] of Object.entries(tables ?? {})) {
      const cur = needs.get(t);
      if (c === true) needs.set(t, 'all');
      else if (cur !== 'all') needs.set(t, new Set([...(cur ?? []), ...c]));
    }
  };
  want(tool.initialNeeds?.(globals));
  for (const c of commands) want(typeof c.spec.reads === 'function' ? c.spec.reads(c.args, tool.tables) : c.spec.reads);
  const newClient = (): OvsdbClient =>
    new OvsdbClient({
      remotes,
      database: tool.database,
      leaderOnly: globals.leaderOnly,
      // Opened without retry, as OVS's ctl tools are: no usable remote is an error.
      retry: false,
      backoffMs: 100,
      maxBackoffMs: 1000,
      tables: needsToTables(needs),
      ...sslField(globals.ssl),
    });
  let client = newClient();
  let timer: NodeJS.Timeout | undefined;
  let timedOut: (() => void) | undefined;
  const timeout = new Promise<number>((resolve) => {
    timedOut = () => resolve(142);
    if (globals.timeoutSec > 0) {
      timer = setTimeout(() => {
        io.stderr(alarmLine());
        resolve(142);
      }, globals.timeoutSec * 1000);
    }
  });
  void timedOut;
  const work = (async (): Promise<number> => {
    await client.start();
    // The connection went (the leader changed, a member died): wait for the next one.
    const reconnected = (): Promise<void> =>
      new Promise((resolve, reject) => {
        if (client.isConnected) return resolve();
        const ok = (): void => {
          client.off('failed', bad);
          resolve();
        };
        const bad = (e: Error): void => {
          client.off('connected', ok);
          reject(e);
        };
        client.once('connected', ok);
        client.once('failed', bad);
      });
    for (;;) {
      const db = new WorkDb(client, client.schema, needs);
      const symbols = new Symbols();
      const ctxs: CmdContext[] = [];
      try {
        tool.prepare?.(db);
        for (const cmd of commands) {
          const ctx = new CmdContext(db, cmd, globals, symbols, tool);
          ctxs.push(ctx);
          await cmd.spec.run(ctx);
        }
        symbols.check();
      } catch (e) {
        if (e instanceof NeedData) {
          addNeed(needs, e, tool.companionColumns);
          if (process.env['OVNTS_CTL_DEBUG']) process.stderr.write(`${e.message}\n`);
          const old = client;
          client = newClient();
          await old.stop();
          await client.start();
          continue;
        }
        if (e instanceof TryAgain) {
          await new Promise<void>((resolve) => client.once('change', () => resolve()));
          continue;
        }
        if (e instanceof CtlError) {
          io.stderr(`${tool.program}: ${e.message}\n`);
          return 1;
        }
        throw e;
      }
      let nbCfg: number | undefined;
      if (db.dirty) {
        const ops = db.toOps();
        const selIndex = tool.extraOps?.(db, globals, ops);
        if (globals.dryRun) ops.push({ op: 'abort' });
        if (ops.length > 0) {
          let results: unknown[];
          try {
            results = await client.transact(ops);
          } catch (e) {
            // As the IDL answers TXN_TRY_AGAIN: recompute on the next member and retry.
            if (isTryAgain(e)) {
              await reconnected();
              continue;
            }
            io.stderr(`${tool.program}: transaction error: ${(e as Error).message}\n`);
            return 1;
          }
          const failed = results.find(
            (r) => r !== null && typeof r === 'object' && typeof (r as { error?: unknown }).error === 'string',
          ) as { error: string; details?: string } | undefined;
          if (failed !== undefined && !globals.dryRun) {
            if (failed.error === 'timed out') continue;
            const j =
              failed.details === undefined
                ? `{"error":${JSON.stringify(failed.error)}}`
                : `{"details":${JSON.stringify(failed.details)},"error":${JSON.stringify(failed.error)}}`;
            const ts = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
            io.stderr(`${ts}|00002|ovsdb_idl|WARN|transaction error: ${j}\n`);
            io.stderr(`${tool.program}: transaction error: ${j}\n`);
            return 1;
          }
          // Map temporary UUIDs of new rows to the UUIDs the server gave them.
          const realUuid = new Map<string, string>();
          for (let k = 0; k < ops.length; k++) {
            const op = ops[k] as { op?: string; 'uuid-name'?: string };
            if (op.op === 'insert' && typeof op['uuid-name'] === 'string') {
              const u = (results[k] as { uuid?: unknown } | undefined)?.uuid;
              if (Array.isArray(u) && typeof u[1] === 'string') realUuid.set(op['uuid-name'], u[1]);
            }
          }
          if (realUuid.size > 0) {
            for (const ctx of ctxs) {
              for (let k = 0; k < ctx.out.length; k++) {
                ctx.out[k] = (ctx.out[k] as string).replace(
                  /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
                  (u) => realUuid.get(WorkDb.uuidName(u)) ?? u,
                );
              }
            }
          }
          if (selIndex !== undefined) {
            const rows = (results[selIndex] as { rows?: Array<Record<string, unknown>> } | undefined)?.rows;
            const v = rows?.[0]?.['nb_cfg'];
            if (typeof v === 'number') nbCfg = v;
          }
        }
      }
      let text = '';
      for (const ctx of ctxs) {
        const s = ctx.out.join('');
        if (globals.oneline) {
          text += s.replace(/\n$/, '').replace(/\\/g, '\\\\').replace(/\n/g, '\\n') + '\n';
        } else text += s;
      }
      io.stdout(text);
      if (tool.afterCommit !== undefined && globals.wait !== 'none') await tool.afterCommit(client, globals, nbCfg);
      return 0;
    }
  })();
  try {
    return await Promise.race([work, timeout]);
  } catch (e) {
    if (e instanceof CtlError) {
      io.stderr(`${tool.program}: ${e.message}\n`);
      return 1;
    }
    if (e instanceof ConnectFailedError) {
      io.stderr(`${tool.program}: ${remotes}: database connection failed (${errnoSentence(e.code) ?? ''})\n`);
      return 1;
    }
    io.stderr(`${tool.program}: ${(e as Error).message}\n`);
    return 1;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    void client.stop();
  }
}

export { formatTable };
