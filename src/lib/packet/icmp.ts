/**
 * ICMPv4 (RFC 792): type, code, checksum, the 4-byte rest of header and the
 * data (for errors: the original IP header and its first 8 payload bytes).
 */
import { internetChecksum } from './checksum.js';
import { need } from './errors.js';

export const ICMP4_TYPE = { ECHO_REPLY: 0, DEST_UNREACH: 3, ECHO_REQUEST: 8, TIME_EXCEEDED: 11 } as const;

export interface Icmp4Message {
  readonly type: number;
  readonly code: number;
  /** Bytes 4..7: identifier/sequence for echo, unused or next-hop MTU for errors. */
  readonly rest: number;
  readonly data: Uint8Array;
}

export interface ParsedIcmp4 {
  readonly message: Icmp4Message;
  readonly checksum: number;
  readonly checksumOk: boolean;
}

/** Parses the ICMPv4 message filling `buf[offset..offset+length)` (length defaults to the rest of buf). */
export function parseIcmp4(buf: Uint8Array, offset = 0, length = buf.length - offset): ParsedIcmp4 {
  need(buf, offset, Math.max(8, length), 'ICMPv4 message');
  const end = offset + Math.max(8, length);
  return {
    message: {
      type: buf[offset]!,
      code: buf[offset + 1]!,
      rest: ((buf[offset + 4]! << 24) | (buf[offset + 5]! << 16) | (buf[offset + 6]! << 8) | buf[offset + 7]!) >>> 0,
      data: buf.slice(offset + 8, end),
    },
    checksum: (buf[offset + 2]! << 8) | buf[offset + 3]!,
    checksumOk: internetChecksum(buf, offset, end - offset) === 0,
  };
}

/** The message with a correct checksum. */
export function buildIcmp4(m: Icmp4Message): Uint8Array {
  const out = new Uint8Array(8 + m.data.length);
  out[0] = m.type & 255;
  out[1] = m.code & 255;
  out[4] = (m.rest >>> 24) & 255;
  out[5] = (m.rest >>> 16) & 255;
  out[6] = (m.rest >>> 8) & 255;
  out[7] = m.rest & 255;
  out.set(m.data, 8);
  const c = internetChecksum(out, 0, out.length);
  out[2] = c >> 8;
  out[3] = c & 255;
  return out;
}
