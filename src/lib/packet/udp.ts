/**
 * UDP (RFC 768) over IPv4: header, length and the checksum over the
 * pseudo-header. A zero checksum means "none" on IPv4.
 */
import { finishChecksum, pseudoHeaderSum, sumWords } from './checksum.js';
import { PacketError, need } from './errors.js';
import { IP_PROTO } from './ipv4.js';

export interface UdpHeader {
  readonly srcPort: number;
  readonly dstPort: number;
}

export interface ParsedUdp {
  readonly header: UdpHeader;
  readonly length: number;
  readonly checksum: number;
  readonly payload: Uint8Array;
}

/** Parses the UDP header at `offset` of `buf`, which must hold the whole datagram (length ≤ bytes present). */
export function parseUdp(buf: Uint8Array, offset = 0): ParsedUdp {
  need(buf, offset, 8, 'UDP header');
  const length = (buf[offset + 4]! << 8) | buf[offset + 5]!;
  if (length < 8) throw new PacketError('bad-length', `UDP length ${length} < 8`);
  need(buf, offset, length, 'UDP datagram (length field)');
  return {
    header: { srcPort: (buf[offset]! << 8) | buf[offset + 1]!, dstPort: (buf[offset + 2]! << 8) | buf[offset + 3]! },
    length,
    checksum: (buf[offset + 6]! << 8) | buf[offset + 7]!,
    payload: buf.subarray(offset + 8, offset + length),
  };
}

/** The checksum of the UDP datagram at `offset` (`length` bytes) between `src` and `dst`, as it must be written. */
export function udpChecksum(buf: Uint8Array, offset: number, length: number, src: number, dst: number): number {
  const saved0 = buf[offset + 6]!;
  const saved1 = buf[offset + 7]!;
  buf[offset + 6] = 0;
  buf[offset + 7] = 0;
  const c = finishChecksum(sumWords(buf, offset, length, pseudoHeaderSum(src, dst, IP_PROTO.UDP, length)));
  buf[offset + 6] = saved0;
  buf[offset + 7] = saved1;
  // RFC 768: a computed zero is sent as all ones.
  return c === 0 ? 0xffff : c;
}

/** Whether the datagram's checksum verifies (a zero checksum always does). */
export function udpChecksumOk(buf: Uint8Array, offset: number, length: number, src: number, dst: number): boolean {
  const stored = (buf[offset + 6]! << 8) | buf[offset + 7]!;
  if (stored === 0) return true;
  return finishChecksum(sumWords(buf, offset, length, pseudoHeaderSum(src, dst, IP_PROTO.UDP, length))) === 0;
}

/**
 * Writes header and payload at `offset`; the checksum is computed over the
 * pseudo-header when `addrs` is given, else left zero (no checksum).
 * Returns the datagram length.
 */
export function writeUdp(out: Uint8Array, offset: number, h: UdpHeader, payload: Uint8Array, addrs?: { src: number; dst: number }): number {
  const length = writeUdpHeader(out, offset, h, payload.length);
  out.set(payload, offset + 8);
  if (addrs) {
    const c = udpChecksum(out, offset, length, addrs.src, addrs.dst);
    out[offset + 6] = c >> 8;
    out[offset + 7] = c & 255;
  }
  return length;
}

/**
 * Writes the header for a payload of `payloadLength` bytes (already in place
 * or written after) with checksum 0 (none); returns the datagram length.
 */
export function writeUdpHeader(out: Uint8Array, offset: number, h: UdpHeader, payloadLength: number): number {
  const length = 8 + payloadLength;
  if (length > 0xffff) throw new PacketError('bad-length', `UDP datagram of ${length} bytes`);
  out[offset] = h.srcPort >> 8;
  out[offset + 1] = h.srcPort & 255;
  out[offset + 2] = h.dstPort >> 8;
  out[offset + 3] = h.dstPort & 255;
  out[offset + 4] = length >> 8;
  out[offset + 5] = length & 255;
  out[offset + 6] = 0;
  out[offset + 7] = 0;
  return length;
}

export function buildUdp(h: UdpHeader, payload: Uint8Array, addrs?: { src: number; dst: number }): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  writeUdp(out, 0, h, payload, addrs);
  return out;
}
