/**
 * `ovnts ovsdb-server`: serves database files over JSON-RPC, with the
 * command line of ovsdb-server(1) where its options apply.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseSslOption, sslField, SSL_USAGE } from '../ovsdb/ssl-options.js';
import { DbSsl, hasDbSsl } from '../ovsdb/db-ssl.js';
import type { SslOptions } from '../ovsdb/remote.js';
import { HostedDatabase } from '../ovsdb/hosted-database.js';
import { OvsdbServer } from '../ovsdb/server.js';
import { DbRemotes, checkDbRemote, parseDbRemote } from '../ovsdb/db-remotes.js';
import { registerServerControl } from '../ovsdb/server-control.js';
import { UnixctlServer } from '../lib/unixctl.js';
import {
  openDaemonLogger,
  defaultDaemonOptions,
  detach,
  notifyReady,
  parseDaemonOption,
  runUntilStopped,
  shouldDetach,
  type DaemonOptions,
} from './daemon.js';
import { parseCommandLine } from './command-line.js';

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

function usage(): string {
  return `${PROG}: OVSDB server (ovnts)
usage: ovnts ovsdb-server [OPTIONS] [DATABASE...]
  --remote=REMOTE     listen on REMOTE: punix:PATH, ptcp:PORT[:IP], pssl:PORT[:IP],
                      or db:DB,TABLE,COLUMN
                      (remotes read from the database and followed as it changes; repeatable)
  --unixctl=SOCKET    control socket for ovs-appctl (default <rundir>/ovsdb-server.<pid>.ctl)
  --run=COMMAND       run COMMAND with /bin/sh, exit when it exits
  --pidfile[=FILE]    write the process id to FILE
  --log-file[=FILE]   append log messages to FILE
  --detach            run in the background once ready
  -v, --verbose, -vjsonrpc:dbg   log every request received
  --no-chdir, other -v settings   accepted for compatibility
${SSL_USAGE}  -p, -c and -C also take db:DB,TABLE,COLUMN: the file named there, followed as it changes
`;
}

function parseArgs(args: readonly string[]): Options | string {
  const o: Options = { ...defaultDaemonOptions(), databases: [], remotes: [], traceRequests: false, run: undefined, ssl: {} };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('-')) {
      o.databases.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const value: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
    const need = (): string => {
      if (value !== undefined) return value;
      const next = args[++i];
      if (next === undefined) throw new Error(`option '${name}' requires an argument`);
      return next;
    };
    // Log levels: request tracing is the one level that changes what the server does.
    if (/^(-v|--verbose)/.test(name) && (a === '-v' || a === '--verbose' || /jsonrpc:dbg/.test(a))) o.traceRequests = true;
    if (parseDaemonOption(o, name, value, need, { program: PROG, rundir: '.', logdir: '.' })) continue;
    if (parseSslOption(o.ssl, name, need)) continue;
    switch (name) {
      case '--remote':
        o.remotes.push(need());
        break;
      case '--run':
        o.run = need();
        break;
      case '-h':
      case '--help':
        return usage();
      default:
        throw new Error(`unrecognized option '${a}'`);
    }
  }
  if (o.databases.length === 0) throw new Error('at least one database file is required');
  return o;
}

/** OVS's default control socket: `$OVS_RUNDIR/ovsdb-server.PID.ctl`. */
function defaultControlPath(): string {
  return join(process.env['OVS_RUNDIR'] ?? '/var/run/openvswitch', `${PROG}.${process.pid}.ctl`);
}

export async function ovsdbServer(args: string[]): Promise<number> {
  const o = parseCommandLine(PROG, args, parseArgs);
  if (typeof o === 'number') return o;
  if (shouldDetach(o)) return detach(PROG, args);
  const logger = openDaemonLogger(PROG, { file: o.logFile, modules: ['ovsdb_server', 'jsonrpc'], verbose: o.verbose });
  if (logger === undefined) return 1;
  const log = logger.module('ovsdb_server');
  const openDatabase = (f: string): Promise<HostedDatabase> => HostedDatabase.open(f, { log, lockWarn: logger.module('lockfile') });
  const dbs: HostedDatabase[] = [];
  const fail = async (message: string): Promise<number> => {
    process.stderr.write(`${PROG}: ${message}\n`);
    await Promise.all(dbs.map((d) => d.close()));
    return 1;
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
  const server = new OvsdbServer({
    remotes: staticRemotes,
    databases: dbs,
    log,
    socketLog: logger.module('socket_util'),
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
    await dbRemotes.sync();
  } catch (e) {
    await server.stop();
    return fail((e as Error).message);
  }
  try {
    await ctl.start();
  } catch (e) {
    // Asked for a control socket it cannot make, the server refuses to run;
    // the default one's directory may simply not exist (no OVS installed).
    if (o.unixctl !== undefined) {
      await server.stop();
      return fail(`could not initialize control socket ${o.unixctl} (${(e as Error).message})`);
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
    stop: async () => {
      dbRemotes.stop();
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
