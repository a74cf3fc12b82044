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
import { daemonOptions, defaultDaemonOptions, defaultUnixctlPath, ovnDaemonDefaults, runDaemon, type DaemonOptions } from './daemon.js';
import type { CommandLine } from './command-line.js';
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

export function northd(args: string[]): Promise<number> {
  return runDaemon(NORTHD_COMMAND_LINE, 'northd', args, (o) => ({
    modules: ['northd', 'unixctl'],
    unixctl: o.unixctl ?? defaultUnixctlPath(PROG),
    onSignal: undefined,
    parts: ({ log, metrics, ctl }) => {
      const n = createNorthd({ nbRemote: o.nb, sbRemote: o.sb, log, ...sslField(o.ssl), ...(metrics === undefined ? {} : { metrics }) });
      if (ctl !== undefined) registerNorthdCommands(ctl, n);
      return [n];
    },
    started: () => `ovnts northd started (NB ${o.nb}, SB ${o.sb})`,
  }));
}
