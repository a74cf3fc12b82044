/**
 * `ovnts docker-plugin --mode=nested` under a real dockerd, the issue's
 * nested scenario for Docker (as cni-nested is for podman): a "VM"
 * namespace with its own OVS, its bridge carrying the VM's Neutron port to
 * the hypervisor's br-int (a veth with iface-id = the VM port); the plugin
 * uses the VM's OVS and bridge. `docker network create -d DRIVER
 * --ipam-driver DRIVER` makes the Neutron network; `docker run` containers
 * get ports that are children of the VM's port (binding:profile
 * parent_name + a VLAN from the VM's pool, the same code as the CNI
 * plugin's nested mode), each veth an access port of its VLAN on the VM's
 * bridge. The containers reach a VM port on another switch through an
 * ovnts router and each other; removal gives the VLANs back and leaves no
 * Neutron port, OVS port or veth.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns } from '../helpers/netns.js';
import { startOvs, type OvsInstance } from '../helpers/ovs.js';
import { cleanupAll, run, runOk } from '../helpers/proc.js';
import { plugIntoBrInt, startCniWorld, type CniWorld, type NestedPort } from '../helpers/cni.js';
import { startDockerd, type Dockerd } from '../helpers/containers.js';
import { OVNTS } from '../helpers/ovsdb-servers.js';
import { buildNetworkImage } from '../../src/host/network-image.js';

const IMAGE = 'ovnts-network:local';

let w: CniWorld;
let dockerd: Dockerd;
let vmOvs: OvsInstance;
let pidfile: string | undefined;

before(async () => {
  w = await startCniWorld();
  dockerd = await startDockerd(join(w.dir, 'docker'));
  Object.assign(process.env, dockerd.env);
  await buildNetworkImage('docker', IMAGE);
});

after(async () => {
  const left = (await dockerd?.docker('ps', '-aq').catch(() => ''))?.split('\n').filter((s) => s !== '') ?? [];
  if (left.length > 0) await dockerd.docker('rm', '-f', ...left).catch(() => undefined);
  if (pidfile !== undefined && existsSync(pidfile)) process.kill(Number(readFileSync(pidfile, 'utf8')), 'SIGTERM');
  await dockerd?.stop();
  await vmOvs?.stop();
  await w?.stop();
  await cleanupAll();
});

test(
  'nested: docker containers in a VM on VLANs under the VM port reach a VM on another switch through an ovnts router',
  { timeout: 400_000 },
  async () => {
    const id = w.id;
    const api = w.api;
    // The VM's own network and port, and the other switch with a VM on it.
    const vmNet = (await api<{ network: { id: string } }>('POST', '/v2.0/networks', { network: { name: `${id}-vms` } })).network;
    await api('POST', '/v2.0/subnets', { subnet: { network_id: vmNet.id, cidr: '172.16.255.128/26', ip_version: 4 } });
    const outer = (await api<{ network: { id: string } }>('POST', '/v2.0/networks', { network: { name: `${id}-outer` } })).network;
    const s2 = (
      await api<{ subnet: { id: string } }>('POST', '/v2.0/subnets', {
        subnet: { network_id: outer.id, cidr: '192.0.2.0/24', ip_version: 4 },
      })
    ).subnet;
    const vmPort = (await api<{ port: NestedPort }>('POST', '/v2.0/ports', { port: { network_id: vmNet.id, name: 'vm' } })).port;
    const other = (await api<{ port: NestedPort }>('POST', '/v2.0/ports', { port: { network_id: outer.id, name: 'other' } })).port;

    // The VM: its own namespace and OVS, br-vm carrying the VM port (untagged trunk) to br-int.
    const vm = await createNetns(`${id}-vm`);
    vmOvs = await startOvs({ netns: vm });
    await vmOvs.vsctl('add-br', 'br-vm', '--', 'set', 'Bridge', 'br-vm', 'datapath_type=netdev');
    const trunk = await plugIntoBrInt(w, `${id}v`, vmPort, vm);
    await runOk('ip', ['-n', vm, 'link', 'set', trunk, 'up']);
    await vmOvs.vsctl('add-port', 'br-vm', trunk);
    const o = await createNetns(`${id}-o`);
    const oIf = await plugIntoBrInt(w, `${id}o`, other, o);
    const oIp = other.fixed_ips[0]!.ip_address;
    for (const args of [
      ['link', 'set', oIf, 'address', other.mac_address],
      ['addr', 'add', `${oIp}/24`, 'dev', oIf],
      ['link', 'set', oIf, 'up'],
      ['route', 'add', 'default', 'via', '192.0.2.1'],
    ]) {
      await runOk('ip', ['-n', o, ...args]);
    }

    // The plugin in nested mode: the VM's OVS and bridge, the VM's port as the parent.
    const driver = `ovnts${id}n`;
    pidfile = join(w.dir, 'plugin.pid');
    const started = await run(OVNTS, [
      'docker-plugin',
      `--socket=/run/docker/plugins/${driver}.sock`,
      `--ipam=${w.url}`,
      '--mode=nested',
      `--vif-id=${vmPort.id}`,
      '--bridge=br-vm',
      `--ovs-db=${vmOvs.dbRemote}`,
      `--ovs-netns=/run/netns/${vm}`,
      '--detach',
      `--pidfile=${pidfile}`,
      `--log-file=${join(w.dir, 'plugin.log')}`,
    ]);
    assert.equal(started.code, 0, started.stderr);

    const d = (...args: string[]): Promise<string> => runOk('/usr/bin/docker', args, { env: dockerd.env, timeoutMs: 60_000 });
    const name = `${id}-dn`;
    const netId = (
      await d('network', 'create', '-d', driver, '--ipam-driver', driver, '--subnet', '198.51.100.0/24', '--gateway', '198.51.100.1', name)
    ).trim();
    const net = (await api<{ networks: Array<{ id: string; subnets: string[] }> }>('GET', `/v2.0/networks?name=docker-${netId}`))
      .networks[0]!;
    const router = (await api<{ router: { id: string } }>('POST', '/v2.0/routers', { router: { name: `${id}-r` } })).router;
    for (const s of [net.subnets[0]!, s2.id]) await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: s });

    const ctrs: string[] = [];
    for (let k = 0; k < 3; k++) ctrs.push((await d('run', '-d', '--network', name, IMAGE, 'sleep', '600')).trim());
    const ports = (await api<{ ports: NestedPort[] }>('GET', `/v2.0/ports?network_id=${net.id}&device_owner=compute:container`)).ports;
    assert.equal(ports.length, 3);
    assert.deepEqual(ports.map((p) => p['binding:profile'].tag).sort(), [1, 2, 3], 'one VLAN each from the VM pool');
    for (const p of ports) {
      assert.equal(p['binding:profile'].parent_name, vmPort.id);
      assert.equal(p.status, 'ACTIVE');
    }
    assert.equal((await vmOvs.vsctl('get', 'Bridge', 'br-vm', 'external_ids:vlans')).trim(), '"1,2,3"');
    assert.equal((await w.nbctl('lsp-get-parent', ports[0]!.id)).trim(), vmPort.id);
    assert.equal((await w.nbctl('lsp-get-tag', ports[0]!.id)).trim(), String(ports[0]!['binding:profile'].tag));
    // Each container's veth is an access port of its port's VLAN on the VM's bridge.
    for (const p of ports) {
      const ifaces = (await vmOvs.vsctl('--bare', '--columns=name', 'find', 'Port', `tag=${p['binding:profile'].tag}`)).trim();
      assert.match(ifaces, /^ovd[0-9a-f]{12}$/);
    }
    const ips = ports.map((p) => p.fixed_ips[0]!.ip_address);
    for (const c of ctrs) {
      // The first packets after docker run: through the VM bridge, the VM port, the router, to the other switch.
      await d('exec', c, 'ping', '-c', '1', '-W', '3', oIp);
      for (const ip of ips) await d('exec', c, 'ping', '-c', '1', '-W', '3', ip);
    }
    assert.equal(
      (await run('ip', ['netns', 'exec', o, 'ping', '-c', '1', '-W', '3', ips[0]!])).code,
      0,
      'the other VM reaches a container',
    );
    await d('rm', '-f', ...ctrs);
    assert.deepEqual(
      (await api<{ ports: NestedPort[] }>('GET', `/v2.0/ports?network_id=${net.id}&device_owner=compute:container`)).ports,
      [],
    );
    assert.equal((await vmOvs.vsctl('--if-exists', 'get', 'Bridge', 'br-vm', 'external_ids:vlans')).trim(), '', 'VLANs given back');
    assert.deepEqual(
      (await vmOvs.vsctl('list-ports', 'br-vm')).split('\n').filter((p) => p !== ''),
      [trunk],
    );
    assert.doesNotMatch((await run('ip', ['-n', vm, '-o', 'link'])).stdout, /ovd[0-9a-f]{12}/);
    assert.doesNotMatch((await run('ip', ['-o', 'link'])).stdout, /ovc[0-9a-f]{12}/);
    for (const s of [net.subnets[0]!, s2.id]) await api('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: s });
    await d('network', 'rm', name);
    assert.deepEqual((await api<{ networks: unknown[] }>('GET', `/v2.0/networks?id=${net.id}`)).networks, []);
  },
);

test('nested mode without the VM port or bridge: a one-line start-up error', { timeout: 30_000 }, async () => {
  const noVif = await run(OVNTS, ['docker-plugin', '--mode=nested', '--bridge=br-vm'], { env: { OS_VIF_ID: '' } });
  assert.equal(noVif.code, 1);
  assert.equal(noVif.stderr.trim(), "ovnts-docker-plugin: nested mode needs --vif-id (or OS_VIF_ID): the VM's port");
  const noBridge = await run(OVNTS, ['docker-plugin', '--mode=nested', '--vif-id=x']);
  assert.equal(noBridge.code, 1);
  assert.equal(noBridge.stderr.trim(), "ovnts-docker-plugin: nested mode needs --bridge: the VM's bridge to its port");
  const bad = await run(OVNTS, ['docker-plugin', '--mode=vm']);
  assert.equal(bad.stderr.trim(), 'ovnts-docker-plugin: --mode=vm: not host or nested');
});
