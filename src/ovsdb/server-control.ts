/**
 * ovsdb-server's control commands (ovsdb-server(1) "Runtime Management
 * Commands"), served on its unixctl socket for `ovs-appctl -t`: exit,
 * ovsdb-server/compact, add-db, remove-db, list-dbs, add-remote,
 * remove-remote, list-remotes, sync-status, memory/show and vlog/set, with
 * the real server's replies and error texts.
 */
import type { UnixctlServer } from '../lib/unixctl.js';
import type { OvsdbServer } from './server.js';
import type { HostedDatabase } from './hosted-database.js';
import { checkDbRemote, parseDbRemote, type DbRemotes } from './db-remotes.js';

export interface ServerControlDeps {
  readonly server: OvsdbServer;
  readonly dbRemotes: DbRemotes;
  /** The remotes as configured (--remote and add-remote), db: ones included. */
  readonly remotes: Set<string>;
  /** Opens a database file to serve (add-db). */
  openDatabase(path: string): Promise<HostedDatabase>;
  /** Stops the daemon (exit). */
  exit(): void;
  log(msg: string): void;
}

const VLOG_DESTINATIONS = ['console', 'syslog', 'file', 'any'];
const VLOG_LEVELS = ['off', 'emer', 'err', 'warn', 'info', 'dbg'];
/** The vlog modules an ovsdb-server has (vlog/list). */
const VLOG_MODULES = [
  'ovsdb_server',
  'ovsdb',
  'ovsdb_error',
  'ovsdb_jsonrpc_server',
  'ovsdb_log',
  'ovsdb_file',
  'ovsdb_trigger',
  'jsonrpc',
  'reconnect',
  'socket_util',
  'stream',
  'stream_unix',
  'stream_tcp',
  'stream_ssl',
  'unixctl',
  'vlog',
  'lockfile',
  'daemon_unix',
  'poll_loop',
  'timeval',
  'memory',
  'fatal_signal',
  'replication',
  'raft',
  'storage',
  'transaction',
  'monitor',
];

/** Applies `vlog/set SPEC...`: only request tracing (jsonrpc at dbg) changes what ovnts logs. */
function vlogSet(server: OvsdbServer, args: readonly string[]): string {
  for (const spec of args) {
    // PATTERN:destination:pattern sets a line format; accepted as is.
    if (/^pattern:/i.test(spec)) continue;
    let level: string | undefined;
    let module: string | undefined;
    for (const w of spec.split(/[:\s]+/).filter((x) => x !== '')) {
      const word = w.toLowerCase();
      if (VLOG_LEVELS.includes(word)) level = word;
      else if (VLOG_DESTINATIONS.includes(word)) continue;
      else if (VLOG_MODULES.includes(word)) module = word;
      else throw new Error(`no destination, level, or module "${w}"`);
    }
    if (level !== undefined && (module === undefined || module === 'jsonrpc')) server.traceRequests = level === 'dbg';
  }
  return '';
}

export function registerServerControl(ctl: UnixctlServer, deps: ServerControlDeps): void {
  const { server } = deps;
  ctl.register('exit', '', 0, 0, () => {
    setImmediate(() => deps.exit());
    return '';
  });
  ctl.register('ovsdb-server/list-dbs', '', 0, 0, () => server.databaseNames.map((n) => `${n}\n`).join(''));
  ctl.register('ovsdb-server/compact', '', 0, Infinity, async (args) => {
    const names = args.length > 0 ? args : server.databaseNames;
    const dbs = names.map((n) => {
      const d = server.database(n);
      if (d === undefined) throw new Error('no database by that name');
      return d;
    });
    for (const d of dbs) await d.compact();
    return '';
  });
  ctl.register('ovsdb-server/add-db', 'DB', 1, 1, async ([path]) => {
    const d = await deps.openDatabase(path as string);
    try {
      server.addDatabase(d);
    } catch (e) {
      await d.close();
      throw e;
    }
    await deps.dbRemotes.sync();
    return '';
  });
  ctl.register('ovsdb-server/remove-db', 'DB', 1, 1, async ([name]) => {
    if (name === '_Server' || !(await server.removeDatabase(name as string))) throw new Error('Failed to find the database.');
    await deps.dbRemotes.sync();
    return '';
  });
  ctl.register('ovsdb-server/add-remote', 'REMOTE', 1, 1, async ([remote]) => {
    const r = remote as string;
    const ref = parseDbRemote(r);
    if (ref !== undefined) {
      checkDbRemote(server, r, ref);
      deps.remotes.add(r);
      deps.dbRemotes.add(r, ref);
      await deps.dbRemotes.sync();
      return '';
    }
    deps.remotes.add(r);
    // As ovsdb-server: a remote that cannot be served is kept in the list and logged.
    await server.addRemote(r).catch((e: unknown) => deps.log(`${r}: ${(e as Error).message}`));
    return '';
  });
  ctl.register('ovsdb-server/remove-remote', 'REMOTE', 1, 1, async ([remote]) => {
    const r = remote as string;
    if (!deps.remotes.delete(r)) throw new Error('no such remote');
    if (parseDbRemote(r) !== undefined) {
      deps.dbRemotes.remove(r);
      await deps.dbRemotes.sync();
    } else {
      server.removeRemote(r);
    }
    return '';
  });
  ctl.register('ovsdb-server/list-remotes', '', 0, 0, () =>
    [...deps.remotes]
      .sort()
      .map((r) => `${r}\n`)
      .join(''),
  );
  ctl.register('ovsdb-server/sync-status', '', 0, 0, () => 'state: active\n');
  ctl.register('memory/show', '', 0, 0, () => {
    const stats = server.memoryStats();
    return `${Object.entries(stats)
      .map(([k, v]) => `${k}:${v}`)
      .join(' ')}\n`;
  });
  ctl.register('vlog/set', '{spec | PATTERN:destination:pattern}', 0, Infinity, (args) => vlogSet(server, args));
}
