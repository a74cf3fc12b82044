/**
 * `ovnts controller`: the per-host daemon, with the command line of
 * ovn-controller(8): `ovnts controller [unix:OVS-DB-SOCK] [--pidfile[=FILE]]
 * [--log-file[=FILE]] [--detach]`. The Open vSwitch database defaults to
 * `unix:$OVS_RUNDIR/db.sock`.
 */
import { sslField } from '../ovsdb/ssl-options.js';
import type { SslOptions } from '../ovsdb/remote.js';
import { createController, ovsRunDir } from '../controller/controller.js';
import { createFlowPipeline } from '../controller/flow-pipeline.js';
import { daemonOptions, defaultDaemonOptions, defaultUnixctlPath, ovnDaemonDefaults, runDaemon, type DaemonOptions } from './daemon.js';
import type { CommandLine } from './command-line.js';
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

export function controller(args: string[]): Promise<number> {
  return runDaemon(CONTROLLER_COMMAND_LINE, 'controller', args, (o) => ({
    modules: ['ovn_controller', 'unixctl'],
    unixctl: o.unixctl ?? defaultUnixctlPath(PROG),
    // A signal stops without cleanup: the chassis stays registered for the restart; `exit` cleans up unless `--restart`.
    onSignal: false,
    exitArgs: { max: 1, arg: (a) => a[0] !== '--restart' },
    parts: ({ log, metrics, ctl }) => {
      const c = createController({ ovsRemote: o.ovsRemote, log, pipeline: createFlowPipeline(log, metrics), ...sslField(o.ssl) });
      if (ctl !== undefined) {
        ctl.register('version', '', 0, 0, () => versionText(PROG));
        registerControllerCommands(ctl, c);
      }
      return [{ start: () => c.start(), stop: (cleanup: boolean) => c.stop(cleanup) }];
    },
    started: () => `ovnts controller started (OVS database ${o.ovsRemote})`,
  }));
}
