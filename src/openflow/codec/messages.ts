/**
 * OpenFlow 1.5 messages (OpenFlow 1.5.1 §7) and the Nicira extension
 * messages OVN uses (NXT_*, experimenter 0x00002320), as pure encoders and
 * one decoder. Framing (`frameLength`) is separate from decoding: it says
 * how many bytes a complete message needs, or that more must arrive.
 */
import {
  type Action,
  type Bucket,
  type Flow,
  type FlowMod,
  type GroupMod,
  type MeterMod,
  OFPGT,
  type FlowStats,
  type Match,
  OFPFC,
  OFPP,
  OFPTT_ALL,
  PACKET_IN_REASON,
  type PacketInReason,
} from '../flow.js';
import { OpenFlowCodecError, Reader, takeProperty, Writer, writeProperty } from './bytes.js';
import { decodeActions, encodeActions } from './actions.js';
import { NX_VENDOR_ID } from './action-wire.js';
import { decodeMatch, decodeOxmFields, encodeMatch, encodeOxmFields, type OxmOptions } from './oxm.js';
import { errorName } from './errors.js';

export const OFP_VERSION = 0x06;
export const OFP_HEADER_LEN = 8;
/** Largest message this codec accepts (the 16-bit length field's limit). */
export const OFP_MAX_LEN = 0xffff;

export const OFPT = {
  HELLO: 0,
  ERROR: 1,
  ECHO_REQUEST: 2,
  ECHO_REPLY: 3,
  EXPERIMENTER: 4,
  FEATURES_REQUEST: 5,
  FEATURES_REPLY: 6,
  GET_CONFIG_REQUEST: 7,
  GET_CONFIG_REPLY: 8,
  SET_CONFIG: 9,
  PACKET_IN: 10,
  FLOW_REMOVED: 11,
  PORT_STATUS: 12,
  PACKET_OUT: 13,
  FLOW_MOD: 14,
  GROUP_MOD: 15,
  METER_MOD: 29,
  MULTIPART_REQUEST: 18,
  MULTIPART_REPLY: 19,
  BARRIER_REQUEST: 20,
  BARRIER_REPLY: 21,
  ROLE_REQUEST: 24,
  ROLE_REPLY: 25,
  BUNDLE_CONTROL: 33,
  BUNDLE_ADD_MESSAGE: 34,
} as const;

/** Multipart types (OFPMP_*). */
export const OFPMP = { DESC: 0, FLOW_DESC: 1, GROUP_DESC: 7, PORT_DESC: 13 } as const;

/** Nicira message subtypes (NXT_*). */
export const NXT = {
  SET_PACKET_IN_FORMAT: 16,
  TLV_TABLE_MOD: 24,
  TLV_TABLE_REQUEST: 25,
  TLV_TABLE_REPLY: 26,
  RESUME: 28,
  PACKET_IN2: 30,
} as const;

/** Bundle control types (OpenFlow 1.5 §7.3.9). */
export const OFPBCT = {
  OPEN_REQUEST: 0,
  OPEN_REPLY: 1,
  CLOSE_REQUEST: 2,
  CLOSE_REPLY: 3,
  COMMIT_REQUEST: 4,
  COMMIT_REPLY: 5,
  DISCARD_REQUEST: 6,
  DISCARD_REPLY: 7,
} as const;
export const OFPBF = { ATOMIC: 1, ORDERED: 2 } as const;

/** The 8-byte header. */
export interface OfpHeader {
  readonly version: number;
  readonly type: number;
  readonly length: number;
  readonly xid: number;
}

/**
 * Framing: the length of the complete message at the start of `buf`, or
 * `undefined` when fewer than 8 bytes are there ("need more"). Throws on a
 * length below the header size, before anything is allocated.
 */
export function frameLength(buf: Uint8Array, offset = 0): number | undefined {
  if (buf.length - offset < OFP_HEADER_LEN) return undefined;
  const len = ((buf[offset + 2] ?? 0) << 8) | (buf[offset + 3] ?? 0);
  if (len < OFP_HEADER_LEN) throw new OpenFlowCodecError(`message length ${len} is shorter than the 8-byte header`);
  return len;
}

/**
 * Splits `buf` into the complete messages at its start and the incomplete
 * rest (to be prefixed to the next bytes that arrive).
 */
export function takeFrames(buf: Uint8Array): { frames: Uint8Array[]; rest: Uint8Array } {
  const frames: Uint8Array[] = [];
  let off = 0;
  for (;;) {
    const len = frameLength(buf, off);
    if (len === undefined || buf.length - off < len) break;
    frames.push(buf.subarray(off, off + len));
    off += len;
  }
  return { frames, rest: buf.subarray(off) };
}

/** Reads the header of a complete message. */
export function decodeHeader(buf: Uint8Array, offset = 0): OfpHeader {
  const r = new Reader(buf, offset, buf.length, 'header');
  return { version: r.u8(), type: r.u8(), length: r.u16(), xid: r.u32() };
}

function start(type: number, xid: number): Writer {
  return new Writer().u8(OFP_VERSION).u8(type).u16(0).u32(xid);
}
function done(w: Writer): Uint8Array {
  if (w.length > OFP_MAX_LEN) throw new OpenFlowCodecError(`message of ${w.length} bytes exceeds the 65535-byte limit`);
  w.setU16(2, w.length);
  return w.bytes();
}
function nxStart(subtype: number, xid: number): Writer {
  return start(OFPT.EXPERIMENTER, xid).u32(NX_VENDOR_ID).u32(subtype);
}

/** HELLO with a version bitmap element announcing `versions` (default: 1.5 only). */
export function encodeHello(xid: number, versions: readonly number[] = [OFP_VERSION]): Uint8Array {
  const w = start(OFPT.HELLO, xid);
  let bitmap = 0;
  for (const v of versions) bitmap |= 1 << v;
  w.u16(1)
    .u16(8)
    .u32(bitmap >>> 0);
  return done(w);
}

export function encodeEchoRequest(xid: number, data: Uint8Array = new Uint8Array()): Uint8Array {
  return done(start(OFPT.ECHO_REQUEST, xid).raw(data));
}
export function encodeEchoReply(xid: number, data: Uint8Array = new Uint8Array()): Uint8Array {
  return done(start(OFPT.ECHO_REPLY, xid).raw(data));
}
export function encodeFeaturesRequest(xid: number): Uint8Array {
  return done(start(OFPT.FEATURES_REQUEST, xid));
}
export function encodeGetConfigRequest(xid: number): Uint8Array {
  return done(start(OFPT.GET_CONFIG_REQUEST, xid));
}
/** SET_CONFIG: flags (OFPC_FRAG_*), miss_send_len. */
export function encodeSetConfig(xid: number, flags = 0, missSendLen = 0xffff): Uint8Array {
  return done(start(OFPT.SET_CONFIG, xid).u16(flags).u16(missSendLen));
}
export function encodeBarrierRequest(xid: number): Uint8Array {
  return done(start(OFPT.BARRIER_REQUEST, xid));
}
/** An error message (for tests and for answering a peer). */
export function encodeError(xid: number, type: number, code: number, data: Uint8Array = new Uint8Array()): Uint8Array {
  return done(start(OFPT.ERROR, xid).u16(type).u16(code).raw(data));
}

/** ROLE_REQUEST (OpenFlow 1.5 §7.3.8): role 0 nochange, 1 equal, 2 master, 3 slave. */
export function encodeRoleRequest(xid: number, role: number, generationId = 0n): Uint8Array {
  return done(start(OFPT.ROLE_REQUEST, xid).u32(role).zeros(4).u64(generationId));
}

/** FLOW_MOD (OpenFlow 1.5 §7.3.4.1) with an apply-actions instruction. */
export function encodeFlowMod(xid: number, mod: FlowMod, opts: OxmOptions = {}): Uint8Array {
  const w = start(OFPT.FLOW_MOD, xid);
  writeFlowModBody(w, mod, opts);
  return done(w);
}

function writeFlowModBody(w: Writer, mod: FlowMod, opts: OxmOptions): void {
  const f = mod.flow;
  const del = mod.command === 'DELETE' || mod.command === 'DELETE_STRICT';
  w.u64(f.cookie).u64(mod.cookieMask ?? 0n);
  w.u8(del && f.table === OFPTT_ALL ? OFPTT_ALL : f.table).u8(OFPFC[mod.command]);
  w.u16(f.idleTimeout ?? 0)
    .u16(f.hardTimeout ?? 0)
    .u16(f.priority);
  w.u32(0xffffffff); // buffer_id: none
  w.u32(mod.outPort ?? OFPP.ANY).u32(mod.outGroup ?? 0xffffffff);
  w.u16(f.flags ?? 0).u16(f.importance ?? 0);
  encodeMatch(w, f.match, opts);
  if (!del) writeApplyActions(w, f.actions, opts);
}

/** OFPIT_APPLY_ACTIONS instruction, omitted for an empty list (drop). */
function writeApplyActions(w: Writer, actions: readonly Action[], opts: OxmOptions): void {
  if (actions.length === 0) return;
  const s = w.length;
  w.u16(4).u16(0).zeros(4);
  encodeActions(w, actions, opts);
  w.setU16(s + 2, w.length - s);
}

const OFPGC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;

/** GROUP_MOD (OpenFlow 1.5 §7.3.4.2): buckets with weight / watch_port properties. */
export function encodeGroupMod(xid: number, mod: GroupMod, opts: OxmOptions = {}): Uint8Array {
  const w = start(OFPT.GROUP_MOD, xid);
  w.u16(OFPGC[mod.command]).u8(OFPGT[mod.type]).zeros(1).u32(mod.groupId);
  const lenAt = w.length;
  w.u16(0).zeros(2).u32(0xffffffff); // bucket_array_len, pad, command_bucket_id = OFPG_BUCKET_ALL
  const b0 = w.length;
  if (mod.command !== 'DELETE') {
    mod.buckets.forEach((b, i) => {
      const s = w.length;
      w.u16(0)
        .u16(0)
        .u32(b.bucketId ?? i);
      const a0 = w.length;
      encodeActions(w, b.actions, opts);
      w.setU16(s + 2, w.length - a0);
      if (b.weight !== undefined) w.u16(0).u16(8).u16(b.weight).zeros(2);
      if (b.watchPort !== undefined) w.u16(1).u16(8).u32(b.watchPort);
      w.setU16(s, w.length - s);
    });
  }
  w.setU16(lenAt, w.length - b0);
  return done(w);
}

const OFPMC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;

/** METER_MOD (OpenFlow 1.5 §7.3.4.4) with OFPMBT_DROP bands. */
export function encodeMeterMod(xid: number, mod: MeterMod): Uint8Array {
  const w = start(OFPT.METER_MOD, xid).u16(OFPMC[mod.command]).u16(mod.flags).u32(mod.meterId);
  if (mod.command !== 'DELETE')
    for (const b of mod.bands)
      w.u16(1)
        .u16(16)
        .u32(b.rate)
        .u32(b.burstSize ?? 0)
        .zeros(4);
  return done(w);
}

/** Flow stats (OFPMP_FLOW_DESC) request for every flow in `table` (default all). */
export function encodeFlowStatsRequest(xid: number, table = OFPTT_ALL, match: Match = [], opts: OxmOptions = {}): Uint8Array {
  const w = start(OFPT.MULTIPART_REQUEST, xid).u16(OFPMP.FLOW_DESC).u16(0).zeros(4);
  w.u8(table).zeros(3).u32(OFPP.ANY).u32(0xffffffff).zeros(4).u64(0n).u64(0n);
  encodeMatch(w, match, opts);
  return done(w);
}

/** Group description (OFPMP_GROUP_DESC) request for every group. */
export function encodeGroupDescRequest(xid: number): Uint8Array {
  return done(start(OFPT.MULTIPART_REQUEST, xid).u16(OFPMP.GROUP_DESC).u16(0).zeros(4).u32(0xfffffffc).zeros(4));
}

export function encodePortDescRequest(xid: number): Uint8Array {
  return done(start(OFPT.MULTIPART_REQUEST, xid).u16(OFPMP.PORT_DESC).u16(0).zeros(4).u32(OFPP.ANY).zeros(4));
}

/** PACKET_OUT (OpenFlow 1.5 §7.3.6): the packet's metadata as a match (in_port at least), actions, data. */
export function encodePacketOut(
  xid: number,
  packet: Uint8Array,
  actions: readonly Action[],
  inPort: number = OFPP.CONTROLLER,
  opts: OxmOptions = {},
): Uint8Array {
  const w = start(OFPT.PACKET_OUT, xid).u32(0xffffffff);
  const lenAt = w.length;
  w.u16(0).zeros(2);
  encodeMatch(w, [{ field: 'in_port', value: BigInt(inPort) }], opts);
  const a0 = w.length;
  encodeActions(w, actions, opts);
  w.setU16(lenAt, w.length - a0);
  w.raw(packet);
  return done(w);
}

/** NXT_SET_PACKET_IN_FORMAT: 0 standard, 1 NXM, 2 NXT_PACKET_IN2. */
export function encodeSetPacketInFormat(xid: number, format = 2): Uint8Array {
  return done(nxStart(NXT.SET_PACKET_IN_FORMAT, xid).u32(format));
}

/** One Geneve option ↔ tun_metadata mapping (NXT_TLV_TABLE_MOD; ovs-ofctl(8) add-tlv-map). */
export interface TlvMap {
  readonly optClass: number;
  readonly optType: number;
  readonly optLen: number;
  /** N of tun_metadataN. */
  readonly index: number;
}
export const NXTTMC = { ADD: 0, DELETE: 1, CLEAR: 2 } as const;

export function encodeTlvTableMod(xid: number, command: keyof typeof NXTTMC, maps: readonly TlvMap[]): Uint8Array {
  const w = nxStart(NXT.TLV_TABLE_MOD, xid).u16(NXTTMC[command]).zeros(6);
  for (const m of maps) w.u16(m.optClass).u8(m.optType).u8(m.optLen).u16(m.index).zeros(2);
  return done(w);
}
export function encodeTlvTableRequest(xid: number): Uint8Array {
  return done(nxStart(NXT.TLV_TABLE_REQUEST, xid));
}

/** BUNDLE_CONTROL (OpenFlow 1.5 §7.3.9.1). */
export function encodeBundleControl(xid: number, bundleId: number, type: keyof typeof OFPBCT, flags = 0): Uint8Array {
  return done(start(OFPT.BUNDLE_CONTROL, xid).u32(bundleId).u16(OFPBCT[type]).u16(flags));
}

/** BUNDLE_ADD_MESSAGE carrying one complete message (its xid must equal this one's). */
export function encodeBundleAdd(xid: number, bundleId: number, message: Uint8Array, flags = 0): Uint8Array {
  return done(start(OFPT.BUNDLE_ADD_MESSAGE, xid).u32(bundleId).zeros(2).u16(flags).raw(message));
}

/** NXT_PACKET_IN2 property types (NXPINT_*). */
const NXPINT = {
  PACKET: 0,
  FULL_LEN: 1,
  BUFFER_ID: 2,
  TABLE_ID: 3,
  COOKIE: 4,
  REASON: 5,
  METADATA: 6,
  USERDATA: 7,
  CONTINUATION: 8,
} as const;

/** A packet-in2 as OVS sends it (ovs-actions(7) "controller"; pause → continuation). */
export interface PacketIn2 {
  readonly packet: Uint8Array;
  readonly fullLen?: number;
  readonly bufferId?: number;
  readonly tableId?: number;
  readonly cookie?: bigint;
  readonly reason?: PacketInReason;
  /** The packet's metadata (in_port, registers, metadata...) as a match. */
  readonly metadata: Match;
  readonly userdata?: Uint8Array;
  /** Opaque; present when the controller action paused the pipeline. Send it back in NXT_RESUME. */
  readonly continuation?: Uint8Array;
}

function writePacketIn2Props(w: Writer, p: PacketIn2, opts: OxmOptions): void {
  writeProperty(w, NXPINT.PACKET, (w) => w.raw(p.packet));
  if (p.fullLen !== undefined) writeProperty(w, NXPINT.FULL_LEN, (w) => w.u32(p.fullLen ?? 0));
  if (p.bufferId !== undefined) writeProperty(w, NXPINT.BUFFER_ID, (w) => w.u32(p.bufferId ?? 0));
  if (p.tableId !== undefined) writeProperty(w, NXPINT.TABLE_ID, (w) => w.u8(p.tableId ?? 0));
  if (p.cookie !== undefined) writeProperty(w, NXPINT.COOKIE, (w) => w.zeros(4).u64(p.cookie ?? 0n));
  if (p.reason !== undefined) writeProperty(w, NXPINT.REASON, (w) => w.u8(PACKET_IN_REASON[p.reason ?? 'action']));
  writeProperty(w, NXPINT.METADATA, (w) => encodeOxmFields(w, p.metadata, opts));
  if (p.userdata !== undefined) writeProperty(w, NXPINT.USERDATA, (w) => w.raw(p.userdata ?? new Uint8Array()));
  if (p.continuation !== undefined) writeProperty(w, NXPINT.CONTINUATION, (w) => w.raw(p.continuation ?? new Uint8Array()));
}

/** NXT_PACKET_IN2 (a switch sends these; encoding is for tests and tools). */
export function encodePacketIn2(xid: number, p: PacketIn2, opts: OxmOptions = {}): Uint8Array {
  const w = nxStart(NXT.PACKET_IN2, xid);
  writePacketIn2Props(w, p, opts);
  return done(w);
}

/**
 * NXT_RESUME: continues a paused pipeline. Carries the (possibly modified)
 * packet, the metadata and the continuation from the packet-in2.
 */
export function encodeResume(xid: number, p: PacketIn2, opts: OxmOptions = {}): Uint8Array {
  if (p.continuation === undefined)
    throw new OpenFlowCodecError('resume: the packet-in has no continuation (controller action without pause)');
  const w = nxStart(NXT.RESUME, xid);
  writePacketIn2Props(w, { packet: p.packet, metadata: p.metadata, continuation: p.continuation }, opts);
  return done(w);
}

/** A port as OFPMP_PORT_DESC and PORT_STATUS report it (OpenFlow 1.5 §7.2.1). */
export interface PortDesc {
  readonly portNo: number;
  readonly hwAddr: bigint;
  readonly name: string;
  readonly config: number;
  readonly state: number;
}

/** Every decoded message. `raw` is the whole message. */
export type OfpMessage =
  | { readonly kind: 'hello'; readonly xid: number; readonly versions: readonly number[] }
  | {
      readonly kind: 'error';
      readonly xid: number;
      readonly type: number;
      readonly code: number;
      readonly name: string;
      readonly data: Uint8Array;
    }
  | { readonly kind: 'echo_request' | 'echo_reply'; readonly xid: number; readonly data: Uint8Array }
  | {
      readonly kind: 'features_reply';
      readonly xid: number;
      readonly datapathId: bigint;
      readonly nBuffers: number;
      readonly nTables: number;
      readonly capabilities: number;
    }
  | { readonly kind: 'get_config_reply'; readonly xid: number; readonly flags: number; readonly missSendLen: number }
  | { readonly kind: 'barrier_reply'; readonly xid: number }
  | { readonly kind: 'role_reply'; readonly xid: number; readonly role: number; readonly generationId: bigint }
  | { readonly kind: 'flow_stats_reply'; readonly xid: number; readonly more: boolean; readonly flows: readonly FlowStats[] }
  | { readonly kind: 'port_desc_reply'; readonly xid: number; readonly more: boolean; readonly ports: readonly PortDesc[] }
  | { readonly kind: 'group_desc_reply'; readonly xid: number; readonly more: boolean; readonly groups: readonly GroupDesc[] }
  | { readonly kind: 'multipart_reply'; readonly xid: number; readonly more: boolean; readonly mpType: number; readonly body: Uint8Array }
  | { readonly kind: 'port_status'; readonly xid: number; readonly reason: 'add' | 'delete' | 'modify'; readonly port: PortDesc }
  | { readonly kind: 'packet_in2'; readonly xid: number; readonly packetIn: PacketIn2 }
  | {
      readonly kind: 'tlv_table_reply';
      readonly xid: number;
      readonly maxOptionSpace: number;
      readonly maxFields: number;
      readonly maps: readonly TlvMap[];
    }
  | {
      readonly kind: 'bundle_control';
      readonly xid: number;
      readonly bundleId: number;
      readonly type: keyof typeof OFPBCT;
      readonly flags: number;
    }
  | { readonly kind: 'flow_mod'; readonly xid: number; readonly mod: FlowMod }
  | { readonly kind: 'other'; readonly xid: number; readonly type: number; readonly subtype?: number };

/** Decodes one complete message (as framed by {@link frameLength}). */
export function decodeMessage(buf: Uint8Array): OfpMessage {
  const h = decodeHeader(buf);
  if (h.length !== buf.length) throw new OpenFlowCodecError(`message length field ${h.length} but ${buf.length} bytes given`);
  const r = new Reader(buf, OFP_HEADER_LEN, buf.length, `OpenFlow message type ${h.type}`);
  const xid = h.xid;
  switch (h.type) {
    case OFPT.HELLO: {
      const versions: number[] = [];
      while (r.left >= 4) {
        const et = r.u16();
        const el = r.u16();
        if (el < 4) throw new OpenFlowCodecError(`hello element length ${el}`);
        const er = r.sub(el - 4, 'hello element');
        if (et === 1) {
          let base = 0;
          while (er.left >= 4) {
            const bm = er.u32();
            for (let i = 0; i < 32; i++) if ((bm & (1 << i)) !== 0) versions.push(base + i);
            base += 32;
          }
        }
        r.skip(Math.min(r.left, (8 - (el % 8)) % 8));
      }
      if (versions.length === 0) versions.push(h.version);
      return { kind: 'hello', xid, versions };
    }
    case OFPT.ERROR: {
      const type = r.u16();
      let code = r.u16();
      if (type === 0xffff) {
        const exp = r.u32();
        return { kind: 'error', xid, type, code, name: errorName(type, code, exp), data: r.bytes(r.left) };
      }
      code &= 0xffff;
      return { kind: 'error', xid, type, code, name: errorName(type, code), data: r.bytes(r.left) };
    }
    case OFPT.ECHO_REQUEST:
      return { kind: 'echo_request', xid, data: r.bytes(r.left) };
    case OFPT.ECHO_REPLY:
      return { kind: 'echo_reply', xid, data: r.bytes(r.left) };
    case OFPT.FEATURES_REPLY: {
      const datapathId = r.u64();
      const nBuffers = r.u32();
      const nTables = r.u8();
      r.skip(3);
      return { kind: 'features_reply', xid, datapathId, nBuffers, nTables, capabilities: r.u32() };
    }
    case OFPT.GET_CONFIG_REPLY:
      return { kind: 'get_config_reply', xid, flags: r.u16(), missSendLen: r.u16() };
    case OFPT.BARRIER_REPLY:
      return { kind: 'barrier_reply', xid };
    case OFPT.ROLE_REPLY: {
      const role = r.u32();
      r.skip(4);
      return { kind: 'role_reply', xid, role, generationId: r.u64() };
    }
    case OFPT.MULTIPART_REPLY: {
      const mpType = r.u16();
      const more = (r.u16() & 1) !== 0;
      r.skip(4);
      if (mpType === OFPMP.FLOW_DESC) {
        const flows: FlowStats[] = [];
        while (r.left > 0) flows.push(decodeFlowDesc(r));
        return { kind: 'flow_stats_reply', xid, more, flows };
      }
      if (mpType === OFPMP.GROUP_DESC) {
        const groups: GroupDesc[] = [];
        while (r.left > 0) groups.push(decodeGroupDesc(r));
        return { kind: 'group_desc_reply', xid, more, groups };
      }
      if (mpType === OFPMP.PORT_DESC) {
        const ports: PortDesc[] = [];
        while (r.left > 0) ports.push(decodePort(r));
        return { kind: 'port_desc_reply', xid, more, ports };
      }
      return { kind: 'multipart_reply', xid, more, mpType, body: r.bytes(r.left) };
    }
    case OFPT.PORT_STATUS: {
      const reason = r.u8();
      r.skip(7);
      const names = ['add', 'delete', 'modify'] as const;
      const rn = names[reason];
      if (rn === undefined) throw new OpenFlowCodecError(`port status reason ${reason}`);
      return { kind: 'port_status', xid, reason: rn, port: decodePort(r) };
    }
    case OFPT.BUNDLE_CONTROL: {
      const bundleId = r.u32();
      const t = r.u16();
      const flags = r.u16();
      const type = (Object.keys(OFPBCT) as (keyof typeof OFPBCT)[]).find((k) => OFPBCT[k] === t);
      if (type === undefined) throw new OpenFlowCodecError(`bundle control type ${t}`);
      return { kind: 'bundle_control', xid, bundleId, type, flags };
    }
    case OFPT.FLOW_MOD:
      return { kind: 'flow_mod', xid, mod: decodeFlowModBody(r) };
    case OFPT.EXPERIMENTER: {
      const exp = r.u32();
      const sub = r.u32();
      if (exp !== NX_VENDOR_ID) return { kind: 'other', xid, type: h.type, subtype: sub };
      if (sub === NXT.PACKET_IN2) return { kind: 'packet_in2', xid, packetIn: decodePacketIn2Props(r) };
      if (sub === NXT.TLV_TABLE_REPLY) {
        const maxOptionSpace = r.u32();
        const maxFields = r.u16();
        r.skip(10);
        const maps: TlvMap[] = [];
        while (r.left >= 8) {
          const optClass = r.u16();
          const optType = r.u8();
          const optLen = r.u8();
          const index = r.u16();
          r.skip(2);
          maps.push({ optClass, optType, optLen, index });
        }
        return { kind: 'tlv_table_reply', xid, maxOptionSpace, maxFields, maps };
      }
      return { kind: 'other', xid, type: h.type, subtype: sub };
    }
    default:
      return { kind: 'other', xid, type: h.type };
  }
}

function decodeFlowModBody(r: Reader): FlowMod {
  const cookie = r.u64();
  const cookieMask = r.u64();
  const table = r.u8();
  const cmd = r.u8();
  const idleTimeout = r.u16();
  const hardTimeout = r.u16();
  const priority = r.u16();
  r.skip(4);
  const outPort = r.u32();
  const outGroup = r.u32();
  const flags = r.u16();
  const importance = r.u16();
  const match = decodeMatch(r);
  const actions = decodeInstructions(r);
  const command = (Object.keys(OFPFC) as (keyof typeof OFPFC)[]).find((k) => OFPFC[k] === cmd);
  if (command === undefined) throw new OpenFlowCodecError(`flow mod command ${cmd}`);
  const flow: Flow = {
    table,
    priority,
    cookie,
    match,
    actions,
    ...flowOptions(idleTimeout, hardTimeout, flags, importance),
  };
  return { command, flow, cookieMask, outPort, outGroup };
}

function opt<K extends string>(k: K, v: number): { [P in K]?: number } {
  return (v === 0 ? {} : { [k]: v }) as { [P in K]?: number };
}

/** A flow's optional numbers as the model has them: left out when 0. */
function flowOptions(
  idleTimeout: number,
  hardTimeout: number,
  flags: number,
  importance: number,
): Pick<Flow, 'idleTimeout' | 'hardTimeout' | 'flags' | 'importance'> {
  return {
    ...opt('idleTimeout', idleTimeout),
    ...opt('hardTimeout', hardTimeout),
    ...opt('flags', flags),
    ...opt('importance', importance),
  };
}

/** Instructions: only apply-actions is accepted (OVN uses nothing else). */
function decodeInstructions(r: Reader): Action[] {
  const out: Action[] = [];
  while (r.left > 0) {
    const it = r.u16();
    const il = r.u16();
    if (il < 8) throw new OpenFlowCodecError(`instruction ${it}: bad length ${il}`);
    const ir = r.sub(il - 4, `instruction ${it}`);
    if (it !== 4) throw new OpenFlowCodecError(`instruction type ${it}: only apply-actions is supported`);
    ir.skip(4);
    out.push(...decodeActions(ir));
  }
  return out;
}

/** OpenFlow 1.5 ofp_flow_desc: header fields, match, OXS stats, instructions. */
function decodeFlowDesc(r: Reader): FlowStats {
  const e = r.sized(0, 24, 'flow desc');
  e.skip(4);
  const table = e.u8();
  e.skip(1);
  const priority = e.u16();
  const idleTimeout = e.u16();
  const hardTimeout = e.u16();
  const flags = e.u16();
  const importance = e.u16();
  const cookie = e.u64();
  const match = decodeMatch(e);
  // ofp_stats: reserved(2), length(2), OXS TLVs (class 0x8002: 0 duration, 1 idle time, 3 flow count, 4 packets, 5 bytes), padding to 8.
  e.skip(2);
  const slen = e.u16();
  if (slen < 4) throw new OpenFlowCodecError(`flow stats length ${slen}`);
  const sr = e.sub(slen - 4, 'flow stats');
  e.skip((8 - (slen % 8)) % 8);
  let durationSec = 0;
  let durationNsec = 0;
  let packetCount = 0n;
  let byteCount = 0n;
  while (sr.left > 0) {
    const hdr = sr.u32();
    const field = (hdr >>> 9) & 0x7f;
    const len = hdr & 0xff;
    const vr = sr.sub(len, 'OXS field');
    if (hdr >>> 16 !== 0x8002) continue;
    if (field === 0) {
      durationSec = vr.u32();
      durationNsec = vr.u32();
    } else if (field === 4) packetCount = vr.u64();
    else if (field === 5) byteCount = vr.u64();
  }
  const actions = decodeInstructions(e);
  return {
    table,
    priority,
    cookie,
    match,
    actions,
    ...flowOptions(idleTimeout, hardTimeout, flags, importance),
    durationSec,
    durationNsec,
    packetCount,
    byteCount,
  };
}

/** A group as the switch describes it (the fields of a GROUP_MOD ADD). */
export type GroupDesc = Omit<GroupMod, 'command'>;

/** OpenFlow 1.5 ofp_group_desc: length, type, group_id, bucket_array_len, buckets, properties. */
function decodeGroupDesc(r: Reader): GroupDesc {
  const g = r.sized(0, 16, 'group desc');
  g.skip(2);
  const t = g.u8();
  g.skip(1);
  const groupId = g.u32();
  const bucketLen = g.u16();
  g.skip(6);
  const type = (Object.keys(OFPGT) as (keyof typeof OFPGT)[]).find((k) => OFPGT[k] === t);
  if (type === undefined) throw new OpenFlowCodecError(`group type ${t}`);
  const br = g.sub(bucketLen, 'buckets');
  const buckets: Bucket[] = [];
  while (br.left > 0) {
    const bs = br.pos;
    const blen = br.u16();
    if (blen < 8) throw new OpenFlowCodecError(`bucket length ${blen}`);
    br.pos = bs;
    const b = br.sub(blen, 'bucket');
    b.skip(2);
    const alen = b.u16();
    const bucketId = b.u32();
    const actions = decodeActions(b.sub(alen, 'bucket actions'));
    const out: { bucketId: number; weight?: number; watchPort?: number; actions: Action[] } = { bucketId, actions };
    while (b.left >= 4) {
      const pt = b.u16();
      const pl = b.u16();
      if (pl < 4) throw new OpenFlowCodecError(`bucket property ${pt}: bad length ${pl}`);
      const pr = b.sub(pl - 4, 'bucket property');
      if (pt === 0) out.weight = pr.u16();
      else if (pt === 1) {
        const port = pr.u32();
        if (port !== OFPP.ANY) out.watchPort = port;
      }
    }
    buckets.push(out);
  }
  return { groupId, type, buckets };
}

/** OpenFlow 1.5 ofp_port (length-prefixed, with properties). */
function decodePort(r: Reader): PortDesc {
  const p = r.sized(4, 40, 'port');
  const portNo = p.u32();
  p.skip(4);
  const hwAddr = p.uint(6);
  p.skip(2);
  const nameBytes = p.bytes(16);
  const nul = nameBytes.indexOf(0);
  const name = Buffer.from(nameBytes.subarray(0, nul < 0 ? 16 : nul)).toString('latin1');
  const config = p.u32();
  const state = p.u32();
  return { portNo, hwAddr, name, config, state };
}

function decodePacketIn2Props(r: Reader): PacketIn2 {
  let packet: Uint8Array | undefined;
  let metadata: Match = [];
  const p: {
    fullLen?: number;
    bufferId?: number;
    tableId?: number;
    cookie?: bigint;
    reason?: PacketInReason;
    userdata?: Uint8Array;
    continuation?: Uint8Array;
  } = {};
  while (r.left >= 4) {
    const { type: t, body: pr } = takeProperty(r, 'packet-in2');
    switch (t) {
      case NXPINT.PACKET:
        packet = pr.bytes(pr.left);
        break;
      case NXPINT.FULL_LEN:
        p.fullLen = pr.u32();
        break;
      case NXPINT.BUFFER_ID:
        p.bufferId = pr.u32();
        break;
      case NXPINT.TABLE_ID:
        p.tableId = pr.u8();
        break;
      case NXPINT.COOKIE:
        pr.skip(4);
        p.cookie = pr.u64();
        break;
      case NXPINT.REASON: {
        const n = pr.u8();
        const k = (Object.keys(PACKET_IN_REASON) as PacketInReason[]).find((x) => PACKET_IN_REASON[x] === n);
        if (k !== undefined) p.reason = k;
        break;
      }
      case NXPINT.METADATA:
        metadata = decodeOxmFields(pr);
        break;
      case NXPINT.USERDATA:
        p.userdata = pr.bytes(pr.left);
        break;
      case NXPINT.CONTINUATION:
        p.continuation = pr.bytes(pr.left);
        break;
      default:
        break;
    }
  }
  if (packet === undefined) throw new OpenFlowCodecError('packet-in2 without a packet property');
  return { packet, metadata, ...p };
}
