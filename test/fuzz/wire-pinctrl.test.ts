/**
 * Fuzz: the packet-ins pinctrl reads.
 *
 * 1. The dispatcher (controller/packet-in.ts `handlePacketIn`, pure): any
 *    packet with any controller-action userdata is answered or dropped with
 *    a reason, never an exception and never an `internal-error` drop (that
 *    reason is how pinctrl reports its own bug). Packets: the captured real
 *    DHCP, ARP and ICMP frames mutated, and structure-aware DHCP requests
 *    (options with wrong lengths, overlong, without an end), ARP and ICMP
 *    frames with lying header fields, VLAN tags. Userdata: the real
 *    controller's put_dhcp_opts payloads mutated, and every opcode with
 *    random payloads.
 * 2. The pinctrl link (controller/pinctrl-link.ts) over a scripted switch:
 *    NXT_PACKET_IN2 frames (the real ones ovs-vswitchd sent, mutated, and
 *    built from the packets and userdata above with random metadata and
 *    continuations) are each counted as handled or dropped, the link stays
 *    connected and its answers (resume, packet-out) are frames the switch
 *    can read.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { cleanupAll, tmpDir, waitFor } from '../helpers/proc.js';
import { fromHex } from '../../src/lib/packet/addr.js';
import { internetChecksum } from '../../src/lib/packet/checksum.js';
import { handlePacketIn } from '../../src/controller/packet-in.js';
import { PinctrlLink } from '../../src/controller/pinctrl-link.js';
import { frameLength } from '../../src/openflow/codec/messages.js';
import { isPacketIn2 } from '../../src/openflow/codec/packet-in2-raw.js';
import { FuzzFailure, fuzz, fuzzTimeoutMs } from './fuzz-env.js';
import { mutated } from './mutate-bytes.js';
import { fixtureFrames } from './wire-openflow-gen.js';
import { ScriptedSwitch } from './wire-switch.js';

after(cleanupAll);

const PACKETS = new URL('../../../test/fixtures/packets/', import.meta.url);
const hexFixtures = (pick: (name: string) => boolean): Uint8Array[] =>
  readdirSync(PACKETS)
    .filter((n) => n.endsWith('.hex') && pick(n))
    .map((n) => fromHex(readFileSync(new URL(n, PACKETS), 'utf8')));

const realFrames = hexFixtures((n) => !n.startsWith('put-dhcp-opts'));
const realUserdata = hexFixtures((n) => n.startsWith('put-dhcp-opts'));

const bytesOf = (n: number, v: number): number[] => Array.from({ length: n }, (_, i) => (v >>> (8 * (n - 1 - i))) & 255);

/** Ethernet (optionally VLAN-tagged) + IPv4 (checksum right unless told) around `l4`. */
const ipv4Frame = fc
  .tuple(
    fc.boolean(),
    fc.constantFrom(1, 6, 17, 17, 17),
    fc.oneof(fc.constant(undefined), fc.nat(0xffff)),
    fc.integer({ min: 0, max: 15 }),
    fc.boolean(),
    fc.nat(),
    fc.nat(),
    fc.nat(255),
  )
  .map(([vlan, proto, totalLie, ihlLie, badSum, src, dst, ttl]) => (l4: number[]): Uint8Array => {
    const ihl = ihlLie >= 5 && ihlLie <= 6 ? ihlLie : 5;
    const ip = [
      0x40 | ihl,
      0,
      ...bytesOf(2, totalLie ?? ihl * 4 + l4.length),
      0,
      1,
      0,
      0,
      ttl,
      proto,
      0,
      0,
      ...bytesOf(4, src),
      ...bytesOf(4, dst),
    ];
    while (ip.length < ihl * 4) ip.push(1);
    const ipb = Uint8Array.from(ip);
    const sum = internetChecksum(ipb, 0, ipb.length) ^ (badSum ? 1 : 0);
    ipb[10] = sum >> 8;
    ipb[11] = sum & 255;
    const eth = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, ...(vlan ? [0x81, 0, 0, 5] : []), 8, 0];
    return Uint8Array.from([...eth, ...ipb, ...l4]);
  });

/** One DHCP option: code, a length that may lie, the value. */
const dhcpOption = fc.oneof(
  fc
    .tuple(fc.nat(255), fc.uint8Array({ maxLength: 20 }), fc.option(fc.nat(255), { freq: 4 }))
    .map(([code, v, lie]) => [code, lie ?? v.length, ...v]),
  fc.constantFrom(
    [53, 1, 1],
    [53, 1, 3],
    [53, 1, 8],
    [53, 1, 7],
    [53, 0],
    [53, 2, 1, 3],
    [50, 4, 172, 16, 255, 133],
    [54, 4, 172, 16, 255, 129],
    [0],
    [255],
  ),
  // Overlong: a value running past the packet.
  fc.nat(255).map((code) => [code, 255, 1, 2, 3]),
);

/** A DHCP request to port 67: BOOTP header (op and hlen may lie), the magic cookie (sometimes wrong), options (the end sometimes missing). */
const dhcpFrame = fc
  .tuple(
    ipv4Frame,
    fc.constantFrom(1, 1, 1, 2, 0, 3),
    fc.constantFrom(6, 6, 0, 16, 255),
    fc.boolean(),
    fc.array(dhcpOption, { maxLength: 12 }),
    fc.boolean(),
    fc.nat(300),
  )
  .map(([ip, op, hlen, badCookie, opts, end, cut]) => {
    const bootp = [
      op,
      1,
      hlen,
      0,
      1,
      2,
      3,
      4,
      0,
      0,
      0x80,
      0,
      ...new Array<number>(16).fill(0),
      2,
      0,
      0,
      0,
      0,
      1,
      ...new Array<number>(10 + 64 + 128).fill(0),
    ];
    const dhcp = [...bootp, ...(badCookie ? [1, 2, 3, 4] : [0x63, 0x82, 0x53, 0x63]), ...opts.flat(), ...(end ? [255] : [])];
    const udp = [0, 68, 0, 67, ...bytesOf(2, 8 + dhcp.length), 0, 0, ...dhcp];
    const f = ip(udp);
    // Sometimes cut anywhere: a truncated capture.
    return cut < 50 ? f.subarray(0, Math.max(0, f.length - cut)) : f;
  });

/** ARP with any opcode, hardware/protocol lengths that may lie. */
const arpFrame = fc
  .tuple(
    fc.constantFrom(1, 1, 6, 0),
    fc.constantFrom(0x800, 0x800, 0x86dd),
    fc.constantFrom(6, 6, 0, 8),
    fc.constantFrom(4, 4, 16, 0),
    fc.nat(3),
    fc.uint8Array({ maxLength: 28 }),
  )
  .map(([htype, ptype, hlen, plen, op, rest]) =>
    Uint8Array.from([
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      2,
      0,
      0,
      0,
      0,
      1,
      8,
      6,
      ...bytesOf(2, htype),
      ...bytesOf(2, ptype),
      hlen,
      plen,
      0,
      op,
      ...rest,
    ]),
  );

/** ICMP (or anything) over IPv4, any type and code. */
const icmpFrame = fc
  .tuple(ipv4Frame, fc.nat(255), fc.nat(255), fc.uint8Array({ maxLength: 64 }))
  .map(([ip, t, c, rest]) => ip([t, c, 0, 0, ...rest]));

/** IPv6 frames: pinctrl has no IPv6 opcode handler, they must be dropped cleanly. */
const ipv6Frame = fc
  .uint8Array({ maxLength: 80 })
  .map((rest) => Uint8Array.from([0x33, 0x33, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0x86, 0xdd, 0x60, 0, 0, 0, ...rest]));

export const packets: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: mutated(realFrames) },
  { weight: 4, arbitrary: dhcpFrame },
  { weight: 2, arbitrary: arpFrame },
  { weight: 2, arbitrary: icmpFrame },
  { weight: 1, arbitrary: ipv6Frame },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }) },
);

/** NXAST_RESUBMIT_TABLE resubmit(,22): nested actions a real arp/icmp4 action could carry. */
const RESUBMIT = [0xff, 0xff, 0, 16, 0, 0, 0x23, 0x20, 0, 14, 0xff, 0xf8, 22, 0, 0, 0];

export const userdata: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: mutated(realUserdata) },
  { weight: 2, arbitrary: fc.constantFrom(...realUserdata) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 9, 10, 11, 12, 18, 24), fc.nat()),
        fc.oneof(
          fc.constant(RESUBMIT),
          fc.array(fc.nat(255), { maxLength: 40 }),
          fc.array(dhcpOption, { maxLength: 6 }).map((o) => o.flat()),
        ),
      )
      .map(([op, payload]) => Uint8Array.from([...bytesOf(4, op), 0, 0, 0, 0, ...payload])),
  },
  // put_dhcp_opts with a result field header, bit, offer IP and options.
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom(0x0001de10, 0x00011404, 0x80010808, 0x00014204, 0xffff0008),
        fc.nat(200),
        fc.nat(),
        fc.array(dhcpOption, { maxLength: 8 }),
      )
      .map(([hdr, bit, ip, opts]) =>
        Uint8Array.from([0, 0, 0, 2, 0, 0, 0, 0, ...bytesOf(4, hdr), ...bytesOf(4, bit), ...bytesOf(4, ip), ...opts.flat()]),
      ),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }) },
);

/** put_arp reads these registers; random values and absent ones. */
const fields = fc
  .record({ metadata: fc.bigUintN(64), reg14: fc.bigUintN(32), reg0: fc.bigUintN(32), in_port: fc.bigUintN(32) }, { requiredKeys: [] })
  .map((r) => new Map<string, bigint>(Object.entries(r)));

test('fuzz: the packet-in dispatcher answers or drops every packet, never a bug', { timeout: fuzzTimeoutMs(10_000, 5) }, async () => {
  await fuzz(
    'pinctrl-dispatch',
    fc.record({ packet: packets, userdata, fields }),
    (ev) => {
      const v = handlePacketIn(ev);
      if (v.kind === 'drop' && v.reason === 'internal-error') throw new FuzzFailure(`internal-error drop: ${v.detail}`);
    },
    { smokeRuns: 10_000, hangMs: 500 },
  );
});

const u16 = (v: number): number[] => [(v >> 8) & 255, v & 255];

/** A property: type, length, body, padded to 8. */
function prop(type: number, body: Uint8Array | number[]): number[] {
  const len = 4 + body.length;
  return [...u16(type), ...u16(len), ...body, ...new Array<number>((8 - (len % 8)) % 8).fill(0)];
}

/** OXM metadata as OVS writes it: metadata, reg0, reg14, in_port (OpenFlow basic class, 32-bit). */
const metadataProp = fc
  .tuple(fc.bigUintN(64), fc.nat(), fc.nat(), fc.nat(), fc.uint8Array({ maxLength: 12 }), fc.boolean())
  .map(([md, r0, r14, inPort, junk, withJunk]) => {
    const b64 = (v: bigint): number[] => Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * (7 - i))) & 0xffn));
    return [
      ...[0x80, 0, 0x04, 8, ...b64(md)],
      ...[0x80, 0, 0x00, 4, ...bytesOf(4, inPort)],
      ...[0x00, 1, 0x00, 4, ...bytesOf(4, r0)],
      ...[0x00, 1, 0x1c, 4, ...bytesOf(4, r14)],
      ...(withJunk ? [...junk] : []),
    ];
  });

const builtPacketIn2 = fc
  .tuple(packets, userdata, metadataProp, fc.option(fc.uint8Array({ maxLength: 64 })), fc.nat())
  .map(([pkt, ud, md, cont, xid]) => {
    const props = [...prop(0, pkt), ...prop(6, md), ...prop(7, ud), ...(cont === null ? [] : prop(8, cont))];
    const len = 16 + props.length;
    return Uint8Array.from([6, 4, ...u16(len), ...bytesOf(4, xid), 0, 0, 0x23, 0x20, 0, 0, 0, 30, ...props]);
  })
  .filter((f) => f.length <= 0xffff);

/** Switch and pinctrl pairs fuzzed at once: an input mostly waits on round trips and reconnections. */
const LINKS = 8;

test('fuzz: the pinctrl link handles every packet-in and stays connected', { timeout: fuzzTimeoutMs(3_000, 50) }, async () => {
  const dir = tmpDir('ovnts-fuzz-pin');
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown): void => void uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  const real = fixtureFrames('openflow-from-switch.hex').filter((f) => f[1] === 4 && f[15] === 30);
  assert.ok(real.length >= 3, 'the corpus has the real packet-ins');
  const pairs: { sw: ScriptedSwitch; link: PinctrlLink }[] = [];
  try {
    for (let i = 0; i < LINKS; i++) {
      const sw = new ScriptedSwitch(join(dir.path, `br${i}.mgmt`));
      await sw.listen();
      const link = new PinctrlLink({ path: sw.path, reconnectMs: 1, onMacBinding: () => undefined });
      pairs.push({ sw, link });
      link.start();
      await waitFor(() => link.connected, { what: 'pinctrl connected to the scripted switch' });
    }
    await fuzz(
      'pinctrl-link',
      fc.oneof(
        { weight: 2, arbitrary: builtPacketIn2 },
        { weight: 1, arbitrary: mutated(real).filter((f) => f.length >= 16 && f[1] === 4) },
      ),
      async (frame, w) => {
        const { sw, link } = pairs[w]!;
        const s = sw.current;
        if (s === undefined || !link.connected) throw new FuzzFailure('pinctrl is not connected');
        const seen = link.counters.packetIns + link.counters.errors;
        s.write(frame);
        let framed = false;
        try {
          framed = frameLength(frame) === frame.length && frame[0] === 6;
        } catch {
          framed = false;
        }
        // A lying length leaves the stream unframed: the switch gives up on it; pinctrl must come back.
        if (!framed) s.end();
        await sw.settle(() => link.connected);
        if (framed && isPacketIn2(frame) && link.counters.packetIns + link.counters.errors === seen)
          throw new FuzzFailure('a packet-in was neither handled nor counted as an error');
        // An exception escaping a handler is charged to the input that next finishes (maybe a neighbour's: FUZZ_PATH replays one alone).
        if (uncaught.length > 0) throw uncaught.splice(0)[0];
      },
      { smokeRuns: 3_000, hangMs: 3_000, concurrency: LINKS },
    );
    if (process.env['FUZZ_PATH'] === undefined) {
      assert.ok(
        pairs.some(({ link }) => link.counters.resumes + link.counters.packetOuts > 0),
        'some packet-ins were answered',
      );
      assert.ok(
        pairs.some(({ link }) => link.stats.drops.size > 0),
        'some were dropped, by reason',
      );
      assert.ok(
        pairs.some(({ sw }) => sw.received.length > 0),
        'the answers reached the switch',
      );
      for (const { sw } of pairs) for (const f of sw.received) assert.equal(frameLength(f), f.length);
    }
  } finally {
    process.off('uncaughtException', onUncaught);
    for (const { sw, link } of pairs) {
      link.stop();
      sw.close();
    }
  }
});
