/**
 * OXM/NXM match encoding (OpenFlow 1.5 §7.2.3 "Flow Match Structures";
 * ovs-fields(7) lists each field's OXM/NXM code).
 *
 * A TLV is `class(16) | field(7) hasmask(1) | length(8)` then value [mask].
 * Classes: 0x8000 OpenFlow basic, 0x8001 packet registers (xreg0..7),
 * 0x0000 NXM_OF_*, 0x0001 NXM_NX_*. Fields are encoded in the model's
 * canonical order, which puts every prerequisite (dl_type, nw_proto,
 * icmpv6_type) before the fields that depend on it, as OVS requires.
 */
import { type Match, type MatchField, matchField, normalizeMatch } from '../flow.js';
import { OpenFlowCodecError, type Reader, Writer } from './bytes.js';

export const OXM_CLASS = { NXM0: 0x0000, NXM1: 0x0001, OPENFLOW_BASIC: 0x8000, PACKET_REGS: 0x8001, EXPERIMENTER: 0xffff } as const;

/** Where a canonical field lives on the wire. */
export interface OxmCode {
  readonly cls: number;
  readonly field: number;
  /** Bytes of the value. */
  readonly bytes: number;
}

const B = OXM_CLASS.OPENFLOW_BASIC;
const N0 = OXM_CLASS.NXM0;
const N1 = OXM_CLASS.NXM1;

/** Canonical field → how this encoder writes it. */
const ENCODE: ReadonlyMap<string, OxmCode> = new Map<string, OxmCode>([
  ['in_port', { cls: B, field: 0, bytes: 4 }],
  ['metadata', { cls: B, field: 2, bytes: 8 }],
  ['dl_dst', { cls: B, field: 3, bytes: 6 }],
  ['dl_src', { cls: B, field: 4, bytes: 6 }],
  ['dl_type', { cls: B, field: 5, bytes: 2 }],
  ['vlan_tci', { cls: N0, field: 4, bytes: 2 }],
  ['nw_proto', { cls: B, field: 10, bytes: 1 }],
  ['nw_src', { cls: B, field: 11, bytes: 4 }],
  ['nw_dst', { cls: B, field: 12, bytes: 4 }],
  ['tcp_src', { cls: B, field: 13, bytes: 2 }],
  ['tcp_dst', { cls: B, field: 14, bytes: 2 }],
  ['udp_src', { cls: B, field: 15, bytes: 2 }],
  ['udp_dst', { cls: B, field: 16, bytes: 2 }],
  ['sctp_src', { cls: B, field: 17, bytes: 2 }],
  ['sctp_dst', { cls: B, field: 18, bytes: 2 }],
  ['icmp_type', { cls: B, field: 19, bytes: 1 }],
  ['icmp_code', { cls: B, field: 20, bytes: 1 }],
  ['arp_op', { cls: B, field: 21, bytes: 2 }],
  ['arp_spa', { cls: B, field: 22, bytes: 4 }],
  ['arp_tpa', { cls: B, field: 23, bytes: 4 }],
  ['arp_sha', { cls: B, field: 24, bytes: 6 }],
  ['arp_tha', { cls: B, field: 25, bytes: 6 }],
  ['ipv6_src', { cls: B, field: 26, bytes: 16 }],
  ['ipv6_dst', { cls: B, field: 27, bytes: 16 }],
  ['ipv6_label', { cls: B, field: 28, bytes: 4 }],
  ['icmpv6_type', { cls: B, field: 29, bytes: 1 }],
  ['icmpv6_code', { cls: B, field: 30, bytes: 1 }],
  ['nd_target', { cls: B, field: 31, bytes: 16 }],
  ['nd_sll', { cls: B, field: 32, bytes: 6 }],
  ['nd_tll', { cls: B, field: 33, bytes: 6 }],
  ['mpls_label', { cls: B, field: 34, bytes: 4 }],
  ['tun_id', { cls: B, field: 38, bytes: 8 }],
  ['tcp_flags', { cls: B, field: 42, bytes: 2 }],
  ['actset_output', { cls: B, field: 43, bytes: 4 }],
  ...Array.from({ length: 16 }, (_, i): [string, OxmCode] => [`reg${i}`, { cls: N1, field: i, bytes: 4 }]),
  ['nw_tos', { cls: N0, field: 5, bytes: 1 }],
  ['ip_frag', { cls: N1, field: 26, bytes: 1 }],
  ['nw_ecn', { cls: N1, field: 28, bytes: 1 }],
  ['nw_ttl', { cls: N1, field: 29, bytes: 1 }],
  ['tun_src', { cls: N1, field: 31, bytes: 4 }],
  ['tun_dst', { cls: N1, field: 32, bytes: 4 }],
  ['pkt_mark', { cls: N1, field: 33, bytes: 4 }],
  ['dp_hash', { cls: N1, field: 35, bytes: 4 }],
  ['recirc_id', { cls: N1, field: 36, bytes: 4 }],
  ['conj_id', { cls: N1, field: 37, bytes: 4 }],
  ...Array.from({ length: 64 }, (_, i): [string, OxmCode] => [`tun_metadata${i}`, { cls: N1, field: 40 + i, bytes: 4 }]),
  ['tun_flags', { cls: N1, field: 104, bytes: 2 }],
  ['ct_state', { cls: N1, field: 105, bytes: 4 }],
  ['ct_zone', { cls: N1, field: 106, bytes: 2 }],
  ['ct_mark', { cls: N1, field: 107, bytes: 4 }],
  ['ct_label', { cls: N1, field: 108, bytes: 16 }],
  ['tun_ipv6_src', { cls: N1, field: 109, bytes: 16 }],
  ['tun_ipv6_dst', { cls: N1, field: 110, bytes: 16 }],
  ['ct_nw_proto', { cls: N1, field: 119, bytes: 1 }],
  ['ct_nw_src', { cls: N1, field: 120, bytes: 4 }],
  ['ct_nw_dst', { cls: N1, field: 121, bytes: 4 }],
  ['ct_ipv6_src', { cls: N1, field: 122, bytes: 16 }],
  ['ct_ipv6_dst', { cls: N1, field: 123, bytes: 16 }],
  ['ct_tp_src', { cls: N1, field: 124, bytes: 2 }],
  ['ct_tp_dst', { cls: N1, field: 125, bytes: 2 }],
]);

/** Wide registers named in actions (move, output:reg, push/pop). */
function wideCode(name: string): OxmCode | undefined {
  const x = /^xreg([0-7])$/.exec(name);
  if (x !== null) return { cls: OXM_CLASS.PACKET_REGS, field: Number(x[1]), bytes: 8 };
  const xx = /^xxreg([0-3])$/.exec(name);
  if (xx !== null) return { cls: N1, field: 111 + Number(xx[1]), bytes: 16 };
  return undefined;
}

/** Options for fields whose width depends on switch state. */
export interface OxmOptions {
  /** Bytes of each tun_metadataN as mapped by the TLV table. Default 4 (OVN maps its Geneve option with length 4). */
  readonly tunMetadataBytes?: (index: number) => number;
}

/** How `name` (canonical, or xreg/xxreg) is written on the wire. */
export function oxmCode(name: string, opts: OxmOptions = {}): OxmCode {
  const wide = wideCode(name);
  if (wide !== undefined) return wide;
  const c = ENCODE.get(name);
  if (c === undefined) throw new OpenFlowCodecError(`${name}: no OXM/NXM encoding`);
  const tm = /^tun_metadata(\d+)$/.exec(name);
  if (tm !== null && opts.tunMetadataBytes !== undefined) return { ...c, bytes: opts.tunMetadataBytes(Number(tm[1])) };
  return c;
}

/** The 32-bit NXM/OXM header of a field (hasmask 0), as actions name fields. */
export function oxmHeader(code: OxmCode, hasMask = false): number {
  const len = hasMask ? code.bytes * 2 : code.bytes;
  return ((code.cls << 16) | (code.field << 9) | (hasMask ? 0x100 : 0) | len) >>> 0;
}

/** Writes one TLV. */
export function writeOxm(w: Writer, code: OxmCode, value: bigint, mask?: bigint): void {
  w.u32(oxmHeader(code, mask !== undefined));
  w.uint(value, code.bytes);
  if (mask !== undefined) w.uint(mask, code.bytes);
}

/** The OXM TLVs of a match (no ofp_match header). */
export function encodeOxmFields(w: Writer, match: Match, opts: OxmOptions = {}): void {
  for (const m of match) {
    writeOxm(w, oxmCode(m.field, opts), m.value, m.mask);
  }
}

/** ofp_match (OXM type 1): type, length, TLVs, padding to 8. */
export function encodeMatch(w: Writer, match: Match, opts: OxmOptions = {}): void {
  const start = w.length;
  w.u16(1).u16(0);
  encodeOxmFields(w, match, opts);
  w.setU16(start + 2, w.length - start);
  w.pad(8, start);
}

/** Decoded field: canonical match fields (OXM fields of other shapes are folded into canonical ones). */
function decodeTlv(cls: number, field: number, value: bigint, mask: bigint | undefined, bytes: number): MatchField[] {
  if (cls === OXM_CLASS.PACKET_REGS) return matchField(`xreg${field}`, value, mask);
  if (cls === N1 && field >= 111 && field <= 114) return matchField(`xxreg${field - 111}`, value, mask);
  if (cls === B) {
    switch (field) {
      case 6: // VLAN_VID: 13 bits, 0x1000 = present; OVS's vlan_tci carries the same bits.
        return matchField('vlan_tci', value & 0x1fffn, (mask ?? 0x1fffn) & 0x1fffn);
      case 7: // VLAN_PCP (implies a tag).
        return matchField('vlan_pcp', value, mask);
      case 8: // IP_DSCP: the DSCP value, six bits.
        return matchField('ip_dscp', value, mask);
      case 9:
        return matchField('ip_ecn', value, mask);
      case 44: // PACKET_TYPE (OF1.5): OVS sends it only for non-Ethernet packet types.
        if (value === 0n) return [];
        throw new OpenFlowCodecError(`packet_type=0x${value.toString(16)}: unsupported`);
    }
  }
  if (cls === N0) {
    const nx0: Record<number, string> = {
      0: 'in_port', 1: 'dl_dst', 2: 'dl_src', 3: 'dl_type', 4: 'vlan_tci', 5: 'nw_tos', 6: 'nw_proto', 7: 'nw_src', 8: 'nw_dst',
      9: 'tcp_src', 10: 'tcp_dst', 11: 'udp_src', 12: 'udp_dst', 13: 'icmp_type', 14: 'icmp_code', 15: 'arp_op', 16: 'arp_spa', 17: 'arp_tpa',
    };
    const name = nx0[field];
    if (name !== undefined) {
      if (name === 'in_port') return [{ field: 'in_port', value: value >= 0xff00n ? value | 0xffff0000n : value }];
      return matchField(name, value, mask);
    }
  }
  for (const [name, code] of ENCODE) {
    if (code.cls === cls && code.field === field) return matchField(name, value, mask);
  }
  // NXM1 fields with fixed codes that have names elsewhere.
  if (cls === N1) {
    const nx1: Record<number, string> = {
      16: 'tun_id', 17: 'arp_sha', 18: 'arp_tha', 19: 'ipv6_src', 20: 'ipv6_dst', 21: 'icmpv6_type', 22: 'icmpv6_code',
      23: 'nd_target', 24: 'nd_sll', 25: 'nd_tll', 27: 'ipv6_label', 34: 'tcp_flags',
    };
    const name = nx1[field];
    if (name !== undefined) return matchField(name, value, mask);
  }
  throw new OpenFlowCodecError(`OXM class 0x${cls.toString(16)} field ${field} (${bytes} bytes): unknown field`);
}

/** Reads the OXM TLVs in `r` up to its end; returns the normalized match. */
export function decodeOxmFields(r: Reader): Match {
  const out: MatchField[] = [];
  while (r.left > 0) {
    const hdr = r.u32();
    let cls = hdr >>> 16;
    const field = (hdr >>> 9) & 0x7f;
    const hasMask = (hdr & 0x100) !== 0;
    let len = hdr & 0xff;
    if (cls === OXM_CLASS.EXPERIMENTER) {
      const exp = r.u32();
      len -= 4;
      throw new OpenFlowCodecError(`experimenter OXM 0x${exp.toString(16)} field ${field}: unsupported`);
    }
    if (len === 0 || (hasMask && len % 2 !== 0)) throw new OpenFlowCodecError(`OXM class 0x${cls.toString(16)} field ${field}: bad length ${len}`);
    const bytes = hasMask ? len / 2 : len;
    const value = r.uint(bytes);
    const mask = hasMask ? r.uint(bytes) : undefined;
    cls &= 0xffff;
    out.push(...decodeTlv(cls, field, value, mask, bytes));
  }
  return normalizeMatch(out);
}

/** Reads an ofp_match (with its padding). */
export function decodeMatch(r: Reader): Match {
  const type = r.u16();
  const length = r.u16();
  if (type !== 1) throw new OpenFlowCodecError(`match type ${type}: only OXM (1) is supported`);
  if (length < 4) throw new OpenFlowCodecError(`match length ${length} < 4`);
  const m = decodeOxmFields(r.sub(length - 4, 'match'));
  r.skip((8 - (length % 8)) % 8);
  return m;
}

