/**
 * `ovnts docker-plugin`: the libnetwork remote NetworkDriver and IpamDriver
 * (src/cni/docker-driver.ts) on a unix socket in /run/docker/plugins (the
 * socket's file name is the driver name), with the daemon options of the
 * other ovnts daemons (`--pidfile`, `--log-file`, `--detach`).
 * `--mode=nested` runs it inside a VM: endpoints on VLANs of the VM's
 * bridge under the VM's port (`--vif-id`, or OS_VIF_ID as the 2015 tools).
 * Keystone credentials come from the openrc variables (OS_AUTH_URL,
 * OS_USERNAME, OS_PASSWORD, OS_PROJECT_ID) when OS_AUTH_URL is set.
 */
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { listenUnix, removeSocket } from './unix-socket.js';
import { NeutronClient } from '../host/neutron.js';
import { createDockerDriver, PLUGIN_CONTENT_TYPE, type DockerDriver } from '../cni/docker-driver.js';
import type { CommandLine } from './command-line.js';
import { nonEmpty } from './options.js';
import { pluginCallMetrics } from '../cni/plugin-metrics.js';
import { clockNow } from '../lib/metrics.js';
import { daemonOptions, defaultDaemonOptions, ovnDaemonDefaults, runDaemon, type DaemonOptions } from './daemon.js';

const PROG = 'ovnts-docker-plugin';

interface Options extends DaemonOptions {
  socket: string;
  ipam: string;
  ovsDb: string;
  ovsNetns: string | undefined;
  bridge: string | undefined;
  mode: 'host' | 'nested';
  vifId: string | undefined;
  installTimeoutMs: number;
}

export const DOCKER_PLUGIN_COMMAND_LINE: CommandLine<Options> = {
  program: PROG,
  summary: 'libnetwork remote network and IPAM driver on the ovnts IPAM (ovnts)',
  usage: ['ovnts docker-plugin [OPTIONS]'],
  description: `Keystone credentials come from OS_AUTH_URL, OS_USERNAME, OS_PASSWORD and
OS_PROJECT_ID when OS_AUTH_URL is set; otherwise the IPAM is used without auth.`,
  options: [
    {
      name: 'socket',
      arg: 'required',
      metavar: 'PATH',
      help: 'serve here (the file name is the driver name)',
      default: '/run/docker/plugins/ovnts.sock',
      set: (o, v) => void (o.socket = resolve(nonEmpty('socket', v))),
    },
    {
      name: 'ipam',
      arg: 'required',
      metavar: 'URL',
      help: "the ovnts IPAM's Neutron API",
      default: 'http://127.0.0.1:9696',
      set: (o, v) => {
        const url = nonEmpty('ipam', v);
        try {
          new URL(url);
        } catch {
          throw new Error(`--ipam=${url}: not a URL`);
        }
        o.ipam = url;
      },
    },
    {
      name: 'ovs-db',
      arg: 'required',
      metavar: 'DATABASE',
      help: "this host's OVS database",
      default: 'unix:$OVS_RUNDIR/db.sock',
      set: (o, v) => void (o.ovsDb = nonEmpty('ovs-db', v)),
    },
    {
      name: 'ovs-netns',
      arg: 'required',
      metavar: 'PATH',
      help: 'the network namespace ovs-vswitchd runs in',
      default: 'this one',
      set: (o, v) => void (o.ovsNetns = nonEmpty('ovs-netns', v)),
    },
    {
      name: 'mode',
      arg: 'required',
      metavar: 'MODE',
      help: "host (containers on br-int) or nested (in a VM: VLANs under the VM's port)",
      default: 'host',
      set: (o, v) => {
        if (v !== 'host' && v !== 'nested') throw new Error(`--mode=${v}: not host or nested`);
        o.mode = v;
      },
    },
    {
      name: 'vif-id',
      arg: 'required',
      metavar: 'PORT',
      help: "nested mode: the VM's own Neutron port",
      default: '$OS_VIF_ID',
      set: (o, v) => void (o.vifId = nonEmpty('vif-id', v)),
    },
    {
      name: 'bridge',
      arg: 'required',
      metavar: 'BRIDGE',
      help: "the integration bridge (host mode); the VM's bridge to its port (nested)",
      default: 'br-int in host mode',
      set: (o, v) => void (o.bridge = nonEmpty('bridge', v)),
    },
    {
      name: 'install-timeout',
      arg: 'required',
      metavar: 'MS',
      help: 'how long Join waits for ovn-installed (nested: for the port to be ACTIVE)',
      default: '30000',
      set: (o, v) => {
        const ms = nonEmpty('install-timeout', v);
        if (!/^[1-9]\d{0,6}$/.test(ms)) throw new Error(`--install-timeout=${ms}: not a positive number of milliseconds`);
        o.installTimeoutMs = Number(ms);
      },
    },
    ...daemonOptions<Options>(ovnDaemonDefaults(PROG)),
  ],
  defaults: () => ({
    ...defaultDaemonOptions(),
    socket: '/run/docker/plugins/ovnts.sock',
    ipam: 'http://127.0.0.1:9696',
    ovsDb: `unix:${process.env['OVS_RUNDIR'] ?? '/var/run/openvswitch'}/db.sock`,
    ovsNetns: undefined,
    bridge: undefined,
    mode: 'host',
    vifId: process.env['OS_VIF_ID'] === '' ? undefined : process.env['OS_VIF_ID'],
    installTimeoutMs: 30000,
  }),
  finish: (o, args) => {
    if (args[0] !== undefined) throw new Error(`non-option argument '${args[0]}'; use --help for usage`);
    if (o.mode === 'nested' && o.vifId === undefined) throw new Error("nested mode needs --vif-id (or OS_VIF_ID): the VM's port");
    if (o.mode === 'nested' && o.bridge === undefined) throw new Error("nested mode needs --bridge: the VM's bridge to its port");
    return o;
  },
};

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

export function dockerPlugin(args: string[]): Promise<number> {
  return runDaemon(DOCKER_PLUGIN_COMMAND_LINE, 'docker-plugin', args, (o) => ({
    modules: ['docker-plugin'],
    unixctl: undefined,
    onSignal: undefined,
    parts: async ({ log, metrics, run }) => {
      const driver = createDockerDriver({
        neutron: await neutronClient(o),
        ovsDb: o.ovsDb,
        bridge: o.bridge ?? 'br-int',
        installTimeoutMs: o.installTimeoutMs,
        ...(o.mode === 'nested' ? { vifId: o.vifId! } : {}),
        log,
        ...(o.ovsNetns === undefined ? {} : { ovsNetns: o.ovsNetns }),
      });
      const server = pluginServer(driver, log, metrics === undefined ? undefined : pluginCallMetrics(metrics));
      let listening = false;
      const start = async (): Promise<void> => {
        await listenUnix(server, o.socket);
        listening = true;
        run.removeOnExit(o.socket);
      };
      const stop = async (): Promise<void> => {
        if (listening) {
          const closed = new Promise<void>((r) => server.close(() => r()));
          server.closeAllConnections();
          await closed;
        }
        await driver.close();
        if (listening) removeSocket(o.socket);
      };
      return [{ start, stop }];
    },
    started: () => `serving the ovnts network and IPAM driver on ${o.socket} (IPAM ${o.ipam})`,
  }));
}

/** The plugin protocol over HTTP: `POST /Method` with a JSON object, a JSON reply in the plugin content type. */
function pluginServer(driver: DockerDriver, log: (m: string) => void, record: ReturnType<typeof pluginCallMetrics> | undefined): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    const t0 = clockNow();
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = (req.url ?? '/').replace(/^\/+/, '');
      const reply = (status: number, body: unknown): void => {
        record?.(method, status, t0);
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
}
