/**
 * ovnts-cni in nested mode, the nested scenario: a "VM" namespace
 * with its own OVS, its bridge carrying the VM's Neutron port to the
 * hypervisor's br-int (a veth with iface-id = the VM port); podman with
 * the CNI backend starts containers whose ports are children of the VM's
 * port (binding:profile parent_name + a VLAN from the VM's pool), each veth
 * an access port of its VLAN on the VM's bridge. The containers reach a VM
 * port on another switch through an ovnts router and each other; removal
 * gives the VLANs back and leaves no port.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createNetns } from '../helpers/netns.js';
import { startOvs, type OvsInstance } from '../helpers/ovs.js';
import { cleanupAll, run, runOk } from '../helpers/proc.js';
import { podmanCni, plugIntoBrInt, startCniWorld, type CniWorld, type NestedPort, type PodmanCni } from '../helpers/cni.js';
import { buildNetworkImage } from '../../src/host/network-image.js';

const IMAGE = 'localhost/ovnts-network:local';

let w: CniWorld;
let pm: PodmanCni;
let vmOvs: OvsInstance;

before(async () => {
  w = await startCniWorld();
  pm = podmanCni(join(w.dir, 'podman'), w.pluginDir, w.confDir);
  Object.assign(process.env, pm.env);
  await buildNetworkImage('podman', IMAGE);
});

after(async () => {
  await pm?.stop();
  await vmOvs?.stop();
  await w?.stop();
  await cleanupAll();
});

test(
  'nested: podman containers in a VM on VLANs under the VM port reach a VM on another switch through an ovnts router',
  { timeout: 400_000 },
  async () => {
    const id = w.id;
    // The logical network: two switches behind one router.
    const inner = (await w.api<{ network: { id: string } }>('POST', '/v2.0/networks', { network: { name: `${id}-inner` } })).network;
    const outer = (await w.api<{ network: { id: string } }>('POST', '/v2.0/networks', { network: { name: `${id}-outer` } })).network;
    const s1 = (
      await w.api<{ subnet: { id: string } }>('POST', '/v2.0/subnets', {
        subnet: { network_id: inner.id, cidr: '198.51.100.0/24', ip_version: 4 },
      })
    ).subnet;
    const s2 = (
      await w.api<{ subnet: { id: string } }>('POST', '/v2.0/subnets', {
        subnet: { network_id: outer.id, cidr: '192.0.2.0/24', ip_version: 4 },
      })
    ).subnet;
    const router = (await w.api<{ router: { id: string } }>('POST', '/v2.0/routers', { router: { name: `${id}-r` } })).router;
    for (const s of [s1, s2]) await w.api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: s.id });
    const vmPort = (await w.api<{ port: NestedPort }>('POST', '/v2.0/ports', { port: { network_id: inner.id, name: 'vm' } })).port;
    const other = (await w.api<{ port: NestedPort }>('POST', '/v2.0/ports', { port: { network_id: outer.id, name: 'other' } })).port;

    // The VM: its own namespace and OVS, br-vm carrying the VM port (untagged trunk) to br-int.
    const vm = await createNetns(`${id}-vm`);
    vmOvs = await startOvs({ netns: vm });
    await vmOvs.vsctl('add-br', 'br-vm', '--', 'set', 'Bridge', 'br-vm', 'datapath_type=netdev');
    const trunk = await plugIntoBrInt(w, `${id}v`, vmPort, vm);
    await runOk('ip', ['-n', vm, 'link', 'set', trunk, 'up']);
    await vmOvs.vsctl('add-port', 'br-vm', trunk);
    // The VM on the other switch.
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

    const net = `${id}-nested`;
    w.conflist(net, '1.0.0', {
      network: inner.id,
      mode: 'nested',
      bridge: 'br-vm',
      ovs_db: vmOvs.dbRemote,
      ovs_netns: `/run/netns/${vm}`,
      vif_id: vmPort.id,
    });
    const ctrs: string[] = [];
    for (let k = 0; k < 3; k++) ctrs.push((await pm.podman('run', '-d', `--network=${net}`, IMAGE, 'sleep', '600')).trim());
    const ports = (await w.api<{ ports: NestedPort[] }>('GET', `/v2.0/ports?network_id=${inner.id}&device_owner=compute:container`)).ports;
    assert.equal(ports.length, 3);
    const tags = ports.map((p) => p['binding:profile'].tag).sort();
    assert.deepEqual(tags, [1, 2, 3], 'one VLAN each from the VM pool');
    for (const p of ports) {
      assert.equal(p['binding:profile'].parent_name, vmPort.id);
      assert.equal(p.status, 'ACTIVE');
    }
    assert.equal((await vmOvs.vsctl('get', 'Bridge', 'br-vm', 'external_ids:vlans')).trim(), '"1,2,3"');
    assert.equal((await w.nbctl('lsp-get-tag', ports[0]!.id)).trim(), String(ports[0]!['binding:profile'].tag));
    const ips = ports.map((p) => p.fixed_ips[0]!.ip_address);
    for (const c of ctrs) {
      // The first packet after podman run: through the VM bridge, the VM port, the router, to the other switch.
      await pm.podman('exec', c, 'ping', '-c', '1', '-W', '3', oIp);
      for (const ip of ips) await pm.podman('exec', c, 'ping', '-c', '1', '-W', '3', ip);
    }
    assert.equal(
      (await run('ip', ['netns', 'exec', o, 'ping', '-c', '1', '-W', '3', ips[0]!])).code,
      0,
      'the other VM reaches a container',
    );
    await pm.podman('rm', '-f', '-t', '0', ...ctrs);
    assert.deepEqual(
      (await w.api<{ ports: NestedPort[] }>('GET', `/v2.0/ports?network_id=${inner.id}&device_owner=compute:container`)).ports,
      [],
    );
    assert.equal((await vmOvs.vsctl('--if-exists', 'get', 'Bridge', 'br-vm', 'external_ids:vlans')).trim(), '', 'VLANs given back');
    assert.deepEqual(
      (await vmOvs.vsctl('list-ports', 'br-vm')).split('\n').filter((p) => p !== ''),
      [trunk],
    );
  },
);
