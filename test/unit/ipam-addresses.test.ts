import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalMac, defaultPools, formatIp, parseCidr, parseIp, randomFreeAddress, randomMac } from '../../src/ipam/addresses.js';
import { parseResourceBody, toBoolean } from '../../src/ipam/attributes.js';
import { NETWORK_ATTRS, PORT_ATTRS } from '../../src/ipam/resources.js';
import { NeutronError } from '../../src/ipam/errors.js';
import { pyRepr } from '../../src/ipam/py-format.js';

const pools = (cidr: string, gw?: string): string[] => {
  const c = parseCidr(cidr)?.cidr;
  assert.ok(c !== undefined);
  const g = gw === undefined ? undefined : parseIp(gw)?.value;
  return defaultPools(c, g).map((r) => `${formatIp(c.version, r.first)}-${formatIp(c.version, r.last)}`);
};

test('default pools leave out the network, broadcast and gateway addresses as Neutron does', () => {
  assert.deepEqual(pools('192.168.1.0/24', '192.168.1.1'), ['192.168.1.2-192.168.1.254']);
  assert.deepEqual(pools('10.0.0.0/24', '10.0.0.100'), ['10.0.0.1-10.0.0.99', '10.0.0.101-10.0.0.254']);
  assert.deepEqual(pools('10.0.0.0/24'), ['10.0.0.1-10.0.0.254']);
  // IPv6: the subnet-router anycast address is the default gateway; the last address stays.
  assert.deepEqual(pools('fd00:5::/64', 'fd00:5::'), ['fd00:5::1-fd00:5::ffff:ffff:ffff:ffff']);
});

test('addresses parse and print canonically; odd IPv4 forms are refused', () => {
  assert.equal(formatIp(6, (parseIp('FD00:0005:0:0::0001') as { value: bigint }).value), 'fd00:5::1');
  assert.equal(parseIp('1.2.3'), undefined);
  assert.equal(parseCidr('10.0.0.5/24')?.hostBitsSet, true);
  assert.equal(parseCidr('10.0.0.0/33'), undefined);
  assert.equal(canonicalMac('FA-16-3E-0A-0B-0C'), 'fa:16:3e:0a:0b:0c');
  assert.match(randomMac(), /^fa:16:3e(:[0-9a-f]{2}){3}$/);
});

test('random allocation covers a pool exactly once and then gives up', () => {
  const ranges = [
    { first: 10n, last: 19n },
    { first: 30n, last: 34n },
  ];
  const taken = new Set<bigint>();
  for (let i = 0; i < 15; i++) {
    const a = randomFreeAddress(ranges, taken);
    assert.ok(a !== undefined && !taken.has(a) && ((a >= 10n && a <= 19n) || (a >= 30n && a <= 34n)));
    taken.add(a);
  }
  assert.equal(randomFreeAddress(ranges, taken), undefined);
});

test('bodies are checked in neutron-lib order with its messages', () => {
  const err = (f: () => unknown): NeutronError => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof NeutronError);
      return e;
    }
    assert.fail('no error');
  };
  assert.equal(
    err(() => parseResourceBody('network', NETWORK_ATTRS, { network: { zz: 1, id: 'x' } }, true)).message,
    "Unrecognized attribute(s) 'zz'",
  );
  assert.equal(
    err(() => parseResourceBody('port', PORT_ATTRS, { port: { name: 'x' } }, true)).message,
    "Failed to parse request. Required attribute 'network_id' not specified",
  );
  const e = err(() => parseResourceBody('network', NETWORK_ATTRS, { network: { shared: 'maybe' } }, true));
  assert.equal(e.type, 'InvalidInput');
  const ok = parseResourceBody('network', NETWORK_ATTRS, { network: { mtu: '1400', tenant_id: 'p1' } }, true);
  assert.equal(ok['mtu'], 1400);
  assert.equal(ok['project_id'], 'p1');
  assert.equal(ok['admin_state_up'], true);
  assert.equal(toBoolean('Yes'), true);
  assert.equal(pyRepr({ start: 'a', end: 'b' }), "{'start': 'a', 'end': 'b'}");
});
