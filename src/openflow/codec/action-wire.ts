/**
 * The wire vocabulary of actions (OpenFlow 1.5 §7.2.5 and the Nicira
 * extensions, experimenter 0x00002320): action and subtype numbers, and the
 * small writers and readers every action's entry in the action table
 * (../action-table.ts) is built from.
 */
import type { WireForm } from '../action-entry.js';
import { type FieldRef, fieldBits, ones } from '../flow.js';
import { fieldByCode } from '../fields.js';
import { OpenFlowCodecError, Reader, Writer } from './bytes.js';
import { OXM_CLASS, type OxmCode, type OxmOptions, oxmCode, writeOxm } from './oxm.js';

export const NX_VENDOR_ID = 0x00002320;

/** OpenFlow 1.5 action types used here. */
export const OFPAT = {
  OUTPUT: 0,
  PUSH_VLAN: 17,
  POP_VLAN: 18,
  GROUP: 22,
  DEC_NW_TTL: 24,
  SET_FIELD: 25,
  COPY_FIELD: 28,
  METER: 29,
  EXPERIMENTER: 0xffff,
} as const;

/** Nicira action subtypes (NXAST_*). */
export const NXAST = {
  RESUBMIT: 1,
  SET_TUNNEL: 2,
  REG_MOVE: 6,
  NOTE: 8,
  SET_TUNNEL64: 9,
  RESUBMIT_TABLE: 14,
  OUTPUT_REG: 15,
  LEARN: 16,
  EXIT: 17,
  CONTROLLER: 20,
  DEC_TTL_CNT_IDS: 21,
  STACK_PUSH: 27,
  STACK_POP: 28,
  OUTPUT_REG2: 32,
  CONJUNCTION: 34,
  CT: 35,
  NAT: 36,
  CONTROLLER2: 37,
  CLONE: 42,
  CT_CLEAR: 43,
  RESUBMIT_TABLE_CT: 44,
  CHECK_PKT_LARGER: 49,
} as const;

const NXM_OF_IN_PORT: OxmCode = Object.freeze({ cls: OXM_CLASS.NXM0, field: 0, bytes: 2 });

/**
 * How a field named in an action (set_field, move, push, output_reg, learn…)
 * is written. OVS has two ingress port fields: `in_port`, the 16-bit
 * NXM_OF_IN_PORT (OpenFlow 1.0 port numbers), which it sends for
 * `set_field:…->in_port` and `NXM_OF_IN_PORT[]`, and `in_port_oxm`, the
 * 32-bit OXM_OF_IN_PORT. Matches carry in_port as the OXM field either way.
 */
export function refCode(field: string, opts: OxmOptions): OxmCode {
  if (field === 'in_port') return NXM_OF_IN_PORT;
  return oxmCode(field, opts);
}

/** The field name an action's wire code denotes (fields.ts; OXM in_port is `in_port_oxm` in actions). */
export function codeName(cls: number, field: number): string {
  if (cls === OXM_CLASS.OPENFLOW_BASIC && field === 0) return 'in_port_oxm';
  const info = fieldByCode(cls, field);
  if (info === undefined) throw new OpenFlowCodecError(`field class 0x${cls.toString(16)} code ${field}: unknown field`);
  return info.name;
}

/** 16-bit port for NXAST actions (OpenFlow 1.0 numbering of reserved ports). */
export function port16(p: number): number {
  if (p >= 0xffffff00) return p - 0xffff0000;
  if (p > 0xff00) throw new OpenFlowCodecError(`port ${p} does not fit a 16-bit port field`);
  return p;
}
export function port32(p: number): number {
  return p >= 0xff00 ? p + 0xffff0000 : p;
}

/** The `ofs_nbits` word of NXAST actions: offset in the upper ten bits, width minus one in the lower six. */
export function ofsNbits(ref: FieldRef): number {
  return (ref.ofs << 6) | (ref.nBits - 1);
}

/** Starts a Nicira action; {@link finish} pads it and fills in its length. */
export function nxStart(w: Writer, subtype: number): number {
  const start = w.length;
  w.u16(OFPAT.EXPERIMENTER).u16(0).u32(NX_VENDOR_ID).u16(subtype);
  return start;
}
export function finish(w: Writer, start: number): void {
  w.pad(8, start);
  w.setU16(start + 2, w.length - start);
}

/** A Nicira action with no arguments but its six bytes of padding (ct_clear, exit). */
export function writeNxEmpty(w: Writer, subtype: number): void {
  const s = nxStart(w, subtype);
  w.zeros(6);
  finish(w, s);
}

export function checkRef(ref: FieldRef): void {
  const bits = fieldBits(ref.field);
  if (ref.nBits < 1 || ref.ofs < 0 || ref.ofs + ref.nBits > bits)
    throw new OpenFlowCodecError(`${ref.field}[${ref.ofs}..${ref.ofs + ref.nBits - 1}]: bit range outside the ${bits}-bit field`);
}

/** OFPAT_SET_FIELD; a mask of all ones is left out. */
export function writeSetField(w: Writer, field: string, value: bigint, mask: bigint | undefined, opts: OxmOptions): void {
  const start = w.length;
  w.u16(OFPAT.SET_FIELD).u16(0);
  const code = refCode(field, opts);
  const full = ones(code.bytes * 8);
  writeOxm(w, code, value, mask === undefined || mask === full ? undefined : mask);
  finish(w, start);
}

/** Reads a 4-byte field header (as in move/output_reg) and returns the field name and width. */
export function readFieldHeader(r: Reader): { name: string; bits: number } {
  return fieldOfHeader(r.u32());
}

/** The field a 4-byte OXM/NXM header names. */
export function fieldOfHeader(hdr: number): { name: string; bits: number } {
  const cls = hdr >>> 16;
  if (cls === OXM_CLASS.EXPERIMENTER) throw new OpenFlowCodecError('experimenter field in action: unsupported');
  const name = codeName(cls, (hdr >>> 9) & 0x7f);
  return { name, bits: (hdr & 0xff) * 8 };
}

/** A field reference read from the wire: the field a header names, at `ofs`, `nBits` wide. */
export function readRef(r: Reader, ofs: number, nBits: number): FieldRef {
  return { field: readFieldHeader(r).name, ofs, nBits };
}

/**
 * The next action of a list: its OpenFlow type and a reader over the whole
 * action (header included, positioned at its start); `r` moves past it.
 */
export function takeAction(r: Reader): { type: number; body: Reader } {
  const start = r.pos;
  const type = r.u16();
  const len = r.u16();
  if (len < 8 || len % 8 !== 0) throw new OpenFlowCodecError(`action type ${type}: bad length ${len}`);
  r.pos = start;
  return { type, body: r.sub(len, `action type ${type}`) };
}

/** The wire form of Nicira action `subtype` (an OFPAT_EXPERIMENTER action), read by `read`. */
export function nxForm(subtype: number, read: WireForm['read']): WireForm {
  return { type: OFPAT.EXPERIMENTER, subtype, read };
}
