/**
 * Seed 004's underlay world for the container tests: a central node
 * (`ovnts up --listen=IP`, its IPAM in noauth mode or, with
 * `--ipam-users=FILE`, in Keystone mode), two hypervisors with their own OVS and `ovnts
 * controller`, a tenant network, and two VMs on it: vm5 on hypervisor 1 is a
 * namespace with its own OVS whose eth0's peer sits on br-int with iface-id =
 * vm5's Neutron port, plus a management NIC to the API endpoints (as a cloud
 * VM reaches them); vm6 on hypervisor 2 is a plain internal port in a
 * namespace of its own.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, runId } from './netns.js';
import { startOvs, type OvsInstance } from './ovs.js';
import { OVNTS } from './ovsdb-servers.js';
import { run, runOk, spawnDaemon, waitFor, type RunResult } from './proc.js';
import {
  createUnderlay,
  okLines,
  OVN_CONTAINER,
  OVN_INTEGRATE,
  prepareHost,
  startCentral,
  startContainerHost,
  startDockerd,
  type Central,
  type ContainerHost,
  type Dockerd,
  internalVmPort,
  type VmPort,
  wireVm,
} from './containers.js';

export const CENTRAL_IP = '192.0.2.10';
/** The image container-create builds and starts (busybox-static), also good for the apps. */
export const NETWORK_IMAGE = 'ovnts-network:local';
const VM_MGMT_IP = '192.0.2.50';
/** The tenant network's subnet (vm5 and vm6 take the first addresses). */
export const CIDR = '172.16.255.128/26';

/** The Keystone side of the central node: the users file for `ovnts ipam --users`, and who acts as the cloud's admin. */
export interface KeystoneSetup {
  readonly users: unknown;
  /** The admin that creates the network and the VM ports (the CMS). */
  readonly admin: { readonly user: string; readonly password: string; readonly project: string };
  /** The project id that owns the network and the VM ports (the tenant's). */
  readonly project: string;
}

export interface UnderlayWorld {
  readonly dockerd: Dockerd;
  readonly central: Central;
  readonly hvs: readonly [ContainerHost, ContainerHost];
  readonly netId: string;
  readonly vm5: VmPort;
  readonly vm6: VmPort;
  readonly vmNs: string;
  readonly vm6Ns: string;
  readonly vmOvs: OvsInstance;
  /** vm5's eth0 peer on hypervisor 1's br-int. */
  readonly vmPeer: string;
  /** The IPAM's base URL as the VM sees it. */
  readonly ipamUrl: string;
  /** The environment of the tools in the VM: its OVS and the runtime (the test adds the OS_* variables). */
  readonly vmBaseEnv: Readonly<Record<string, string>>;
  /** A command inside the VM (nsenter --net) with `env`. */
  inVm(cmd: string, args: readonly string[], env: Readonly<Record<string, string>>): Promise<RunResult>;
  /** The last log lines of the daemons, for failure messages. */
  logTail(n: number): string;
  stop(): Promise<void>;
}

/** `nsenter --net` into `ns` → [cmd, args]. */
function inNs(ns: string, cmd: string, args: readonly string[]): [string, string[]] {
  return ['nsenter', [`--net=/run/netns/${ns}`, cmd, ...args]];
}

/** A Keystone token for `who` from the IPAM inside `ns` (curl there; the test process is outside). */
async function keystoneToken(ns: string, url: string, who: KeystoneSetup['admin']): Promise<string> {
  const body = {
    auth: {
      identity: { methods: ['password'], password: { user: { name: who.user, domain: { id: 'default' }, password: who.password } } },
      scope: { project: { name: who.project, domain: { id: 'default' } } },
    },
  };
  const [c, a] = inNs(ns, 'curl', [
    '-sS',
    '--fail-with-body',
    '-D',
    '-',
    '-o',
    '/dev/null',
    '-H',
    'Content-Type: application/json',
    '-d',
    JSON.stringify(body),
    `${url}v3/auth/tokens`,
  ]);
  const token = /^x-subject-token:\s*(\S+)/im.exec(await runOk(c, a))?.[1];
  if (token === undefined) throw new Error('the IPAM issued no token');
  return token;
}

/**
 * The central node with the IPAM in Keystone mode: `ovnts up --listen=IP
 * --ipam-users=FILE` (the NB on IP:6641, the SB on IP:6642, the Neutron API
 * with Keystone auth on IP:9696). The Central's own Neutron calls go with the
 * admin's token.
 */
async function startKeystoneCentral(dir: string, ns: string, ip: string, ks: KeystoneSetup, log: (l: string) => void): Promise<Central> {
  mkdirSync(dir, { recursive: true });
  const usersFile = join(dir, 'users.json');
  writeFileSync(usersFile, JSON.stringify(ks.users));
  const url = `http://${ip}:9696/`;
  const [uc, ua] = inNs(ns, OVNTS, [
    'up',
    `--listen=${ip}`,
    `--ipam-users=${usersFile}`,
    '--no-controller',
    `--rundir=${dir}`,
    `--dbdir=${dir}`,
  ]);
  const up = await spawnDaemon(uc, ua, {
    name: 'ovnts up',
    onLine: log,
    readyWhen: async () => (await run(...inNs(ns, 'curl', ['-sf', url]), { timeoutMs: 5000 })).code === 0,
  });
  const token = await keystoneToken(ns, url, ks.admin).catch(async (e: unknown) => {
    await up.stop(5000);
    throw e;
  });
  const curl = async (args: string[]): Promise<unknown> =>
    JSON.parse(await runOk(...inNs(ns, 'curl', ['-sS', '--fail-with-body', '-H', `X-Auth-Token: ${token}`, ...args])));
  const nbSock = join(dir, 'ovnnb_db.sock');
  return {
    ns,
    ip,
    nbctl: (...args) => runOk('ovn-nbctl', [`--db=unix:${nbSock}`, '--timeout=20', ...args]),
    neutronList: async (collection) =>
      ((await curl([`${url}v2.0/${collection}`])) as Record<string, Array<Record<string, unknown>>>)[collection] ?? [],
    neutronCreate: async (resource, body) =>
      (
        (await curl([
          '-X',
          'POST',
          '-H',
          'Content-Type: application/json',
          '-d',
          JSON.stringify({ [resource]: body }),
          `${url}v2.0/${resource}s`,
        ])) as Record<string, Record<string, unknown>>
      )[resource] ?? {},
    stop: () => up.stop(5000),
  };
}

/** Builds the world under `dir`; `keystone` puts the IPAM in Keystone mode. Everything is undone by stop(), also halfway. */
export async function startUnderlayWorld(dir: string, keystone?: KeystoneSetup): Promise<UnderlayWorld> {
  const lines: string[] = [];
  const log = (l: string): void => void lines.push(l);
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    const dockerd = await startDockerd(join(dir, 'docker'));
    stops.push(() => dockerd.stop());
    const id = runId();
    const centralNs = `${id}-c`;
    await createUnderlay(centralNs, CENTRAL_IP);
    const central =
      keystone === undefined
        ? await startCentral('ovnts', join(dir, 'central'), centralNs, CENTRAL_IP, log)
        : await startKeystoneCentral(join(dir, 'central'), centralNs, CENTRAL_IP, keystone, log);
    stops.push(() => central.stop());
    const hvs: ContainerHost[] = [];
    for (const [n, ip] of [
      ['h1', '192.0.2.1'],
      ['h2', '192.0.2.2'],
    ] as const) {
      const h = await startContainerHost(`${id}-${n}`, ip, centralNs, dockerd.env, log);
      stops.push(() => h.stop());
      hvs.push(h);
      await prepareHost(h, CENTRAL_IP, 'geneve');
      await h.startController(join(dir, `${n}-ctl`), log);
    }
    const [h1, h2] = hvs as [ContainerHost, ContainerHost];
    // The tenant's network and the VM ports, made by the CMS.
    const owner = keystone === undefined ? {} : { tenant_id: keystone.project };
    const net = await central.neutronCreate('network', { name: 'dmz', admin_state_up: true, ...owner });
    const netId = String(net['id']);
    await central.neutronCreate('subnet', { network_id: netId, ip_version: 4, cidr: CIDR, name: 'dmz', ...owner });
    const port = async (name: string): Promise<VmPort> => {
      const p = await central.neutronCreate('port', { network_id: netId, name, ...owner });
      const ip = (p['fixed_ips'] as Array<{ ip_address: string }>)[0]!.ip_address;
      return { id: String(p['id']), mac: String(p['mac_address']), ip };
    };
    const vm5 = await port('vm5');
    const vm6 = await port('vm6');
    const prefix = Number(CIDR.split('/')[1]);

    // vm6 on hypervisor 2: an internal port with its iface-id, in a namespace of its own.
    const vm6Ns = await createNetns(`${id}-v6`);
    await internalVmPort(h2, 'vm6', vm6Ns, vm6, prefix);
    // vm5 on hypervisor 1: a namespace with its own OVS; eth0's peer on br-int with vm5's iface-id, and a management NIC to the API endpoints.
    const vmNs = await createNetns(`${id}-v5`);
    const vmPeer = `${id}v5`;
    await wireVm(h1, vmNs, vmPeer, vm5, prefix, { centralNs, ip: VM_MGMT_IP, peer: `${id}m` });
    const vmOvs = await startOvs({ netns: vmNs, log });
    stops.push(() => vmOvs.stop());
    for (const p of [vm5, vm6])
      await waitFor(async () => (await central.nbctl('get', 'Logical_Switch_Port', p.id, 'up')).trim() === 'true', {
        what: `${p.ip} up`,
        timeoutMs: 90_000,
      });
    const vmBaseEnv = { ...vmOvs.env, ...dockerd.env };
    return {
      dockerd,
      central,
      hvs: [h1, h2],
      netId,
      vm5,
      vm6,
      vmNs,
      vm6Ns,
      vmOvs,
      vmPeer,
      ipamUrl: `http://${CENTRAL_IP}:9696/`,
      vmBaseEnv,
      inVm: (cmd, args, env) => run('nsenter', [`--net=/run/netns/${vmNs}`, cmd, ...args], { env, timeoutMs: 180_000 }),
      logTail: (n) => lines.slice(-n).join('\n'),
      stop,
    };
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\nlog:\n${lines.slice(-40).join('\n')}`);
  }
}

/**
 * Seed 004's steps in the VM: `ovn-integrate nics-to-bridge eth0` (then the
 * VM still reaches vm6, through breth0), `set-ipam`, `ovn-container init
 * --bridge breth0 --underlay-mode`.
 */
export async function prepareVm(w: UnderlayWorld): Promise<void> {
  const env = w.vmBaseEnv;
  okLines(await w.inVm(OVN_INTEGRATE, ['nics-to-bridge', 'eth0'], env), 'nics-to-bridge');
  await waitFor(async () => (await run('ip', ['netns', 'exec', w.vmNs, 'ping', '-c', '1', '-W', '1', w.vm6.ip])).code === 0, {
    what: 'the VM reaches vm6 through breth0',
    timeoutMs: 30_000,
  });
  okLines(await w.inVm(OVN_INTEGRATE, ['set-ipam', CENTRAL_IP], env), 'set-ipam');
  okLines(await w.inVm(OVN_CONTAINER, ['init', '--bridge', 'breth0', '--underlay-mode'], env), 'init');
}

/** Waits until `docker exec APP ping DEST` gets an answer. */
export async function appPings(w: UnderlayWorld, app: string, dest: string): Promise<void> {
  await waitFor(
    async () =>
      w.dockerd.docker('exec', app, 'ping', '-c', '1', '-W', '1', dest).then(
        () => true,
        () => false,
      ),
    { what: `${app.slice(0, 12)} ping ${dest}`, timeoutMs: 30_000 },
  );
}

/** Nothing on the VM or in Neutron that belongs to no endpoint: breth0's keys and ports, veths, containers, ports but vm5/vm6. */
export async function assertVmClean(w: UnderlayWorld): Promise<void> {
  const ids = (await w.vmOvs.vsctl('br-get-external-id', 'breth0')).split('\n').filter((l) => l !== '' && !l.startsWith('bridge-id='));
  assert.deepEqual(ids, [], 'breth0 external_ids');
  assert.deepEqual((await w.vmOvs.vsctl('list-ports', 'breth0')).trim().split('\n'), ['eth0'], 'breth0 ports');
  const veths = (await runOk('ip', ['-n', w.vmNs, '-o', 'link'])).split('\n').filter((l) => /_l[@:]/.test(l));
  assert.deepEqual(veths, [], 'veths');
  assert.equal((await w.dockerd.docker('ps', '-aq')).trim(), '', 'containers');
  const ports = (await w.central.neutronList('ports')).map((p) => p['name']).filter((n) => n !== 'vm5' && n !== 'vm6');
  assert.deepEqual(ports, [], 'Neutron ports');
}

/** Waits until the central NB says each of these LSPs is up. */
export async function waitPortsUp(w: UnderlayWorld, eps: readonly string[]): Promise<void> {
  for (const ep of eps)
    await waitFor(async () => (await w.central.nbctl('get', 'Logical_Switch_Port', ep, 'up')).trim() === 'true', {
      what: `${ep} up`,
      timeoutMs: 60_000,
    });
}

/**
 * Seed 004's container-create + `docker run --net=container:` for the two
 * endpoints `names` (with their ports `eps`); the two apps reach vm6, each
 * other and the VM; then they are removed. Resolves to the apps' addresses.
 */
export async function twoContainersTalk(
  w: UnderlayWorld,
  container: (...args: string[]) => Promise<RunResult>,
  names: readonly [string, string],
  eps: readonly [string, string],
): Promise<string[]> {
  const apps: string[] = [];
  const ips: string[] = [];
  for (const name of names) {
    const nc = okLines(await container('container-create', `--network=${name}`), `container-create ${name}`).pop()!;
    apps.push((await w.dockerd.docker('run', '-d', `--net=container:${nc}`, NETWORK_IMAGE, 'sleep', '600')).trim());
    const out = await w.dockerd.docker('exec', apps.at(-1)!, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1');
    ips.push(/inet (\d+\.\d+\.\d+\.\d+)\//.exec(out)?.[1] ?? '');
  }
  await waitPortsUp(w, eps);
  await appPings(w, apps[0]!, w.vm6.ip);
  await appPings(w, apps[1]!, w.vm6.ip);
  await appPings(w, apps[0]!, ips[1]!);
  await appPings(w, apps[1]!, w.vm5.ip);
  for (const app of apps) await w.dockerd.docker('rm', '-f', app);
  return ips;
}
