/**
 * IPv4 headers (RFC 791): version/IHL, TOS, total length, identification,
 * flags and fragment offset, TTL, protocol, header checksum, addresses and
 * options.
 */
import { readIpv4, writeIpv4 } from './addr.js';
import { internetChecksum } from './checksum.js';
import { PacketError, need } from './errors.js';

export const IP_PROTO = { ICMP: 1, TCP: 6, UDP: 17 } as const;

export interface Ipv4Header {
  readonly tos: number;
  readonly id: number;
  /** Don't Fragment. */
  readonly df: boolean;
  /** More Fragments. */
  readonly mf: boolean;
  /** Fragment offset in 8-byte units. */
  readonly fragOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly src: number;
  readonly dst: number;
  /** Raw options, a multiple of 4 bytes (at most 40). */
  readonly options: Uint8Array;
}

export interface ParsedIpv4 {
  readonly header: Ipv4Header;
  readonly headerLength: number;
  readonly totalLength: number;
  readonly checksum: number;
  /** Whether the header checksum verifies. */
  readonly checksumOk: boolean;
  /** The payload (total length minus header), a view into the input. */
  readonly payload: Uint8Array;
}

/**
 * Parses the IPv4 header at `offset`. Checks version, IHL, total length
 * against the bytes present (trailing Ethernet padding is allowed and
 * excluded from the payload). The checksum is reported, not enforced.
 */
export function parseIpv4(buf: Uint8Array, offset = 0): ParsedIpv4 {
  need(buf, offset, 20, 'IPv4 header');
  const vihl = buf[offset]!;
  if (vihl >> 4 !== 4) throw new PacketError('bad-version', `IP version ${vihl >> 4}, expected 4`);
  const hl = (vihl & 15) * 4;
  if (hl < 20) throw new PacketError('bad-header-length', `IPv4 header length ${hl} < 20`);
  need(buf, offset, hl, 'IPv4 header with options');
  const totalLength = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  if (totalLength < hl) throw new PacketError('bad-length', `IPv4 total length ${totalLength} < header length ${hl}`);
  need(buf, offset, totalLength, 'IPv4 packet (total length)');
  const ff = (buf[offset + 6]! << 8) | buf[offset + 7]!;
  const header: Ipv4Header = {
    tos: buf[offset + 1]!,
    id: (buf[offset + 4]! << 8) | buf[offset + 5]!,
    df: (ff & 0x4000) !== 0,
    mf: (ff & 0x2000) !== 0,
    fragOffset: ff & 0x1fff,
    ttl: buf[offset + 8]!,
    protocol: buf[offset + 9]!,
    src: readIpv4(buf, offset + 12),
    dst: readIpv4(buf, offset + 16),
    options: buf.slice(offset + 20, offset + hl),
  };
  return {
    header,
    headerLength: hl,
    totalLength,
    checksum: (buf[offset + 10]! << 8) | buf[offset + 11]!,
    checksumOk: internetChecksum(buf, offset, hl) === 0,
    payload: buf.subarray(offset + hl, offset + totalLength),
  };
}

export function ipv4HeaderLength(h: Pick<Ipv4Header, 'options'>): number {
  return 20 + h.options.length;
}

/**
 * Writes the header for `h` at `offset` with total length `header +
 * payloadLength` and a correct checksum; returns the header length.
 */
export function writeIpv4Header(out: Uint8Array, offset: number, h: Ipv4Header, payloadLength: number): number {
  if (h.options.length % 4 !== 0 || h.options.length > 40) throw new PacketError('bad-value', `IPv4 options of ${h.options.length} bytes`);
  const hl = 20 + h.options.length;
  const total = hl + payloadLength;
  if (total > 0xffff) throw new PacketError('bad-length', `IPv4 packet of ${total} bytes`);
  out[offset] = 0x40 | (hl / 4);
  out[offset + 1] = h.tos & 255;
  out[offset + 2] = total >> 8;
  out[offset + 3] = total & 255;
  out[offset + 4] = (h.id >> 8) & 255;
  out[offset + 5] = h.id & 255;
  const ff = (h.df ? 0x4000 : 0) | (h.mf ? 0x2000 : 0) | (h.fragOffset & 0x1fff);
  out[offset + 6] = ff >> 8;
  out[offset + 7] = ff & 255;
  out[offset + 8] = h.ttl & 255;
  out[offset + 9] = h.protocol & 255;
  out[offset + 10] = 0;
  out[offset + 11] = 0;
  writeIpv4(out, offset + 12, h.src);
  writeIpv4(out, offset + 16, h.dst);
  out.set(h.options, offset + 20);
  const c = internetChecksum(out, offset, hl);
  out[offset + 10] = c >> 8;
  out[offset + 11] = c & 255;
  return hl;
}

/** The header for `h` followed by `payload`. */
export function buildIpv4(h: Ipv4Header, payload: Uint8Array): Uint8Array {
  const hl = ipv4HeaderLength(h);
  const out = new Uint8Array(hl + payload.length);
  writeIpv4Header(out, 0, h, payload.length);
  out.set(payload, hl);
  return out;
}
