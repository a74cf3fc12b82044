/**
 * Action encoding: OpenFlow 1.5 actions (OpenFlow 1.5 §7.2.5) and the
 * Nicira extension actions OVN's pipeline uses (experimenter 0x00002320;
 * ovs-actions(7) names each one and its NXAST_* form).
 *
 * `load` and `set_tunnel` are written as OFPAT_SET_FIELD (masked when the
 * range is partial), the form OVS itself uses for OpenFlow 1.5, so a decoded
 * action list contains `set_field` where `load` was sent; compare through
 * {@link normalizeActions}.
 */
import {
  type Action,
  type FieldRef,
  type LearnAction,
  type LearnSpec,
  type NatSpec,
  type NatSpecBuilder,
  type CtActionBuilder,
  OFPP,
  PACKET_IN_REASON,
  type PacketInReason,
  fieldBits,
  ones,
} from '../flow.js';
import { OpenFlowCodecError, Reader, Writer } from './bytes.js';
import { OXM_CLASS, type OxmCode, type OxmOptions, oxmCode, oxmHeader, writeOxm } from './oxm.js';
import { fieldByCode } from '../fields.js';

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

/** NXAST_CONTROLLER2 property types. */
const NXAC2PT = { MAX_LEN: 0, CONTROLLER_ID: 1, REASON: 2, USERDATA: 3, PAUSE: 4, METER_ID: 5 } as const;

const NX_NAT_F = { SRC: 1, DST: 2, PERSISTENT: 4, PROTO_HASH: 8, PROTO_RANDOM: 16 } as const;
const NX_NAT_RANGE = { IPV4_MIN: 1, IPV4_MAX: 2, IPV6_MIN: 4, IPV6_MAX: 8, PROTO_MIN: 16, PROTO_MAX: 32 } as const;

/**
 * How a field named in an action (set_field, move, push, output_reg, learn…)
 * is written. OVS has two ingress port fields: `in_port`, the 16-bit
 * NXM_OF_IN_PORT (OpenFlow 1.0 port numbers), which it sends for
 * `set_field:…->in_port` and `NXM_OF_IN_PORT[]`, and `in_port_oxm`, the
 * 32-bit OXM_OF_IN_PORT. Matches carry in_port as the OXM field either way.
 */
function refCode(field: string, opts: OxmOptions): OxmCode {
  if (field === 'in_port') return { cls: OXM_CLASS.NXM0, field: 0, bytes: 2 };
  return oxmCode(field, opts);
}

/** The field name an action's wire code denotes (fields.ts; OXM in_port is `in_port_oxm` in actions). */
function codeName(cls: number, field: number): string {
  if (cls === OXM_CLASS.OPENFLOW_BASIC && field === 0) return 'in_port_oxm';
  const info = fieldByCode(cls, field);
  if (info === undefined) throw new OpenFlowCodecError(`field class 0x${cls.toString(16)} code ${field}: unknown field`);
  return info.name;
}

/** 16-bit port for NXAST actions (OpenFlow 1.0 numbering of reserved ports). */
function port16(p: number): number {
  if (p >= 0xffffff00) return p - 0xffff0000;
  if (p > 0xff00) throw new OpenFlowCodecError(`port ${p} does not fit a 16-bit port field`);
  return p;
}
function port32(p: number): number {
  return p >= 0xff00 ? p + 0xffff0000 : p;
}

function ofsNbits(ref: FieldRef): number {
  return (ref.ofs << 6) | (ref.nBits - 1);
}

function nxStart(w: Writer, subtype: number): number {
  const start = w.length;
  w.u16(OFPAT.EXPERIMENTER).u16(0).u32(NX_VENDOR_ID).u16(subtype);
  return start;
}
function finish(w: Writer, start: number): void {
  w.pad(8, start);
  w.setU16(start + 2, w.length - start);
}

function checkRef(ref: FieldRef): void {
  const bits = fieldBits(ref.field);
  if (ref.nBits < 1 || ref.ofs < 0 || ref.ofs + ref.nBits > bits)
    throw new OpenFlowCodecError(`${ref.field}[${ref.ofs}..${ref.ofs + ref.nBits - 1}]: bit range outside the ${bits}-bit field`);
}

function writeSetField(w: Writer, field: string, value: bigint, mask: bigint | undefined, opts: OxmOptions): void {
  const start = w.length;
  w.u16(OFPAT.SET_FIELD).u16(0);
  const code = refCode(field, opts);
  const full = ones(code.bytes * 8);
  writeOxm(w, code, value, mask === undefined || mask === full ? undefined : mask);
  finish(w, start);
}

/** Appends the encoding of `actions`. */
export function encodeActions(w: Writer, actions: readonly Action[], opts: OxmOptions = {}): void {
  for (const a of actions) encodeAction(w, a, opts);
}

function encodeAction(w: Writer, a: Action, opts: OxmOptions): void {
  switch (a.type) {
    case 'output':
      w.u16(OFPAT.OUTPUT)
        .u16(16)
        .u32(a.port)
        .u16(a.maxLen ?? (a.port === OFPP.CONTROLLER ? 0xffff : 0))
        .zeros(6);
      return;
    case 'output_reg': {
      checkRef(a.src);
      const s = nxStart(w, NXAST.OUTPUT_REG2);
      w.u16(ofsNbits(a.src)).u16(a.maxLen ?? 0);
      w.u32(oxmHeader(refCode(a.src.field, opts)));
      finish(w, s);
      return;
    }
    case 'controller': {
      const simple =
        a.id === undefined && a.reason === undefined && a.userdata === undefined && a.pause !== true && a.meterId === undefined;
      if (simple) {
        w.u16(OFPAT.OUTPUT)
          .u16(16)
          .u32(OFPP.CONTROLLER)
          .u16(a.maxLen ?? 0xffff)
          .zeros(6);
        return;
      }
      const s = nxStart(w, NXAST.CONTROLLER2);
      w.zeros(6);
      const prop = (type: number, body: (w: Writer) => void): void => {
        const ps = w.length;
        w.u16(type).u16(0);
        body(w);
        w.setU16(ps + 2, w.length - ps);
        w.pad(8, ps);
      };
      if (a.maxLen !== undefined && a.maxLen !== 0xffff) prop(NXAC2PT.MAX_LEN, (w) => w.u16(a.maxLen ?? 0));
      if (a.id !== undefined && a.id !== 0) prop(NXAC2PT.CONTROLLER_ID, (w) => w.u16(a.id ?? 0));
      if (a.reason !== undefined && a.reason !== 'action') prop(NXAC2PT.REASON, (w) => w.u8(PACKET_IN_REASON[a.reason ?? 'action']));
      if (a.userdata !== undefined && a.userdata.length > 0) prop(NXAC2PT.USERDATA, (w) => w.raw(a.userdata ?? new Uint8Array()));
      if (a.pause === true) prop(NXAC2PT.PAUSE, () => {});
      if (a.meterId !== undefined) prop(NXAC2PT.METER_ID, (w) => w.u32(a.meterId ?? 0));
      finish(w, s);
      return;
    }
    case 'resubmit': {
      const s = nxStart(w, a.ct === true ? NXAST.RESUBMIT_TABLE_CT : NXAST.RESUBMIT_TABLE);
      w.u16(port16(a.port ?? OFPP.IN_PORT))
        .u8(a.table ?? 0xff)
        .zeros(3);
      finish(w, s);
      return;
    }
    case 'set_field':
      // The model's in_port values are 32-bit port numbers (ANY = 0xffffffff); the wire field is 16 bits.
      writeSetField(w, a.field, a.field === 'in_port' ? BigInt(port16(Number(a.value))) : a.value, a.mask, opts);
      return;
    case 'load': {
      checkRef(a.dst);
      if (a.value > ones(a.dst.nBits))
        throw new OpenFlowCodecError(`load: value 0x${a.value.toString(16)} does not fit in ${a.dst.nBits} bits`);
      const bits = fieldBits(a.dst.field);
      const mask = ones(a.dst.nBits) << BigInt(a.dst.ofs);
      writeSetField(w, a.dst.field, a.value << BigInt(a.dst.ofs), mask === ones(bits) ? undefined : mask, opts);
      return;
    }
    case 'move': {
      checkRef(a.src);
      checkRef(a.dst);
      if (a.src.nBits !== a.dst.nBits) throw new OpenFlowCodecError('move: source and destination widths differ');
      // OpenFlow 1.5 has its own copy-field action; OVS refuses NXAST_REG_MOVE in 1.5.
      const s = w.length;
      w.u16(OFPAT.COPY_FIELD).u16(0).u16(a.src.nBits).u16(a.src.ofs).u16(a.dst.ofs).zeros(2);
      w.u32(oxmHeader(refCode(a.src.field, opts)));
      w.u32(oxmHeader(refCode(a.dst.field, opts)));
      finish(w, s);
      return;
    }
    case 'push_vlan':
      w.u16(OFPAT.PUSH_VLAN).u16(8).u16(a.ethertype).zeros(2);
      return;
    case 'pop_vlan':
      w.u16(OFPAT.POP_VLAN).u16(8).zeros(4);
      return;
    case 'set_tunnel':
      writeSetField(w, 'tun_id', a.tunId, undefined, opts);
      return;
    case 'conjunction': {
      if (a.nClauses < 2 || a.nClauses > 64 || a.clause < 1 || a.clause > a.nClauses)
        throw new OpenFlowCodecError(`conjunction(${a.id},${a.clause}/${a.nClauses}): clause out of range`);
      const s = nxStart(w, NXAST.CONJUNCTION);
      w.u8(a.clause - 1)
        .u8(a.nClauses)
        .u32(a.id);
      finish(w, s);
      return;
    }
    case 'ct': {
      const s = nxStart(w, NXAST.CT);
      w.u16((a.commit === true ? 1 : 0) | (a.force === true ? 2 : 0));
      if (typeof a.zone === 'object') {
        checkRef(a.zone);
        w.u32(oxmHeader(refCode(a.zone.field, opts))).u16(ofsNbits(a.zone));
      } else w.u32(0).u16(a.zone ?? 0);
      w.u8(a.table ?? 0xff)
        .zeros(3)
        .u16(a.alg ?? 0);
      if (a.nat !== undefined) encodeNat(w, a.nat);
      encodeActions(w, a.exec ?? [], opts);
      finish(w, s);
      return;
    }
    case 'ct_clear': {
      const s = nxStart(w, NXAST.CT_CLEAR);
      w.zeros(6);
      finish(w, s);
      return;
    }
    case 'dec_ttl': {
      if (a.ids === undefined) {
        w.u16(OFPAT.DEC_NW_TTL).u16(8).zeros(4);
        return;
      }
      const s = nxStart(w, NXAST.DEC_TTL_CNT_IDS);
      w.u16(a.ids.length).zeros(4);
      for (const id of a.ids) w.u16(id);
      finish(w, s);
      return;
    }
    case 'note': {
      const s = nxStart(w, NXAST.NOTE);
      w.raw(a.data);
      if (w.length - s < 16) w.zeros(16 - (w.length - s));
      finish(w, s);
      return;
    }
    case 'group':
      w.u16(OFPAT.GROUP).u16(8).u32(a.groupId);
      return;
    case 'meter':
      w.u16(OFPAT.METER).u16(8).u32(a.meterId);
      return;
    case 'push':
    case 'pop': {
      const ref = a.type === 'push' ? a.src : a.dst;
      checkRef(ref);
      const s = nxStart(w, a.type === 'push' ? NXAST.STACK_PUSH : NXAST.STACK_POP);
      w.u16(ref.ofs)
        .u32(oxmHeader(refCode(ref.field, opts)))
        .u16(ref.nBits);
      finish(w, s);
      return;
    }
    case 'check_pkt_larger': {
      checkRef(a.dst);
      if (a.dst.nBits !== 1) throw new OpenFlowCodecError('check_pkt_larger: the destination is one bit');
      const s = nxStart(w, NXAST.CHECK_PKT_LARGER);
      w.u16(a.pktLen)
        .u16(a.dst.ofs)
        .u32(oxmHeader(refCode(a.dst.field, opts)));
      finish(w, s);
      return;
    }
    case 'clone': {
      const s = nxStart(w, NXAST.CLONE);
      w.zeros(6);
      encodeActions(w, a.actions, opts);
      finish(w, s);
      return;
    }
    case 'exit': {
      const s = nxStart(w, NXAST.EXIT);
      w.zeros(6);
      finish(w, s);
      return;
    }
    case 'learn':
      encodeLearn(w, a, opts);
      return;
  }
}

/** NXAST_LEARN: the new flow's parameters, then flow_mod_specs, ended by a zero header and padding. */
function encodeLearn(w: Writer, a: LearnAction, opts: OxmOptions): void {
  const s = nxStart(w, NXAST.LEARN);
  w.u16(a.idleTimeout ?? 0)
    .u16(a.hardTimeout ?? 0)
    .u16(a.priority ?? 0x8000)
    .u64(a.cookie ?? 0n);
  w.u16(a.flags ?? 0)
    .u8(a.table)
    .zeros(1)
    .u16(a.finIdleTimeout ?? 0)
    .u16(a.finHardTimeout ?? 0);
  for (const sp of a.specs) {
    const imm = !('field' in sp.src);
    const nBits = sp.src.nBits;
    if (nBits < 1 || nBits > 1023) throw new OpenFlowCodecError(`learn: ${nBits}-bit spec`);
    if (sp.dst !== undefined && sp.dst.nBits !== nBits) throw new OpenFlowCodecError('learn: source and destination widths differ');
    const dstType = sp.kind === 'match' ? 0 : sp.kind === 'load' ? 1 : 2;
    w.u16(((imm ? 1 : 0) << 13) | (dstType << 11) | nBits);
    if ('field' in sp.src) {
      checkRef(sp.src);
      w.u32(oxmHeader(refCode(sp.src.field, opts))).u16(sp.src.ofs);
    } else {
      if (sp.src.value > ones(nBits))
        throw new OpenFlowCodecError(`learn: value 0x${sp.src.value.toString(16)} does not fit in ${nBits} bits`);
      w.uint(sp.src.value, Math.ceil(nBits / 16) * 2);
    }
    if (sp.kind !== 'output') {
      if (sp.dst === undefined) throw new OpenFlowCodecError(`learn: ${sp.kind} without a destination`);
      checkRef(sp.dst);
      w.u32(oxmHeader(refCode(sp.dst.field, opts))).u16(sp.dst.ofs);
    }
  }
  finish(w, s);
}

function decodeLearn(r: Reader): LearnAction {
  const idleTimeout = r.u16();
  const hardTimeout = r.u16();
  const priority = r.u16();
  const cookie = r.u64();
  const flags = r.u16();
  const table = r.u8();
  r.skip(1);
  const finIdleTimeout = r.u16();
  const finHardTimeout = r.u16();
  const specs: LearnSpec[] = [];
  while (r.left >= 2) {
    const h = r.u16();
    if (h === 0) break;
    const nBits = h & 0x3ff;
    const imm = (h >> 13) & 1;
    const dstType = (h >> 11) & 3;
    if (dstType === 3 || nBits === 0) throw new OpenFlowCodecError(`learn: bad spec header 0x${h.toString(16)}`);
    let src: LearnSpec['src'];
    if (imm === 0) {
      const f = readFieldHeader(r);
      src = refFrom(f.name, r.u16(), nBits);
    } else src = { value: r.uint(Math.ceil(nBits / 16) * 2), nBits };
    const kind = dstType === 0 ? 'match' : dstType === 1 ? 'load' : 'output';
    if (kind === 'output') specs.push({ kind, src });
    else {
      const f = readFieldHeader(r);
      specs.push({ kind, src, dst: refFrom(f.name, r.u16(), nBits) });
    }
  }
  return {
    type: 'learn',
    table,
    ...(priority !== 0x8000 ? { priority } : {}),
    ...(idleTimeout !== 0 ? { idleTimeout } : {}),
    ...(hardTimeout !== 0 ? { hardTimeout } : {}),
    ...(finIdleTimeout !== 0 ? { finIdleTimeout } : {}),
    ...(finHardTimeout !== 0 ? { finHardTimeout } : {}),
    ...(cookie !== 0n ? { cookie } : {}),
    ...(flags !== 0 ? { flags } : {}),
    specs,
  };
}

function encodeNat(w: Writer, n: NatSpec): void {
  const s = nxStart(w, NXAST.NAT);
  let flags = 0;
  if (n.kind === 'src') flags |= NX_NAT_F.SRC;
  if (n.kind === 'dst') flags |= NX_NAT_F.DST;
  if (n.persistent === true) flags |= NX_NAT_F.PERSISTENT;
  if (n.hash === true) flags |= NX_NAT_F.PROTO_HASH;
  if (n.random === true) flags |= NX_NAT_F.PROTO_RANDOM;
  let present = 0;
  const v6 = n.ipv6 === true;
  if (n.ipMin !== undefined) present |= v6 ? NX_NAT_RANGE.IPV6_MIN : NX_NAT_RANGE.IPV4_MIN;
  if (n.ipMax !== undefined) present |= v6 ? NX_NAT_RANGE.IPV6_MAX : NX_NAT_RANGE.IPV4_MAX;
  if (n.portMin !== undefined) present |= NX_NAT_RANGE.PROTO_MIN;
  if (n.portMax !== undefined) present |= NX_NAT_RANGE.PROTO_MAX;
  w.zeros(2).u16(flags).u16(present);
  const ipBytes = v6 ? 16 : 4;
  if (n.ipMin !== undefined) w.uint(n.ipMin, ipBytes);
  if (n.ipMax !== undefined) w.uint(n.ipMax, ipBytes);
  if (n.portMin !== undefined) w.u16(n.portMin);
  if (n.portMax !== undefined) w.u16(n.portMax);
  finish(w, s);
}

/** Reads a 4-byte field header (as in move/output_reg) and returns the field name and width. */
function readFieldHeader(r: Reader): { name: string; bits: number } {
  const hdr = r.u32();
  const cls = hdr >>> 16;
  if (cls === OXM_CLASS.EXPERIMENTER) throw new OpenFlowCodecError('experimenter field in action: unsupported');
  const name = codeName(cls, (hdr >>> 9) & 0x7f);
  return { name, bits: (hdr & 0xff) * 8 };
}

function refFrom(name: string, ofs: number, nBits: number): FieldRef {
  return { field: name, ofs, nBits };
}

/** Decodes every action in `r` (to its end). */
export function decodeActions(r: Reader): Action[] {
  const out: Action[] = [];
  while (r.left > 0) {
    const start = r.pos;
    const type = r.u16();
    const len = r.u16();
    if (len < 8 || len % 8 !== 0) throw new OpenFlowCodecError(`action type ${type}: bad length ${len}`);
    r.pos = start;
    const ar = r.sub(len, `action type ${type}`);
    ar.skip(4);
    out.push(...decodeAction(type, ar, out));
  }
  return out;
}

function decodeAction(type: number, r: Reader, prev: Action[]): Action[] {
  switch (type) {
    case OFPAT.OUTPUT: {
      const port = r.u32();
      const maxLen = r.u16();
      if (port === OFPP.CONTROLLER) return [maxLen === 0xffff ? { type: 'controller' } : { type: 'controller', maxLen }];
      return [{ type: 'output', port }];
    }
    case OFPAT.PUSH_VLAN:
      return [{ type: 'push_vlan', ethertype: r.u16() }];
    case OFPAT.POP_VLAN:
      return [{ type: 'pop_vlan' }];
    case OFPAT.GROUP:
      return [{ type: 'group', groupId: r.u32() }];
    case OFPAT.METER:
      return [{ type: 'meter', meterId: r.u32() }];
    case OFPAT.DEC_NW_TTL:
      return [{ type: 'dec_ttl' }];
    case OFPAT.SET_FIELD: {
      const hdr = r.u32();
      const cls = hdr >>> 16;
      const field = (hdr >>> 9) & 0x7f;
      const hasMask = (hdr & 0x100) !== 0;
      const len = hdr & 0xff;
      const bytes = hasMask ? len / 2 : len;
      const name = codeName(cls, field);
      const raw = r.uint(bytes);
      const value = name === 'in_port' ? BigInt(port32(Number(raw))) : raw;
      const mask = hasMask ? r.uint(bytes) : undefined;
      return [foldWide(mask === undefined ? { type: 'set_field', field: name, value } : { type: 'set_field', field: name, value, mask })];
    }
    case OFPAT.COPY_FIELD: {
      const nBits = r.u16();
      const srcOfs = r.u16();
      const dstOfs = r.u16();
      r.skip(2);
      const src = readFieldHeader(r);
      const dst = readFieldHeader(r);
      return [{ type: 'move', src: refFrom(src.name, srcOfs, nBits), dst: refFrom(dst.name, dstOfs, nBits) }];
    }
    case OFPAT.EXPERIMENTER:
      return decodeNx(r, prev);
    default:
      throw new OpenFlowCodecError(`action type ${type}: unsupported`);
  }
}

function decodeNx(r: Reader, prev: Action[]): Action[] {
  const vendor = r.u32();
  if (vendor !== NX_VENDOR_ID) throw new OpenFlowCodecError(`experimenter action 0x${vendor.toString(16)}: unsupported`);
  const sub = r.u16();
  switch (sub) {
    case NXAST.RESUBMIT:
    case NXAST.RESUBMIT_TABLE:
    case NXAST.RESUBMIT_TABLE_CT: {
      const port = port32(r.u16());
      const table = sub === NXAST.RESUBMIT ? 0xff : r.u8();
      const a: { type: 'resubmit'; port?: number; table?: number; ct?: boolean } = { type: 'resubmit' };
      if (port !== OFPP.IN_PORT) a.port = port;
      if (table !== 0xff) a.table = table;
      if (sub === NXAST.RESUBMIT_TABLE_CT) a.ct = true;
      return [a];
    }
    case NXAST.SET_TUNNEL:
      r.skip(2);
      return [{ type: 'set_field', field: 'tun_id', value: BigInt(r.u32()) }];
    case NXAST.SET_TUNNEL64:
      r.skip(6);
      return [{ type: 'set_field', field: 'tun_id', value: r.u64() }];
    case NXAST.REG_MOVE: {
      const nBits = r.u16();
      const srcOfs = r.u16();
      const dstOfs = r.u16();
      const src = readFieldHeader(r);
      const dst = readFieldHeader(r);
      return [{ type: 'move', src: refFrom(src.name, srcOfs, nBits), dst: refFrom(dst.name, dstOfs, nBits) }];
    }
    case NXAST.NOTE:
      return [{ type: 'note', data: r.bytes(r.left) }];
    case NXAST.OUTPUT_REG: {
      const on = r.u16();
      const src = readFieldHeader(r);
      const maxLen = r.u16();
      const a = { type: 'output_reg' as const, src: refFrom(src.name, on >> 6, (on & 0x3f) + 1) };
      return [maxLen === 0 ? a : { ...a, maxLen }];
    }
    case NXAST.OUTPUT_REG2: {
      const on = r.u16();
      const maxLen = r.u16();
      const src = readFieldHeader(r);
      const a = { type: 'output_reg' as const, src: refFrom(src.name, on >> 6, (on & 0x3f) + 1) };
      return [maxLen === 0 ? a : { ...a, maxLen }];
    }
    case NXAST.EXIT:
      return [{ type: 'exit' }];
    case NXAST.LEARN:
      return [decodeLearn(r)];
    case NXAST.CONTROLLER: {
      const maxLen = r.u16();
      const id = r.u16();
      const reason = reasonName(r.u8());
      return [controllerAction(maxLen, id, reason, undefined, false, undefined)];
    }
    case NXAST.CONTROLLER2: {
      r.skip(6);
      let maxLen = 0xffff;
      let id = 0;
      let reason: PacketInReason = 'action';
      let userdata: Uint8Array | undefined;
      let pause = false;
      let meterId: number | undefined;
      while (r.left > 0) {
        const ps = r.pos;
        const pt = r.u16();
        const pl = r.u16();
        if (pl < 4) throw new OpenFlowCodecError(`controller property ${pt}: bad length ${pl}`);
        const pr = r.sub(pl - 4, `controller property ${pt}`);
        if (pt === NXAC2PT.MAX_LEN) maxLen = pr.u16();
        else if (pt === NXAC2PT.CONTROLLER_ID) id = pr.u16();
        else if (pt === NXAC2PT.REASON) reason = reasonName(pr.u8());
        else if (pt === NXAC2PT.USERDATA) userdata = pr.bytes(pr.left);
        else if (pt === NXAC2PT.PAUSE) pause = true;
        else if (pt === NXAC2PT.METER_ID) meterId = pr.u32();
        else throw new OpenFlowCodecError(`controller property ${pt}: unknown`);
        const pad = (8 - ((r.pos - ps) % 8)) % 8;
        r.skip(Math.min(pad, r.left));
      }
      return [controllerAction(maxLen, id, reason, userdata, pause, meterId)];
    }
    case NXAST.DEC_TTL_CNT_IDS: {
      const n = r.u16();
      r.skip(4);
      const ids: number[] = [];
      for (let i = 0; i < n; i++) ids.push(r.u16());
      return [{ type: 'dec_ttl', ids }];
    }
    case NXAST.STACK_PUSH:
    case NXAST.STACK_POP: {
      const ofs = r.u16();
      const f = readFieldHeader(r);
      const nBits = r.u16();
      const ref = refFrom(f.name, ofs, nBits);
      return [sub === NXAST.STACK_PUSH ? { type: 'push', src: ref } : { type: 'pop', dst: ref }];
    }
    case NXAST.CONJUNCTION: {
      const clause = r.u8() + 1;
      const nClauses = r.u8();
      const id = r.u32();
      return [{ type: 'conjunction', id, clause, nClauses }];
    }
    case NXAST.CT: {
      const flags = r.u16();
      const zoneSrc = r.u32();
      const zoneVal = r.u16();
      const table = r.u8();
      r.skip(3);
      const alg = r.u16();
      const nested = decodeActionsWithNat(r);
      const a: CtActionBuilder = { type: 'ct' };
      if ((flags & 1) !== 0) a.commit = true;
      if ((flags & 2) !== 0) a.force = true;
      if (zoneSrc !== 0) {
        const zr = new Reader(new Uint8Array([zoneSrc >>> 24, (zoneSrc >>> 16) & 0xff, (zoneSrc >>> 8) & 0xff, zoneSrc & 0xff]));
        const f = readFieldHeader(zr);
        a.zone = refFrom(f.name, zoneVal >> 6, (zoneVal & 0x3f) + 1);
      } else if (zoneVal !== 0) a.zone = zoneVal;
      if (table !== 0xff) a.table = table;
      if (alg !== 0) a.alg = alg;
      if (nested.nat !== undefined) a.nat = nested.nat;
      if (nested.actions.length > 0) a.exec = nested.actions;
      return [a];
    }
    case NXAST.NAT:
      throw new OpenFlowCodecError('nat outside ct');
    case NXAST.CT_CLEAR:
      return [{ type: 'ct_clear' }];
    case NXAST.CLONE:
      r.skip(6);
      return [{ type: 'clone', actions: decodeActions(r) }];
    case NXAST.CHECK_PKT_LARGER: {
      const pktLen = r.u16();
      const ofs = r.u16();
      const f = readFieldHeader(r);
      return [{ type: 'check_pkt_larger', pktLen, dst: refFrom(f.name, ofs, 1) }];
    }
    default:
      void prev;
      throw new OpenFlowCodecError(`Nicira action subtype ${sub}: unsupported`);
  }
}

function reasonName(n: number): PacketInReason {
  for (const [k, v] of Object.entries(PACKET_IN_REASON)) if (v === n) return k as PacketInReason;
  throw new OpenFlowCodecError(`packet-in reason ${n}: unknown`);
}

function controllerAction(
  maxLen: number,
  id: number,
  reason: PacketInReason,
  userdata: Uint8Array | undefined,
  pause: boolean,
  meterId: number | undefined,
): Action {
  const a: {
    type: 'controller';
    maxLen?: number;
    id?: number;
    reason?: PacketInReason;
    userdata?: Uint8Array;
    pause?: boolean;
    meterId?: number;
  } = { type: 'controller' };
  if (maxLen !== 0xffff) a.maxLen = maxLen;
  if (id !== 0) a.id = id;
  if (reason !== 'action') a.reason = reason;
  if (userdata !== undefined && userdata.length > 0) a.userdata = userdata;
  if (pause) a.pause = true;
  if (meterId !== undefined) a.meterId = meterId;
  return a;
}

/** Nested ct actions: a NAT action becomes `nat`, the rest `exec`. */
function decodeActionsWithNat(r: Reader): { nat?: NatSpec; actions: Action[] } {
  const actions: Action[] = [];
  let nat: NatSpec | undefined;
  while (r.left > 0) {
    const start = r.pos;
    const type = r.u16();
    const len = r.u16();
    if (len < 8 || len % 8 !== 0) throw new OpenFlowCodecError(`action type ${type}: bad length ${len}`);
    r.pos = start;
    const ar = r.sub(len, `action type ${type}`);
    if (type === OFPAT.EXPERIMENTER && len >= 16) {
      const sub = new DataView(ar.buf.buffer, ar.buf.byteOffset + start + 8, 2).getUint16(0);
      if (sub === NXAST.NAT) {
        ar.skip(10);
        nat = decodeNat(ar);
        continue;
      }
    }
    ar.skip(4);
    actions.push(...decodeAction(type, ar, actions));
  }
  return nat === undefined ? { actions } : { nat, actions };
}

function decodeNat(r: Reader): NatSpec {
  r.skip(2);
  const flags = r.u16();
  const present = r.u16();
  const n: NatSpecBuilder = {};
  if ((flags & NX_NAT_F.SRC) !== 0) n.kind = 'src';
  if ((flags & NX_NAT_F.DST) !== 0) n.kind = 'dst';
  if ((flags & NX_NAT_F.PERSISTENT) !== 0) n.persistent = true;
  if ((flags & NX_NAT_F.PROTO_HASH) !== 0) n.hash = true;
  if ((flags & NX_NAT_F.PROTO_RANDOM) !== 0) n.random = true;
  if ((present & NX_NAT_RANGE.IPV4_MIN) !== 0) n.ipMin = r.uint(4);
  if ((present & NX_NAT_RANGE.IPV4_MAX) !== 0) n.ipMax = r.uint(4);
  if ((present & NX_NAT_RANGE.IPV6_MIN) !== 0) {
    n.ipMin = r.uint(16);
    n.ipv6 = true;
  }
  if ((present & NX_NAT_RANGE.IPV6_MAX) !== 0) {
    n.ipMax = r.uint(16);
    n.ipv6 = true;
  }
  if ((present & NX_NAT_RANGE.PROTO_MIN) !== 0) n.portMin = r.u16();
  if ((present & NX_NAT_RANGE.PROTO_MAX) !== 0) n.portMax = r.u16();
  return n;
}

/**
 * The form in which OVS reports `actions` back: `load` and `set_tunnel` as
 * `set_field`, register halves of xreg/xxreg set_fields as single registers,
 * note data padded as on the wire. Two action lists mean the same when
 * their normalized forms are deep-equal.
 */
export function normalizeActions(actions: readonly Action[], opts: OxmOptions = {}): Action[] {
  const w = new Writer();
  encodeActions(w, actions, opts);
  const b = w.bytes();
  return decodeActions(new Reader(b, 0, b.length, 'actions'));
}

/** set_field on an xreg/xxreg touching one 32-bit register → set_field on that register. */
export function foldWide(a: Action): Action {
  if (a.type === 'ct' && a.exec !== undefined) return { ...a, exec: a.exec.map(foldWide) };
  if (a.type === 'clone') return { ...a, actions: a.actions.map(foldWide) };
  if (a.type !== 'set_field') return a;
  const m = /^(x?x)reg(\d)$/.exec(a.field);
  if (m === null) return a;
  const n = m[1] === 'x' ? 2 : 4;
  const first = Number(m[2]) * n;
  const mask = a.mask ?? ones(32 * n);
  for (let i = 0; i < n; i++) {
    const shift = BigInt(32 * (n - 1 - i));
    const part = (mask >> shift) & 0xffffffffn;
    if ((mask & ~(0xffffffffn << shift)) === 0n && mask >> (shift + 32n) === 0n && part !== 0n) {
      const v = (a.value >> shift) & 0xffffffffn;
      return part === 0xffffffffn
        ? { type: 'set_field', field: `reg${first + i}`, value: v }
        : { type: 'set_field', field: `reg${first + i}`, value: v & part, mask: part };
    }
  }
  return a;
}
