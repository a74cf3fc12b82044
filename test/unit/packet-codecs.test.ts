/**
 * Ethernet (with 802.1Q/802.1ad tags), ARP, IPv4, UDP and ICMPv4 codecs:
 * hex fixtures with a comment per field, round-trip tables with boundary
 * values, every truncation rejected as a PacketError, and properties
 * (parse(build(x)) == x; random bytes never throw anything but PacketError).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  PacketError,
  buildArp,
  buildEthernet,
  buildIcmp4,
  buildIpv4,
  buildUdp,
  fromHex,
  internetChecksum,
  ipv4FromText,
  ipv4ToText,
  macFromText,
  macToText,
  parseArp,
  parseEthernet,
  parseIcmp4,
  parseIpv4,
  parseUdp,
  toHex,
  udpChecksumOk,
  type ArpPacket,
  type EthernetHeader,
  type Ipv4Header,
} from '../../src/lib/packet/index.js';

/** An ARP request as the real lab's c51 sends it for the router, on VLAN 51 (as br-vm5 forwards it). */
const TAGGED_ARP = fromHex(`
  ffffffffffff   # eth.dst broadcast
  02ac10ff0133   # eth.src c51
  8100           # TPID 802.1Q
  a033           # TCI: PCP 5, DEI 0, VID 51
  0806           # EtherType ARP
  0001           # htype Ethernet
  0800           # ptype IPv4
  06 04          # hlen, plen
  0001           # op request
  02ac10ff0133   # sha
  ac10ff85       # spa 172.16.255.133
  000000000000   # tha
  ac10ff81       # tpa 172.16.255.129
`);

/** A UDP datagram in IPv4 with header options (a 4-byte NOP/NOP/NOP/EOL) and a correct UDP checksum. */
const IP_UDP = fromHex(`
  46             # version 4, IHL 6 (24 bytes)
  00             # tos
  0021           # total length 33
  1234           # id
  4000           # DF, fragment offset 0
  40             # ttl 64
  11             # protocol UDP
  0000           # header checksum (filled below)
  c0000201       # src 192.0.2.1
  c0000202       # dst 192.0.2.2
  01010100       # options: NOP NOP NOP EOL
  1f90           # udp.src 8080
  0035           # udp.dst 53
  0009           # udp length 9
  0000           # udp checksum (filled below)
  41             # payload "A"
`);

test('Ethernet + 802.1Q + ARP fixture parses field by field and rebuilds byte for byte', () => {
  const eth = parseEthernet(TAGGED_ARP);
  assert.deepEqual(eth.header, {
    dst: 'ff:ff:ff:ff:ff:ff',
    src: '02:ac:10:ff:01:33',
    vlans: [{ tpid: 0x8100, pcp: 5, dei: false, vid: 51 }],
    ethType: 0x0806,
  });
  assert.equal(eth.headerLength, 18);
  const arp = parseArp(TAGGED_ARP, eth.headerLength);
  assert.deepEqual(arp, {
    op: 1,
    sha: '02:ac:10:ff:01:33',
    spa: ipv4FromText('172.16.255.133'),
    tha: '00:00:00:00:00:00',
    tpa: ipv4FromText('172.16.255.129'),
  });
  assert.equal(toHex(buildEthernet(eth.header, buildArp(arp))), toHex(TAGGED_ARP));
});

test('IPv4 with options + UDP fixture: checksums computed and verified', () => {
  const ipH = parseIpv4(IP_UDP);
  assert.equal(ipH.headerLength, 24);
  assert.equal(ipH.checksumOk, false, 'the fixture has a zero checksum');
  const rebuilt = buildIpv4(
    ipH.header,
    buildUdp(parseUdp(ipH.payload).header, ipH.payload.subarray(8), { src: ipH.header.src, dst: ipH.header.dst }),
  );
  const p = parseIpv4(rebuilt);
  assert.equal(p.checksumOk, true);
  assert.equal(internetChecksum(rebuilt, 0, 24), 0);
  assert.deepEqual(
    { ...p.header, options: toHex(p.header.options) },
    {
      tos: 0,
      id: 0x1234,
      df: true,
      mf: false,
      fragOffset: 0,
      ttl: 64,
      protocol: 17,
      src: 0xc0000201,
      dst: 0xc0000202,
      options: '01010100',
    },
  );
  const u = parseUdp(p.payload);
  assert.deepEqual(u.header, { srcPort: 8080, dstPort: 53 });
  assert.equal(u.length, 9);
  assert.equal(toHex(u.payload), '41');
  assert.ok(udpChecksumOk(p.payload, 0, 9, p.header.src, p.header.dst));
  const bad = Uint8Array.from(p.payload);
  bad[8] = bad[8]! ^ 1;
  assert.ok(!udpChecksumOk(bad, 0, 9, p.header.src, p.header.dst));
  // Only the checksum bytes differ from the fixture.
  const fixed = Uint8Array.from(IP_UDP);
  fixed.set(rebuilt.subarray(10, 12), 10);
  fixed.set(rebuilt.subarray(30, 32), 30);
  assert.equal(toHex(rebuilt), toHex(fixed));
});

test('IPv4 fragment fields and boundary values round-trip', () => {
  const cases: Ipv4Header[] = [
    { tos: 0, id: 0, df: false, mf: false, fragOffset: 0, ttl: 0, protocol: 0, src: 0, dst: 0, options: new Uint8Array(0) },
    {
      tos: 255,
      id: 0xffff,
      df: true,
      mf: true,
      fragOffset: 0x1fff,
      ttl: 255,
      protocol: 255,
      src: 0xffffffff,
      dst: 0xffffffff,
      options: new Uint8Array(40),
    },
    {
      tos: 0x10,
      id: 7,
      df: false,
      mf: true,
      fragOffset: 185,
      ttl: 1,
      protocol: 1,
      src: ipv4FromText('198.51.100.1'),
      dst: ipv4FromText('203.0.113.9'),
      options: Uint8Array.of(1, 1, 1, 0),
    },
  ];
  for (const h of cases) {
    const p = parseIpv4(buildIpv4(h, Uint8Array.of(9, 8, 7)));
    assert.deepEqual(p.header, h);
    assert.equal(p.checksumOk, true);
    assert.equal(toHex(p.payload), '090807');
  }
  assert.throws(() => buildIpv4({ ...cases[0]!, options: new Uint8Array(3) }, new Uint8Array(0)), PacketError);
  assert.throws(() => buildIpv4({ ...cases[0]!, options: new Uint8Array(44) }, new Uint8Array(0)), PacketError);
});

test('IPv4 header errors are typed', () => {
  const good = buildIpv4(
    { tos: 0, id: 0, df: false, mf: false, fragOffset: 0, ttl: 1, protocol: 17, src: 1, dst: 2, options: new Uint8Array(0) },
    new Uint8Array(4),
  );
  const v6 = Uint8Array.from(good);
  v6[0] = 0x65;
  assert.throws(
    () => parseIpv4(v6),
    (e: unknown) => e instanceof PacketError && e.reason === 'bad-version',
  );
  const ihl = Uint8Array.from(good);
  ihl[0] = 0x44;
  assert.throws(
    () => parseIpv4(ihl),
    (e: unknown) => e instanceof PacketError && e.reason === 'bad-header-length',
  );
  const tl = Uint8Array.from(good);
  tl[3] = 10;
  assert.throws(
    () => parseIpv4(tl),
    (e: unknown) => e instanceof PacketError && e.reason === 'bad-length',
  );
  // Trailing Ethernet padding is not payload.
  const padded = new Uint8Array(good.length + 6);
  padded.set(good);
  assert.equal(parseIpv4(padded).payload.length, 4);
});

test('ICMPv4 echo and error messages round-trip with a correct checksum', () => {
  for (const m of [
    { type: 8, code: 0, rest: 0x3acc0001, data: Uint8Array.of(1, 2, 3) },
    { type: 11, code: 0, rest: 0, data: new Uint8Array(28) },
    { type: 3, code: 4, rest: 1400, data: new Uint8Array(0) },
  ]) {
    const b = buildIcmp4(m);
    const p = parseIcmp4(b);
    assert.deepEqual({ ...p.message, data: toHex(p.message.data) }, { ...m, data: toHex(m.data) });
    assert.equal(p.checksumOk, true);
  }
});

test('every truncation is a PacketError', () => {
  for (let n = 0; n < TAGGED_ARP.length; n++) {
    assert.throws(
      () => {
        const e = parseEthernet(TAGGED_ARP.subarray(0, n));
        parseArp(TAGGED_ARP.subarray(0, n), e.headerLength);
      },
      PacketError,
      `ARP frame cut at ${n}`,
    );
  }
  const ip = buildIpv4(parseIpv4(IP_UDP).header, buildUdp({ srcPort: 1, dstPort: 2 }, Uint8Array.of(65)));
  for (let n = 0; n < ip.length; n++) {
    assert.throws(
      () => {
        const p = parseIpv4(ip.subarray(0, n));
        parseUdp(p.payload);
      },
      PacketError,
      `IPv4/UDP cut at ${n}`,
    );
  }
  const icmp = buildIcmp4({ type: 8, code: 0, rest: 0, data: new Uint8Array(0) });
  for (let n = 0; n < icmp.length; n++) assert.throws(() => parseIcmp4(icmp.subarray(0, n)), PacketError);
});

test('address text helpers', () => {
  assert.equal(macToText(macFromText('02:AC:10:ff:1:29')), '02:ac:10:ff:01:29');
  assert.equal(ipv4ToText(ipv4FromText('172.16.255.129')), '172.16.255.129');
  for (const bad of ['', '1.2.3', '1.2.3.256', 'a.b.c.d']) assert.throws(() => ipv4FromText(bad), PacketError);
  for (const bad of ['', '02:ac:10:ff:01', '02:ac:10:ff:01:2g']) assert.throws(() => macFromText(bad), PacketError);
});

const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => macToText(b));
const ethArb: fc.Arbitrary<EthernetHeader> = fc.record({
  dst: macArb,
  src: macArb,
  vlans: fc.array(
    fc.record({
      tpid: fc.constantFrom(0x8100, 0x88a8),
      pcp: fc.integer({ min: 0, max: 7 }),
      dei: fc.boolean(),
      vid: fc.integer({ min: 0, max: 4095 }),
    }),
    { maxLength: 3 },
  ),
  ethType: fc.integer({ min: 0x600, max: 0xffff }).filter((t) => t !== 0x8100 && t !== 0x88a8),
});
const ipArb: fc.Arbitrary<Ipv4Header> = fc.record({
  tos: fc.integer({ min: 0, max: 255 }),
  id: fc.integer({ min: 0, max: 0xffff }),
  df: fc.boolean(),
  mf: fc.boolean(),
  fragOffset: fc.integer({ min: 0, max: 0x1fff }),
  ttl: fc.integer({ min: 0, max: 255 }),
  protocol: fc.integer({ min: 0, max: 255 }),
  src: fc.integer({ min: 0, max: 0xffffffff }),
  dst: fc.integer({ min: 0, max: 0xffffffff }),
  options: fc.integer({ min: 0, max: 10 }).chain((n) => fc.uint8Array({ minLength: 4 * n, maxLength: 4 * n })),
});
const arpArb: fc.Arbitrary<ArpPacket> = fc.record({
  op: fc.integer({ min: 0, max: 0xffff }),
  sha: macArb,
  spa: fc.integer({ min: 0, max: 0xffffffff }),
  tha: macArb,
  tpa: fc.integer({ min: 0, max: 0xffffffff }),
});

test('property: parse(build(x)) == x for Ethernet, ARP, IPv4, UDP', () => {
  fc.assert(
    fc.property(
      ethArb,
      arpArb,
      ipArb,
      fc.uint8Array({ maxLength: 64 }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffff }),
      (eth, arp, ip, data, sp, dp) => {
        const f = buildEthernet(eth, buildArp(arp));
        const pe = parseEthernet(f);
        assert.deepEqual(pe.header, eth);
        assert.deepEqual(parseArp(f, pe.headerLength), arp);
        const udp = buildUdp({ srcPort: sp, dstPort: dp }, data, { src: ip.src, dst: ip.dst });
        const pi = parseIpv4(buildIpv4(ip, udp));
        assert.deepEqual(pi.header, ip);
        assert.ok(pi.checksumOk);
        const pu = parseUdp(pi.payload);
        assert.deepEqual(pu.header, { srcPort: sp, dstPort: dp });
        assert.equal(toHex(pu.payload), toHex(data));
        assert.ok(udpChecksumOk(pi.payload, 0, pu.length, ip.src, ip.dst));
      },
    ),
  );
});

test('property: random bytes never throw anything but PacketError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(8), (b, off) => {
      for (const parse of [parseEthernet, parseArp, parseIpv4, parseUdp, parseIcmp4] as ((b: Uint8Array, o: number) => unknown)[]) {
        try {
          parse(b, off);
        } catch (e) {
          assert.ok(e instanceof PacketError, String(e));
        }
      }
    }),
  );
});

test('property: parseIcmp4(buildIcmp4(x)) == x with a verifying checksum', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.uint8Array({ maxLength: 100 }),
      (type, code, rest, data) => {
        const p = parseIcmp4(buildIcmp4({ type, code, rest, data }));
        assert.deepEqual({ ...p.message, data: toHex(p.message.data) }, { type, code, rest, data: toHex(data) });
        assert.ok(p.checksumOk);
      },
    ),
  );
});
