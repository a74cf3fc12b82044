/**
 * Ethernet II frames with any number of 802.1Q / 802.1ad tags (IEEE 802.1Q
 * clause 9). Pure functions over bytes with explicit offsets.
 */
import { macFromText, macToText } from './addr.js';
import { PacketError, need } from './errors.js';

export const ETH_TYPE = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, QINQ: 0x88a8, IPV6: 0x86dd } as const;

export interface VlanTag {
  /** 0x8100 (802.1Q) or 0x88a8 (802.1ad). */
  readonly tpid: number;
  readonly pcp: number;
  readonly dei: boolean;
  readonly vid: number;
}

export interface EthernetHeader {
  readonly dst: string;
  readonly src: string;
  /** Outermost first. */
  readonly vlans: readonly VlanTag[];
  /** The EtherType after the tags. */
  readonly ethType: number;
}

export interface ParsedEthernet {
  readonly header: EthernetHeader;
  /** Bytes from the start of the frame to the payload. */
  readonly headerLength: number;
}

const MAX_TAGS = 8;

/** Where an Ethernet header ends, without decoding it: the same checks as {@link parseEthernet}. */
export interface EthernetSpan {
  /** Bytes from the start of the frame to the payload. */
  readonly headerLength: number;
  /** The EtherType after the tags. */
  readonly ethType: number;
}

/** The length and EtherType of the Ethernet header at `offset` (tags skipped); throws as parseEthernet does. */
export function scanEthernet(buf: Uint8Array, offset = 0): EthernetSpan {
  need(buf, offset, 14, 'Ethernet header');
  let at = offset + 12;
  let type = (buf[at]! << 8) | buf[at + 1]!;
  let tags = 0;
  while (type === ETH_TYPE.VLAN || type === ETH_TYPE.QINQ) {
    if (tags === MAX_TAGS) throw new PacketError('unsupported', `more than ${MAX_TAGS} VLAN tags`);
    need(buf, at, 6, 'VLAN tag');
    tags++;
    at += 4;
    type = (buf[at]! << 8) | buf[at + 1]!;
  }
  if (type < 0x600) throw new PacketError('unsupported', `802.3 length field ${type}, not an EtherType`);
  return { headerLength: at + 2 - offset, ethType: type };
}

/** Parses the Ethernet header at `offset`; EtherTypes below 0x600 (802.3 lengths) are `unsupported`. */
export function parseEthernet(buf: Uint8Array, offset = 0): ParsedEthernet {
  const span = scanEthernet(buf, offset);
  const vlans: VlanTag[] = [];
  for (let at = offset + 12; at < offset + span.headerLength - 2; at += 4) {
    const tci = (buf[at + 2]! << 8) | buf[at + 3]!;
    vlans.push({ tpid: (buf[at]! << 8) | buf[at + 1]!, pcp: tci >> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0xfff });
  }
  const header = { dst: macToText(buf, offset), src: macToText(buf, offset + 6), vlans, ethType: span.ethType };
  return { header, headerLength: span.headerLength };
}

/** The header length `buildEthernet` writes for `h`. */
export function ethernetHeaderLength(h: Pick<EthernetHeader, 'vlans'>): number {
  return 14 + 4 * h.vlans.length;
}

/** Writes the header for `h` followed by `payload`. */
export function buildEthernet(h: EthernetHeader, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const hl = ethernetHeaderLength(h);
  const out = new Uint8Array(hl + payload.length);
  writeEthernet(out, 0, h);
  out.set(payload, hl);
  return out;
}

/** Writes the header for `h` at `offset` of `out`; returns the header length. */
export function writeEthernet(out: Uint8Array, offset: number, h: EthernetHeader): number {
  out.set(macFromText(h.dst), offset);
  out.set(macFromText(h.src), offset + 6);
  let at = offset + 12;
  for (const v of h.vlans) {
    if (v.vid < 0 || v.vid > 0xfff || v.pcp < 0 || v.pcp > 7) throw new PacketError('bad-value', `bad VLAN tag vid ${v.vid} pcp ${v.pcp}`);
    out[at] = v.tpid >> 8;
    out[at + 1] = v.tpid & 255;
    const tci = (v.pcp << 13) | (v.dei ? 0x1000 : 0) | v.vid;
    out[at + 2] = tci >> 8;
    out[at + 3] = tci & 255;
    at += 4;
  }
  out[at] = h.ethType >> 8;
  out[at + 1] = h.ethType & 255;
  return at + 2 - offset;
}
