/**
 * `ovnts controller`: the per-host daemon, with the command line of
 * ovn-controller(8): `ovnts controller [unix:OVS-DB-SOCK] [--pidfile[=FILE]]
 * [--log-file[=FILE]] [--detach]`. The Open vSwitch database defaults to
 * `unix:$OVS_RUNDIR/db.sock`.
 */
import { parseSslOption, sslField, SSL_USAGE } from './ssl-options.js';
import type { SslOptions } from '../ovsdb/remote.js';
import { createController, ovsRunDir, type Controller, type FlowPipeline } from '../controller/controller.js';
import { UnixctlServer } from '../lib/unixctl.js';
import { createOfctlPipeline, type ComputeFlows } from '../controller/pipeline.js';
import {
  createDaemonLogger,
  defaultDaemonOptions,
  defaultUnixctlPath,
  detach,
  notifyReady,
  parseDaemonOption,
  runUntilStopped,
  shouldDetach,
  writePidfile,
  type DaemonOptions,
} from './daemon.js';
import { parseCommandLine } from './command-line.js';

const VERSION = '0.1.0';

const PROG = 'ovn-controller';

interface Options extends DaemonOptions {
  ovsRemote: string;
  ssl: SslOptions;
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
${SSL_USAGE}`;
}

function parseArgs(args: readonly string[]): Options | string {
  const o: Options = { ...defaultDaemonOptions(), ovsRemote: `unix:${ovsRunDir()}/db.sock`, ssl: {} };
  const defaults = { program: PROG, rundir: process.env['OVN_RUNDIR'] ?? '.', logdir: process.env['OVN_LOGDIR'] ?? '.' };
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
    const next = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`option '${name}' requires an argument`);
      return v;
    };
    if (parseDaemonOption(o, name, value, next, defaults)) continue;
    if (parseSslOption(o.ssl, name, () => value ?? next())) continue;
    switch (name) {
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

/**
 * The flow pipeline: ofctrl over the bridge with the lflow → OpenFlow
 * translation as its flow computation, once this build has that translation
 * (src/controller/physical.ts, loaded lazily so the OVSDB side runs without it).
 */
export async function loadPipeline(log: (m: string) => void): Promise<FlowPipeline | undefined> {
  try {
    // A variable specifier: the translation module is optional in a build.
    const specifier = '../controller/physical.js';
    const physical = (await import(specifier)) as { createFlowComputer?: (o: { log?: (m: string) => void }) => { compute: ComputeFlows } };
    if (physical.createFlowComputer === undefined) throw new Error('no createFlowComputer export');
    // Incremental: each pass redoes only what changed (`recompute` starts it from scratch).
    return createOfctlPipeline({ compute: physical.createFlowComputer({ log }).compute, log });
  } catch (e) {
    log(`no flow translation in this build (${(e as Error).message}): ports are bound but not reported up`);
    return undefined;
  }
}

export async function controller(args: string[]): Promise<number> {
  const o = parseCommandLine(PROG, args, parseArgs);
  if (typeof o === 'number') return o;
  if (shouldDetach(o)) return detach('controller', args);
  const logger = createDaemonLogger({ file: o.logFile });
  const log = logger.module('ovn_controller');
  const pipeline = await loadPipeline(log);
  const c = createController({ ovsRemote: o.ovsRemote, log, ...(pipeline === undefined ? {} : { pipeline }), ...sslField(o.ssl) });
  try {
    await c.start();
  } catch (e) {
    process.stderr.write(`${PROG}: ${(e as Error).message}\n`);
    return 1;
  }
  const ctl = new UnixctlServer({ path: o.unixctl ?? defaultUnixctlPath(PROG), log });
  // A signal stops without cleanup: the chassis stays registered for the restart.
  const life = runUntilStopped({
    pidfile: o.pidfile,
    onSignal: false,
    stop: async (cleanup: boolean) => {
      await c.stop(cleanup);
      await ctl.stop();
    },
  });
  registerCommands(ctl, c, (cleanup) => void life.exit(cleanup));
  try {
    await ctl.start();
  } catch (e) {
    log(`could not listen on the control socket ${ctl.path}: ${(e as Error).message}`);
  }
  writePidfile(o.pidfile);
  log(`ovnts controller started (OVS database ${o.ovsRemote})`);
  notifyReady(logger);
  return life.done;
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
  // Replies once the flows computed from scratch are installed (a barrier for tests).
  ctl.register('recompute', '', 0, 0, async () => {
    await c.recompute();
    return '';
  });
  ctl.register('ct-zone-list', '', 0, 0, () =>
    [...(c.facts?.ctZones ?? new Map<string, number>())].map(([name, zone]) => `${name} ${zone}\n`).join(''),
  );
}
