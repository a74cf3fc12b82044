/**
 * `ovnts controller`: the per-host daemon, with the command line of
 * ovn-controller(8): `ovnts controller [unix:OVS-DB-SOCK] [--pidfile[=FILE]]
 * [--log-file[=FILE]] [--detach]`. The Open vSwitch database defaults to
 * `unix:$OVS_RUNDIR/db.sock`.
 */
import { parseSslOption, sslField, SSL_USAGE } from '../ovsdb/ssl-options.js';
import type { SslOptions } from '../ovsdb/remote.js';
import { createController, ovsRunDir, type Controller } from '../controller/controller.js';
import { UnixctlServer } from '../lib/unixctl.js';
import { createFlowPipeline } from '../controller/flow-pipeline.js';
import {
  openDaemonLogger,
  registerVlogCommands,
  defaultDaemonOptions,
  defaultUnixctlPath,
  detach,
  notifyReady,
  parseDaemonOption,
  runUntilStopped,
  beginDaemon,
  startControlSocket,
  shouldDetach,
  type DaemonOptions,
} from './daemon.js';
import { parseCommandLine } from './command-line.js';
import { registerControllerCommands } from './appctl-commands.js';

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
        throw new Error(`unrecognized option '${a}'`);
    }
  }
  return o;
}

export async function controller(args: string[]): Promise<number> {
  const o = parseCommandLine(PROG, args, parseArgs);
  if (typeof o === 'number') return o;
  if (shouldDetach(o)) return detach('controller', args);
  const logger = openDaemonLogger(PROG, { file: o.logFile, modules: ['ovn_controller', 'unixctl'], verbose: o.verbose });
  if (logger === undefined) return 1;
  const run = beginDaemon(PROG, o.pidfile);
  if (typeof run === 'number') return run;
  const log = logger.module('ovn_controller');
  const c = createController({ ovsRemote: o.ovsRemote, log, pipeline: createFlowPipeline(log), ...sslField(o.ssl) });
  const ctl = new UnixctlServer({ path: o.unixctl ?? defaultUnixctlPath(PROG), log });
  // A signal stops without cleanup: the chassis stays registered for the restart.
  const life = runUntilStopped({
    pidfile: o.pidfile,
    onSignal: false,
    run,
    stop: async (cleanup: boolean) => {
      await c.stop(cleanup);
      await ctl.stop();
      await logger.close();
    },
  });
  registerCommands(ctl, c, (cleanup) => void life.exit(cleanup));
  registerVlogCommands(ctl, logger);
  // The control socket first, as ovn-controller makes it: a bad run directory fails at once, not after OVS answers.
  try {
    await startControlSocket(run, ctl);
    await c.start();
  } catch (e) {
    await c.stop(false).catch(() => undefined);
    await ctl.stop();
    return run.fail(e);
  }
  log(`ovnts controller started (OVS database ${o.ovsRemote})`);
  await notifyReady(logger, o.pidfile);
  return life.done;
}

/** The ovn-appctl commands of ovn-controller(8) that apply here. */
function registerCommands(ctl: UnixctlServer, c: Controller, exit: (cleanup: boolean) => void): void {
  ctl.register('exit', '', 0, 1, (args) => {
    // Reply first: the process goes away once the cleanup is done.
    setImmediate(() => exit(args[0] !== '--restart'));
    return '';
  });
  ctl.register('version', '', 0, 0, () => `${PROG} (ovnts) ${VERSION}\n`);
  registerControllerCommands(ctl, c);
}
