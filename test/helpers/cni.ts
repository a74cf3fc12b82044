/**
 * The world of the CNI plugin tests: a host namespace with its own OVS and
 * `ovnts up` (NB, SB, northd, this host's controller and the IPAM on
 * loopback) beside the test, a Neutron network with a subnet, a plugin
 * directory holding `ovnts-cni`, and conflists for it.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns } from './netns.js';
import { startOvs, type OvsInstance } from './ovs.js';
import { OVNTS, REPO } from './ovsdb-servers.js';
import { run, runOk, spawnDaemon, tmpDir, waitFor, type Daemon, type RunResult } from './proc.js';
import { servedPort } from './keystone-env.js';
import { configureChassis } from '../../src/lab/seed.js';

export const OVNTS_CNI = join(REPO, 'bin', 'ovnts-cni');

export interface CniWorld {
  readonly id: string;
  readonly dir: string;
  /** The namespace of OVS (and so of the veths' host ends). */
  readonly hv: string;
  readonly ovs: OvsInstance;
  readonly url: string;
  /** Directory with `ovnts-cni` in it (CNI_PATH). */
  readonly pluginDir: string;
  /** Where conflists are written (NETCONFPATH). */
  readonly confDir: string;
  /** The plugin's keys every conflist here shares: the IPAM, OVS database and namespace. */
  readonly base: Readonly<Record<string, unknown>>;
  api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  /** Creates network NAME with subnet CIDR; resolves to the network id. */
  network(name: string, cidr: string): Promise<string>;
  /** Writes NAME.conflist (cniVersion, one ovnts-cni plugin with `base` plus `extra`). */
  conflist(name: string, cniVersion: string, extra: Readonly<Record<string, unknown>>): Record<string, unknown>;
  /** Runs the plugin directly (as a runtime does): CNI_* env and the config on stdin. */
  exec(env: Readonly<Record<string, string>>, conf: unknown): Promise<RunResult>;
  /** Ports of the bridge. */
  ports(): Promise<string[]>;
  /** The real ovn-nbctl on the NB. */
  nbctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startCniWorld(log: (l: string) => void = () => undefined): Promise<CniWorld> {
  const id = `c${Math.random().toString(16).slice(2, 8)}`;
  const tmp = tmpDir('ovnts-cni');
  const dir = tmp.path;
  const hv = await createNetns(`${id}-hv`);
  mkdirSync(join(dir, 'ovs'));
  const ovs = await startOvs({ netns: hv, dir: join(dir, 'ovs'), log });
  const rundir = join(dir, 'run');
  await configureChassis(ovs.vsctl, { systemId: `${id}-chassis`, sbRemote: `unix:${rundir}/ovnsb_db.sock` });
  let port: string | undefined;
  const pidfile = join(dir, 'up.pid');
  const up: Daemon = await spawnDaemon(
    OVNTS,
    ['up', `--rundir=${rundir}`, `--dbdir=${join(dir, 'db')}`, `--ovs-db=${ovs.dbRemote}`, `--pidfile=${pidfile}`, '--ipam=127.0.0.1:0'],
    {
      name: 'ovnts up',
      env: { ...ovs.env },
      onLine: (l) => {
        log(l);
        port ??= servedPort(l);
      },
      readyWhen: async () => existsSync(pidfile) && readFileSync(pidfile, 'utf8').trim() !== '' && port !== undefined,
      readyTimeoutMs: 30_000,
    },
  );
  await waitFor(async () => (await ovs.vsctl('--if-exists', 'get', 'Bridge', 'br-int', 'name')).trim() === 'br-int', { what: 'br-int' });
  const url = `http://127.0.0.1:${port!}`;
  const pluginDir = join(dir, 'cni-bin');
  const confDir = join(dir, 'cni.d');
  mkdirSync(pluginDir);
  mkdirSync(confDir);
  symlinkSync(OVNTS_CNI, join(pluginDir, 'ovnts-cni'));
  const base = { endpoint: url, ovs_db: ovs.dbRemote, ovs_netns: `/run/netns/${hv}` };
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
  return {
    id,
    dir,
    hv,
    ovs,
    url,
    pluginDir,
    confDir,
    base,
    api,
    network: async (name, cidr) => {
      const net = (await api<{ network: { id: string } }>('POST', '/v2.0/networks', { network: { name } })).network;
      await api('POST', '/v2.0/subnets', { subnet: { network_id: net.id, cidr, ip_version: 4, name: `${name}-sub` } });
      return net.id;
    },
    conflist: (name, cniVersion, extra) => {
      const list = { cniVersion, name, plugins: [{ type: 'ovnts-cni', ...base, ...extra }] };
      writeFileSync(join(confDir, `${name}.conflist`), JSON.stringify(list, null, 2));
      return list;
    },
    exec: (env, conf) =>
      run(OVNTS_CNI, [], {
        env: { CNI_PATH: pluginDir, ...env },
        input: typeof conf === 'string' ? conf : JSON.stringify(conf),
        timeoutMs: 120_000,
      }),
    nbctl: (...args) => runOk('ovn-nbctl', [`--db=unix:${rundir}/ovnnb_db.sock`, '--timeout=20', ...args]),
    ports: async () => (await ovs.vsctl('list-ports', 'br-int')).split('\n').filter((p) => p !== ''),
    stop: async () => {
      await up.stop();
      await ovs.stop();
      tmp.cleanup();
    },
  };
}

export interface PodmanCni {
  readonly env: Readonly<Record<string, string>>;
  podman(...args: string[]): Promise<string>;
  podmanRun(...args: string[]): Promise<RunResult>;
  stop(): Promise<void>;
}

/**
 * podman with the CNI backend (RECIPES.md §4.1: runc, cgroupfs, ulimits),
 * its own storage, the conflists of `confDir` and the plugins of `pluginDir`.
 */
export function podmanCni(dir: string, pluginDir: string, confDir: string): PodmanCni {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'containers.conf');
  const storage = join(dir, 'storage.conf');
  writeFileSync(
    conf,
    `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${join(dir, 'events.log')}"
runtime = "runc"
[network]
network_backend = "cni"
cni_plugin_dirs = ["${pluginDir}", "/usr/lib/cni"]
network_config_dir = "${confDir}"
`,
  );
  writeFileSync(storage, `[storage]\ndriver = "overlay"\ngraphroot = "${join(dir, 'storage')}"\nrunroot = "${join(dir, 'run')}"\n`);
  const env = { CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage };
  const podmanRun = (...args: string[]): Promise<RunResult> => run('podman', args, { env, timeoutMs: 180_000 });
  return {
    env,
    podmanRun,
    podman: async (...args) => {
      const r = await podmanRun(...args);
      if (r.code !== 0) throw new Error(`podman ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
      return r.stdout;
    },
    stop: async () => {
      await podmanRun('rm', '-af', '-t', '0');
      await podmanRun('system', 'reset', '-f');
    },
  };
}

/** A Neutron port as the nested tests read it. */
export interface NestedPort {
  id: string;
  mac_address: string;
  status: string;
  device_id: string;
  fixed_ips: Array<{ subnet_id: string; ip_address: string }>;
  'binding:profile': { parent_name?: string; tag?: number };
}

/** A veth from the world's hypervisor br-int (iface-id = port) to `peerNs`, once installed; resolves to the peer's name. */
export async function plugIntoBrInt(w: CniWorld, name: string, port: { id: string }, peerNs: string): Promise<string> {
  const h = `${name}h`;
  const p = `${name}p`;
  await runOk('ip', ['-n', w.hv, 'link', 'add', h, 'type', 'veth', 'peer', 'name', p, 'netns', peerNs]);
  await runOk('ip', ['netns', 'exec', w.hv, 'ethtool', '-K', h, 'tx', 'off']);
  await runOk('ip', ['netns', 'exec', peerNs, 'ethtool', '-K', p, 'tx', 'off']);
  await runOk('ip', ['-n', w.hv, 'link', 'set', h, 'up']);
  await w.ovs.vsctl('add-port', 'br-int', h, '--', 'set', 'Interface', h, `external_ids:iface-id=${port.id}`);
  await waitFor(async () => (await w.ovs.vsctl('--if-exists', 'get', 'Interface', h, 'external_ids:ovn-installed')).trim() === '"true"', {
    what: `ovn-installed on ${h}`,
    timeoutMs: 30_000,
  });
  return p;
}
