/**
 * `ovnts docker-plugin`: the libnetwork remote NetworkDriver and IpamDriver
 * (src/cni/docker-driver.ts) on a unix socket in /run/docker/plugins (the
 * socket's file name is the driver name), with the daemon options of the
 * other ovnts daemons (`--pidfile`, `--log-file`, `--detach`).
 * Keystone credentials come from the openrc variables (OS_AUTH_URL,
 * OS_USERNAME, OS_PASSWORD, OS_PROJECT_ID) when OS_AUTH_URL is set.
 */
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { listenUnix, removeSocket } from './unix-socket.js';
import { NeutronClient } from '../host/neutron.js';
import { createDockerDriver, PLUGIN_CONTENT_TYPE, type DockerDriver } from '../cni/docker-driver.js';
import { parseCommandLine } from './command-line.js';
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

const PROG = 'ovnts-docker-plugin';

interface Options extends DaemonOptions {
  socket: string;
  ipam: string;
  ovsDb: string;
  ovsNetns: string | undefined;
  bridge: string;
  installTimeoutMs: number;
}

const USAGE = `${PROG}: libnetwork remote network and IPAM driver on the ovnts IPAM (ovnts)
usage: ovnts docker-plugin [OPTIONS]
  --socket=PATH        serve here (default: /run/docker/plugins/ovnts.sock; the file name is the driver name)
  --ipam=URL           the ovnts IPAM's Neutron API (default: http://127.0.0.1:9696)
  --ovs-db=DATABASE    this host's OVS database (default: unix:$OVS_RUNDIR/db.sock)
  --ovs-netns=PATH     the network namespace ovs-vswitchd runs in (default: this one)
  --bridge=BRIDGE      the integration bridge (default: br-int)
  --install-timeout=MS how long Join waits for ovn-installed (default: 30000)
  --pidfile[=FILE]     write the process id to FILE once serving
  --log-file[=FILE]    append log messages to FILE
  --detach             run in the background once serving
`;

function parseArgs(args: readonly string[]): Options | string {
  const o: Options = {
    ...defaultDaemonOptions(),
    socket: '/run/docker/plugins/ovnts.sock',
    ipam: 'http://127.0.0.1:9696',
    ovsDb: `unix:${process.env['OVS_RUNDIR'] ?? '/var/run/openvswitch'}/db.sock`,
    ovsNetns: undefined,
    bridge: 'br-int',
    installTimeoutMs: 30000,
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
      case '--socket':
        o.socket = resolve(value());
        break;
      case '--ipam': {
        const v = value();
        try {
          new URL(v);
        } catch {
          throw new Error(`--ipam=${v}: not a URL`);
        }
        o.ipam = v;
        break;
      }
      case '--ovs-db':
        o.ovsDb = value();
        break;
      case '--ovs-netns':
        o.ovsNetns = value();
        break;
      case '--bridge':
        o.bridge = value();
        break;
      case '--install-timeout': {
        const v = value();
        if (!/^[1-9]\d{0,6}$/.test(v)) throw new Error(`--install-timeout=${v}: not a positive number of milliseconds`);
        o.installTimeoutMs = Number(v);
        break;
      }
      case '-h':
      case '--help':
        return USAGE;
      default:
        throw new Error(`unrecognized option '${a}'`);
    }
  }
  return o;
}

async function neutronClient(o: Options): Promise<NeutronClient> {
  const env = process.env;
  const authUrl = env['OS_AUTH_URL'];
  if (authUrl === undefined || authUrl === '') return NeutronClient.noauth(o.ipam);
  return NeutronClient.keystone(
    {
      authUrl,
      username: env['OS_USERNAME'] ?? '',
      password: env['OS_PASSWORD'] ?? '',
      tenantId: env['OS_PROJECT_ID'] ?? env['OS_TENANT_ID'] ?? '',
      ...(env['OS_USER_DOMAIN_NAME'] === undefined ? {} : { userDomain: env['OS_USER_DOMAIN_NAME'] }),
    },
    o.ipam,
  );
}

export async function dockerPlugin(args: string[]): Promise<number> {
  const o = parseCommandLine(PROG, args, parseArgs);
  if (typeof o === 'number') return o;
  if (shouldDetach(o)) return detach('docker-plugin', args);
  const logger = createDaemonLogger({ file: o.logFile });
  const log = logger.module('docker-plugin');
  let server: Server;
  let driver: DockerDriver;
  try {
    driver = createDockerDriver({
      neutron: await neutronClient(o),
      ovsDb: o.ovsDb,
      bridge: o.bridge,
      installTimeoutMs: o.installTimeoutMs,
      log,
      ...(o.ovsNetns === undefined ? {} : { ovsNetns: o.ovsNetns }),
    });
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const method = (req.url ?? '/').replace(/^\/+/, '');
        const reply = (status: number, body: unknown): void => {
          const data = JSON.stringify(body);
          res.writeHead(status, { 'Content-Type': PLUGIN_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(data) });
          res.end(data);
        };
        let body: Record<string, unknown> = {};
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          const parsed: unknown = text.trim() === '' ? {} : JSON.parse(text);
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
          body = parsed as Record<string, unknown>;
        } catch (e) {
          log(`${method}: bad request body: ${(e as Error).message}`);
          reply(400, { Err: `bad request body: ${(e as Error).message}` });
          return;
        }
        if (req.method !== 'POST') return reply(405, { Err: `${req.method} not allowed` });
        driver.handle(method, body).then(
          (r) => (r === undefined ? reply(404, { Err: `${method} not implemented` }) : reply(200, r)),
          (e: unknown) => reply(500, { Err: (e as Error).message }),
        );
      });
    });
    await listenUnix(server, o.socket);
  } catch (e) {
    process.stderr.write(`${PROG}: ${(e as Error).message}\n`);
    return 1;
  }
  log(`serving the ovnts network and IPAM driver on ${o.socket} (IPAM ${o.ipam})`);
  await notifyReady(logger, o.pidfile);
  const s = server;
  const d = driver;
  const life = runUntilStopped({
    pidfile: o.pidfile,
    onSignal: undefined,
    stop: async () => {
      const closed = new Promise<void>((r) => s.close(() => r()));
      s.closeAllConnections();
      await closed;
      await d.close();
      removeSocket(o.socket);
    },
  });
  return life.done;
}
