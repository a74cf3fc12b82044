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
import { daemonOptions, defaultDaemonOptions, ovnDaemonDefaults, runDaemon, startWithin, type DaemonOptions } from './daemon.js';
import type { CommandLine } from './command-line.js';
import { ovnnbDbOption } from './db-options.js';
import { nonEmpty } from './options.js';

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

/** `ADDR:PORT`, `[V6ADDR]:PORT` or `PORT`. */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s) ?? /^()()(\d+)$/.exec(s);
  const port = Number(m?.[3]);
  if (m === null || !Number.isInteger(port) || port > 65535) throw new Error(`${s}: bad --listen address (expected ADDR:PORT)`);
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

export const IPAM_COMMAND_LINE: CommandLine<IpamOptions> = {
  program: PROG,
  summary: 'the Neutron v2.0 API over the OVN northbound database (ovnts)',
  usage: ['ovnts ipam [OPTIONS]'],
  options: [
    {
      name: 'listen',
      arg: 'required',
      metavar: 'ADDR:PORT',
      help: 'serve HTTP here',
      default: '127.0.0.1:9696',
      set: (o, v) => void Object.assign(o, parseListen(nonEmpty('listen', v))),
    },
    ovnnbDbOption<IpamOptions>(),
    {
      name: 'auth',
      arg: 'required',
      metavar: 'noauth|keystone',
      help: 'noauth: every request acts as admin of project "admin";\nkeystone: Keystone v3 (and v2.0) password auth on this\nserver, users from --users',
      default: 'noauth',
      set: (o, v) => {
        const kind = nonEmpty('auth', v);
        if (AUTHENTICATORS[kind] === undefined)
          throw new Error(`--auth=${kind}: unknown authentication (one of: ${Object.keys(AUTHENTICATORS).join(', ')})`);
        o.auth = kind;
      },
    },
    {
      name: 'users',
      arg: 'required',
      metavar: 'FILE',
      help: 'users, projects and roles for --auth=keystone (JSON)',
      set: (o, v) => void (o.authOptions['users'] = nonEmpty('users', v)),
    },
    {
      name: 'token-expiration',
      arg: 'required',
      metavar: 'SECONDS',
      help: 'lifetime of a keystone token',
      default: '3600',
      set: (o, v) => {
        const s = nonEmpty('token-expiration', v);
        if (!/^[1-9]\d{0,7}$/.test(s)) throw new Error(`--token-expiration=${s}: not a positive number of seconds`);
        o.authOptions['token-expiration'] = s;
      },
    },
    ...daemonOptions<IpamOptions>(ovnDaemonDefaults(PROG), 'none (ovn-appctl -t SOCKET exit stops the server)'),
  ],
  defaults: () => ({
    ...defaultDaemonOptions(),
    host: '127.0.0.1',
    port: 9696,
    nb: process.env['OVN_NB_DB'] ?? 'unix:/var/run/ovn/ovnnb_db.sock',
    auth: 'noauth',
    authOptions: {},
  }),
  finish: (o, args) => {
    if (args[0] !== undefined) throw new Error(`non-option argument '${args[0]}'; use --help for usage`);
    const stray = KEYSTONE_OPTIONS.filter((k) => o.authOptions[k.slice(2)] !== undefined);
    if (o.auth !== 'keystone' && stray.length > 0) throw new Error(`${stray.join(', ')}: only with --auth=keystone`);
    return o;
  },
};

export function ipam(args: string[]): Promise<number> {
  return runDaemon(IPAM_COMMAND_LINE, 'ipam', args, (o) => {
    let port = o.port;
    return {
      modules: ['ipam'],
      unixctl: o.unixctl,
      onSignal: undefined,
      parts: async ({ log, metrics }) => {
        const authenticator = await (AUTHENTICATORS[o.auth] as (x: IpamOptions) => Promise<Authenticator> | Authenticator)(o);
        const server = createIpamServer({
          host: o.host,
          port: o.port,
          nbRemotes: o.nb,
          authenticator,
          log,
          ...(metrics === undefined ? {} : { metrics }),
        });
        const start = async (): Promise<void> => {
          await startWithin(server.start(), `${o.nb}: cannot connect to the northbound database`, 5000);
          port = server.port;
        };
        return [{ start, stop: () => server.stop() }];
      },
      started: () => `ovnts ipam serving http://${o.host}:${port}/ (NB ${o.nb}, auth ${o.auth})`,
    };
  });
}
