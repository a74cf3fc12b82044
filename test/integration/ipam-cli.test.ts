/**
 * `ovnts ipam` (inside `ovnts up --no-controller`) driven by the real
 * `openstack` and `neutron` CLIs, with the NB it leaves read back by the real
 * ovn-nbctl and by `ovnts nbctl`: networks, subnets + DHCP_Options, ports,
 * seed 003's binding-profile child verbatim, trunks, routers, port status
 * from the LSP's `up`, and a restart that keeps everything.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OVNTS } from '../helpers/ovsdb-servers.js';
import { cleanupAll, runOk, waitFor } from '../helpers/proc.js';
import { json, startIpamUp, type IpamUnderTest } from '../helpers/ipam.js';

describe('ovnts ipam with the openstack and neutron CLIs', () => {
  let t: IpamUnderTest;
  before(async () => {
    t = await startIpamUp();
  });
  after(async () => {
    await t?.stop();
    await cleanupAll();
  });

  let netId = '';
  let subId = '';
  let vmPort = '';
  let child = '';

  it('creates a network as switch neutron-<id> with ML2/OVN external_ids', async () => {
    const n = json(await t.osc('network', 'create', 'private', '-f', 'json'));
    netId = n['id'] as string;
    assert.equal(n['name'], 'private');
    assert.equal(n['status'], 'ACTIVE');
    assert.equal(n['mtu'], 1442);
    assert.equal(n['project_id'], 'admin');
    assert.equal((await t.nbctl('get', 'Logical_Switch', `neutron-${netId}`, 'external_ids:"neutron:network_name"')).trim(), 'private');
    const list = await t.osc('network', 'list', '-f', 'value', '-c', 'Name');
    assert.equal(list.stdout.trim(), 'private');
  });

  it('creates a DHCP subnet: default gateway and pool, and the DHCP_Options row ML2/OVN writes', async () => {
    const s = json(
      await t.osc(
        'subnet',
        'create',
        '--network',
        'private',
        '--subnet-range',
        '192.168.1.0/24',
        '--dns-nameserver',
        '192.0.2.53',
        'sub1',
        '-f',
        'json',
      ),
    );
    subId = s['id'] as string;
    assert.equal(s['gateway_ip'], '192.168.1.1');
    assert.deepEqual(s['allocation_pools'], [{ start: '192.168.1.2', end: '192.168.1.254' }]);
    assert.equal(s['enable_dhcp'], true);
    const uuid = (await t.nbctl('--bare', '--columns=_uuid', 'find', 'DHCP_Options', `external_ids:subnet_id=${subId}`)).trim();
    assert.match(uuid, /^[0-9a-f-]{36}$/);
    assert.equal((await t.nbctl('get', 'DHCP_Options', uuid, 'cidr')).trim(), '"192.168.1.0/24"');
    const opts = (await t.nbctl('get', 'DHCP_Options', uuid, 'options')).trim();
    for (const kv of ['lease_time="43200"', 'mtu="1442"', 'router="192.168.1.1"', 'server_id="192.168.1.1"', 'dns_server="{192.0.2.53}"'])
      assert.ok(opts.includes(kv), `${kv} in ${opts}`);
    assert.match(opts, /server_mac="fa:16:3e:[0-9a-f:]{8}"/);
    const sub2 = await t.osc(
      'subnet',
      'create',
      '--network',
      'private',
      '--subnet-range',
      '10.9.0.0/24',
      '--no-dhcp',
      '--gateway',
      'none',
      'sub2',
      '-f',
      'json',
    );
    assert.equal(json(sub2)['gateway_ip'], null);
    assert.equal(
      (await t.nbctl('--bare', '--columns=_uuid', 'find', 'DHCP_Options', `external_ids:subnet_id=${json(sub2)['id'] as string}`)).trim(),
      '',
    );
    assert.equal((await t.osc('subnet', 'delete', 'sub2')).code, 0);
  });

  it('creates a VM port with a random address in the pool, an fa:16:3e MAC and port security', async () => {
    const p = json(await t.osc('port', 'create', '--network', 'private', 'vmport', '-f', 'json'));
    vmPort = p['id'] as string;
    const ip = (p['fixed_ips'] as Array<{ ip_address: string; subnet_id: string }>)[0];
    assert.equal(ip?.subnet_id, subId);
    const last = Number(ip?.ip_address.split('.')[3]);
    assert.ok(last >= 2 && last <= 254);
    assert.match(p['mac_address'] as string, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
    assert.equal(p['status'], 'DOWN');
    const addr = `${p['mac_address'] as string} ${ip?.ip_address}`;
    assert.equal((await t.nbctl('get', 'Logical_Switch_Port', vmPort, 'addresses')).trim(), `["${addr}"]`);
    assert.equal((await t.nbctl('get', 'Logical_Switch_Port', vmPort, 'port_security')).trim(), `["${addr}"]`);
    const dhcp = (await t.nbctl('get', 'Logical_Switch_Port', vmPort, 'dhcpv4_options')).trim();
    assert.equal(dhcp, (await t.nbctl('--bare', '--columns=_uuid', 'find', 'DHCP_Options', `external_ids:subnet_id=${subId}`)).trim());
  });

  it("runs seed 003's neutron port-create --binding-profile verbatim: a child LSP with parent and tag", async () => {
    const r = await t.neutron('port-create', '--binding-profile', `{"parent_name":"${vmPort}","tag":42}`, 'private');
    assert.equal(r.code, 0, r.stderr);
    child = /\|\s+id\s+\|\s+(\S+)/.exec(r.stdout)?.[1] ?? '';
    assert.match(child, /^[0-9a-f-]{36}$/);
    assert.match(r.stdout, /\|\s+status\s+\|\s+DOWN/);
    // ovnts northd derives `tag` from tag_request; both nbctls print what they print under Neutron.
    await waitFor(async () => (await runOk(OVNTS, ['nbctl', `--db=${t.nbRemote}`, 'lsp-get-tag', child])).trim() === '42', {
      what: 'tag from northd',
    });
    assert.equal((await runOk(OVNTS, ['nbctl', `--db=${t.nbRemote}`, 'lsp-get-parent', child])).trim(), vmPort);
    assert.equal((await t.nbctl('lsp-get-parent', child)).trim(), vmPort);
    assert.equal((await t.nbctl('lsp-get-tag', child)).trim(), '42');
    const show = await t.nbctl('show');
    assert.ok(show.includes(`switch`) && show.includes(`(neutron-${netId}) (aka private)`), show);
    assert.match(show, new RegExp(`port ${child}\\n\\s+parent: ${vmPort}\\n\\s+tag: 42\\n`), show);
  });

  it('refuses a second child on the same parent and VLAN (409), and keeps serving', async () => {
    const r = await t.osc('port', 'create', '--network', 'private', '--binding-profile', `{"parent_name":"${vmPort}","tag":42}`, 'dup');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ConflictException: 409.*VLAN tag 42 on parent port/);
    assert.equal((await t.osc('port', 'show', 'dup')).code, 1);
  });

  it('turns a port ACTIVE when OVN says it is up, and DOWN again', async () => {
    await t.sbctl('chassis-add', 'hv-ipam', 'geneve', '127.0.0.1');
    await waitFor(
      async () => (await t.sbctl('--bare', '--columns=logical_port', 'find', 'Port_Binding', `logical_port=${vmPort}`)).trim() === vmPort,
      { what: 'Port_Binding' },
    );
    await t.sbctl('lsp-bind', vmPort, 'hv-ipam');
    await waitFor(async () => json(await t.osc('port', 'show', vmPort, '-f', 'json'))['status'] === 'ACTIVE', { what: 'ACTIVE' });
    await t.sbctl('lsp-unbind', vmPort);
    await waitFor(async () => json(await t.osc('port', 'show', vmPort, '-f', 'json'))['status'] === 'DOWN', { what: 'DOWN again' });
  });

  it('builds a trunk: subports become children of the parent with their segmentation ids', async () => {
    const sp = json(await t.osc('port', 'create', '--network', 'private', 'sp1', '-f', 'json'));
    const tr = await t.osc(
      'network',
      'trunk',
      'create',
      '--parent-port',
      'vmport',
      '--subport',
      'port=sp1,segmentation-type=vlan,segmentation-id=100',
      'trunk1',
      '-f',
      'json',
    );
    assert.equal(tr.code, 0, tr.stderr);
    assert.equal(json(tr)['status'], 'ACTIVE');
    assert.equal((await t.nbctl('lsp-get-parent', sp['id'] as string)).trim(), vmPort);
    assert.equal((await t.nbctl('get', 'Logical_Switch_Port', sp['id'] as string, 'tag_request')).trim(), '100');
    const shown = json(await t.osc('port', 'show', 'sp1', '-f', 'json'));
    assert.equal(shown['device_owner'], 'trunk:subport');
    assert.deepEqual(shown['binding_profile'], { parent_name: vmPort, tag: 100 });
    const sp2 = json(await t.osc('port', 'create', '--network', 'private', 'sp2', '-f', 'json'));
    const dup = await t.osc('network', 'trunk', 'set', '--subport', 'port=sp2,segmentation-type=vlan,segmentation-id=100', 'trunk1');
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /segmentation_id 100 already in use on trunk/);
    assert.equal(
      (await t.osc('network', 'trunk', 'set', '--subport', 'port=sp2,segmentation-type=vlan,segmentation-id=101', 'trunk1')).code,
      0,
    );
    const subs = await t.osc('network', 'subport', 'list', '--trunk', 'trunk1', '-f', 'json');
    assert.deepEqual(
      json<Array<Record<string, unknown>>>(subs)
        .map((s) => s['Segmentation ID'])
        .sort(),
      [100, 101],
    );
    const del = await t.osc('port', 'delete', 'vmport');
    assert.equal(del.code, 1);
    assert.match(del.stderr, /is currently a parent port for trunk/);
    assert.equal((await t.osc('network', 'trunk', 'unset', '--subport', 'sp1', 'trunk1')).code, 0);
    assert.equal((await t.nbctl('lsp-get-parent', sp['id'] as string)).trim(), '');
    assert.equal((await t.nbctl('lsp-get-tag', sp['id'] as string)).trim(), '');
    assert.equal((await t.osc('network', 'trunk', 'delete', 'trunk1')).code, 0);
    assert.equal((await t.nbctl('lsp-get-parent', sp2['id'] as string)).trim(), '');
    assert.equal(json(await t.osc('port', 'show', 'sp2', '-f', 'json'))['device_owner'], '');
  });

  it('adds a router interface as ML2/OVN does: neutron-<id> router, lrp-<port>, a router-type LSP', async () => {
    const r = json(await t.osc('router', 'create', 'r1', '-f', 'json'));
    const rid = r['id'] as string;
    assert.equal((await t.osc('router', 'add', 'subnet', 'r1', 'sub1')).code, 0);
    const ports = json<Array<Record<string, unknown>>>(
      await t.osc('port', 'list', '--device-owner', 'network:router_interface', '-f', 'json'),
    );
    assert.equal(ports.length, 1);
    const pid = ports[0]?.['ID'] as string;
    assert.equal((await t.nbctl('get', 'Logical_Switch_Port', pid, 'type')).trim(), 'router');
    assert.equal((await t.nbctl('get', 'Logical_Switch_Port', pid, 'options:router-port')).trim(), `lrp-${pid}`);
    assert.equal((await t.nbctl('get', 'Logical_Router_Port', `lrp-${pid}`, 'networks')).trim(), '["192.168.1.1/24"]');
    assert.equal((await t.nbctl('lrp-list', `neutron-${rid}`)).includes(`lrp-${pid}`), true);
    const again = await t.osc('router', 'add', 'subnet', 'r1', 'sub1');
    assert.match(again.stderr, /BadRequestException: 400.*Router already has a port on subnet/);
    const inUse = await t.osc('router', 'delete', 'r1');
    assert.match(inUse.stderr, /ConflictException: 409.*has ports still attached: /);
    const netInUse = await t.osc('network', 'delete', 'private');
    assert.match(netInUse.stderr, /ConflictException: 409.*There are one or more ports still in use on the network/);
    assert.equal((await t.osc('router', 'remove', 'subnet', 'r1', 'sub1')).code, 0);
    assert.equal((await t.osc('router', 'delete', 'r1')).code, 0);
    assert.equal((await t.nbctl('--bare', '--columns=name', 'list', 'Logical_Router')).trim(), '');
  });

  it('serves the same data after a restart, and deletes everything it made', async () => {
    const before = (await t.osc('port', 'list', '-f', 'json', '--long')).stdout;
    await t.restart();
    assert.equal((await t.osc('port', 'list', '-f', 'json', '--long')).stdout, before);
    for (const p of json<Array<Record<string, unknown>>>(await t.osc('port', 'list', '-f', 'json'))) {
      assert.equal((await t.osc('port', 'delete', p['ID'] as string)).code, 0);
    }
    assert.equal((await t.osc('subnet', 'delete', 'sub1')).code, 0);
    assert.equal((await t.osc('network', 'delete', 'private')).code, 0);
    assert.equal((await t.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch')).trim(), '');
    assert.equal((await t.nbctl('--bare', '--columns=_uuid', 'list', 'DHCP_Options')).trim(), '');
  });
});
