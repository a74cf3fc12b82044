/**
 * pinctrl's icmp4, arp and put_arp: the ICMP time exceeded is compared with
 * the one the real ovn-controller sent for the same ping (captured in the
 * real seed lab), after the nested actions of the lflow that asked for it;
 * the ARP request follows the arp action's definition in ovn-sb(5); put_arp
 * packet-ins become MAC_Binding input. Malformed input is a typed drop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { fromHex, ipv4FromText, toHex } from '../../src/lib/packet/addr.js';
import { parseEthernet, buildEthernet, writeEthernet } from '../../src/lib/packet/ethernet.js';
import { parseIpv4, writeIpv4Header, buildIpv4 } from '../../src/lib/packet/ipv4.js';
import { parseIcmp4 } from '../../src/lib/packet/icmp.js';
import { parseArp } from '../../src/lib/packet/arp.js';
import { buildIcmp4Error, ICMP4_MAX_QUOTED } from '../../src/controller/pinctrl/icmp.js';
import { buildArpRequest } from '../../src/controller/pinctrl/arp.js';
import { macBindingFromPutArp } from '../../src/controller/pinctrl/mac-binding.js';
import type { Drop } from '../../src/controller/pinctrl/drop.js';

const FIX = new URL('../../../test/fixtures/packets/', import.meta.url);
const frame = (name: string): Uint8Array => fromHex(readFileSync(new URL(name, FIX), 'utf8'));
const ROUTER_IP = ipv4FromText('172.16.255.129');

/**
 * The nested actions of lr_in_ip_input's TTL-expiry flow, as OVS runs them
 * after resume: `eth.dst <-> eth.src; icmp4.type = 11; icmp4.code = 0;
 * ip4.dst = ip4.src; ip4.src = 172.16.255.129; ip.ttl = 254;` (type and code
 * are passed to the builder; OVS keeps both checksums correct).
 */
function applyTtlExpiryFlow(f: Uint8Array): Uint8Array {
  const out = Uint8Array.from(f);
  const eth = parseEthernet(out);
  writeEthernet(out, 0, { ...eth.header, dst: eth.header.src, src: eth.header.dst });
  const ip = parseIpv4(out, eth.headerLength);
  writeIpv4Header(out, eth.headerLength, { ...ip.header, dst: ip.header.src, src: ROUTER_IP, ttl: 254 }, ip.totalLength - ip.headerLength);
  return out;
}

test('icmp4: time exceeded for the captured TTL-1 ping equals the real one, byte for byte', () => {
  const ping = frame('icmp-ping-ttl1.hex');
  const mine = buildIcmp4Error(ping, { type: 11, code: 0 });
  assert.ok(!('drop' in mine), JSON.stringify(mine));
  assert.equal(toHex(applyTtlExpiryFlow(mine.frame)), toHex(frame('icmp-time-exceeded.hex')));
});

test('icmp4: defaults (type 3 code 1, ttl 255, DF) and quoting capped at 534 bytes', () => {
  const ping = frame('icmp-ping-ttl1.hex');
  const m = buildIcmp4Error(ping);
  assert.ok(!('drop' in m));
  const ip = parseIpv4(m.frame, 14);
  assert.equal(ip.header.ttl, 255);
  assert.equal(ip.header.df, true);
  assert.equal(ip.header.protocol, 1);
  const icmp = parseIcmp4(ip.payload);
  assert.equal(icmp.message.type, 3);
  assert.equal(icmp.message.code, 1);
  assert.ok(icmp.checksumOk);
  // A big datagram: the error frame is 576 bytes.
  const orig = parseIpv4(ping, 14);
  const big = buildEthernet(parseEthernet(ping).header, buildIpv4(orig.header, new Uint8Array(1008)));
  const b = buildIcmp4Error(big);
  assert.ok(!('drop' in b));
  assert.equal(b.frame.length, 576);
  assert.equal(parseIcmp4(parseIpv4(b.frame, 14).payload).message.data.length, ICMP4_MAX_QUOTED);
});

test('arp: request for ip4.dst from eth.src/ip4.src, broadcast, VLAN tags kept', () => {
  const ping = frame('icmp-ping-ttl1.hex');
  const tagged = new Uint8Array(ping.length + 4);
  tagged.set(ping.subarray(0, 12));
  tagged.set([0x81, 0x00, 0x00, 52], 12);
  tagged.set(ping.subarray(12), 16);
  for (const f of [ping, tagged]) {
    const r = buildArpRequest(f);
    assert.ok(!('drop' in r), JSON.stringify(r));
    const eth = parseEthernet(r.frame);
    const orig = parseEthernet(f);
    assert.equal(eth.header.dst, 'ff:ff:ff:ff:ff:ff');
    assert.equal(eth.header.src, orig.header.src);
    assert.deepEqual(eth.header.vlans, orig.header.vlans);
    assert.equal(eth.header.ethType, 0x0806);
    const ip = parseIpv4(f, orig.headerLength);
    assert.deepEqual(parseArp(r.frame, eth.headerLength), {
      op: 1,
      sha: orig.header.src,
      spa: ip.header.src,
      tha: '00:00:00:00:00:00',
      tpa: ip.header.dst,
    });
    assert.equal(r.frame.length, eth.headerLength + 28);
  }
  const arp = Uint8Array.from(ping);
  arp[13] = 0x06;
  assert.equal((buildArpRequest(arp) as Drop).drop, 'unexpected-packet');
});

test('put_arp: packet-in metadata and eth.src become MAC_Binding input', () => {
  const ping = frame('icmp-ping-ttl1.hex');
  assert.deepEqual(macBindingFromPutArp({ metadata: 2n, reg14: 1, reg0: ipv4FromText('172.16.255.133') }, ping), {
    datapathKey: 2,
    portKey: 1,
    ip: '172.16.255.133',
    mac: '02:ac:10:ff:01:33',
  });
  assert.equal((macBindingFromPutArp({ metadata: 0, reg14: 1, reg0: 1 }, ping) as Drop).drop, 'unexpected-packet');
  assert.equal((macBindingFromPutArp({ metadata: 1, reg14: 0, reg0: 1 }, ping) as Drop).drop, 'unexpected-packet');
  const mcast = Uint8Array.from(ping);
  mcast[6] = 1;
  assert.equal((macBindingFromPutArp({ metadata: 1, reg14: 1, reg0: 1 }, mcast) as Drop).drop, 'unexpected-packet');
  assert.equal((macBindingFromPutArp({ metadata: 1, reg14: 1, reg0: 1 }, ping.subarray(0, 10)) as Drop).drop, 'malformed-packet');
});

test('every truncation and random bytes: typed drops, never exceptions', () => {
  const ping = frame('icmp-ping-ttl1.hex');
  for (let n = 0; n < ping.length; n++) {
    assert.ok('drop' in buildIcmp4Error(ping.subarray(0, n)), `icmp4 cut at ${n}`);
    assert.ok('drop' in buildArpRequest(ping.subarray(0, n)), `arp cut at ${n}`);
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
      for (const r of [buildIcmp4Error(b), buildArpRequest(b)]) if ('drop' in r) assert.notEqual(r.drop, 'internal-error', r.detail);
    }),
  );
});

test("arp: the router's ARP request in the real lab, reproduced from the routed echo reply", () => {
  // The echo reply to 172.16.255.150 as lr_in_arp_request sees it: eth.src the router port, eth.dst unresolved.
  const reply = buildEthernet(
    { dst: '00:00:00:00:00:00', src: '02:ac:10:ff:01:29', vlans: [], ethType: 0x0800 },
    buildIpv4(
      {
        tos: 0,
        id: 9,
        df: false,
        mf: false,
        fragOffset: 0,
        ttl: 254,
        protocol: 1,
        src: ROUTER_IP,
        dst: ipv4FromText('172.16.255.150'),
        options: new Uint8Array(0),
      },
      new Uint8Array(64),
    ),
  );
  const r = buildArpRequest(reply);
  assert.ok(!('drop' in r));
  // Nested actions: arp.spa = reg1 (router IP), arp.tpa = reg0 (next hop), arp.op = 1 — here equal to the defaults.
  assert.equal(toHex(r.frame), toHex(frame('arp-router-request.hex')));
});
