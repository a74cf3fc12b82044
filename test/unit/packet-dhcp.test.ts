/**
 * DHCPv4 codec (RFC 2131/2132) and the pcap reader: the DISCOVER dhclient
 * sent in the real seed lab parsed field by field, options with pad/end,
 * overload (option 52) into file and sname, relay agent information passed
 * through, every truncation of the fixed part rejected, round trips and
 * properties.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DHCP_MSG,
  PacketError,
  buildDhcp,
  dhcpMessageType,
  dhcpOption,
  fromHex,
  parseDhcp,
  parseEthernet,
  parseIpv4,
  parsePcap,
  parseUdp,
  toHex,
  type DhcpPacket,
} from '../../src/lib/packet/index.js';
import { dhcpClientPacket, packetFixture } from '../fixtures/packets/index.js';

const frame = packetFixture;

function dhcpPayload(f: Uint8Array): Uint8Array {
  const eth = parseEthernet(f);
  const ip = parseIpv4(f, eth.headerLength);
  return parseUdp(f, eth.headerLength + ip.headerLength).payload;
}

const empty = (): DhcpPacket => dhcpClientPacket();

test("the real lab's DISCOVER parses field by field", () => {
  const p = parseDhcp(dhcpPayload(frame('dhcp-c51-discover.hex')));
  assert.equal(p.op, 1);
  assert.equal(p.htype, 1);
  assert.equal(p.hlen, 6);
  assert.equal(p.xid, 0x01ca034a);
  assert.equal(p.flags, 0);
  assert.equal(toHex(p.chaddr), '02ac10ff013300000000000000000000');
  assert.equal(dhcpMessageType(p), DHCP_MSG.DISCOVER);
  assert.deepEqual(
    p.options.map((o) => [o.code, toHex(o.data)]),
    [
      [53, '01'],
      [55, '011c03061a'],
    ],
  );
  // Rebuilt with the same 300-byte minimum, it is the same message.
  assert.equal(toHex(buildDhcp(p, 300)), toHex(dhcpPayload(frame('dhcp-c51-discover.hex'))));
});

test('pad options are skipped, parsing stops at end, a missing end is tolerated', () => {
  const base = buildDhcp({ ...empty(), options: [{ code: 53, data: Uint8Array.of(3) }] });
  const withPads = new Uint8Array(base.length + 6);
  withPads.set(base.subarray(0, 240));
  withPads.set([0, 0, 53, 1, 3, 0, 255, 12, 9], 240); // after end: junk that must be ignored
  assert.deepEqual(
    parseDhcp(withPads).options.map((o) => o.code),
    [53],
  );
  const noEnd = base.subarray(0, base.length - 1);
  assert.deepEqual(
    parseDhcp(noEnd).options.map((o) => o.code),
    [53],
  );
});

test('option overload (52) reads options from file and sname; relay agent info (82) passes through', () => {
  const file = new Uint8Array(128);
  file.set([12, 3, 0x61, 0x62, 0x63, 255]); // hostname "abc"
  const sname = new Uint8Array(64);
  sname.set([15, 2, 0x78, 0x79, 255]); // domain name "xy"
  const p = {
    ...empty(),
    file,
    sname,
    options: [
      { code: 53, data: Uint8Array.of(1) },
      { code: 52, data: Uint8Array.of(3) },
      { code: 82, data: fromHex('0104deadbeef') },
    ],
  };
  const parsed = parseDhcp(buildDhcp(p));
  assert.deepEqual(
    parsed.options.map((o) => o.code),
    [53, 52, 82, 12, 15],
  );
  assert.equal(toHex(dhcpOption(parsed, 82)!), '0104deadbeef');
  assert.equal(new TextDecoder().decode(dhcpOption(parsed, 12)), 'abc');
});

test('errors: bad cookie, truncated option, every truncation of the fixed part', () => {
  const good = buildDhcp({
    ...empty(),
    options: [
      { code: 53, data: Uint8Array.of(1) },
      { code: 61, data: new Uint8Array(7) },
    ],
  });
  const cookie = Uint8Array.from(good);
  cookie[236] = 0;
  assert.throws(
    () => parseDhcp(cookie),
    (e: unknown) => e instanceof PacketError && e.reason === 'bad-value',
  );
  for (let n = 0; n < 240; n++) assert.throws(() => parseDhcp(good.subarray(0, n)), PacketError, `cut at ${n}`);
  // Cutting inside option 61 (which starts at 243) is an error; cutting between options is not.
  for (let n = 244; n < 252; n++) assert.throws(() => parseDhcp(good.subarray(0, n)), PacketError, `cut at ${n}`);
  assert.equal(parseDhcp(good.subarray(0, 243)).options.length, 1);
  assert.throws(() => buildDhcp({ ...empty(), options: [{ code: 12, data: new Uint8Array(256) }] }), PacketError);
  assert.throws(() => buildDhcp({ ...empty(), options: [{ code: 0, data: new Uint8Array(0) }] }), PacketError);
});

test('pcap reader: the fixture frames round-trip through a little-endian capture file', () => {
  const frames = ['dhcp-c51-discover.hex', 'dhcp-c51-offer.hex'].map(frame);
  const parts: Uint8Array[] = [fromHex('d4c3b2a1 0200 0400 00000000 00000000 00000400 01000000')];
  for (const f of frames) {
    const rec = new Uint8Array(16);
    const dv = new DataView(rec.buffer);
    dv.setUint32(8, f.length, true);
    dv.setUint32(12, f.length, true);
    parts.push(rec, f);
  }
  const file = Uint8Array.from(Buffer.concat(parts));
  const p = parsePcap(file);
  assert.equal(p.linkType, 1);
  assert.deepEqual(
    p.records.map((r) => toHex(r.data)),
    frames.map(toHex),
  );
  assert.throws(() => parsePcap(file.subarray(0, file.length - 1)), PacketError);
  assert.throws(() => parsePcap(new Uint8Array(24)), PacketError);
});

const dhcpArb: fc.Arbitrary<DhcpPacket> = fc.record({
  op: fc.integer({ min: 0, max: 255 }),
  htype: fc.integer({ min: 0, max: 255 }),
  hlen: fc.integer({ min: 0, max: 255 }),
  hops: fc.integer({ min: 0, max: 255 }),
  xid: fc.integer({ min: 0, max: 0xffffffff }),
  secs: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.integer({ min: 0, max: 0xffff }),
  ciaddr: fc.integer({ min: 0, max: 0xffffffff }),
  yiaddr: fc.integer({ min: 0, max: 0xffffffff }),
  siaddr: fc.integer({ min: 0, max: 0xffffffff }),
  giaddr: fc.integer({ min: 0, max: 0xffffffff }),
  chaddr: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  sname: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  file: fc.uint8Array({ minLength: 128, maxLength: 128 }),
  // Code 52 (overload) would change what is read back; 0 and 255 carry no data.
  options: fc.array(fc.record({ code: fc.integer({ min: 1, max: 254 }).filter((c) => c !== 52), data: fc.uint8Array({ maxLength: 40 }) }), {
    maxLength: 8,
  }),
});

test('property: parseDhcp(buildDhcp(x)) == x', () => {
  fc.assert(
    fc.property(dhcpArb, fc.integer({ min: 0, max: 600 }), (p, min) => {
      const back = parseDhcp(buildDhcp(p, min));
      assert.deepEqual(
        { ...back, options: back.options.map((o) => [o.code, toHex(o.data)]) },
        { ...p, options: p.options.map((o) => [o.code, toHex(o.data)]) },
      );
    }),
  );
});

test('property: random bytes after a valid cookie never throw anything but PacketError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), fc.boolean(), (tail, overload) => {
      const b = new Uint8Array(240 + tail.length + 3);
      b.set([0x63, 0x82, 0x53, 0x63], 236);
      if (overload) b.set([52, 1, 3], 240);
      b.set(tail, overload ? 243 : 240);
      try {
        parseDhcp(b);
      } catch (e) {
        assert.ok(e instanceof PacketError, String(e));
      }
    }),
  );
});
