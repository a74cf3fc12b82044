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
import { FlowModelError, type Match, type MatchField, matchField, normalizeMatch } from '../flow.js';
import { OXM_CLASS, type OxmCode, anyField, fieldByCode } from '../fields.js';
import { OpenFlowCodecError, type Reader, Writer } from './bytes.js';

export { OXM_CLASS, type OxmCode };

/** How `name` (a field of fields.ts, canonical or one only actions name) is written, without the TLV-table override. */
function baseCode(name: string): OxmCode | undefined {
  return anyField(name)?.oxm;
}

/** Options for fields whose width depends on switch state. */
export interface OxmOptions {
  /** Bytes of each tun_metadataN as mapped by the TLV table. Default 4 (OVN maps its Geneve option with length 4). */
  readonly tunMetadataBytes?: (index: number) => number;
}

/** How `name` (canonical, or xreg/xxreg) is written on the wire. */
export function oxmCode(name: string, opts: OxmOptions = {}): OxmCode {
  const c = baseCode(name);
  if (c === undefined) throw new OpenFlowCodecError(`${name}: no OXM/NXM encoding`);
  // Most fields are not tun_metadataN: a prefix test spares them the regex (this runs for every field of every flow sent).
  if (opts.tunMetadataBytes === undefined || !name.startsWith('tun_metadata')) return c;
  const tm = /^tun_metadata(\d+)$/.exec(name);
  return tm === null ? c : { ...c, bytes: opts.tunMetadataBytes(Number(tm[1])) };
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

/** Decoded field: canonical match fields (OXM fields of other shapes are folded into canonical ones by {@link matchField}). */
function decodeTlv(cls: number, field: number, value: bigint, mask: bigint | undefined, bytes: number): MatchField[] {
  // PACKET_TYPE (OF1.5): OVS sends it only for non-Ethernet packet types.
  if (cls === OXM_CLASS.OPENFLOW_BASIC && field === 44) {
    if (value === 0n) return [];
    throw new OpenFlowCodecError(`packet_type=0x${value.toString(16)}: unsupported`);
  }
  const info = fieldByCode(cls, field);
  if (info === undefined) throw new OpenFlowCodecError(`OXM class 0x${cls.toString(16)} field ${field} (${bytes} bytes): unknown field`);
  // NXM_OF_IN_PORT carries an OpenFlow 1.0 port: reserved ports are 0xff00 and up.
  if (info.name === 'in_port' && cls === OXM_CLASS.NXM0)
    return [{ field: 'in_port', value: value >= 0xff00n ? value | 0xffff0000n : value }];
  // OXM VLAN_VID is 13 bits (0x1000 = present); OVS's vlan_tci carries the same bits.
  // What the flow model refuses (a mask on a field that takes none, a value wider than the field) is malformed input here.
  try {
    if (info.name === 'vlan_vid') return matchField('vlan_tci', value & 0x1fffn, (mask ?? 0x1fffn) & 0x1fffn);
    return matchField(info.name, value, mask);
  } catch (e) {
    if (e instanceof FlowModelError) throw new OpenFlowCodecError(`OXM ${info.name} (${bytes} bytes): ${e.message}`);
    throw e;
  }
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
    if (len === 0 || (hasMask && len % 2 !== 0))
      throw new OpenFlowCodecError(`OXM class 0x${cls.toString(16)} field ${field}: bad length ${len}`);
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
