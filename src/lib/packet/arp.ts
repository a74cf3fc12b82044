/**
 * ARP for Ethernet and IPv4 (RFC 826): the 28-byte packet after the
 * Ethernet header.
 */
import { macFromText, macToText, readIpv4, writeIpv4 } from './addr.js';
import { PacketError, need } from './errors.js';

export const ARP_LEN = 28;
export const ARP_OP = { REQUEST: 1, REPLY: 2 } as const;

export interface ArpPacket {
  readonly op: number;
  readonly sha: string;
  readonly spa: number;
  readonly tha: string;
  readonly tpa: number;
}

/** Parses an Ethernet/IPv4 ARP packet at `offset`; other hardware or protocol types are `unsupported`. */
export function parseArp(buf: Uint8Array, offset = 0): ArpPacket {
  need(buf, offset, ARP_LEN, 'ARP packet');
  const htype = (buf[offset]! << 8) | buf[offset + 1]!;
  const ptype = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  if (htype !== 1 || ptype !== 0x0800 || buf[offset + 4] !== 6 || buf[offset + 5] !== 4) {
    throw new PacketError('unsupported', `ARP for hardware type ${htype}, protocol 0x${ptype.toString(16)}`);
  }
  return {
    op: (buf[offset + 6]! << 8) | buf[offset + 7]!,
    sha: macToText(buf, offset + 8),
    spa: readIpv4(buf, offset + 14),
    tha: macToText(buf, offset + 18),
    tpa: readIpv4(buf, offset + 24),
  };
}

export function buildArp(a: ArpPacket): Uint8Array {
  const out = new Uint8Array(ARP_LEN);
  writeArp(out, 0, a);
  return out;
}

export function writeArp(out: Uint8Array, offset: number, a: ArpPacket): void {
  out.set([0, 1, 8, 0, 6, 4, a.op >> 8, a.op & 255], offset);
  out.set(macFromText(a.sha), offset + 8);
  writeIpv4(out, offset + 14, a.spa);
  out.set(macFromText(a.tha), offset + 18);
  writeIpv4(out, offset + 24, a.tpa);
}
