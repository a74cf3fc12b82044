/**
 * `ovnts ovsdb-server`: serves database files over JSON-RPC, with the
 * command line of ovsdb-server(1) where its options apply.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { sslField } from '../ovsdb/ssl-options.js';
import { DbSsl, hasDbSsl } from '../ovsdb/db-ssl.js';
import type { SslOptions } from '../ovsdb/remote.js';
import { HostedDatabase } from '../ovsdb/hosted-database.js';
import { OvsdbServer } from '../ovsdb/server.js';
import { DbRemotes, checkDbRemote, parseDbRemote } from '../ovsdb/db-remotes.js';
import { registerServerControl } from '../ovsdb/server-control.js';
import { UnixctlServer } from '../lib/unixctl.js';
import {
  openDaemonLogger,
  daemonMetricsScope,
  serveDaemonMetrics,
  defaultDaemonOptions,
  detach,
  notifyReady,
  daemonOptions,
  runUntilStopped,
  beginDaemon,
  punixPaths,
  shouldDetach,
  type DaemonOptions,
} from './daemon.js';
import { parseCommandLine, type CommandLine } from './command-line.js';
import { pkiOptions } from './pki-options.js';
import { bindErrnoText } from '../lib/errno-text.js';

interface Options extends DaemonOptions {
  databases: string[];
  remotes: string[];
  /** -vjsonrpc:dbg or --verbose: log every request. */
  traceRequests: boolean;
  /** --run: a shell command; the server exits when it does. */
  run: string | undefined;
  /** -p/-c/-C...: keys and certificates for pssl: remotes. */
  ssl: SslOptions;
}

const PROG = 'ovsdb-server';

export const OVSDB_SERVER_COMMAND_LINE: CommandLine<Options> = {
  program: PROG,
  summary: 'OVSDB server (ovnts)',
  usage: ['ovnts ovsdb-server [OPTIONS] DATABASE...'],
  description: 'where each DATABASE is a database file in ovsdb format (ovnts ovsdb-tool create).',
  options: [
    {
      name: 'remote',
      arg: 'required',
      metavar: 'REMOTE',
      help: 'listen on REMOTE: punix:PATH, ptcp:PORT[:IP], pssl:PORT[:IP],\nor db:DB,TABLE,COLUMN (remotes read from the database\nand followed as it changes); repeatable',
      set: (o, v) => void o.remotes.push(v ?? ''),
    },
    {
      name: 'run',
      arg: 'required',
      metavar: 'COMMAND',
      help: 'run COMMAND with /bin/sh, exit when it exits',
      set: (o, v) => void (o.run = v),
    },
    ...daemonOptions<Options>({ program: PROG, rundir: '.', logdir: '.' }, '$OVS_RUNDIR/ovsdb-server.PID.ctl'),
    ...pkiOptions<Options>(),
  ],
  defaults: () => ({ ...defaultDaemonOptions(), databases: [], remotes: [], traceRequests: false, run: undefined, ssl: {} }),
  finish: (o, args) => {
    if (args.length === 0) throw new Error('at least one database file is required');
    // Log levels: request tracing is the one level that changes what the server does.
    const traceRequests = o.verbose.some((spec) => spec === '' || /jsonrpc:dbg/.test(spec));
    return { ...o, databases: [...args], traceRequests };
  },
};

/** OVS's default control socket: `$OVS_RUNDIR/ovsdb-server.PID.ctl`. */
function defaultControlPath(): string {
  return join(process.env['OVS_RUNDIR'] ?? '/var/run/openvswitch', `${PROG}.${process.pid}.ctl`);
}

export async function ovsdbServer(args: string[]): Promise<number> {
  const line = parseCommandLine(OVSDB_SERVER_COMMAND_LINE, args);
  if (typeof line === 'number') return line;
  const o = line.options;
  if (shouldDetach(o)) return detach(PROG, args);
  const logger = openDaemonLogger(PROG, { file: o.logFile, modules: ['ovsdb_server', 'jsonrpc', 'stream_ssl'], verbose: o.verbose });
  if (logger === undefined) return 1;
  const run = beginDaemon(PROG, o.pidfile);
  if (typeof run === 'number') return run;
  const log = logger.module('ovsdb_server');
  const openDatabase = (f: string): Promise<HostedDatabase> => HostedDatabase.open(f, { log, lockWarn: logger.module('lockfile') });
  const dbs: HostedDatabase[] = [];
  const fail = async (message: string): Promise<number> => {
    await Promise.all(dbs.map((d) => d.close()));
    return run.fail(message);
  };
  try {
    for (const f of o.databases) dbs.push(await openDatabase(f));
  } catch (e) {
    return fail((e as Error).message);
  }
  const names = new Set<string>();
  for (const d of dbs) {
    if (names.has(d.name)) return fail(`${d.name}: duplicate database name`);
    names.add(d.name);
  }
  const staticRemotes = o.remotes.filter((r) => parseDbRemote(r) === undefined);
  const metrics = daemonMetricsScope(o);
  let stopMetrics = (): Promise<void> => Promise.resolve();
  const server = new OvsdbServer({
    ...(metrics === undefined ? {} : { metrics }),
    remotes: staticRemotes,
    databases: dbs,
    log,
    socketLog: logger.module('socket_util'),
    sslLog: logger.module('stream_ssl').err,
    traceRequests: o.traceRequests,
    // Settings read from a database are asked for whenever a listener starts.
    ...(hasDbSsl(o.ssl) ? { ssl: () => dbSsl?.current() ?? {} } : sslField(o.ssl)),
  });
  let dbSsl: DbSsl | undefined;
  try {
    if (hasDbSsl(o.ssl)) dbSsl = new DbSsl(server, o.ssl);
  } catch (e) {
    return fail((e as Error).message);
  }
  const dbRemotes = new DbRemotes(server, log);
  const ctl = new UnixctlServer({ path: o.unixctl ?? defaultControlPath(), log: logger.module('unixctl') });
  try {
    for (const r of o.remotes) {
      const ref = parseDbRemote(r);
      if (ref === undefined) continue;
      checkDbRemote(server, r, ref);
      dbRemotes.add(r, ref);
    }
    await server.start();
    for (const p of punixPaths(staticRemotes)) run.removeOnExit(p);
    await dbRemotes.sync();
    stopMetrics = await serveDaemonMetrics(o, metrics, log);
  } catch (e) {
    await server.stop();
    return fail((e as Error).message);
  }
  try {
    await ctl.start();
    run.removeOnExit(ctl.path);
  } catch (e) {
    // Asked for a control socket it cannot make, the server refuses to run;
    // the default one's directory may simply not exist (no OVS installed).
    if (o.unixctl !== undefined) {
      await server.stop();
      return fail(`${o.unixctl}: could not initialize control socket (${bindErrnoText(e, o.unixctl)})`);
    }
    log(`${ctl.path}: no control socket (${(e as Error).message})`);
  }
  let exit: () => void = () => undefined;
  registerServerControl(ctl, { server, dbRemotes, remotes: new Set(o.remotes), openDatabase, exit: () => exit(), log });
  log(`ovnts ovsdb-server serving ${[...names].join(', ')} on ${server.addresses.join(', ')}`);
  await notifyReady(logger, o.pidfile);
  let status = 0;
  const life = runUntilStopped({
    pidfile: o.pidfile,
    onSignal: undefined,
    run,
    stop: async () => {
      dbRemotes.stop();
      await stopMetrics();
      dbSsl?.stop();
      await ctl.stop();
      await server.stop();
      await logger.close();
    },
  });
  exit = () => void life.exit(undefined);
  if (o.run !== undefined) {
    const command = o.run;
    // --run: the server lives as long as the command; a failure is reported as ovsdb-server does.
    const child = spawn('/bin/sh', ['-c', command], { stdio: 'inherit' });
    child.once('exit', (code, signal) => {
      if (code !== 0) {
        status = 1;
        process.stderr.write(`${PROG}: ${command}: child ${signal !== null ? `died, signal ${signal}` : `exited, exit status ${code}`}\n`);
      }
      exit();
    });
  }
  const code = await life.done;
  return code !== 0 ? code : status;
}
