/**
 * Seed 004, underlay mode, command for command: containers inside a VM.
 * The VM is a namespace with its own OVS whose eth0's peer sits on the
 * hypervisor's br-int with iface-id = the VM's Neutron port; a second
 * hypervisor has a plain VM port. Inside the VM: `ovn-integrate
 * nics-to-bridge eth0` (the VM keeps its connectivity), `ovn-container init
 * --bridge breth0 --underlay-mode`, endpoint-create (ports with
 * binding:profile {parent_name: $OS_VIF_ID, tag}) and container-create
 * (VLAN access ports of breth0); the hypervisor's `ovnts controller` strips
 * and pushes the tags. The containers get their addresses, reach the VM
 * port on the other hypervisor and each other; then 20 concurrent
 * endpoint-create + container-create get unique VLANs and addresses and are
 * all removed cleanly.
 *
 * The VM reaches the IPAM on a management NIC of its own (as a cloud VM
 * reaches its API endpoints). Authentication: noauth with OS_VIF_ID
 * (OS_AUTH_STRATEGY=noauth) — the IPAM's Keystone mode is not merged here yet.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createNetns, runId } from '../helpers/netns.js';
import { startOvs, type OvsInstance } from '../helpers/ovs.js';
import { cleanupAll, run, runOk, tmpDir, waitFor, type RunResult } from '../helpers/proc.js';
import {
  createUnderlay,
  okLines,
  OVN_CONTAINER,
  OVN_INTEGRATE,
  prepareHost,
  startCentral,
  startContainerHost,
  startDockerd,
  internalVmPort,
  wireVm,
  type Central,
  type ContainerHost,
  type Dockerd,
} from '../helpers/containers.js';

const CENTRAL_IP = '192.0.2.10';
const VM_MGMT_IP = '192.0.2.50';
const IMAGE = 'ovnts-network:local';
const CONCURRENT = 20;

let dir: string;
let dockerd: Dockerd;
let central: Central;
const hvs: ContainerHost[] = [];
let vmNs: string;
let vmOvs: OvsInstance;
let netId: string;
let vm5: { id: string; mac: string; ip: string };
let vm6Ns: string;
let vm6Ip: string;
const lines: string[] = [];
const log = (l: string): void => void lines.push(l);

let vmEnv: Record<string, string>;
/** A tool inside the VM (nsenter --net, the VM's OVS, the openrc variables). */
function inVm(cmd: string, args: readonly string[]): Promise<RunResult> {
  return run('nsenter', [`--net=/run/netns/${vmNs}`, cmd, ...args], { env: vmEnv, timeoutMs: 180_000 });
}
const container = (...a: string[]): Promise<RunResult> => inVm(OVN_CONTAINER, a);

async function port(name: string): Promise<{ id: string; mac: string; ip: string }> {
  const p = await central.neutronCreate('port', { network_id: netId, name });
  const ip = (p['fixed_ips'] as Array<{ ip_address: string }>)[0]!.ip_address;
  return { id: String(p['id']), mac: String(p['mac_address']), ip };
}

before(async () => {
  dir = tmpDir('ovnts-underlay').path;
  dockerd = await startDockerd(join(dir, 'docker'));
  const id = runId();
  const centralNs = `${id}-c`;
  await createUnderlay(centralNs, CENTRAL_IP);
  central = await startCentral('ovnts', join(dir, 'central'), centralNs, CENTRAL_IP, log);
  for (const [n, ip] of [
    ['h1', '192.0.2.1'],
    ['h2', '192.0.2.2'],
  ] as const) {
    const h = await startContainerHost(`${id}-${n}`, ip, centralNs, dockerd.env, log);
    hvs.push(h);
    await prepareHost(h, CENTRAL_IP, 'geneve');
    await h.startController(join(dir, `${n}-ctl`), log);
  }
  // The tenant's network and the VM ports, made by the CMS.
  const net = await central.neutronCreate('network', { name: 'dmz', admin_state_up: true });
  netId = String(net['id']);
  await central.neutronCreate('subnet', { network_id: netId, ip_version: 4, cidr: '172.16.255.128/26', name: 'dmz' });
  vm5 = await port('vm5');
  const vm6 = await port('vm6');
  vm6Ip = vm6.ip;
  const [h1, h2] = hvs as [ContainerHost, ContainerHost];

  // vm6 on hypervisor 2: an internal port with its iface-id, in a namespace of its own.
  vm6Ns = await createNetns(`${id}-v6`);
  await internalVmPort(h2, 'vm6', vm6Ns, vm6, 26);

  // vm5 on hypervisor 1: a namespace with its own OVS; eth0's peer on br-int with vm5's iface-id.
  vmNs = await createNetns(`${id}-v5`);
  await wireVm(h1, vmNs, `${id}v5`, vm5, 26, { centralNs, ip: VM_MGMT_IP, peer: `${id}m` });
  vmOvs = await startOvs({ netns: vmNs, log });
  vmEnv = { ...vmOvs.env, ...dockerd.env, OS_VIF_ID: vm5.id, OS_AUTH_STRATEGY: 'noauth', OS_TENANT_ID: 'admin' };
  try {
    await waitFor(async () => (await central.nbctl('get', 'Logical_Switch_Port', vm5.id, 'up')).trim() === 'true', {
      what: 'vm5 up',
      timeoutMs: 90_000,
    });
    await waitFor(async () => (await central.nbctl('get', 'Logical_Switch_Port', vm6.id, 'up')).trim() === 'true', {
      what: 'vm6 up',
      timeoutMs: 90_000,
    });
  } catch (e) {
    throw new Error(
      `${(e as Error).message}\n${await central.nbctl('show')}\n${await h1.ovs.vsctl('show')}\nlog:\n${lines.slice(-40).join('\n')}`,
    );
  }
});

after(async () => {
  await vmOvs?.stop();
  for (const h of hvs) await h.stop();
  await central?.stop();
  await dockerd?.stop();
  await cleanupAll();
});

const vmPing = (dest: string): Promise<RunResult> => run('ip', ['netns', 'exec', vmNs, 'ping', '-c', '2', '-i', '0.2', '-W', '2', dest]);

async function appPings(app: string, dest: string): Promise<void> {
  await waitFor(
    async () =>
      dockerd.docker('exec', app, 'ping', '-c', '1', '-W', '1', dest).then(
        () => true,
        () => false,
      ),
    { what: `${app.slice(0, 12)} ping ${dest}`, timeoutMs: 30_000 },
  );
}

/** Everything on the VM that belongs to no endpoint must be gone. */
async function assertVmClean(): Promise<void> {
  const ids = (await vmOvs.vsctl('br-get-external-id', 'breth0')).split('\n').filter((l) => l !== '' && !l.startsWith('bridge-id='));
  assert.deepEqual(ids, [], 'breth0 external_ids');
  assert.deepEqual((await vmOvs.vsctl('list-ports', 'breth0')).trim().split('\n'), ['eth0'], 'breth0 ports');
  const veths = (await runOk('ip', ['-n', vmNs, '-o', 'link'])).split('\n').filter((l) => /_l[@:]/.test(l));
  assert.deepEqual(veths, [], 'veths');
  assert.equal((await dockerd.docker('ps', '-aq')).trim(), '', 'containers');
  const ports = (await central.neutronList('ports')).map((p) => p['name']).filter((n) => n !== 'vm5' && n !== 'vm6');
  assert.deepEqual(ports, [], 'Neutron ports');
}

test(
  'seed 004 underlay: nics-to-bridge keeps the VM connected; containers on VLANs reach a VM on another host and each other',
  { timeout: 600_000 },
  async () => {
    try {
      assert.equal((await vmPing(vm6Ip)).code, 0, 'the VM reaches vm6 before');
      assert.deepEqual(okLines(await inVm(OVN_INTEGRATE, ['nics-to-bridge', 'eth0']), 'nics-to-bridge'), [
        'successfully created OVS bridge breth0.',
      ]);
      assert.match(
        await runOk('ip', ['-n', vmNs, '-o', '-4', 'addr', 'show', 'dev', 'breth0']),
        new RegExp(`inet ${vm5.ip.replace(/\./g, '\\.')}/26`),
      );
      assert.equal((await runOk('ip', ['-n', vmNs, '-o', '-4', 'addr', 'show', 'dev', 'eth0'])).trim(), '');
      await waitFor(async () => (await vmPing(vm6Ip)).code === 0, { what: 'the VM reaches vm6 through breth0', timeoutMs: 30_000 }).catch(
        async (e: Error) => {
          const dump = await Promise.all([
            runOk('ip', ['-n', vmNs, 'addr']),
            runOk('ip', ['-n', vmNs, 'route']),
            runOk('ip', ['-n', vmNs, 'neigh']),
            vmOvs.vsctl('show'),
            vmOvs.ofctl('dump-flows', 'breth0'),
            vmOvs.appctl('fdb/show', 'breth0'),
          ]);
          throw new Error(`${e.message}\nvm5 ${vm5.mac} ${vm5.ip}\n${dump.join('\n')}`);
        },
      );
      okLines(await inVm(OVN_INTEGRATE, ['set-ipam', CENTRAL_IP]), 'set-ipam');
      okLines(await container('init', '--bridge', 'breth0', '--underlay-mode'), 'init');

      const eps: string[] = [];
      for (const name of ['c51', 'c52'])
        eps.push(okLines(await container('endpoint-create', 'dmz', name), `endpoint-create ${name}`).pop()!);
      const vlans = eps.map(async (ep) => (await vmOvs.vsctl('br-get-external-id', 'breth0', `${ep}_vlan`)).trim());
      const tags = await Promise.all(vlans);
      assert.deepEqual(tags, ['1', '2']);
      for (const [i, ep] of eps.entries()) {
        assert.equal((await central.nbctl('get', 'Logical_Switch_Port', ep, 'parent_name')).trim(), `"${vm5.id}"`);
        assert.equal((await central.nbctl('lsp-get-tag', ep)).trim(), tags[i]);
      }
      const apps: string[] = [];
      const ips: string[] = [];
      for (const name of ['c51', 'c52']) {
        const nc = okLines(await container('container-create', `--network=${name}`), 'container-create').pop()!;
        apps.push((await dockerd.docker('run', '-d', `--net=container:${nc}`, IMAGE, 'sleep', '600')).trim());
        const out = await dockerd.docker('exec', apps.at(-1)!, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1');
        ips.push(/inet (\d+\.\d+\.\d+\.\d+)\//.exec(out)?.[1] ?? '');
      }
      for (const ep of eps)
        await waitFor(async () => (await central.nbctl('get', 'Logical_Switch_Port', ep, 'up')).trim() === 'true', {
          what: `${ep} up`,
          timeoutMs: 60_000,
        });
      await appPings(apps[0]!, vm6Ip);
      await appPings(apps[1]!, vm6Ip);
      await appPings(apps[0]!, ips[1]!);
      await appPings(apps[1]!, vm5.ip);
      for (const app of apps) await dockerd.docker('rm', '-f', app);
      for (const name of ['c51', 'c52'])
        assert.deepEqual(okLines(await container('endpoint-delete', name), 'endpoint-delete'), ['deleted neutron port']);
      await assertVmClean();
      assert.equal((await vmPing(vm6Ip)).code, 0, 'the VM still reaches vm6');
    } catch (e) {
      throw new Error(`${(e as Error).message}\nlog:\n${lines.slice(-30).join('\n')}`);
    }
  },
);

test(
  `${CONCURRENT} concurrent endpoint-create + container-create in one VM: unique VLANs and addresses, all removed cleanly`,
  { timeout: 600_000 },
  async () => {
    const names = Array.from({ length: CONCURRENT }, (_, i) => `cc${i}`);
    const results = await Promise.all(
      names.map(async (name) => {
        const ep = okLines(await container('endpoint-create', 'dmz', name), `endpoint-create ${name}`).pop()!;
        const nc = okLines(await container('container-create', `--network=${name}`), `container-create ${name}`).pop()!;
        return { name, ep, nc };
      }),
    );
    const ids = new Map(
      (await vmOvs.vsctl('br-get-external-id', 'breth0'))
        .trim()
        .split('\n')
        .map((l) => l.split('=') as [string, string]),
    );
    const tags = results.map((r) => ids.get(`${r.ep}_vlan`));
    assert.equal(new Set(tags).size, CONCURRENT, `unique VLANs: ${tags.join(',')}`);
    assert.deepEqual(
      ids
        .get('vlans')!
        .split(',')
        .map(Number)
        .sort((a, b) => a - b),
      tags.map(Number).sort((a, b) => a - b),
    );
    const addrs = results.map((r) => ids.get(`${r.ep}_ip`));
    assert.equal(new Set(addrs).size, CONCURRENT, `unique addresses: ${addrs.join(',')}`);
    const used = ids.get('endpoint-usage')!.split(',');
    assert.equal(used.length, CONCURRENT);
    for (const r of results) {
      assert.equal((await central.nbctl('lsp-get-tag', r.ep)).trim(), ids.get(`${r.ep}_vlan`));
      assert.ok(used.includes(`${r.ep}:${r.nc}`));
    }
    // A sample talks across its VLAN to vm6 on the other hypervisor.
    const app = (await dockerd.docker('run', '-d', `--net=container:${results[CONCURRENT - 1]!.nc}`, IMAGE, 'sleep', '600')).trim();
    await appPings(app, vm6Ip);
    await dockerd.docker('rm', '-f', app);
    await Promise.all(results.map(async (r) => okLines(await container('endpoint-delete', r.name), `endpoint-delete ${r.name}`)));
    await assertVmClean();
  },
);
