/**
 * Bad input to `ovnts ipam` gets the NeutronError the real neutron-server
 * (Zed, ML2/OVN) gives for it — type, message and status as observed from
 * it — the NB keeps nothing of the refused request, and the service goes on
 * serving.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, waitFor } from '../helpers/proc.js';
import { startIpamUp, type IpamUnderTest } from '../helpers/ipam.js';

type Body = Record<string, unknown>;

describe('ovnts ipam: bad input', () => {
  let t: IpamUnderTest;
  let net = '';
  let sub = '';
  let vm = '';
  let vmIp = '';
  let vmMac = '';

  const nbState = async (): Promise<string> =>
    [
      await t.nbctl('show'),
      await t.nbctl('list', 'DHCP_Options'),
      await t.nbctl('--columns=name,external_ids,addresses,parent_name,tag_request', 'list', 'Logical_Switch_Port'),
      await t.nbctl('--columns=name,external_ids', 'list', 'Logical_Switch'),
    ].join('\n');

  /** Sends the request; asserts the status and the NeutronError (type and message) and that the NB did not change. */
  async function refused(
    method: string,
    path: string,
    body: unknown,
    status: number,
    type: string,
    message: string | RegExp,
  ): Promise<void> {
    const before = await nbState();
    const r = await t.api(method, path, body);
    assert.equal(r.status, status, r.text);
    const e = (r.body as { NeutronError?: { type: string; message: string; detail: string } }).NeutronError;
    assert.ok(e !== undefined, r.text);
    assert.equal(e.type, type, r.text);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    assert.equal(e.detail, '');
    assert.equal(await nbState(), before, `${method} ${path} changed the NB`);
  }

  before(async () => {
    t = await startIpamUp();
    net = ((await t.api('POST', '/v2.0/networks', { network: { name: 'private' } })).body as { network: Body }).network['id'] as string;
    sub = (
      (await t.api('POST', '/v2.0/subnets', { subnet: { network_id: net, ip_version: 4, cidr: '192.168.1.0/24' } })).body as {
        subnet: Body;
      }
    ).subnet['id'] as string;
    const p = ((await t.api('POST', '/v2.0/ports', { port: { network_id: net, name: 'vm' } })).body as { port: Body }).port;
    vm = p['id'] as string;
    vmIp = (p['fixed_ips'] as Array<{ ip_address: string }>)[0]?.ip_address as string;
    vmMac = p['mac_address'] as string;
  });
  after(async () => {
    await t?.stop();
    await cleanupAll();
  });

  it('refuses malformed bodies as the Neutron API layer does', async () => {
    await refused('POST', '/v2.0/networks', '{bad', 400, 'HTTPBadRequest', 'Body contains invalid data');
    await refused('POST', '/v2.0/networks', '[]', 400, 'HTTPBadRequest', 'Body contains invalid data');
    await refused('POST', '/v2.0/networks', { netw: {} }, 400, 'HTTPBadRequest', "Unable to find 'network' in request body");
    await refused('POST', '/v2.0/networks', { network: 5 }, 400, 'HTTPBadRequest', "Object 'network' contains invalid data");
    await refused(
      'POST',
      '/v2.0/networks',
      { network: { name: 'x', foo: 1, bar: 2 } },
      400,
      'HTTPBadRequest',
      "Unrecognized attribute(s) 'bar, foo'",
    );
    await refused('POST', '/v2.0/networks', { network: { id: 'abc' } }, 400, 'HTTPBadRequest', "Attribute 'id' not allowed in POST");
    await refused('PUT', `/v2.0/networks/${net}`, { network: { id: 'x' } }, 400, 'HTTPBadRequest', 'Cannot update read-only attribute id');
    await refused(
      'POST',
      '/v2.0/ports',
      { port: {} },
      400,
      'HTTPBadRequest',
      "Failed to parse request. Required attribute 'network_id' not specified",
    );
  });

  it("refuses wrong types and invalid UUIDs with the converters' and validators' messages", async () => {
    await refused(
      'POST',
      '/v2.0/networks',
      { network: { admin_state_up: 'xx' } },
      400,
      'InvalidInput',
      "Invalid input for operation: 'xx' cannot be converted to boolean.",
    );
    await refused(
      'POST',
      '/v2.0/networks',
      { network: { name: 5 } },
      400,
      'HTTPBadRequest',
      "Invalid input for name. Reason: '5' is not a valid string.",
    );
    await refused(
      'POST',
      '/v2.0/networks',
      { network: { mtu: 'abc' } },
      400,
      'InvalidInput',
      "Invalid input for operation: 'abc' is not an integer.",
    );
    await refused(
      'POST',
      '/v2.0/networks',
      { network: { mtu: 9000 } },
      400,
      'InvalidInput',
      'Invalid input for operation: Requested MTU is too big, maximum is 1442.',
    );
    await refused(
      'POST',
      '/v2.0/ports',
      { port: { network_id: 'nope' } },
      400,
      'HTTPBadRequest',
      "Invalid input for network_id. Reason: 'nope' is not a valid UUID.",
    );
    await refused(
      'POST',
      '/v2.0/ports',
      { port: { network_id: net, mac_address: 'zz' } },
      400,
      'HTTPBadRequest',
      "Invalid input for mac_address. Reason: 'zz' is not a valid MAC address.",
    );
    await refused(
      'POST',
      '/v2.0/ports',
      { port: { network_id: net, fixed_ips: [{ ip_address: '1.2.3' }] } },
      400,
      'HTTPBadRequest',
      "Invalid input for fixed_ips. Reason: '1.2.3' is not a valid IP address.",
    );
    await refused(
      'POST',
      '/v2.0/ports',
      { port: { network_id: net, 'binding:profile': 'x' } },
      400,
      'HTTPBadRequest',
      "Invalid input for binding:profile. Reason: 'x' is not a dictionary.",
    );
  });

  it('answers 404 for unknown ids, even non-UUIDs, and for unknown paths', async () => {
    for (const [coll, type, msg] of [
      ['networks', 'NetworkNotFound', 'Network nope could not be found.'],
      ['subnets', 'SubnetNotFound', 'Subnet nope could not be found.'],
      ['ports', 'PortNotFound', 'Port nope could not be found.'],
      ['trunks', 'TrunkNotFound', 'Trunk nope could not be found.'],
      ['routers', 'RouterNotFound', 'Router nope could not be found'],
    ] as const) {
      await refused('GET', `/v2.0/${coll}/nope`, undefined, 404, type, msg);
      await refused('GET', `/v2.0/${coll}/nope.json`, undefined, 404, type, msg);
    }
    await refused('GET', '/v2.0/foo', undefined, 404, 'HTTPNotFound', 'The resource could not be found.');
    await refused(
      'POST',
      '/v2.0/ports',
      { port: { network_id: '4d456f37-5897-43bf-905f-8cb67b74d3e0' } },
      404,
      'NetworkNotFound',
      'Network 4d456f37-5897-43bf-905f-8cb67b74d3e0 could not be found.',
    );
    await refused('GET', '/v2.0/networks?foo=bar', undefined, 400, 'HTTPBadRequest', "['foo'] is invalid attribute for filtering");
  });

  it('refuses conflicting and impossible allocations', async () => {
    await refused(
      'POST',
      '/v2.0/ports',
      { port: { network_id: net, fixed_ips: [{ ip_address: vmIp }] } },
      409,
      'IpAddressAlreadyAllocated',
      `IP address ${vmIp} already allocated in subnet ${sub}`,
    );
    await refused(
      'POST',
      '/v2.0/ports',
      { port: { network_id: net, mac_address: vmMac } },
      409,
      'MacAddressInUse',
      `Unable to complete operation for network ${net}. The mac address ${vmMac} is in use.`,
    );
    await refused(
      'POST',
      '/v2.0/ports',
      { port: { network_id: net, fixed_ips: [{ ip_address: '10.0.0.5' }] } },
      400,
      'InvalidIpForNetwork',
      'IP address 10.0.0.5 is not a valid IP for any of the subnets on the specified network.',
    );
    await refused(
      'POST',
      '/v2.0/ports',
      { port: { network_id: net, fixed_ips: [{ subnet_id: sub, ip_address: '10.0.0.5' }] } },
      400,
      'InvalidIpForSubnet',
      'IP address 10.0.0.5 is not a valid IP for the specified subnet.',
    );
    await refused(
      'DELETE',
      `/v2.0/networks/${net}`,
      undefined,
      409,
      'NetworkInUse',
      `Unable to complete operation on network ${net}. There are one or more ports still in use on the network, id for these ports is: ${vm}.`,
    );
    await refused(
      'DELETE',
      `/v2.0/subnets/${sub}`,
      undefined,
      409,
      'SubnetInUse',
      `Unable to complete operation on subnet ${sub}: One or more ports have an IP allocation from this subnet.`,
    );
  });

  it('checks subnets as Neutron does', async () => {
    const s = (cidr: string, extra: Body = {}): Body => ({ subnet: { network_id: net, ip_version: 4, cidr, ...extra } });
    await refused(
      'POST',
      '/v2.0/subnets',
      s('192.168.1.0/25'),
      400,
      'InvalidInput',
      `Invalid input for operation: Requested subnet with cidr: 192.168.1.0/25 for network: ${net} overlaps with another subnet.`,
    );
    await refused(
      'POST',
      '/v2.0/subnets',
      { subnet: { network_id: net, ip_version: 4 } },
      400,
      'BadRequest',
      'Bad subnets request: a subnetpool must be specified in the absence of a cidr.',
    );
    await refused(
      'POST',
      '/v2.0/subnets',
      { subnet: { network_id: net, ip_version: 6, cidr: '10.7.0.0/24' } },
      400,
      'InvalidInput',
      "Invalid input for operation: cidr '10.7.0.0/24' does not match the ip_version '6'.",
    );
    await refused(
      'POST',
      '/v2.0/subnets',
      s('10.7.0.0/24', { allocation_pools: [{ start: '10.7.0.10', end: '10.8.0.5' }] }),
      400,
      'OutOfBoundsAllocationPool',
      'The allocation pool 10.7.0.10-10.8.0.5 spans beyond the subnet cidr 10.7.0.0/24.',
    );
    await refused(
      'POST',
      '/v2.0/subnets',
      s('10.7.0.0/24', { gateway_ip: '10.7.0.20', allocation_pools: [{ start: '10.7.0.10', end: '10.7.0.50' }] }),
      409,
      'GatewayConflictWithAllocationPools',
      'Gateway ip 10.7.0.20 conflicts with allocation pool 10.7.0.10-10.7.0.50.',
    );
    await refused(
      'POST',
      '/v2.0/subnets',
      s('10.7.0.0/24', {
        allocation_pools: [
          { start: '10.7.0.10', end: '10.7.0.50' },
          { start: '10.7.0.40', end: '10.7.0.60' },
        ],
      }),
      409,
      'OverlappingAllocationPools',
      'Found overlapping allocation pools: 10.7.0.10-10.7.0.50 10.7.0.40-10.7.0.60 for subnet 10.7.0.0/24.',
    );
    await refused(
      'POST',
      '/v2.0/subnets',
      s('10.7.0.0/24', { allocation_pools: [{ start: '10.7.0.60', end: '10.7.0.50' }] }),
      400,
      'InvalidAllocationPool',
      "The allocation pool {'start': '10.7.0.60', 'end': '10.7.0.50'} is not valid.",
    );
  });

  it('validates binding:profile as ML2/OVN does, and refuses a VLAN tag a sibling holds', async () => {
    const p = (profile: unknown): Body => ({ port: { network_id: net, 'binding:profile': profile } });
    await refused(
      'POST',
      '/v2.0/ports',
      p({ parent_name: vm }),
      400,
      'InvalidInput',
      "Invalid input for operation: Invalid binding:profile. dict_keys(['parent_name', 'tag']) are all required..",
    );
    await refused(
      'POST',
      '/v2.0/ports',
      p({ parent_name: vm, tag: '42' }),
      400,
      'InvalidInput',
      'Invalid input for operation: Invalid binding:profile. tag 42 value invalid type.',
    );
    await refused(
      'POST',
      '/v2.0/ports',
      p({ parent_name: vm, tag: 4096 }),
      400,
      'InvalidInput',
      'Invalid input for operation: Invalid binding:profile. tag "4096" must be an integer between 0 and 4095, inclusive.',
    );
    await refused('POST', '/v2.0/ports', p({ parent_name: 'nosuch', tag: 4 }), 404, 'PortNotFound', 'Port nosuch could not be found.');
    await refused(
      'POST',
      '/v2.0/ports',
      p({ parent_name: 5, tag: 4 }),
      400,
      'InvalidInput',
      'Invalid input for operation: Invalid binding:profile. parent_name 5 value invalid type.',
    );
    const ok = await t.api('POST', '/v2.0/ports', p({ parent_name: vm, tag: 7 }));
    assert.equal(ok.status, 201, ok.text);
    const child = (ok.body as { port: Body }).port['id'] as string;
    // northd copies tag_request to tag; let it, so the NB is quiet before the refused request.
    await waitFor(async () => (await t.nbctl('lsp-get-tag', child)).trim() === '7', { what: 'tag 7 from northd' });
    await refused(
      'POST',
      '/v2.0/ports',
      p({ parent_name: vm, tag: 7 }),
      409,
      'VlanTagInUse',
      `VLAN tag 7 on parent port ${vm} is already in use by port ${child}.`,
    );
    // Tag 0 asks northd to allocate: any number of siblings may ask.
    for (let i = 0; i < 2; i++) {
      const r = await t.api('POST', '/v2.0/ports', p({ parent_name: vm, tag: 0 }));
      assert.equal(r.status, 201);
      const id = (r.body as { port: Body }).port['id'] as string;
      // northd picks the tag; wait for it, so later tests see a quiet NB.
      await waitFor(async () => /^\d+$/.test((await t.nbctl('lsp-get-tag', id)).trim()), { what: 'tag from northd' });
    }
  });

  it('answers 413 over the body limit and goes on serving', async () => {
    const big = JSON.stringify({ network: { name: 'a'.repeat(2 * 1024 * 1024) } });
    await refused('POST', '/v2.0/networks', big, 413, 'HTTPRequestEntityTooLarge', 'Request is too large.');
    const r = await t.api('GET', `/v2.0/networks/${net}.json`);
    assert.equal(r.status, 200);
    assert.equal((r.body as { network: Body }).network['name'], 'private');
  });

  it('serves the discovery documents and honours repeated fields= and filters', async () => {
    const v = await t.api('GET', '/');
    assert.deepEqual(v.body, { versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${t.url}/v2.0/` }] }] });
    const ext = (await t.api('GET', '/v2.0/extensions')).body as { extensions: Array<{ alias: string }> };
    for (const a of ['binding', 'trunk', 'router', 'port-security', 'allowed-address-pairs', 'project-id'])
      assert.ok(
        ext.extensions.some((x) => x.alias === a),
        a,
      );
    assert.equal((await t.api('GET', '/v2.0/extensions/trunk')).status, 200);
    assert.equal((await t.api('GET', '/v2.0/extensions/tag-ports-during-bulk-creation')).status, 404);
    const l = await t.api('GET', `/v2.0/ports?fields=name&fields=id&name=vm&name=nothing`);
    assert.deepEqual(l.body, { ports: [{ id: vm, name: 'vm' }] });
    const byIp = await t.api('GET', `/v2.0/ports?fixed_ips=ip_address%3D${vmIp}&fields=id`);
    assert.deepEqual(byIp.body, { ports: [{ id: vm }] });
    assert.equal((await t.api('POST', `/v2.0/networks/${net}`, {})).status, 405);
  });
});
