/**
 * answerPutDhcpOpts against the real ovn-controller: the DISCOVER and
 * REQUEST that dhclient sent in the real seed lab, with the userdata the real
 * controller installed, must give the OFFER and ACK the real controller
 * answered (after the ls_in_dhcp_response flow's rewrites, which OVS applies
 * after pinctrl). Plus NAK, INFORM, RELEASE, broadcast flag, VLAN tags and
 * malformed input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { fromHex, toHex, ipv4FromText, macToText } from '../../src/lib/packet/addr.js';
import { parseEthernet } from '../../src/lib/packet/ethernet.js';
import { parseIpv4, writeIpv4Header } from '../../src/lib/packet/ipv4.js';
import { parseUdp } from '../../src/lib/packet/udp.js';
import { DHCP_MSG, dhcpMessageType, parseDhcp, buildDhcp, type DhcpPacket } from '../../src/lib/packet/dhcp.js';
import { answerPutDhcpOpts, type DhcpAnswer } from '../../src/controller/pinctrl/dhcp.js';
import type { Drop } from '../../src/controller/pinctrl/drop.js';
import { applyDhcpResponseFlow } from './pinctrl-helpers.js';

const FIX = new URL('../../../test/fixtures/packets/', import.meta.url);
const frame = (name: string): Uint8Array => fromHex(readFileSync(new URL(name, FIX), 'utf8'));

/** The real controller's put_dhcp_opts userdata for dmz-c51 (see pinctrl-userdata.test.ts). */
const USERDATA = fromHex('00000002 00000000 0001de10 00000063 ac10ff85 330400000e10 0104ffffffc0 0304ac10ff81 3604ac10ff81');
const SERVER_MAC = '02:ac:10:ff:01:29';
const SERVER_IP = ipv4FromText('172.16.255.129');

function isAnswer(a: DhcpAnswer | Drop): a is DhcpAnswer {
  return !('drop' in a);
}

function answerOf(req: Uint8Array, ud: Uint8Array = USERDATA): DhcpAnswer {
  const a = answerPutDhcpOpts(req, ud);
  assert.ok(isAnswer(a), `dropped: ${JSON.stringify(a)}`);
  return a;
}

function dhcpOf(f: Uint8Array): DhcpPacket {
  const eth = parseEthernet(f);
  const ip = parseIpv4(f, eth.headerLength);
  const udp = parseUdp(f, eth.headerLength + ip.headerLength);
  return parseDhcp(udp.payload);
}

test('DISCOVER → the real OFFER, byte for byte', () => {
  const a = answerOf(frame('dhcp-c51-discover.hex'));
  assert.equal(a.result, true);
  assert.equal(a.replyType, DHCP_MSG.OFFER);
  assert.equal(toHex(applyDhcpResponseFlow(a.reply, SERVER_MAC, SERVER_IP)), toHex(frame('dhcp-c51-offer.hex')));
});

test('REQUEST for the offered address → the real ACK, byte for byte', () => {
  const a = answerOf(frame('dhcp-c51-request.hex'));
  assert.equal(a.result, true);
  assert.equal(a.replyType, DHCP_MSG.ACK);
  assert.equal(toHex(applyDhcpResponseFlow(a.reply, SERVER_MAC, SERVER_IP)), toHex(frame('dhcp-c51-ack.hex')));
});

/** The captured REQUEST with its DHCP part replaced by `p` (same size class), IP/UDP lengths fixed. */
function requestWith(p: DhcpPacket): Uint8Array {
  const base = frame('dhcp-c51-request.hex');
  const dhcp = buildDhcp(p, 300);
  const out = new Uint8Array(14 + 20 + 8 + dhcp.length);
  out.set(base.subarray(0, 42));
  out.set(dhcp, 42);
  const ip = parseIpv4(base, 14);
  writeIpv4Header(out, 14, ip.header, 8 + dhcp.length);
  out[38] = (8 + dhcp.length) >> 8;
  out[39] = (8 + dhcp.length) & 255;
  out[40] = 0;
  out[41] = 0;
  return out;
}

test('REQUEST for another address → NAK to the offered address with only the message type', () => {
  const req = dhcpOf(frame('dhcp-c51-request.hex'));
  const wrong = req.options.map((o) => (o.code === 50 ? { code: 50, data: fromHex('ac10ff99') } : o));
  const a = answerOf(requestWith({ ...req, options: wrong }));
  assert.equal(a.result, true);
  assert.equal(a.replyType, DHCP_MSG.NAK);
  const d = dhcpOf(a.reply);
  assert.equal(d.yiaddr, 0);
  assert.deepEqual(
    d.options.map((o) => o.code),
    [53],
  );
  assert.equal(parseIpv4(a.reply, 14).header.dst, ipv4FromText('172.16.255.133'));
});

test('REQUEST without option 50 uses ciaddr (renewal)', () => {
  const req = dhcpOf(frame('dhcp-c51-request.hex'));
  const opts = req.options.filter((o) => o.code !== 50 && o.code !== 54);
  assert.equal(answerOf(requestWith({ ...req, ciaddr: ipv4FromText('172.16.255.133'), options: opts })).replyType, DHCP_MSG.ACK);
  assert.equal(answerOf(requestWith({ ...req, ciaddr: ipv4FromText('172.16.255.134'), options: opts })).replyType, DHCP_MSG.NAK);
});

test('INFORM → ACK without yiaddr, lease time, T1, T2, netmask', () => {
  const req = dhcpOf(frame('dhcp-c51-request.hex'));
  const opts = req.options
    .map((o) => (o.code === 53 ? { code: 53, data: Uint8Array.of(DHCP_MSG.INFORM) } : o))
    .filter((o) => o.code !== 50);
  const a = answerOf(requestWith({ ...req, ciaddr: ipv4FromText('172.16.255.133'), options: opts }));
  assert.equal(a.replyType, DHCP_MSG.ACK);
  const d = dhcpOf(a.reply);
  assert.equal(d.yiaddr, 0);
  assert.deepEqual(
    d.options.map((o) => o.code),
    [53, 3, 54],
  );
});

test('RELEASE and DECLINE: no reply, result false, packet unchanged', () => {
  const req = dhcpOf(frame('dhcp-c51-request.hex'));
  for (const t of [DHCP_MSG.RELEASE, DHCP_MSG.DECLINE]) {
    const f = requestWith({ ...req, options: req.options.map((o) => (o.code === 53 ? { code: 53, data: Uint8Array.of(t) } : o)) });
    const a = answerOf(f);
    assert.equal(a.result, false);
    assert.equal(a.replyType, undefined);
    assert.equal(toHex(a.reply), toHex(f));
  }
});

test('broadcast flag → reply to 255.255.255.255 with the flag kept', () => {
  const req = dhcpOf(frame('dhcp-c51-discover.hex'));
  const a = answerOf(requestWith({ ...req, flags: 0x8000 }));
  assert.equal(parseIpv4(a.reply, 14).header.dst, 0xffffffff);
  assert.equal(dhcpOf(a.reply).flags, 0x8000);
});

test('VLAN tags of the request are kept on the reply', () => {
  const f = frame('dhcp-c51-discover.hex');
  const tagged = new Uint8Array(f.length + 4);
  tagged.set(f.subarray(0, 12));
  tagged.set([0x81, 0x00, 0x00, 51], 12);
  tagged.set(f.subarray(12), 16);
  const a = answerOf(tagged);
  const eth = parseEthernet(a.reply);
  assert.deepEqual(eth.header.vlans, [{ tpid: 0x8100, pcp: 0, dei: false, vid: 51 }]);
  assert.equal(macToText(a.reply, 6), '02:ac:10:ff:01:33');
  assert.equal(dhcpMessageType(dhcpOf(a.reply)), DHCP_MSG.OFFER);
});

test('malformed and unexpected input are typed drops, never exceptions', () => {
  const f = frame('dhcp-c51-discover.hex');
  // Every truncation.
  for (let n = 0; n < f.length; n++) {
    const a = answerPutDhcpOpts(f.subarray(0, n), USERDATA);
    assert.ok('drop' in a, `cut at ${n} answered`);
  }
  const arp = Uint8Array.from(f);
  arp[12] = 0x08;
  arp[13] = 0x06;
  assert.equal((answerPutDhcpOpts(arp, USERDATA) as Drop).drop, 'unexpected-packet');
  assert.equal((answerPutDhcpOpts(f, USERDATA.subarray(0, 10)) as Drop).drop, 'bad-userdata');
  assert.equal((answerPutDhcpOpts(f, fromHex('0000000000000000')) as Drop).drop, 'bad-userdata');
  const reply = frame('dhcp-c51-offer.hex');
  // Sent to port 68, not 67.
  assert.equal((answerPutDhcpOpts(reply, USERDATA) as Drop).drop, 'unexpected-packet');
  const noType = dhcpOf(f);
  assert.equal((answerPutDhcpOpts(requestWith({ ...noType, options: [] }), USERDATA) as Drop).drop, 'not-a-dhcp-request');
  const offerType = { ...noType, options: [{ code: 53, data: Uint8Array.of(DHCP_MSG.OFFER) }] };
  assert.equal((answerPutDhcpOpts(requestWith(offerType), USERDATA) as Drop).drop, 'unsupported-message-type');
});

test('property: random bytes and random corruption of a request never throw', () => {
  const f = frame('dhcp-c51-request.hex');
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
      const a = answerPutDhcpOpts(b, USERDATA);
      assert.ok('drop' in a || a.reply instanceof Uint8Array);
    }),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(f.length - 1), fc.nat(255)), { maxLength: 6 }), (edits) => {
      const g = Uint8Array.from(f);
      for (const [i, v] of edits) g[i] = v;
      const a = answerPutDhcpOpts(g, USERDATA);
      assert.ok('drop' in a ? a.drop !== 'internal-error' : a.reply.length > 0, JSON.stringify(a));
    }),
  );
});

test('widened options: OFFER, NAK, INFORM-ACK and broadcast OFFER equal the real ones, byte for byte', () => {
  const ud = fromHex(readFileSync(new URL('put-dhcp-opts-wide-c51.hex', FIX), 'utf8'));
  const pairs: [string, string, number][] = [
    ['dhcp-wide-discover.hex', 'dhcp-wide-offer.hex', DHCP_MSG.OFFER],
    ['dhcp-wide-request-foreign.hex', 'dhcp-wide-nak.hex', DHCP_MSG.NAK],
    ['dhcp-wide-inform.hex', 'dhcp-wide-inform-ack.hex', DHCP_MSG.ACK],
    ['dhcp-wide-discover-broadcast.hex', 'dhcp-wide-offer-broadcast.hex', DHCP_MSG.OFFER],
  ];
  for (const [req, rep, type] of pairs) {
    const a = answerOf(frame(req), ud);
    assert.equal(a.replyType, type, req);
    assert.equal(toHex(applyDhcpResponseFlow(a.reply, SERVER_MAC, SERVER_IP)), toHex(frame(rep)), `reply to ${req}`);
  }
});

test('bootfile_name for etherboot clients (option 175), bootfile_name_alt otherwise', () => {
  const ud = fromHex(readFileSync(new URL('put-dhcp-opts-wide-c51.hex', FIX), 'utf8'));
  const req = dhcpOf(frame('dhcp-wide-discover.hex'));
  const bootfile = (f: Uint8Array): string => new TextDecoder().decode(dhcpOf(f).options.find((o) => o.code === 67)?.data);
  assert.equal(bootfile(answerOf(frame('dhcp-wide-discover.hex'), ud).reply), 'ipxe.efi');
  const ipxe = requestWith({ ...req, options: [...req.options, { code: 175, data: Uint8Array.of(1, 1, 1) }] });
  const a = answerOf(ipxe, ud);
  assert.equal(bootfile(a.reply), 'pxelinux.0');
  assert.ok(!dhcpOf(a.reply).options.some((o) => o.code === 254), 'option 254 is never sent');
});

test('remaining options (next_server → siaddr, host_id address, MS static routes, …): OFFER and ACK equal the real ones', () => {
  const ud = fromHex(readFileSync(new URL('put-dhcp-opts-rest-c51.hex', FIX), 'utf8'));
  for (const [req, rep] of [
    ['dhcp-rest-discover.hex', 'dhcp-rest-offer.hex'],
    ['dhcp-rest-request.hex', 'dhcp-rest-ack.hex'],
  ] as const) {
    const a = answerOf(frame(req), ud);
    assert.equal(toHex(applyDhcpResponseFlow(a.reply, SERVER_MAC, SERVER_IP)), toHex(frame(rep)), `reply to ${req}`);
    assert.equal(dhcpOf(a.reply).siaddr, ipv4FromText('198.51.100.10'));
  }
});
