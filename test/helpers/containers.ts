/**
 * Seed 004's world for the container tests: a private dockerd (or podman
 * with its own configuration and storage), a central node in its own
 * namespace serving OVN's databases on IP:6641/6642 and the IPAM (Neutron
 * API) on IP:9696 — the real neutron-server with ML2/OVN and the real
 * ovn-northd (RECIPES.md §5.1) — and hosts: namespaces with their own OVS and
 * `ovnts controller`, joined to the central node by an underlay Linux bridge
 * in the central namespace, the host's NIC on a netdev br-phy carrying its
 * IP (tunnels on the userspace datapath leave through an OVS bridge).
 *
 * The tools run in a host with `nsenter --net` (never `ip netns exec`, which
 * breaks the runtimes) and OVS_RUNDIR pointing at that host's OVS.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns } from './netns.js';
import { prepareNeutron } from './neutron-server.js';
import { startOvs, type OvsInstance } from './ovs.js';
import { startOvntsController, type OvntsControllerHandle } from './ovnts-controller.js';
import { OVNTS, REPO } from './ovsdb-servers.js';
import { run, runOk, spawnDaemon, waitFor, type Daemon, type RunResult } from './proc.js';
import { socketAccepts } from '../../src/lib/socket-probe.js';

export const OVN_CONTAINER = join(REPO, 'bin', 'ovn-container');
export const OVN_INTEGRATE = join(REPO, 'bin', 'ovn-integrate');

export interface Dockerd {
  readonly env: Readonly<Record<string, string>>;
  readonly daemon: Daemon;
  /** `docker ARGS` against this daemon → stdout. */
  docker(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** dockerd per RECIPES.md §3 with its own data root, exec root and socket under `dir`. */
export async function startDockerd(dir: string): Promise<Dockerd> {
  mkdirSync(dir, { recursive: true });
  const sock = join(dir, 'docker.sock');
  const daemon = await spawnDaemon(
    'dockerd',
    [
      '--storage-driver=overlay2',
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
      '--exec-opt',
      'native.cgroupdriver=cgroupfs',
      `--data-root=${join(dir, 'data')}`,
      `--exec-root=${join(dir, 'exec')}`,
      `--host=unix://${sock}`,
      `--pidfile=${join(dir, 'docker.pid')}`,
    ],
    { name: 'dockerd', readyWhen: () => socketAccepts(sock), readyTimeoutMs: 60_000 },
  );
  const env = { DOCKER_HOST: `unix://${sock}` };
  await waitFor(async () => (await run('docker', ['info'], { env })).code === 0, { what: 'docker info', timeoutMs: 30_000 });
  return {
    env,
    daemon,
    docker: (...args) => runOk('docker', args, { env, timeoutMs: 60_000 }),
    stop: () => daemon.stop(15_000),
  };
}

export interface Central {
  readonly ns: string;
  readonly ip: string;
  /** `ovn-nbctl` on the central NB → stdout. */
  nbctl(...args: string[]): Promise<string>;
  /** GET on the IPAM's Neutron API (from the test process, inside the central namespace). */
  neutronList(collection: 'networks' | 'ports' | 'subnets'): Promise<Array<Record<string, unknown>>>;
  /** POST on the IPAM (as a CMS would: the VM's own port); resolves to the created resource. */
  neutronCreate(resource: 'network' | 'subnet' | 'port', body: Record<string, unknown>): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

function inNs(ns: string, cmd: string, args: readonly string[]): [string, string[]] {
  return ['nsenter', [`--net=/run/netns/${ns}`, cmd, ...args]];
}

/**
 * The central node with the real neutron-server as the IPAM: NB and SB
 * ovsdb-servers (SB also on tcp IP:6642, NB on IP:6641), ovn-northd, and
 * neutron-server (noauth, sqlite, ML2/OVN) on IP:9696 — all in `ns`.
 */
export async function startNeutronCentral(dir: string, ns: string, ip: string, log: (l: string) => void): Promise<Central> {
  const started: Daemon[] = [];
  const stop = async (): Promise<void> => {
    for (const d of [...started].reverse()) await d.stop(10_000);
  };
  mkdirSync(dir, { recursive: true });
  try {
    for (const [db, schema, port] of [
      ['nb', '/usr/share/ovn/ovn-nb.ovsschema', 6641],
      ['sb', '/usr/share/ovn/ovn-sb.ovsschema', 6642],
    ] as const) {
      const file = join(dir, `${db}.db`);
      await runOk('ovsdb-tool', ['create', file, schema]);
      const sock = join(dir, `${db}.sock`);
      const [c, a] = inNs(ns, 'ovsdb-server', [
        file,
        `--remote=punix:${sock}`,
        `--remote=ptcp:${port}:${ip}`,
        `--unixctl=${join(dir, `${db}.ctl`)}`,
        `--log-file=${join(dir, `${db}.log`)}`,
        '--no-chdir',
        '-vconsole:warn',
      ]);
      started.push(await spawnDaemon(c, a, { name: `ovsdb-server(${db})`, onLine: log, readyWhen: () => socketAccepts(sock) }));
    }
    const nb = `unix:${join(dir, 'nb.sock')}`;
    const sb = `unix:${join(dir, 'sb.sock')}`;
    started.push(
      await spawnDaemon(
        'ovn-northd',
        [`--ovnnb-db=${nb}`, `--ovnsb-db=${sb}`, `--unixctl=${join(dir, 'northd.ctl')}`, '--no-chdir', '-vconsole:err'],
        { name: 'ovn-northd', onLine: log },
      ),
    );
    // max_tunid appears once northd ran; network create fails with a 500 before (RECIPES §5.1).
    await waitFor(async () => (await run('ovn-nbctl', [`--db=${nb}`, 'get', 'NB_Global', '.', 'options:max_tunid'])).code === 0, {
      what: 'northd max_tunid',
    });
    // VNIs up to 4095: with VXLAN encap Neutron refuses larger segmentation ids.
    const conf = await prepareNeutron(dir, ip, 9696, nb, sb, '1:4095');
    const [c, a] = inNs(ns, 'neutron-server', ['--config-file', conf]);
    started.push(
      await spawnDaemon(c, a, {
        name: 'neutron-server',
        readyWhen: ipamAnswers(ns, ip),
        readyTimeoutMs: 120_000,
      }),
    );
    return centralNode(ns, ip, nb, stop);
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * The central node as ovnts serves it: `ovnts up --listen=IP --no-controller`
 * (NB on IP:6641, SB on IP:6642, the IPAM on IP:9696) in `ns`.
 */
export async function startOvntsCentral(dir: string, ns: string, ip: string, log: (l: string) => void): Promise<Central> {
  mkdirSync(dir, { recursive: true });
  const [c, a] = inNs(ns, OVNTS, ['up', `--listen=${ip}`, '--no-controller', `--rundir=${dir}`, `--dbdir=${dir}`]);
  const d = await spawnDaemon(c, a, {
    name: 'ovnts up',
    onLine: log,
    readyWhen: ipamAnswers(ns, ip),
  });
  return centralNode(ns, ip, `unix:${join(dir, 'ovnnb_db.sock')}`, () => d.stop(5000));
}

/** A running central node: its NB (for ovn-nbctl) and its IPAM at http://IP:9696/ inside `ns`. */
function centralNode(ns: string, ip: string, nb: string, stop: () => Promise<void>): Central {
  return {
    ns,
    ip,
    nbctl: (...args) => runOk('ovn-nbctl', [`--db=${nb}`, '--timeout=20', ...args]),
    neutronList: (collection) => neutronGet(ns, ip, collection),
    neutronCreate: (resource, body) => neutronPost(ns, ip, resource, body),
    stop,
  };
}

/** Both central nodes answer `GET /` on the IPAM once they serve. */
function ipamAnswers(ns: string, ip: string): () => Promise<boolean> {
  return async () =>
    (await run('nsenter', [`--net=/run/netns/${ns}`, 'curl', '-sf', `http://${ip}:9696/`], { timeoutMs: 5000 })).code === 0;
}

async function neutronGet(ns: string, ip: string, collection: string): Promise<Array<Record<string, unknown>>> {
  const out = await runOk('nsenter', [`--net=/run/netns/${ns}`, 'curl', '-sf', `http://${ip}:9696/v2.0/${collection}`]);
  return (JSON.parse(out) as Record<string, Array<Record<string, unknown>>>)[collection] ?? [];
}

async function neutronPost(ns: string, ip: string, resource: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out = await runOk('nsenter', [
    `--net=/run/netns/${ns}`,
    'curl',
    '-sS',
    '--fail-with-body',
    '-X',
    'POST',
    '-H',
    'Content-Type: application/json',
    '-d',
    JSON.stringify({ [resource]: { tenant_id: 'admin', ...body } }),
    `http://${ip}:9696/v2.0/${resource}s`,
  ]);
  return (JSON.parse(out) as Record<string, Record<string, unknown>>)[resource] ?? {};
}

export type CentralKind = 'neutron' | 'ovnts';

/** The central node of either kind. */
export function startCentral(kind: CentralKind, dir: string, ns: string, ip: string, log: (l: string) => void): Promise<Central> {
  return kind === 'neutron' ? startNeutronCentral(dir, ns, ip, log) : startOvntsCentral(dir, ns, ip, log);
}

/** The central namespace with a Linux bridge as the hosts' underlay, `ip/24` on it. */
export async function createUnderlay(ns: string, ip: string): Promise<void> {
  await createNetns(ns);
  await runOk('ip', ['-n', ns, 'link', 'add', 'name', 'underlay', 'type', 'bridge']);
  await runOk('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'underlay']);
  await runOk('ip', ['-n', ns, 'link', 'set', 'underlay', 'up']);
}

export interface ContainerHost {
  readonly ns: string;
  readonly ip: string;
  readonly ovs: OvsInstance;
  /** The environment of the tools on this host (OVS_RUNDIR, the runtime's). */
  readonly env: Readonly<Record<string, string>>;
  /** Runs a command inside the host's network namespace (nsenter --net) with the host's environment. */
  sh(cmd: string, args: readonly string[], env?: Readonly<Record<string, string>>): Promise<RunResult>;
  /** `ovn-integrate ARGS` / `ovn-container ARGS` on this host. */
  integrate(...args: string[]): Promise<RunResult>;
  container(...args: string[]): Promise<RunResult>;
  startController(dir: string, log: (l: string) => void): Promise<OvntsControllerHandle>;
  stop(): Promise<void>;
}

/**
 * A host: namespace `ns` with its own OVS, its NIC (a veth whose peer is on
 * the central underlay bridge) on a netdev br-phy with `ip/24`.
 */
export async function startContainerHost(
  ns: string,
  ip: string,
  centralNs: string,
  runtimeEnv: Readonly<Record<string, string>>,
  log: (l: string) => void,
): Promise<ContainerHost> {
  await createNetns(ns);
  const nic = `${ns.slice(-6)}n`;
  const peer = `${ns.slice(-6)}u`;
  await runOk('ip', ['link', 'add', nic, 'netns', ns, 'type', 'veth', 'peer', 'name', peer, 'netns', centralNs]);
  await runOk('ip', ['-n', centralNs, 'link', 'set', peer, 'master', 'underlay', 'up']);
  // TCP through a userspace-datapath port needs full checksums from the kernel side (RECIPES "Traps").
  await runOk('ip', ['netns', 'exec', centralNs, 'ethtool', '-K', peer, 'tx', 'off']);
  await runOk('ip', ['netns', 'exec', ns, 'ethtool', '-K', nic, 'tx', 'off']);
  const ovs = await startOvs({ netns: ns, log });
  await ovs.vsctl('add-br', 'br-phy', '--', 'set', 'Bridge', 'br-phy', 'datapath_type=netdev', '--', 'add-port', 'br-phy', nic);
  await runOk('ip', ['-n', ns, 'link', 'set', nic, 'up']);
  await waitFor(async () => (await run('ip', ['-n', ns, 'link', 'show', 'br-phy'])).code === 0, { what: `br-phy in ${ns}` });
  await runOk('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'br-phy']);
  await runOk('ip', ['-n', ns, 'link', 'set', 'br-phy', 'up']);
  // ovs-vswitchd refuses the route ("Error while inserting route.") until it has seen br-phy's new address.
  const route = ['ovs/route/add', `${ip.split('.').slice(0, 3).join('.')}.0/24`, 'br-phy'];
  const routed = (): Promise<boolean> =>
    ovs.appctl(...route).then(
      () => true,
      () => false,
    );
  await waitFor(routed, { what: `the underlay route in ${ns}` });
  const env = { ...ovs.env, ...runtimeEnv };
  const sh = (cmd: string, args: readonly string[], extra: Readonly<Record<string, string>> = {}): Promise<RunResult> =>
    run('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], { env: { ...env, ...extra }, timeoutMs: 120_000 });
  const controllers: OvntsControllerHandle[] = [];
  return {
    ns,
    ip,
    ovs,
    env,
    sh,
    integrate: (...args) => sh(OVN_INTEGRATE, args),
    container: (...args) => sh(OVN_CONTAINER, args),
    startController: async (dir, l) => {
      mkdirSync(dir, { recursive: true });
      const c = await startOvntsController({
        dbs: { nbRemote: '', sbRemote: '', stop: async () => undefined },
        dir,
        log: l,
        ovs,
        systemId: ns,
      });
      controllers.push(c);
      return c;
    },
    stop: async () => {
      for (const c of controllers) await c.stop();
      await ovs.stop();
    },
  };
}

/**
 * The seed's host preparation, in its order: create-integration-bridge,
 * set-ipam, set-tep, set-encap-type; each must print its success line.
 */
export async function prepareHost(h: ContainerHost, ipamIp: string, encap: 'geneve' | 'vxlan'): Promise<void> {
  for (const [args, said] of [
    [['create-integration-bridge'], 'successfully created the integration bridge.'],
    [['set-ipam', ipamIp], 'successfully set the ipam server ip address.'],
    [['set-tep', h.ip], 'successfully set the local tunnel endpoint.'],
    [['set-encap-type', encap], 'successfully set the encap type.'],
  ] as const) {
    const out = okLines(await h.integrate(...args), args[0]);
    if (out.join('\n') !== said) throw new Error(`ovn-integrate ${args.join(' ')} printed ${JSON.stringify(out)}, not "${said}"`);
  }
}

/** Fails with the command's output unless it exited 0; resolves to its stdout lines. */
export function okLines(r: RunResult, what: string): string[] {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout.trimEnd().split('\n');
}

export interface Podman {
  /** CONTAINERS_CONF and CONTAINERS_STORAGE_CONF of this instance, and a DOCKER_HOST nobody answers (so podman is detected). */
  readonly env: Readonly<Record<string, string>>;
  podman(...args: string[]): Promise<string>;
  /** Removes every container of this store. */
  stop(): Promise<void>;
}

/** podman with its own configuration and storage under `dir` (RECIPES.md §4.1: runc, cgroupfs, ulimits). */
export function podmanIn(dir: string): Podman {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'containers.conf');
  const storage = join(dir, 'storage.conf');
  writeFileSync(
    conf,
    `[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "${join(dir, 'events.log')}"\nruntime = "runc"\n`,
  );
  writeFileSync(storage, `[storage]\ndriver = "overlay"\ngraphroot = "${join(dir, 'storage')}"\nrunroot = "${join(dir, 'run')}"\n`);
  const env = { CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage, DOCKER_HOST: `unix://${join(dir, 'no-dockerd.sock')}` };
  const podman = (...args: string[]): Promise<string> => runOk('podman', args, { env, timeoutMs: 120_000 });
  return {
    env,
    podman,
    stop: async () => {
      await run('podman', ['rm', '-af', '-t', '0'], { env, timeoutMs: 120_000 });
      // The overlay store's mounts go with a reset.
      await run('podman', ['system', 'reset', '-f'], { env, timeoutMs: 120_000 });
    },
  };
}

/** A VM's Neutron port as the CMS made it. */
export interface VmPort {
  readonly id: string;
  readonly mac: string;
  readonly ip: string;
}

/** A plain VM on hypervisor `hv`: an internal port `name` with the port's iface-id, moved into namespace `ns` with its address. */
export async function internalVmPort(hv: ContainerHost, name: string, ns: string, port: VmPort, prefix: number): Promise<void> {
  await hv.ovs.vsctl('add-port', 'br-int', name, '--', 'set', 'Interface', name, 'type=internal', `external_ids:iface-id=${port.id}`);
  await waitFor(async () => (await run('ip', ['-n', hv.ns, 'link', 'show', name])).code === 0, { what: `${name} tap` });
  await runOk('ip', ['-n', hv.ns, 'link', 'set', name, 'address', port.mac, 'netns', ns]);
  await runOk('ip', ['-n', ns, 'addr', 'add', `${port.ip}/${prefix}`, 'dev', name]);
  await runOk('ip', ['-n', ns, 'link', 'set', name, 'up']);
}

/**
 * A VM that runs containers (underlay mode) on hypervisor `hv`: namespace
 * `vmNs` whose eth0 (the port's MAC and address) has its peer `peer` on the
 * hypervisor's br-int with the port's iface-id, and a management NIC mgmt0
 * with `mgmtIp/24` on the central underlay (peer `mgmtPeer`), as a cloud VM
 * reaches its API endpoints. The VM's own OVS is the caller's.
 */
export async function wireVm(
  hv: ContainerHost,
  vmNs: string,
  peer: string,
  port: VmPort,
  prefix: number,
  mgmt: { centralNs: string; ip: string; peer: string },
): Promise<void> {
  await runOk('ip', ['link', 'add', 'eth0', 'netns', vmNs, 'type', 'veth', 'peer', 'name', peer, 'netns', hv.ns]);
  for (const [ns, dev] of [
    [vmNs, 'eth0'],
    [hv.ns, peer],
  ] as const) {
    await runOk('ip', ['netns', 'exec', ns, 'ethtool', '-K', dev, 'tx', 'off']);
    await runOk('ip', ['-n', ns, 'link', 'set', dev, 'up']);
  }
  await hv.ovs.vsctl('add-port', 'br-int', peer, '--', 'set', 'Interface', peer, `external_ids:iface-id=${port.id}`);
  await runOk('ip', ['-n', vmNs, 'link', 'set', 'eth0', 'address', port.mac]);
  await runOk('ip', ['-n', vmNs, 'addr', 'add', `${port.ip}/${prefix}`, 'dev', 'eth0']);
  await runOk('ip', ['link', 'add', 'mgmt0', 'netns', vmNs, 'type', 'veth', 'peer', 'name', mgmt.peer, 'netns', mgmt.centralNs]);
  await runOk('ip', ['-n', mgmt.centralNs, 'link', 'set', mgmt.peer, 'master', 'underlay', 'up']);
  await runOk('ip', ['-n', vmNs, 'addr', 'add', `${mgmt.ip}/24`, 'dev', 'mgmt0']);
  await runOk('ip', ['-n', vmNs, 'link', 'set', 'mgmt0', 'up']);
}
