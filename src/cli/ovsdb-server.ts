/**
 * `ovnts ovsdb-server`: serves database files over JSON-RPC, with the
 * command line of ovsdb-server(1) where its options apply.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync, unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { HostedDatabase } from '../ovsdb/hosted-database.js';
import { OvsdbServer } from '../ovsdb/server.js';

interface Options {
  databases: string[];
  remotes: string[];
  pidfile: string | undefined;
  logFile: string | undefined;
  detach: boolean;
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

function parseArgs(args: string[]): Options | string {
  const o: Options = { databases: [], remotes: [], pidfile: undefined, logFile: undefined, detach: false, traceRequests: false };
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
    switch (name) {
      case '--remote':
        value = need();
        if (value.startsWith('db:')) throw new Error(`${value}: remotes from the database are not supported`);
        o.remotes.push(value);
        break;
      case '--pidfile':
        o.pidfile = resolve(value ?? `${PROG}.pid`);
        break;
      case '--log-file':
        o.logFile = resolve(value ?? `${PROG}.log`);
        break;
      case '--detach':
        o.detach = true;
        break;
      case '--unixctl':
        need();
        break;
      case '--no-chdir':
      case '--monitor':
        break;
      case '-h':
      case '--help':
        return usage();
      default:
        // Log levels: request tracing is the one level that changes anything here.
        if (/^(-v|--verbose)/.test(name)) {
          if (a === '-v' || a === '--verbose' || /jsonrpc:dbg/.test(a)) o.traceRequests = true;
          break;
        }
        throw new Error(`unrecognized option '${a}'`);
    }
  }
  if (o.databases.length === 0) throw new Error('at least one database file is required');
  return o;
}

interface Logger {
  (msg: string): void;
  /** Stops writing to stderr (a detached daemon's stderr is its parent's, which is gone). */
  detachConsole(): void;
}

function logger(file: string | undefined): Logger {
  let seq = 0;
  let console = true;
  const log = ((msg: string) => {
    const line = `${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}|${String(++seq).padStart(5, '0')}|ovsdb_server|INFO|${msg}\n`;
    if (file !== undefined) appendFileSync(file, line);
    else if (console) process.stderr.write(line);
  }) as Logger;
  log.detachConsole = () => {
    console = false;
    process.stderr.on('error', () => {});
  };
  return log;
}

export async function ovsdbServer(args: string[]): Promise<number> {
  let o: Options | string;
  try {
    o = parseArgs(args);
  } catch (e) {
    process.stderr.write(`${PROG}: ${(e as Error).message}\n`);
    return 1;
  }
  if (typeof o === 'string') {
    process.stdout.write(o);
    return 0;
  }
  if (o.detach && process.send === undefined) return detach(args);
  const log = logger(o.logFile);
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
  if (o.pidfile !== undefined) writeFileSync(o.pidfile, `${process.pid}\n`);
  log(`ovnts ovsdb-server serving ${[...names].join(', ')} on ${server.addresses.join(', ')}`);
  if (process.send !== undefined) {
    process.send('ready');
    process.disconnect();
    log.detachConsole();
  }
  const pidfile = o.pidfile;
  return new Promise((done) => {
    const shutdown = (): void => {
      server.stop().then(
        () => {
          if (pidfile !== undefined) {
            try {
              unlinkSync(pidfile);
            } catch {
              // already gone
            }
          }
          done(0);
        },
        () => done(1),
      );
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
}

/**
 * --detach: starts a copy in the background and returns once it serves. The
 * copy's errors reach our stderr until then; after that it must not hold our
 * stdio open, or a caller waiting for our output would wait forever.
 */
function detach(args: string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1] as string, PROG, ...args], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
  return new Promise((done) => {
    child.once('message', () => {
      child.stderr?.destroy();
      child.unref();
      child.disconnect();
      done(0);
    });
    child.once('exit', (code) => done(code ?? 1));
  });
}
