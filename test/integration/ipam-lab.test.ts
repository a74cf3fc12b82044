/**
 * The seed lab built through the Neutron API instead of ovn-nbctl: `ovnts up`
 * (NB, SB, northd, controller and ipam in one process) on a private OVS; a
 * network with the DHCP subnet 172.16.255.128/26, a router with the subnet as
 * its interface (.129), a VM port, and two nested container ports
 * (binding:profile parent = the VM port, tags 51 and 52; c51 made with the
 * openstack CLI as seed 003 makes it). Plugged as seed 000 plugs them — br-vm5
 * patched to br-int with iface-id = the VM port id, access ports tagged 51/52 —
 * each namespace gets by DHCP the address the IPAM allocated, pings the router
 * and the others, and the ports' Neutron status goes ACTIVE, DOWN when the VM
 * is unplugged from br-int, and ACTIVE again when it is plugged back. A trunk
 * on the VM port with a subport on VLAN 60 carries traffic.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNetns, dhclient, pingDetail, runId } from '../helpers/netns.js';
import { startOvs } from '../helpers/ovs.js';
import { cleanupAll, run, spawnDaemon, tmpDir, waitFor, type Daemon } from '../helpers/proc.js';
import { OVNTS } from '../helpers/ovsdb-servers.js';
import { servedPort } from '../helpers/keystone-env.js';
import { configureChassis } from '../../src/lab/seed.js';

after(cleanupAll);

const SUBNET = '172.16.255.128/26';
const ROUTER_IP = '172.16.255.129';

interface Port {
  id: string;
  mac_address: string;
  status: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
}

test(
  'seed lab through the Neutron API: DHCP leases as allocated, pings, ACTIVE/DOWN, a trunk subport on VLAN 60',
  { timeout: 300_000 },
  async (t) => {
    const id = runId();
    const tmp = tmpDir('ovnts-ipam-lab');
    const rundir = join(tmp.path, 'run');
    const dbdir = join(tmp.path, 'db');
    const ovsDir = join(tmp.path, 'ovs');
    mkdirSync(ovsDir);
    const hv = await createNetns(`${id}-hv`);
    const ovs = await startOvs({ netns: hv, dir: ovsDir });
    await configureChassis(ovs.vsctl, { systemId: `${id}-chassis`, sbRemote: `unix:${rundir}/ovnsb_db.sock` });

    let port: string | undefined;
    const pidfile = join(tmp.path, 'up.pid');
    const log: string[] = [];
    // The controller reaches OVS through its unix sockets (OVS_RUNDIR), so `ovnts up` runs beside the test and its IPAM is on our loopback.
    const up: Daemon = await spawnDaemon(
      OVNTS,
      ['up', `--rundir=${rundir}`, `--dbdir=${dbdir}`, `--ovs-db=${ovs.dbRemote}`, `--pidfile=${pidfile}`, '--ipam=127.0.0.1:0'],
      {
        name: 'ovnts up',
        env: { ...ovs.env },
        onLine: (l) => {
          log.push(l);
          port ??= servedPort(l);
        },
        readyWhen: async () => existsSync(pidfile) && readFileSync(pidfile, 'utf8').trim() !== '' && port !== undefined,
        readyTimeoutMs: 30_000,
      },
    );
    after(() => up.stop());
    const url = `http://127.0.0.1:${port!}`;

    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
      return (text === '' ? undefined : JSON.parse(text)) as T;
    };
    const openstack = async (...args: string[]): Promise<unknown> => {
      const r = await run('openstack', ['--os-auth-type', 'none', '--os-endpoint', url, ...args, '-f', 'json'], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, `openstack ${args.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout) as unknown;
    };

    // --- The logical network, through the API.
    const net = (await openstack('network', 'create', 'dmz')) as { id: string };
    const subnet = (await openstack('subnet', 'create', '--network', 'dmz', '--subnet-range', SUBNET, 'dmz-sub')) as {
      id: string;
      gateway_ip: string;
    };
    assert.equal(subnet.gateway_ip, ROUTER_IP);
    const router = (await api<{ router: { id: string } }>('POST', '/v2.0/routers', { router: { name: 'tenant1' } })).router;
    await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
    const vm5 = (await api<{ port: Port }>('POST', '/v2.0/ports', { port: { network_id: net.id, name: 'vm5' } })).port;
    // Seed 003's way: the openstack CLI with the JSON binding profile (an int tag).
    const c51 = (await openstack(
      'port',
      'create',
      '--network',
      'dmz',
      '--binding-profile',
      JSON.stringify({ parent_name: vm5.id, tag: 51 }),
      'c51',
    )) as Port;
    const c52 = (
      await api<{ port: Port }>('POST', '/v2.0/ports', {
        port: { network_id: net.id, name: 'c52', 'binding:profile': { parent_name: vm5.id, tag: 52 } },
      })
    ).port;
    const t60 = (await api<{ port: Port }>('POST', '/v2.0/ports', { port: { network_id: net.id, name: 't60' } })).port;
    await api('POST', '/v2.0/trunks', {
      trunk: { name: 'vm5-trunk', port_id: vm5.id, sub_ports: [{ port_id: t60.id, segmentation_type: 'vlan', segmentation_id: 60 }] },
    });
    for (const p of [vm5, c51, c52, t60]) assert.equal(p.status, 'DOWN', `${p.id} starts DOWN`);

    // --- The VM side, as seed 000 plugs it, with the IPAM's ids and MACs.
    const vsctl = ovs.vsctl;
    await waitFor(async () => (await vsctl('--if-exists', 'get', 'Bridge', 'br-int', 'name')).trim() === 'br-int', { what: 'br-int' });
    await vsctl('add-br', 'br-vm5', '--', 'set', 'Bridge', 'br-vm5', 'datapath_type=netdev');
    await vsctl('add-port', 'br-vm5', 'brvm5-brint', '--', 'set', 'Interface', 'brvm5-brint', 'type=patch', 'options:peer=brint-brvm5');
    await vsctl('add-port', 'br-int', 'brint-brvm5', '--', 'set', 'Interface', 'brint-brvm5', 'type=patch', 'options:peer=brvm5-brint');
    await vsctl('set', 'Interface', 'brint-brvm5', `external_ids:iface-id=${vm5.id}`);
    const hosts = [
      { name: 'vm5', port: vm5, tag: undefined },
      { name: 'c51', port: c51, tag: 51 },
      { name: 'c52', port: c52, tag: 52 },
      { name: 'c60', port: t60, tag: 60 },
    ] as const;
    const netnsOf = (name: string): string => `${id}-${name}`;
    for (const h of hosts) {
      const ns = await createNetns(netnsOf(h.name));
      await vsctl(
        'add-port',
        'br-vm5',
        h.name,
        ...(h.tag === undefined ? [] : [`tag=${h.tag}`]),
        '--',
        'set',
        'interface',
        h.name,
        'type=internal',
      );
      await waitFor(async () => (await run('ip', ['-n', hv, 'link', 'show', h.name])).code === 0, { what: `tap ${h.name}` });
      await run('ip', ['-n', hv, 'link', 'set', h.name, 'address', h.port.mac_address]);
      await run('ip', ['-n', hv, 'link', 'set', h.name, 'netns', ns]);
      await run('ip', ['-n', ns, 'link', 'set', h.name, 'up']);
    }

    // --- Status: every port ACTIVE once OVN reports it up (seed 001's port-up signal reaching the CMS).
    const statusOf = async (p: Port): Promise<string> => (await api<{ port: Port }>('GET', `/v2.0/ports/${p.id}`)).port.status;
    for (const h of hosts) {
      await waitFor(async () => (await statusOf(h.port)) === 'ACTIVE', { what: `${h.name} ACTIVE`, timeoutMs: 30_000 });
    }

    // --- DHCP: each namespace gets the address the IPAM allocated; then pings.
    const failures: string[] = [];
    const leases = await Promise.all(
      hosts.map((h) =>
        dhclient(netnsOf(h.name), h.name, { dir: tmp.path, timeoutS: 20 }).then(
          (l) => l.address,
          (e: Error) => `none (${e.message.split('\n')[0]})`,
        ),
      ),
    );
    hosts.forEach((h, i) => {
      const want = `${h.port.fixed_ips[0]!.ip_address}/26`;
      if (leases[i] !== want) failures.push(`${h.name}: lease ${leases[i]}, the IPAM allocated ${want}`);
    });
    for (const h of hosts) {
      const targets = [ROUTER_IP, ...hosts.filter((o) => o !== h).map((o) => o.port.fixed_ips[0]!.ip_address)];
      for (const dest of targets) {
        const r = await pingDetail(netnsOf(h.name), dest, { count: 2, timeoutS: 5 });
        if (!r.ok) failures.push(`${h.name} -> ${dest}: ${r.received}/${r.transmitted}`);
      }
    }
    assert.deepEqual(failures, [], `ovnts up log:\n${log.slice(-40).join('\n')}`);

    // --- Unplug the VM (its port leaves br-int): OVN releases it and the ports nested in it, and all go DOWN.
    // (Removing only c52's access port from br-vm5 would change nothing OVN can see: that bridge is inside the VM.)
    await vsctl('del-port', 'br-int', 'brint-brvm5');
    for (const h of hosts) {
      await waitFor(async () => (await statusOf(h.port)) === 'DOWN', { what: `${h.name} DOWN after unplugging the VM`, timeoutMs: 30_000 });
    }
    // Plugged back, they come up again.
    await vsctl(
      'add-port',
      'br-int',
      'brint-brvm5',
      '--',
      'set',
      'Interface',
      'brint-brvm5',
      'type=patch',
      'options:peer=brvm5-brint',
      `external_ids:iface-id=${vm5.id}`,
    );
    for (const h of hosts) {
      await waitFor(async () => (await statusOf(h.port)) === 'ACTIVE', { what: `${h.name} ACTIVE again`, timeoutMs: 30_000 });
    }
    t.diagnostic(`leases: ${leases.join(', ')}`);
  },
);
