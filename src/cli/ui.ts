/**
 * `ovnts ui`: the live topology and trace page, served over HTTP from the NB
 * and SB. `[--listen=ADDR:PORT] [--ovnnb-db=DATABASE] [--ovnsb-db=DATABASE]`
 * plus the daemon options (`--pidfile`, `--log-file`, `--detach`, `-v`, and
 * `--unixctl`, where `ovn-appctl -t SOCKET exit` stops it).
 */
import { existsSync } from 'node:fs';
import { createUiServer } from '../ui/server.js';
import { UnixctlServer } from '../lib/unixctl.js';
import {
  defaultDaemonOptions,
  detach,
  notifyReady,
  openDaemonLogger,
  parseDaemonOption,
  registerVlogCommands,
  runUntilStopped,
  shouldDetach,
  type DaemonOptions,
} from './daemon.js';
import { parseCommandLine } from './command-line.js';
import { parseListen, startWithin } from './ipam.js';

const PROG = 'ovnts-ui';

interface UiOptions extends DaemonOptions {
  host: string;
  port: number;
  nb: string;
  sb: string;
}

const USAGE = `${PROG}: the live OVN topology and trace page (ovnts)
usage: ovnts ui [OPTIONS]
  --listen=ADDR:PORT   serve HTTP here (default: 127.0.0.1:8080)
  --ovnnb-db=DATABASE  connect to ovn-nb database at DATABASE (default: $OVN_NB_DB or unix:/var/run/ovn/ovnnb_db.sock)
  --ovnsb-db=DATABASE  connect to ovn-sb database at DATABASE (default: $OVN_SB_DB or unix:/var/run/ovn/ovnsb_db.sock)
  --pidfile[=FILE]     write the process id to FILE once serving
  --log-file[=FILE]    append log messages to FILE
  --detach             run in the background once serving
  --unixctl=SOCKET     serve ovn-appctl's exit, version and vlog/* commands on this control socket
  -v[SPEC], --verbose[=SPEC]   log levels, as vlog/set SPEC (module:destination:level)
`;

function parseArgs(args: readonly string[]): UiOptions | string {
  const o: UiOptions = {
    ...defaultDaemonOptions(),
    host: '127.0.0.1',
    port: 8080,
    nb: process.env['OVN_NB_DB'] ?? 'unix:/var/run/ovn/ovnnb_db.sock',
    sb: process.env['OVN_SB_DB'] ?? 'unix:/var/run/ovn/ovnsb_db.sock',
  };
  const defaults = { program: PROG, rundir: process.env['OVN_RUNDIR'] ?? '.', logdir: process.env['OVN_LOGDIR'] ?? '.' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('-')) throw new Error(`non-option argument '${a}'; use --help for usage`);
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const inline = eq < 0 ? undefined : a.slice(eq + 1);
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v === '') throw new Error(`option '${name}' requires an argument`);
      return v;
    };
    if (parseDaemonOption(o, name, inline, value, defaults)) continue;
    switch (name) {
      case '--listen':
        Object.assign(o, parseListen(value()));
        break;
      case '--ovnnb-db':
        o.nb = value();
        break;
      case '--ovnsb-db':
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

/** A `unix:` remote whose socket is not there: ovn-nbctl's words for it. */
function missingSocket(remotes: string): string | undefined {
  const all = remotes.split(',');
  const gone = all.filter((r) => r.startsWith('unix:') && !existsSync(r.slice(5)));
  return gone.length === all.length && gone[0] !== undefined
    ? `${gone[0]}: database connection failed (No such file or directory)`
    : undefined;
}

export async function ui(args: string[]): Promise<number> {
  const o = parseCommandLine(PROG, args, parseArgs);
  if (typeof o === 'number') return o;
  if (shouldDetach(o)) return detach('ui', args);
  const logger = openDaemonLogger(PROG, { file: o.logFile, modules: ['ui', 'unixctl'], verbose: o.verbose });
  if (logger === undefined) return 1;
  const log = logger.module('ui');
  const server = createUiServer({ host: o.host, port: o.port, nbRemote: o.nb, sbRemote: o.sb, log });
  let ctl: UnixctlServer | undefined;
  let exit: () => void = () => undefined;
  try {
    if (o.unixctl !== undefined) {
      ctl = new UnixctlServer({ path: o.unixctl, log: logger.module('unixctl') });
      ctl.register('exit', '', 0, 0, () => {
        setImmediate(() => exit());
        return '';
      });
      ctl.register('version', '', 0, 0, () => 'ovnts ui (ovnts) 0.1.0\n');
      registerVlogCommands(ctl, logger);
      await ctl.start();
    }
    const missing = missingSocket(o.nb) ?? missingSocket(o.sb);
    if (missing !== undefined) throw new Error(missing);
    await startWithin(server.start(), `cannot connect to the databases (${o.nb}, ${o.sb})`, 5000);
  } catch (e) {
    const err = e as Error & { code?: string };
    const msg = err.code === 'EADDRINUSE' ? `--listen=${o.host}:${o.port}: address already in use` : err.message;
    process.stderr.write(`${PROG}: ${msg}\n`);
    await server.stop().catch(() => {});
    await ctl?.stop().catch(() => {});
    await logger.close();
    return 1;
  }
  log(`ovnts ui serving http://${o.host}:${server.port}/ (NB ${o.nb}, SB ${o.sb})`);
  await notifyReady(logger, o.pidfile);
  const c = ctl;
  const life = runUntilStopped({
    pidfile: o.pidfile,
    onSignal: undefined,
    stop: async () => {
      await server.stop();
      await c?.stop();
      await logger.close();
    },
  });
  exit = () => void life.exit(undefined);
  return life.done;
}
