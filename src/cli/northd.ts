/**
 * `ovnts northd`: the NB → SB translator with ovn-northd(8)'s command line:
 * `--ovnnb-db=DATABASE --ovnsb-db=DATABASE [--pidfile[=FILE]] [--log-file[=FILE]]
 * [--unixctl=SOCKET]`, the databases defaulting to `$OVN_NB_DB`/`$OVN_SB_DB` and
 * then OVN's default sockets. `ovn-appctl -t SOCKET status` answers
 * "Status: active" or "Status: standby" as ovn-northd does.
 */
import { sslField } from '../ovsdb/ssl-options.js';
import type { SslOptions } from '../ovsdb/remote.js';
import { createNorthd } from '../northd/northd.js';
import { UnixctlServer } from '../lib/unixctl.js';
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
import { ovnnbDbOption, ovnsbDbOption } from './db-options.js';
import { pkiOptions } from './pki-options.js';
import { registerNorthdCommands } from './appctl-commands.js';

const PROG = 'ovn-northd';

interface Options extends DaemonOptions {
  nb: string;
  sb: string;
  ssl: SslOptions;
}

export const NORTHD_COMMAND_LINE: CommandLine<Options> = {
  program: PROG,
  summary: 'OVN northbound management daemon (ovnts)',
  usage: ['ovnts northd [OPTIONS]'],
  description: 'Translates the OVN_Northbound database into logical flows in OVN_Southbound.',
  options: [
    ovnnbDbOption<Options>(),
    ovnsbDbOption<Options>(),
    ...daemonOptions<Options>(ovnDaemonDefaults(PROG), '$OVN_RUNDIR/ovn-northd.PID.ctl'),
    ...pkiOptions<Options>(),
  ],
  defaults: () => ({
    ...defaultDaemonOptions(),
    nb: process.env['OVN_NB_DB'] ?? 'unix:/var/run/ovn/ovnnb_db.sock',
    sb: process.env['OVN_SB_DB'] ?? 'unix:/var/run/ovn/ovnsb_db.sock',
    ssl: {},
  }),
  finish: (o, args) => {
    if (args.length > 0) throw new Error('non-option arguments not supported with ovn-northd; use --help for usage');
    return o;
  },
};

export async function northd(args: string[]): Promise<number> {
  const line = parseCommandLine(NORTHD_COMMAND_LINE, args);
  if (typeof line === 'number') return line;
  const o = line.options;
  if (shouldDetach(o)) return detach('northd', args);
  const logger = openDaemonLogger(PROG, { file: o.logFile, modules: ['northd', 'unixctl'], verbose: o.verbose });
  if (logger === undefined) return 1;
  const run = beginDaemon(PROG, o.pidfile);
  if (typeof run === 'number') return run;
  const log = logger.module('northd');
  const metrics = daemonMetricsScope(o);
  const n = createNorthd({ nbRemote: o.nb, sbRemote: o.sb, log, ...sslField(o.ssl), ...(metrics === undefined ? {} : { metrics }) });
  const ctl = new UnixctlServer({ path: o.unixctl ?? defaultUnixctlPath(PROG), log });
  let exit: () => void = () => undefined;
  registerNorthdCommands(ctl, n);
  registerVlogCommands(ctl, logger);
  ctl.register('exit', '', 0, 0, () => {
    setImmediate(() => exit());
    return '';
  });
  let stopMetrics = (): Promise<void> => Promise.resolve();
  try {
    await startControlSocket(run, ctl);
    stopMetrics = await serveDaemonMetrics(o, metrics, log);
    await n.start();
  } catch (e) {
    await n.stop().catch(() => undefined);
    await ctl.stop();
    await stopMetrics();
    return run.fail(e);
  }
  log(`ovnts northd started (NB ${o.nb}, SB ${o.sb})`);
  await notifyReady(logger, o.pidfile);
  const life = runUntilStopped({
    pidfile: o.pidfile,
    onSignal: undefined,
    run,
    stop: async () => {
      await stopMetrics();
      await n.stop();
      await ctl.stop();
      await logger.close();
    },
  });
  exit = () => void life.exit(undefined);
  return life.done;
}
