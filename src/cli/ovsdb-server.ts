/**
 * `ovnts ovsdb-server`: serves database files over JSON-RPC, with the
 * command line of ovsdb-server(1) where its options apply.
 */
import { HostedDatabase } from '../ovsdb/hosted-database.js';
import { OvsdbServer } from '../ovsdb/server.js';
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
}

const PROG = 'ovsdb-server';

function usage(): string {
  return `${PROG}: OVSDB server (ovnts)
usage: ovnts ovsdb-server [OPTIONS] [DATABASE...]
  --remote=REMOTE     listen on REMOTE: punix:PATH or ptcp:PORT[:IP] (repeatable)
  --pidfile[=FILE]    write the process id to FILE
  --log-file[=FILE]   append log messages to FILE
  --detach            run in the background once ready
  -v, --verbose, -vjsonrpc:dbg   log every request received
  --no-chdir, --unixctl=PATH, other -v settings   accepted for compatibility
`;
}

function parseArgs(args: readonly string[]): Options | string {
  const o: Options = { ...defaultDaemonOptions(), databases: [], remotes: [], traceRequests: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('-')) {
      o.databases.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    let value: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
    const need = (): string => {
      if (value !== undefined) return value;
      const next = args[++i];
      if (next === undefined) throw new Error(`option '${name}' requires an argument`);
      return next;
    };
    // Log levels: request tracing is the one level that changes what the server does.
    if (/^(-v|--verbose)/.test(name) && (a === '-v' || a === '--verbose' || /jsonrpc:dbg/.test(a))) o.traceRequests = true;
    // The control socket (--unixctl) is accepted; nothing serves on it yet.
    if (parseDaemonOption(o, name, value, need, { program: PROG, rundir: '.', logdir: '.' })) continue;
    switch (name) {
      case '--remote':
        value = need();
        if (value.startsWith('db:')) throw new Error(`${value}: remotes from the database are not supported`);
        o.remotes.push(value);
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

export async function ovsdbServer(args: string[]): Promise<number> {
  const o = parseCommandLine(PROG, args, parseArgs);
  if (typeof o === 'number') return o;
  if (shouldDetach(o)) return detach(PROG, args);
  const logger = openDaemonLogger(PROG, { file: o.logFile, modules: ['ovsdb_server', 'jsonrpc'], verbose: o.verbose });
  if (logger === undefined) return 1;
  const log = logger.module('ovsdb_server');
  const dbs: HostedDatabase[] = [];
  try {
    for (const f of o.databases) dbs.push(await HostedDatabase.open(f, { log }));
  } catch (e) {
    process.stderr.write(`${PROG}: ${(e as Error).message}\n`);
    return 1;
  }
  const names = new Set<string>();
  for (const d of dbs) {
    if (names.has(d.name)) {
      process.stderr.write(`${PROG}: ${d.name}: duplicate database name\n`);
      return 1;
    }
    names.add(d.name);
  }
  const server = new OvsdbServer({ remotes: o.remotes, databases: dbs, log, traceRequests: o.traceRequests });
  try {
    await server.start();
  } catch (e) {
    process.stderr.write(`${PROG}: ${(e as Error).message}\n`);
    return 1;
  }
  log(`ovnts ovsdb-server serving ${[...names].join(', ')} on ${server.addresses.join(', ')}`);
  await notifyReady(logger, o.pidfile);
  return runUntilStopped({
    pidfile: o.pidfile,
    onSignal: undefined,
    stop: async () => {
      await server.stop();
      await logger.close();
    },
  }).done;
}
