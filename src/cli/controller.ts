/**
 * `ovnts controller`: the per-host daemon, with the command line of
 * ovn-controller(8): `ovnts controller [unix:OVS-DB-SOCK] [--pidfile[=FILE]]
 * [--log-file[=FILE]] [--detach]`. The Open vSwitch database defaults to
 * `unix:$OVS_RUNDIR/db.sock`.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createController, ovsRunDir, type Controller, type FlowPipeline } from '../controller/controller.js';
import { UnixctlServer } from '../controller/unixctl.js';
import { createOfctlPipeline, type ComputeFlows } from '../controller/pipeline.js';

const VERSION = '0.1.0';

const PROG = 'ovn-controller';

interface Options {
  ovsRemote: string;
  unixctl: string | undefined;
  pidfile: string | undefined;
  logFile: string | undefined;
  detach: boolean;
}

function usage(): string {
  return `${PROG}: OVN controller (ovnts)
usage: ovnts controller [OPTIONS] [OVS-DATABASE]
where OVS-DATABASE is a socket on which the OVS OVSDB server is listening
(default: "unix:${ovsRunDir()}/db.sock").
  --pidfile[=FILE]    write the process id to FILE
  --log-file[=FILE]   append log messages to FILE
  --detach            run in the background once started
  --unixctl=SOCKET    control socket for ovn-appctl (default: $OVN_RUNDIR/ovn-controller.PID.ctl)
  --no-chdir, --monitor, -v...   accepted for compatibility
`;
}

function parseArgs(args: string[]): Options | string {
  const o: Options = { ovsRemote: `unix:${ovsRunDir()}/db.sock`, unixctl: undefined, pidfile: undefined, logFile: undefined, detach: false };
  let positional = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('-')) {
      if (positional++ > 0) throw new Error('exactly zero or one non-option argument required; use --help for usage');
      o.ovsRemote = a;
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const value: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
    switch (name) {
      case '--pidfile':
        o.pidfile = resolve(value ?? `${process.env['OVN_RUNDIR'] ?? '.'}/${PROG}.pid`);
        break;
      case '--log-file':
        o.logFile = resolve(value ?? `${process.env['OVN_LOGDIR'] ?? '.'}/${PROG}.log`);
        break;
      case '--detach':
        o.detach = true;
        break;
      case '--unixctl': {
        const v = value ?? args[++i];
        if (v === undefined) throw new Error(`option '${name}' requires an argument`);
        o.unixctl = resolve(v);
        break;
      }
      case '--no-chdir':
      case '--monitor':
      case '--overwrite-pidfile':
        break;
      case '-h':
      case '--help':
        return usage();
      default:
        if (/^(-v|--verbose)/.test(name)) break;
        throw new Error(`unrecognized option '${a}'`);
    }
  }
  return o;
}

interface Logger {
  (msg: string): void;
  detachConsole(): void;
}

function logger(file: string | undefined): Logger {
  let seq = 0;
  let console = true;
  const log = ((msg: string) => {
    const line = `${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}|${String(++seq).padStart(5, '0')}|ovn_controller|INFO|${msg}\n`;
    if (file !== undefined) appendFileSync(file, line);
    else if (console) process.stderr.write(line);
  }) as Logger;
  log.detachConsole = () => {
    console = false;
    process.stderr.on('error', () => {});
  };
  return log;
}

/**
 * The flow pipeline: ofctrl over the bridge with the lflow → OpenFlow
 * translation as its flow computation, once this build has that translation
 * (src/controller/physical.ts, loaded lazily so the OVSDB side runs without it).
 */
export async function loadPipeline(log: (m: string) => void): Promise<FlowPipeline | undefined> {
  try {
    // A variable specifier: the translation module is optional in a build.
    const specifier = '../controller/physical.js';
    const physical = (await import(specifier)) as { computeTextFlows?: ComputeFlows };
    if (physical.computeTextFlows === undefined) throw new Error('no computeTextFlows export');
    return createOfctlPipeline({ compute: physical.computeTextFlows, log });
  } catch (e) {
    log(`no flow translation in this build (${(e as Error).message}): ports are bound but not reported up`);
    return undefined;
  }
}

export async function controller(args: string[]): Promise<number> {
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
  const pipeline = await loadPipeline(log);
  const c = createController({ ovsRemote: o.ovsRemote, log, ...(pipeline === undefined ? {} : { pipeline }) });
  try {
    await c.start();
  } catch (e) {
    process.stderr.write(`${PROG}: ${(e as Error).message}\n`);
    return 1;
  }
  let stopping: Promise<void> | undefined;
  let finish: (code: number) => void = () => undefined;
  const shutdown = (cleanup: boolean): Promise<void> => {
    stopping ??= (async () => {
      try {
        await c.stop(cleanup);
        await ctl.stop();
        finish(0);
      } catch {
        finish(1);
      }
    })();
    return stopping;
  };
  const ctl = new UnixctlServer({ path: o.unixctl ?? join(process.env['OVN_RUNDIR'] ?? '/var/run/ovn', `${PROG}.${process.pid}.ctl`), log });
  registerCommands(ctl, c, (cleanup) => void shutdown(cleanup));
  try {
    await ctl.start();
  } catch (e) {
    log(`could not listen on the control socket ${ctl.path}: ${(e as Error).message}`);
  }
  if (o.pidfile !== undefined) writeFileSync(o.pidfile, `${process.pid}\n`);
  log(`ovnts controller started (OVS database ${o.ovsRemote})`);
  if (process.send !== undefined) {
    process.send('ready');
    process.disconnect();
    log.detachConsole();
  }
  const pidfile = o.pidfile;
  return new Promise((done) => {
    finish = (code) => {
      if (pidfile !== undefined) {
        try {
          unlinkSync(pidfile);
        } catch {
          // already gone
        }
      }
      done(code);
    };
    // A signal stops without cleanup: the chassis stays registered for the restart.
    process.once('SIGTERM', () => void shutdown(false));
    process.once('SIGINT', () => void shutdown(false));
  });
}

/** The ovn-appctl commands of ovn-controller(8) that apply here. */
function registerCommands(ctl: UnixctlServer, c: Controller, exit: (cleanup: boolean) => void): void {
  ctl.register('exit', '', 0, 1, (args) => {
    // Reply first: the process goes away once the cleanup is done.
    setImmediate(() => exit(args[0] !== '--restart'));
    return '';
  });
  ctl.register('connection-status', '', 0, 0, () => (c.sbConnected ? 'connected\n' : 'not connected\n'));
  ctl.register('version', '', 0, 0, () => `${PROG} (ovnts) ${VERSION}\n`);
  ctl.register('recompute', '', 0, 0, () => {
    c.schedule();
    return '';
  });
  ctl.register('ct-zone-list', '', 0, 0, () =>
    [...(c.facts?.ctZones ?? new Map<string, number>())].map(([name, zone]) => `${name} ${zone}\n`).join(''),
  );
}

/** --detach: a background copy; returns once it has connected to the OVS database. */
function detach(args: string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1] as string, 'controller', ...args], {
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
