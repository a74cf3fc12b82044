/**
 * The pinctrl fast path (codec/packet-in2-raw.ts) against the generic codec:
 * a scanned NXT_PACKET_IN2 has the properties decodeMessage finds; the raw
 * NXT_RESUME is byte for byte encodeResume's; the result bit lands in the
 * register wherever OVS put it (NXM reg, masked OXM packet register, masked
 * xxreg, or left out because it was zero); malformed input is an
 * OpenFlowCodecError, never another exception.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OpenFlowCodecError, Reader, Writer } from '../../src/openflow/codec/bytes.js';
import { decodeMessage, encodePacketIn2, encodeResume, type PacketIn2 } from '../../src/openflow/codec/messages.js';
import { decodeOxmFields, encodeOxmFields, oxmCode, writeOxm } from '../../src/openflow/codec/oxm.js';
import { encodeResumeRaw, isPacketIn2, scanPacketIn2, type RegisterChange } from '../../src/openflow/codec/packet-in2-raw.js';
import { mf, normalizeMatch, type Match } from '../../src/openflow/flow.js';
import { encodeResumeFor } from '../../src/controller/packet-in.js';

const CONT = new Uint8Array([0x80, 0, 0, 8, 0, 0, 0, 1]);

function oxmBytes(write: (w: Writer) => void): Uint8Array {
  const w = new Writer();
  write(w);
  return w.bytes();
}

const decode = (metadata: Uint8Array): Match => decodeOxmFields(new Reader(metadata, 0, metadata.length, 'metadata'));

/** An NXT_RESUME as the NXT_PACKET_IN2 of the same properties (the layouts are the same). */
function asPacketIn(resume: Uint8Array): Uint8Array {
  const out = Uint8Array.from(resume);
  new DataView(out.buffer).setUint32(12, 30);
  return out;
}

/** The metadata an NXT_RESUME carries, read back through the generic packet-in2 decoder. */
function resumeMetadata(resume: Uint8Array): Match {
  const m = decodeMessage(asPacketIn(resume));
  assert.ok(m.kind === 'packet_in2');
  return m.packetIn.metadata;
}

/** The metadata TLVs of a resume for `metadata` with `changes`. */
function patched(metadata: Uint8Array, changes: readonly RegisterChange[]): Uint8Array {
  return scanPacketIn2(asPacketIn(encodeResumeRaw(1, new Uint8Array([1]), metadata, CONT, changes))).metadata;
}

test('scan: the properties decodeMessage finds, as views', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 300 }),
      fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
      fc.option(fc.uint8Array({ minLength: 1, maxLength: 40 }), { nil: undefined }),
      fc.bigInt({ min: 0n, max: 0xffffffffn }),
      (packet, userdata, continuation, reg) => {
        const p: PacketIn2 = {
          packet,
          tableId: 3,
          cookie: 7n,
          metadata: normalizeMatch([mf('in_port', 1n), mf('metadata', 5n), mf('reg3', reg)]),
          ...(userdata === undefined ? {} : { userdata }),
          ...(continuation === undefined ? {} : { continuation }),
        };
        const frame = encodePacketIn2(9, p);
        assert.ok(isPacketIn2(frame));
        const raw = scanPacketIn2(frame);
        assert.deepEqual(raw.packet, packet);
        assert.deepEqual(raw.userdata, userdata);
        assert.deepEqual(raw.continuation, continuation);
        const generic = decodeMessage(frame);
        assert.ok(generic.kind === 'packet_in2');
        assert.deepEqual(decode(raw.metadata), generic.packetIn.metadata);
      },
    ),
  );
});

test('resume: byte for byte encodeResume', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 300 }),
      fc.uint8Array({ minLength: 1, maxLength: 40 }),
      fc.bigInt({ min: 0n, max: 0xffffffffn }),
      (packet, continuation, reg) => {
        const metadata = normalizeMatch([mf('in_port', 2n), mf('reg0', reg), mf('reg14', 1n)]);
        const bytes = oxmBytes((w) => encodeOxmFields(w, metadata));
        assert.deepEqual(
          new Uint8Array(encodeResumeRaw(4, packet, bytes, continuation)),
          encodeResume(4, { packet, metadata, continuation }),
        );
      },
    ),
  );
});

test('result bit: set in the register wherever OVS wrote it, appended when OVS left it out', () => {
  const bit3 = [{ index: 0, value: 8, mask: 8 }];
  const inPort = (w: Writer): void => writeOxm(w, oxmCode('in_port'), 5n);
  const cases: { name: string; write: (w: Writer) => void; reg0: bigint; reg1: bigint }[] = [
    { name: 'NXM reg0', write: (w) => (inPort(w), writeOxm(w, oxmCode('reg0'), 0x100n)), reg0: 0x108n, reg1: 0n },
    // OVS sends only the nonzero half of a packet register, masked.
    {
      name: 'xreg0, reg0 half masked in',
      write: (w) => (inPort(w), writeOxm(w, oxmCode('xreg0'), 0x1_00000000n, 0xffffffff_00000000n)),
      reg0: 0x9n,
      reg1: 0n,
    },
    {
      name: 'xreg0, reg1 half only',
      write: (w) => (inPort(w), writeOxm(w, oxmCode('xreg0'), 0x42n, 0xffffffffn)),
      reg0: 0x8n,
      reg1: 0x42n,
    },
    { name: 'xxreg0 unmasked', write: (w) => (inPort(w), writeOxm(w, oxmCode('xxreg0'), (0x10n << 96n) | 7n)), reg0: 0x18n, reg1: 0n },
    { name: 'left out', write: inPort, reg0: 0x8n, reg1: 0n },
  ];
  for (const c of cases) {
    const fields = decode(patched(oxmBytes(c.write), bit3));
    const get = (f: string): bigint => fields.find((x) => x.field === f)?.value ?? 0n;
    assert.equal(get('reg0'), c.reg0, c.name);
    assert.equal(get('reg1'), c.reg1, c.name);
    assert.equal(get('in_port'), 5n, c.name);
  }
  // Clearing a bit that is already zero where OVS left the register out changes nothing.
  const bytes = oxmBytes(inPort);
  assert.deepEqual(patched(bytes, [{ index: 0, value: 0, mask: 8 }]), bytes);
  // Clearing a set bit.
  const set = oxmBytes((w) => writeOxm(w, oxmCode('reg0'), 0xfn));
  assert.deepEqual(decode(patched(set, [{ index: 0, value: 0, mask: 8 }])), [mf('reg0', 7n)]);
});

test('encodeResumeFor: put_dhcp_opts result xxreg0 bit 99 is reg0 bit 3', () => {
  const metadata = normalizeMatch([mf('in_port', 3n), mf('metadata', 1n), mf('reg14', 2n)]);
  const frame = encodePacketIn2(1, { packet: new Uint8Array([1, 2, 3]), metadata, userdata: new Uint8Array(4), continuation: CONT });
  const pin = scanPacketIn2(frame);
  const reply = new Uint8Array([9, 9]);
  const resume = encodeResumeFor(7, pin, reply, [{ field: 'xxreg0', value: 1n << 99n, mask: 1n << 99n }]);
  assert.deepEqual(resumeMetadata(resume), normalizeMatch([...metadata, mf('reg0', 8n)]));
  assert.throws(() => encodeResumeFor(7, pin, reply, [{ field: 'pkt_mark', value: 1n, mask: 1n }]), /not a register/);
  assert.throws(() => encodeResumeFor(7, { ...pin, continuation: undefined }, reply, []), /no continuation/);
});

test('malformed packet-ins and metadata: OpenFlowCodecError only', () => {
  const frame = encodePacketIn2(1, {
    packet: new Uint8Array(20),
    metadata: [mf('in_port', 1n)],
    userdata: new Uint8Array(8),
    continuation: CONT,
  });
  fc.assert(
    fc.property(fc.integer({ min: 16, max: frame.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.nat(), (at, byte, cut) => {
      const g = Uint8Array.from(frame);
      g[at] = byte;
      const h = g.subarray(0, Math.max(16, g.length - (cut % 16)));
      new DataView(h.buffer, h.byteOffset).setUint16(2, h.length);
      try {
        const pin = scanPacketIn2(h);
        encodeResumeRaw(1, pin.packet, pin.metadata, CONT, [{ index: 0, value: 8, mask: 8 }]);
      } catch (e) {
        assert.ok(e instanceof OpenFlowCodecError, String(e));
      }
    }),
  );
});
