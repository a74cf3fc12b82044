/**
 * Ports over the API, read back from the NB with the real ovn-nbctl:
 * allowed address pairs, port security off, no fixed IPs, IPv6 (stateful and
 * SLAAC), updates of fixed IPs and binding:profile (a port becoming a child
 * and ceasing to be one, its tag following through northd), and a network
 * delete that takes its subnets' DHCP_Options rows with it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, waitFor } from '../helpers/proc.js';
import { startIpamUp, type IpamUnderTest } from '../helpers/ipam.js';

type Body = Record<string, unknown>;

describe('ovnts ipam: ports in the NB', () => {
  let t: IpamUnderTest;
  let net = '';
  let sub4 = '';
  const post = async (coll: string, res: string, body: Body): Promise<Body> => {
    const r = await t.api('POST', `/v2.0/${coll}`, { [res]: body });
    assert.equal(r.status, 201, r.text);
    return (r.body as Record<string, Body>)[res] as Body;
  };
  const put = async (coll: string, res: string, id: string, body: Body): Promise<Body> => {
    const r = await t.api('PUT', `/v2.0/${coll}/${id}`, { [res]: body });
    assert.equal(r.status, 200, r.text);
    return (r.body as Record<string, Body>)[res] as Body;
  };
  const lsp = async (id: string, col: string): Promise<string> => (await t.nbctl('get', 'Logical_Switch_Port', id, col)).trim();

  before(async () => {
    t = await startIpamUp();
    net = (await post('networks', 'network', { name: 'n' }))['id'] as string;
    sub4 = (
      await post('subnets', 'subnet', {
        network_id: net,
        ip_version: 4,
        cidr: '10.5.0.0/24',
        allocation_pools: [{ start: '10.5.0.10', end: '10.5.0.20' }],
      })
    )['id'] as string;
  });
  after(async () => {
    await t?.stop();
    await cleanupAll();
  });

  it('writes allowed address pairs into port_security and their MACs into addresses', async () => {
    const p = await post('ports', 'port', {
      network_id: net,
      fixed_ips: [{ ip_address: '10.5.0.15' }],
      allowed_address_pairs: [{ ip_address: '10.5.0.200', mac_address: '0a:00:00:00:00:02' }, { ip_address: '10.5.0.201' }],
    });
    const mac = p['mac_address'] as string;
    assert.deepEqual(p['allowed_address_pairs'], [
      { ip_address: '10.5.0.200', mac_address: '0a:00:00:00:00:02' },
      { ip_address: '10.5.0.201', mac_address: mac },
    ]);
    assert.deepEqual(
      (JSON.parse(await lsp(p['id'] as string, 'addresses')) as string[]).sort(),
      ['0a:00:00:00:00:02', `${mac} 10.5.0.15`].sort(),
    );
    assert.deepEqual(
      (JSON.parse(await lsp(p['id'] as string, 'port_security')) as string[]).sort(),
      [`${mac} 10.5.0.15`, '0a:00:00:00:00:02 10.5.0.200', `${mac} 10.5.0.201`].sort(),
    );
  });

  it('adds unknown and drops port_security when port security is off; --no-fixed-ip gives the MAC alone', async () => {
    const off = await post('ports', 'port', { network_id: net, port_security_enabled: false });
    const mac = off['mac_address'] as string;
    const ip = (off['fixed_ips'] as Array<{ ip_address: string }>)[0]?.ip_address as string;
    assert.equal(await lsp(off['id'] as string, 'addresses'), `["${mac} ${ip}", unknown]`);
    assert.equal(await lsp(off['id'] as string, 'port_security'), '[]');
    const bare = await post('ports', 'port', { network_id: net, fixed_ips: [] });
    assert.deepEqual(bare['fixed_ips'], []);
    assert.equal(await lsp(bare['id'] as string, 'addresses'), `["${bare['mac_address'] as string}"]`);
    assert.equal(await lsp(bare['id'] as string, 'dhcpv4_options'), '[]');
  });

  it('allocates IPv6 addresses: stateful from the pool, SLAAC from the MAC', async () => {
    const s6 = await post('subnets', 'subnet', { network_id: net, ip_version: 6, cidr: 'fd00:5::/64' });
    assert.equal(s6['gateway_ip'], 'fd00:5::');
    assert.deepEqual(s6['allocation_pools'], [{ start: 'fd00:5::1', end: 'fd00:5::ffff:ffff:ffff:ffff' }]);
    const slaac = await post('subnets', 'subnet', {
      network_id: net,
      ip_version: 6,
      cidr: 'fd00:6::/64',
      ipv6_address_mode: 'slaac',
      ipv6_ra_mode: 'slaac',
    });
    const p = await post('ports', 'port', { network_id: net, mac_address: 'fa:16:3e:00:00:01' });
    const ips = p['fixed_ips'] as Array<{ subnet_id: string; ip_address: string }>;
    assert.deepEqual(ips.map((f) => f.subnet_id).sort(), [sub4, s6['id'], slaac['id']].sort());
    assert.equal(ips.find((f) => f.subnet_id === slaac['id'])?.ip_address, 'fd00:6::f816:3eff:fe00:1');
    const dhcp6 = (
      await t.nbctl('--bare', '--columns=options', 'find', 'DHCP_Options', `external_ids:subnet_id=${s6['id'] as string}`)
    ).trim();
    assert.match(dhcp6, /^server_id=fa:16:3e(:[0-9a-f]{2}){3}$/);
    assert.equal(
      (await t.nbctl('--bare', '--columns=_uuid', 'find', 'DHCP_Options', `external_ids:subnet_id=${slaac['id'] as string}`)).trim(),
      '',
    );
    assert.notEqual(await lsp(p['id'] as string, 'dhcpv6_options'), '[]');
    await t.api('DELETE', `/v2.0/ports/${p['id'] as string}`);
    assert.equal((await t.api('DELETE', `/v2.0/subnets/${slaac['id'] as string}`)).status, 204);
  });

  it('updates fixed IPs, keeping the ones asked for again', async () => {
    const p = await post('ports', 'port', { network_id: net, fixed_ips: [{ subnet_id: sub4 }] });
    const old = (p['fixed_ips'] as Array<{ ip_address: string }>).find((f) => f.ip_address.startsWith('10.5.'))?.ip_address as string;
    const u = await put('ports', 'port', p['id'] as string, { fixed_ips: [{ ip_address: old }, { ip_address: '10.5.0.99' }] });
    assert.deepEqual(
      (u['fixed_ips'] as Array<{ ip_address: string }>).map((f) => f.ip_address),
      [old, '10.5.0.99'],
    );
    assert.match(await lsp(p['id'] as string, 'addresses'), new RegExp(`${old} 10\\.5\\.0\\.99`));
    const taken = await t.api('PUT', `/v2.0/ports/${p['id'] as string}`, { port: { fixed_ips: [{ ip_address: '10.5.0.15' }] } });
    assert.equal(taken.status, 409);
  });

  it('makes a port a child by binding:profile and back; the tag follows through northd', async () => {
    const vm = await post('ports', 'port', { network_id: net, name: 'vm' });
    const c = await post('ports', 'port', { network_id: net, name: 'c' });
    const id = c['id'] as string;
    await put('ports', 'port', id, { 'binding:profile': { parent_name: vm['id'], tag: 30 } });
    await waitFor(async () => (await t.nbctl('lsp-get-tag', id)).trim() === '30', { what: 'tag 30' });
    assert.equal((await t.nbctl('lsp-get-parent', id)).trim(), vm['id']);
    await put('ports', 'port', id, { 'binding:profile': { parent_name: vm['id'], tag: 31 } });
    await waitFor(async () => (await t.nbctl('lsp-get-tag', id)).trim() === '31', { what: 'tag 31' });
    const u = await put('ports', 'port', id, { 'binding:profile': {} });
    assert.deepEqual(u['binding:profile'], {});
    assert.equal((await t.nbctl('lsp-get-parent', id)).trim(), '');
    assert.equal((await t.nbctl('lsp-get-tag', id)).trim(), '');
  });

  it('turns a port into a router interface and removes it with the interface', async () => {
    const r = await post('routers', 'router', { name: 'r' });
    const rid = r['id'] as string;
    // Outside the pool (.10–.20): earlier steps' ports hold random pool addresses.
    const p = await post('ports', 'port', { network_id: net, fixed_ips: [{ ip_address: '10.5.0.118' }] });
    const pid = p['id'] as string;
    const add = await t.api('PUT', `/v2.0/routers/${rid}/add_router_interface`, { port_id: pid });
    assert.equal(add.status, 200, add.text);
    assert.deepEqual(add.body, {
      id: rid,
      tenant_id: 'admin',
      port_id: pid,
      network_id: net,
      subnet_id: sub4,
      subnet_ids: [sub4],
      project_id: 'admin',
    });
    assert.equal(await lsp(pid, 'type'), 'router');
    assert.equal(await lsp(pid, 'addresses'), '[router]');
    assert.equal((await t.nbctl('get', 'Logical_Router_Port', `lrp-${pid}`, 'mac')).trim(), `"${p['mac_address'] as string}"`);
    assert.equal((await t.nbctl('get', 'Logical_Router_Port', `lrp-${pid}`, 'networks')).trim(), '["10.5.0.118/24"]');
    const again = await t.api('PUT', `/v2.0/routers/${rid}/add_router_interface`, { port_id: pid });
    assert.equal(again.status, 409);
    const del = await t.api('DELETE', `/v2.0/ports/${pid}`);
    assert.equal(del.status, 409);
    const missing = await t.api('PUT', `/v2.0/routers/${rid}/remove_router_interface`, {
      subnet_id: sub4.replace(/.$/, sub4.endsWith('0') ? '1' : '0'),
    });
    assert.equal(missing.status, 404);
    const rm = await t.api('PUT', `/v2.0/routers/${rid}/remove_router_interface`, { port_id: pid });
    assert.equal(rm.status, 200, rm.text);
    assert.equal((await t.api('GET', `/v2.0/ports/${pid}`)).status, 404);
    assert.equal((await t.nbctl('--bare', '--columns=name', 'list', 'Logical_Router_Port')).trim(), '');
    assert.equal((await t.api('DELETE', `/v2.0/routers/${rid}`)).status, 204);
  });

  it('deletes a network with its subnets and their DHCP_Options once no port is left', async () => {
    const ports = (await t.api('GET', `/v2.0/ports?network_id=${net}&fields=id`)).body as { ports: Array<{ id: string }> };
    for (const p of ports.ports) assert.equal((await t.api('DELETE', `/v2.0/ports/${p.id}`)).status, 204);
    assert.equal((await t.api('DELETE', `/v2.0/networks/${net}`)).status, 204);
    assert.equal((await t.nbctl('--bare', '--columns=_uuid', 'list', 'DHCP_Options')).trim(), '');
    assert.equal((await t.nbctl('--bare', '--columns=name', 'list', 'Logical_Switch_Port')).trim(), '');
    assert.deepEqual((await t.api('GET', '/v2.0/subnets')).body, { subnets: [] });
  });
});
