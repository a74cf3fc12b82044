/**
 * `ovnts ipam`: the Neutron v2.0 API served from the NB database.
 * `[--listen=ADDR:PORT] [--ovnnb-db=DATABASE] [--auth=noauth|keystone]
 * [--users=FILE] [--token-expiration=SECONDS]` plus the
 * daemon options (`--pidfile`, `--log-file`, `--detach`, and `--unixctl`,
 * where `ovn-appctl -t SOCKET exit` stops it).
 */
import { createIpamServer } from '../ipam/server.js';
import { createNoAuth, type Authenticator } from '../ipam/context.js';
import { createKeystoneAuthenticator } from '../ipam/keystone/index.js';
import { UnixctlServer } from '../lib/unixctl.js';
import {
  createDaemonLogger,
  defaultDaemonOptions,
  detach,
  notifyReady,
  parseDaemonOption,
  runUntilStopped,
  shouldDetach,
  type DaemonOptions,
} from './daemon.js';
import { parseCommandLine } from './command-line.js';

const PROG = 'ovnts-ipam';

export interface IpamOptions extends DaemonOptions {
  host: string;
  port: number;
  nb: string;
  auth: string;
  /** Options an authenticator takes (e.g. `--users=FILE`), by name without the dashes. */
  authOptions: Record<string, string>;
}

/** The `--auth=` kinds and how each is built from the command line. */
export const AUTHENTICATORS: Record<string, (o: IpamOptions) => Promise<Authenticator> | Authenticator> = {
  noauth: () => createNoAuth(),
  keystone: (o) => {
    const users = o.authOptions['users'];
    if (users === undefined) throw new Error('--auth=keystone needs --users=FILE');
    const expiration = o.authOptions['token-expiration'];
    return createKeystoneAuthenticator({ users, ...(expiration === undefined ? {} : { tokenExpirationSeconds: Number(expiration) }) });
  },
};

/** The options of `--auth=keystone` (src/ipam/keystone/README.md). */
const KEYSTONE_OPTIONS = ['--users', '--token-expiration'];

const USAGE = `${PROG}: the Neutron v2.0 API over the OVN northbound database (ovnts)
usage: ovnts ipam [OPTIONS]
  --listen=ADDR:PORT   serve HTTP here (default: 127.0.0.1:9696)
  --ovnnb-db=DATABASE  connect to ovn-nb database at DATABASE (default: $OVN_NB_DB or unix:/var/run/ovn/ovnnb_db.sock)
  --auth=noauth        every request acts as admin of project "admin" (default)
  --auth=keystone      Keystone v3 (and v2.0) password auth on this server, users from --users
  --users=FILE         users, projects and roles for --auth=keystone (JSON)
  --token-expiration=SECONDS  lifetime of a keystone token (default: 3600)
  --pidfile[=FILE]     write the process id to FILE once serving
  --log-file[=FILE]    append log messages to FILE
  --detach             run in the background once serving
  --unixctl=SOCKET     serve ovn-appctl's exit command on this control socket
`;

/** `ADDR:PORT`, `[V6ADDR]:PORT` or `PORT`. */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s) ?? /^()()(\d+)$/.exec(s);
  const port = Number(m?.[3]);
  if (m === null || !Number.isInteger(port) || port > 65535) throw new Error(`${s}: bad --listen address (expected ADDR:PORT)`);
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

function parseArgs(args: readonly string[]): IpamOptions | string {
  const o: IpamOptions = {
    ...defaultDaemonOptions(),
    host: '127.0.0.1',
    port: 9696,
    nb: process.env['OVN_NB_DB'] ?? 'unix:/var/run/ovn/ovnnb_db.sock',
    auth: 'noauth',
    authOptions: {},
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
      case '-d':
        o.nb = value();
        break;
      case '--auth': {
        const kind = value();
        if (AUTHENTICATORS[kind] === undefined)
          throw new Error(`--auth=${kind}: unknown authentication (one of: ${Object.keys(AUTHENTICATORS).join(', ')})`);
        o.auth = kind;
        break;
      }
      case '--users':
        o.authOptions['users'] = value();
        break;
      case '--token-expiration': {
        const v = value();
        if (!/^[1-9]\d{0,7}$/.test(v)) throw new Error(`--token-expiration=${v}: not a positive number of seconds`);
        o.authOptions['token-expiration'] = v;
        break;
      }
      case '-h':
      case '--help':
        return USAGE;
      default:
        throw new Error(`unrecognized option '${a}'`);
    }
  }
  const stray = KEYSTONE_OPTIONS.filter((k) => o.authOptions[k.slice(2)] !== undefined);
  if (o.auth !== 'keystone' && stray.length > 0) throw new Error(`${stray.join(', ')}: only with --auth=keystone`);
  return o;
}

export async function ipam(args: string[]): Promise<number> {
  const o = parseCommandLine(PROG, args, parseArgs);
  if (typeof o === 'number') return o;
  if (shouldDetach(o)) return detach('ipam', args);
  const logger = createDaemonLogger({ file: o.logFile });
  const log = logger.module('ipam');
  let server: ReturnType<typeof createIpamServer> | undefined;
  let ctl: UnixctlServer | undefined;
  let exit: () => void = () => undefined;
  try {
    const authenticator = await (AUTHENTICATORS[o.auth] as (x: IpamOptions) => Promise<Authenticator> | Authenticator)(o);
    server = createIpamServer({ host: o.host, port: o.port, nbRemotes: o.nb, authenticator, log });
    if (o.unixctl !== undefined) {
      ctl = new UnixctlServer({ path: o.unixctl, log });
      ctl.register('exit', '', 0, 0, () => {
        setImmediate(() => exit());
        return '';
      });
      await ctl.start();
    }
    await startWithin(server.start(), `${o.nb}: cannot connect to the northbound database`, 5000);
  } catch (e) {
    process.stderr.write(`${PROG}: ${(e as Error).message}\n`);
    await server?.stop().catch(() => {});
    await ctl?.stop().catch(() => {});
    return 1;
  }
  log(`ovnts ipam serving http://${o.host}:${server.port}/ (NB ${o.nb}, auth ${o.auth})`);
  await notifyReady(logger, o.pidfile);
  const s = server;
  const c = ctl;
  const life = runUntilStopped({
    pidfile: o.pidfile,
    onSignal: undefined,
    stop: async () => {
      await s.stop();
      await c?.stop();
    },
  });
  exit = () => void life.exit(undefined);
  return life.done;
}

/** Waits for a server's start; databases that do not answer in time are a start-up error (`message`), not a hang. */
export async function startWithin(start: Promise<void>, message: string, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    await Promise.race([start, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
