/**
 * check_in_port_sec() / check_out_port_sec() from Port_Binding.port_security
 * (1 = violation). The seed lab's cases are also checked end to end against
 * the real ovn-trace in test/compat/trace-vs-ovn-trace.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkInPortSec, checkOutPortSec, parseMicroflow } from '../../src/trace/index.js';

const PS = ['02:ac:10:ff:01:33 172.16.255.133'];
const pkt = (m: string): ReturnType<typeof parseMicroflow> => parseMicroflow(m);

test('ingress: MAC, IPv4 source, DHCP discover, ARP', () => {
  assert.equal(checkInPortSec([], pkt('eth.src == 02:00:00:00:00:01 && ip4.src == 9.9.9.9')), 0n, 'no port security: anything goes');
  assert.equal(checkInPortSec(PS, pkt('eth.src == 02:ac:10:ff:01:33 && ip4.src == 172.16.255.133')), 0n);
  assert.equal(checkInPortSec(PS, pkt('eth.src == 02:ac:10:ff:01:99 && ip4.src == 172.16.255.133')), 1n, 'spoofed MAC');
  assert.equal(checkInPortSec(PS, pkt('eth.src == 02:ac:10:ff:01:33 && ip4.src == 172.16.255.199')), 1n, 'spoofed IP');
  assert.equal(
    checkInPortSec(
      PS,
      pkt('eth.src == 02:ac:10:ff:01:33 && ip4.src == 0.0.0.0 && ip4.dst == 255.255.255.255 && udp.src == 68 && udp.dst == 67'),
    ),
    0n,
    'DHCP discover',
  );
  assert.equal(
    checkInPortSec(
      PS,
      pkt('eth.src == 02:ac:10:ff:01:33 && ip4.src == 0.0.0.0 && ip4.dst == 255.255.255.255 && udp.src == 68 && udp.dst == 69'),
    ),
    1n,
    'not DHCP',
  );
  assert.equal(checkInPortSec(PS, pkt('eth.src == 02:ac:10:ff:01:33 && arp.sha == 02:ac:10:ff:01:33 && arp.spa == 172.16.255.133')), 0n);
  assert.equal(
    checkInPortSec(PS, pkt('eth.src == 02:ac:10:ff:01:33 && arp.sha == 02:ac:10:ff:01:34 && arp.spa == 172.16.255.133')),
    1n,
    'ARP sender MAC',
  );
  assert.equal(
    checkInPortSec(PS, pkt('eth.src == 02:ac:10:ff:01:33 && arp.sha == 02:ac:10:ff:01:33 && arp.spa == 172.16.255.134')),
    1n,
    'ARP sender IP',
  );
  assert.equal(checkInPortSec(['02:ac:10:ff:01:33'], pkt('eth.src == 02:ac:10:ff:01:33 && ip4.src == 1.2.3.4')), 0n, 'MAC-only entry');
  assert.equal(
    checkInPortSec(['02:ac:10:ff:01:33 10.0.0.0/24'], pkt('eth.src == 02:ac:10:ff:01:33 && ip4.src == 10.0.0.77')),
    0n,
    'subnet entry',
  );
});

test('egress: destination MAC and IPv4, broadcast and multicast', () => {
  assert.equal(checkOutPortSec(PS, pkt('eth.dst == 02:ac:10:ff:01:33 && ip4.dst == 172.16.255.133')), 0n);
  assert.equal(checkOutPortSec(PS, pkt('eth.dst == 02:ac:10:ff:01:34 && ip4.dst == 172.16.255.133')), 1n);
  assert.equal(checkOutPortSec(PS, pkt('eth.dst == 02:ac:10:ff:01:33 && ip4.dst == 172.16.255.134')), 1n);
  assert.equal(checkOutPortSec(PS, pkt('eth.dst == 02:ac:10:ff:01:33 && ip4.dst == 255.255.255.255')), 0n);
  assert.equal(checkOutPortSec(PS, pkt('eth.dst == 02:ac:10:ff:01:33 && ip4.dst == 224.0.0.1')), 0n);
  assert.equal(
    checkOutPortSec(['02:ac:10:ff:01:33 10.0.0.5/24'], pkt('eth.dst == 02:ac:10:ff:01:33 && ip4.dst == 10.0.0.255')),
    0n,
    'subnet broadcast',
  );
  assert.equal(checkOutPortSec(PS, pkt('eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1')), 0n);
});
