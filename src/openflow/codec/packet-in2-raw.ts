/**
 * The pinctrl fast path over NXT_PACKET_IN2 and NXT_RESUME: the packet-in is
 * split into views of its properties without decoding the metadata into the
 * flow model, and the resume is written straight from those bytes, the
 * metadata patched only where pinctrl changes a register (put_dhcp_opts'
 * result bit). Sending OVS its own metadata back is what NXT_RESUME asks
 * for; the generic codec (messages.ts) stays the reference for every other
 * use. Layouts as in messages.ts: the Nicira header (16 bytes) and
 * properties `type(16) length(16) body`, each padded to 8 bytes.
 */
import { NX_VENDOR_ID } from './action-wire.js';
import { OpenFlowCodecError } from './bytes.js';
import { NXT, OFP_HEADER_LEN, OFP_MAX_LEN, OFP_VERSION, OFPT } from './messages.js';
import { OXM_CLASS } from './oxm.js';

/** NXPINT_* property types this path reads or writes. */
const PROP = { PACKET: 0, METADATA: 6, USERDATA: 7, CONTINUATION: 8 } as const;
const NX_HEADER_LEN = OFP_HEADER_LEN + 8;

/** Views into one NXT_PACKET_IN2 (valid as long as the frame's bytes are). */
export interface RawPacketIn2 {
  readonly packet: Uint8Array;
  /** The OXM/NXM TLVs of the metadata property, as OVS wrote them. */
  readonly metadata: Uint8Array;
  readonly userdata: Uint8Array | undefined;
  readonly continuation: Uint8Array | undefined;
}

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}
function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}
function putU16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v & 255;
}
function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 255;
  b[at + 2] = (v >>> 8) & 255;
  b[at + 3] = v & 255;
}

/** Whether the complete message `frame` is an NXT_PACKET_IN2. */
export function isPacketIn2(frame: Uint8Array): boolean {
  return (
    frame.length >= NX_HEADER_LEN && frame[1] === OFPT.EXPERIMENTER && u32(frame, 8) === NX_VENDOR_ID && u32(frame, 12) === NXT.PACKET_IN2
  );
}

/** Splits a complete NXT_PACKET_IN2 into its properties; throws OpenFlowCodecError when malformed. */
export function scanPacketIn2(frame: Uint8Array): RawPacketIn2 {
  if (!isPacketIn2(frame)) throw new OpenFlowCodecError('not an NXT_PACKET_IN2');
  if (u16(frame, 2) !== frame.length) throw new OpenFlowCodecError(`message length field ${u16(frame, 2)} but ${frame.length} bytes given`);
  let packet: Uint8Array | undefined;
  let metadata: Uint8Array = new Uint8Array(0);
  let userdata: Uint8Array | undefined;
  let continuation: Uint8Array | undefined;
  let at = NX_HEADER_LEN;
  while (frame.length - at >= 4) {
    const type = u16(frame, at);
    const len = u16(frame, at + 2);
    if (len < 4 || at + len > frame.length) throw new OpenFlowCodecError(`packet-in2 property ${type}: bad length ${len}`);
    const body = frame.subarray(at + 4, at + len);
    if (type === PROP.PACKET) packet = body;
    else if (type === PROP.METADATA) metadata = body;
    else if (type === PROP.USERDATA) userdata = body;
    else if (type === PROP.CONTINUATION) continuation = body;
    at += (len + 7) & ~7;
  }
  if (packet === undefined) throw new OpenFlowCodecError('packet-in2 without a packet property');
  return { packet, metadata, userdata, continuation };
}

/** A register change: `reg<index> = (reg & ~mask) | (value & mask)`, 32-bit. */
export interface RegisterChange {
  readonly index: number;
  readonly value: number;
  readonly mask: number;
}

/**
 * Where 32-bit register `index` lives in one metadata TLV (value byte offset
 * from the TLV's value), or undefined when the TLV does not hold it. OVS
 * writes registers as NXM_NX_REGn, OXM_OF_PKT_REGn (xreg, reg 2n the high
 * half) or NXM_NX_XXREGn (reg 4n the most significant word).
 */
function registerAt(cls: number, field: number, index: number): number | undefined {
  if (cls === OXM_CLASS.NXM1 && field === index) return 0;
  if (cls === OXM_CLASS.PACKET_REGS && field === index >> 1) return 4 * (index & 1);
  if (cls === OXM_CLASS.NXM1 && field === 111 + (index >> 2)) return 4 * (index & 3);
  return undefined;
}

/** Where a register's 32 bits sit in the metadata: value offset, and mask offset for a masked TLV. */
interface RegisterSlot {
  readonly value: number;
  readonly mask: number | undefined;
}

/** The slot of register `index` in the metadata TLVs, or undefined when OVS left it out (it omits zero fields). */
function findRegister(metadata: Uint8Array, index: number): RegisterSlot | undefined {
  let at = 0;
  while (at < metadata.length) {
    if (metadata.length - at < 4) throw new OpenFlowCodecError('metadata: truncated OXM header');
    const hdr = u32(metadata, at);
    const cls = hdr >>> 16;
    const hasMask = (hdr & 0x100) !== 0;
    const len = hdr & 0xff;
    if (at + 4 + len > metadata.length) throw new OpenFlowCodecError(`metadata: OXM class 0x${cls.toString(16)} runs past the end`);
    const ofs = cls === OXM_CLASS.EXPERIMENTER ? undefined : registerAt(cls, (hdr >>> 9) & 0x7f, index);
    if (ofs !== undefined) {
      const bytes = hasMask ? len / 2 : len;
      if (ofs + 4 > bytes) throw new OpenFlowCodecError(`metadata: register TLV of ${len} bytes`);
      return { value: at + 4 + ofs, mask: hasMask ? at + 4 + bytes + ofs : undefined };
    }
    at += 4 + len;
  }
  return undefined;
}

const padded = (n: number): number => (n + 7) & ~7;

/** Writes one property (header, body, zero padding) at `at`; returns where the next one starts. */
function writeProp(out: Uint8Array, at: number, type: number, body: Uint8Array, extra = 0): number {
  const len = 4 + body.length + extra;
  putU16(out, at, type);
  putU16(out, at + 2, len);
  out.set(body, at + 4);
  const end = at + padded(len);
  out.fill(0, at + len, end);
  return end;
}

/**
 * NXT_RESUME with the packet, the metadata TLVs with `changes` applied, and
 * the continuation; the layout {@link encodeResume} writes (packet,
 * metadata, continuation properties). A register the metadata holds is
 * patched where it is (a masked TLV gets the changed bits in its mask too);
 * one OVS left out is appended as NXM_NX_REGn when a changed bit is set.
 * Throws OpenFlowCodecError on malformed metadata.
 */
export function encodeResumeRaw(
  xid: number,
  packet: Uint8Array,
  metadata: Uint8Array,
  continuation: Uint8Array,
  changes: readonly RegisterChange[] = [],
): Uint8Array {
  const slots = changes.map((ch) => findRegister(metadata, ch.index));
  let appended = 0;
  for (let i = 0; i < changes.length; i++) if (slots[i] === undefined && (changes[i]!.value & changes[i]!.mask) !== 0) appended += 8;
  const total = NX_HEADER_LEN + padded(4 + packet.length) + padded(4 + metadata.length + appended) + padded(4 + continuation.length);
  if (total > OFP_MAX_LEN) throw new OpenFlowCodecError(`message of ${total} bytes exceeds the 65535-byte limit`);
  // From the pool: every byte is written below, padding included.
  const out = Buffer.allocUnsafe(total);
  out[0] = OFP_VERSION;
  out[1] = OFPT.EXPERIMENTER;
  putU16(out, 2, total);
  putU32(out, 4, xid);
  putU32(out, 8, NX_VENDOR_ID);
  putU32(out, 12, NXT.RESUME);
  let at = writeProp(out, NX_HEADER_LEN, PROP.PACKET, packet);
  const meta = at + 4;
  at = writeProp(out, at, PROP.METADATA, metadata, appended);
  let tail = meta + metadata.length;
  for (let i = 0; i < changes.length; i++) {
    const ch = changes[i]!;
    const slot = slots[i];
    if (slot === undefined) {
      if ((ch.value & ch.mask) === 0) continue;
      putU32(out, tail, ((OXM_CLASS.NXM1 << 16) | (ch.index << 9) | 4) >>> 0);
      putU32(out, tail + 4, (ch.value & ch.mask) >>> 0);
      tail += 8;
      continue;
    }
    const v = meta + slot.value;
    putU32(out, v, ((u32(out, v) & ~ch.mask) | (ch.value & ch.mask)) >>> 0);
    if (slot.mask !== undefined) putU32(out, meta + slot.mask, (u32(out, meta + slot.mask) | ch.mask) >>> 0);
  }
  writeProp(out, at, PROP.CONTINUATION, continuation);
  return out;
}
