/**
 * `ovnts controller`: the per-host daemon, with the command line of
 * ovn-controller(8): `ovnts controller [unix:OVS-DB-SOCK] [--pidfile[=FILE]]
 * [--log-file[=FILE]] [--detach]`. The Open vSwitch database defaults to
 * `unix:$OVS_RUNDIR/db.sock`.
 */
import { sslField } from '../ovsdb/ssl-options.js';
import type { SslOptions } from '../ovsdb/remote.js';
import { createController, ovsRunDir, type Controller } from '../controller/controller.js';
import { UnixctlServer } from '../lib/unixctl.js';
import { createFlowPipeline } from '../controller/flow-pipeline.js';
import {
  openDaemonLogger,
  daemonMetricsScope,
  serveDaemonMetrics,
  registerVlogCommands,
  defaultDaemonOptions,
  defaultUnixctlPath,
  detach,
  notifyReady,
  daemonOptions,
  ovnDaemonDefaults,
  runUntilStopped,
  beginDaemon,
  startControlSocket,
  shouldDetach,
  type DaemonOptions,
} from './daemon.js';
import { parseCommandLine, type CommandLine } from './command-line.js';
import { pkiOptions } from './pki-options.js';
import { registerControllerCommands } from './appctl-commands.js';
import { versionText } from './version.js';

const PROG = 'ovn-controller';

interface Options extends DaemonOptions {
  ovsRemote: string;
  ssl: SslOptions;
}

export const CONTROLLER_COMMAND_LINE: CommandLine<Options> = {
  program: PROG,
  summary: 'OVN controller (ovnts)',
  usage: ['ovnts controller [OPTIONS] [OVS-DATABASE]'],
  description: `where OVS-DATABASE is a socket on which the OVS OVSDB server is listening
(default: "unix:$OVS_RUNDIR/db.sock").`,
  options: [...daemonOptions<Options>(ovnDaemonDefaults(PROG), '$OVN_RUNDIR/ovn-controller.PID.ctl'), ...pkiOptions<Options>()],
  defaults: () => ({ ...defaultDaemonOptions(), ovsRemote: `unix:${ovsRunDir()}/db.sock`, ssl: {} }),
  finish: (o, args) => {
    if (args.length > 1) throw new Error('exactly zero or one non-option argument required; use --help for usage');
    return args[0] === undefined ? o : { ...o, ovsRemote: args[0] };
  },
};

export async function controller(args: string[]): Promise<number> {
  const line = parseCommandLine(CONTROLLER_COMMAND_LINE, args);
  if (typeof line === 'number') return line;
  const o = line.options;
  if (shouldDetach(o)) return detach('controller', args);
  const logger = openDaemonLogger(PROG, { file: o.logFile, modules: ['ovn_controller', 'unixctl'], verbose: o.verbose });
  if (logger === undefined) return 1;
  const run = beginDaemon(PROG, o.pidfile);
  if (typeof run === 'number') return run;
  const log = logger.module('ovn_controller');
  const metrics = daemonMetricsScope(o);
  const c = createController({ ovsRemote: o.ovsRemote, log, pipeline: createFlowPipeline(log, metrics), ...sslField(o.ssl) });
  let stopMetrics = (): Promise<void> => Promise.resolve();
  const ctl = new UnixctlServer({ path: o.unixctl ?? defaultUnixctlPath(PROG), log });
  // A signal stops without cleanup: the chassis stays registered for the restart.
  const life = runUntilStopped({
    pidfile: o.pidfile,
    onSignal: false,
    run,
    stop: async (cleanup: boolean) => {
      await stopMetrics();
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
    stopMetrics = await serveDaemonMetrics(o, metrics, log);
    await c.start();
  } catch (e) {
    await c.stop(false).catch(() => undefined);
    await ctl.stop();
    await stopMetrics();
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
  ctl.register('version', '', 0, 0, () => versionText(PROG));
  registerControllerCommands(ctl, c);
}
