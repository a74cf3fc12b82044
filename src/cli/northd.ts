/**
 * `ovnts northd`: the NB → SB translator with ovn-northd(8)'s command line:
 * `--ovnnb-db=DATABASE --ovnsb-db=DATABASE [--pidfile[=FILE]] [--log-file[=FILE]]
 * [--unixctl=SOCKET]`, the databases defaulting to `$OVN_NB_DB`/`$OVN_SB_DB` and
 * then OVN's default sockets. `ovn-appctl -t SOCKET status` answers
 * "Status: active" or "Status: standby" as ovn-northd does.
 */
import { parseSslOption, sslField, SSL_USAGE } from '../ovsdb/ssl-options.js';
import type { SslOptions } from '../ovsdb/remote.js';
import { createNorthd } from '../northd/northd.js';
import { UnixctlServer } from '../lib/unixctl.js';
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
import { registerNorthdCommands } from './appctl-commands.js';

const PROG = 'ovn-northd';

interface Options extends DaemonOptions {
  nb: string;
  sb: string;
  ssl: SslOptions;
}

const USAGE = `${PROG}: OVN northbound management daemon (ovnts)
usage: ovnts northd [OPTIONS]
  --ovnnb-db=DATABASE  connect to ovn-nb database at DATABASE (default: $OVN_NB_DB or unix:/var/run/ovn/ovnnb_db.sock)
  --ovnsb-db=DATABASE  connect to ovn-sb database at DATABASE (default: $OVN_SB_DB or unix:/var/run/ovn/ovnsb_db.sock)
  --pidfile[=FILE]     write the process id to FILE
  --log-file[=FILE]    append log messages to FILE
  --detach             run in the background once started
  --unixctl=SOCKET     control socket for ovn-appctl (default: $OVN_RUNDIR/ovn-northd.PID.ctl)
${SSL_USAGE}`;

function parseArgs(args: readonly string[]): Options | string {
  const o: Options = {
    ...defaultDaemonOptions(),
    nb: process.env['OVN_NB_DB'] ?? 'unix:/var/run/ovn/ovnnb_db.sock',
    sb: process.env['OVN_SB_DB'] ?? 'unix:/var/run/ovn/ovnsb_db.sock',
    ssl: {},
  };
  const defaults = { program: PROG, rundir: process.env['OVN_RUNDIR'] ?? '.', logdir: process.env['OVN_LOGDIR'] ?? '.' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('-')) throw new Error('non-option arguments not supported with ovn-northd; use --help for usage');
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const inline = eq < 0 ? undefined : a.slice(eq + 1);
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new Error(`option '${name}' requires an argument`);
      return v;
    };
    if (parseDaemonOption(o, name, inline, value, defaults)) continue;
    if (parseSslOption(o.ssl, name, value)) continue;
    switch (name) {
      case '--ovnnb-db':
      case '-d':
        o.nb = value();
        break;
      case '--ovnsb-db':
      case '-D':
        o.sb = value();
        break;
      case '-h':
      case '--help':
        return USAGE;
      default:
        throw new Error(`unrecognized option '${a}'`);
    }
  }
  return o;
}

export async function northd(args: string[]): Promise<number> {
  const o = parseCommandLine(PROG, args, parseArgs);
  if (typeof o === 'number') return o;
  if (shouldDetach(o)) return detach('northd', args);
  const logger = openDaemonLogger(PROG, { file: o.logFile, modules: ['northd', 'unixctl'], verbose: o.verbose });
  if (logger === undefined) return 1;
  const run = beginDaemon(PROG, o.pidfile);
  if (typeof run === 'number') return run;
  const log = logger.module('northd');
  const n = createNorthd({ nbRemote: o.nb, sbRemote: o.sb, log, ...sslField(o.ssl) });
  const ctl = new UnixctlServer({ path: o.unixctl ?? defaultUnixctlPath(PROG), log });
  let exit: () => void = () => undefined;
  registerNorthdCommands(ctl, n);
  registerVlogCommands(ctl, logger);
  ctl.register('exit', '', 0, 0, () => {
    setImmediate(() => exit());
    return '';
  });
  try {
    await startControlSocket(run, ctl);
    await n.start();
  } catch (e) {
    await n.stop().catch(() => undefined);
    await ctl.stop();
    return run.fail(e);
  }
  log(`ovnts northd started (NB ${o.nb}, SB ${o.sb})`);
  await notifyReady(logger, o.pidfile);
  const life = runUntilStopped({
    pidfile: o.pidfile,
    onSignal: undefined,
    run,
    stop: async () => {
      await n.stop();
      await ctl.stop();
      await logger.close();
    },
  });
  exit = () => void life.exit(undefined);
  return life.done;
}
