/**
 * The structured OpenFlow flow model: matches, actions and flows as plain
 * immutable data, independent of the wire encoding (codec/) and of the
 * ovs-ofctl text syntax (flow-text.ts).
 *
 * Field names are OVS's (ovs-fields(7)); action kinds follow ovs-actions(7).
 * A few spellings are folded into one canonical field so that a flow read
 * back from the switch compares equal to the flow that was sent:
 *   - `xreg0..7` and `xxreg0..3` are stored as their 32-bit `reg0..15`
 *     halves/quarters (OVS itself prints them that way; reg0 is the most
 *     significant half of xreg0),
 *   - `dl_vlan`, `vlan_vid`, `vlan_pcp`, `dl_vlan_pcp` are stored as the
 *     16-bit `vlan_tci` with a mask,
 *   - `ip_dscp` is stored as `nw_tos` (DSCP in the upper six bits), `ip_ecn`
 *     as `nw_ecn`, `nw_frag` as `ip_frag`, `tun_ipv4_src` as `tun_src`,
 *     `icmpv4_type` as `icmp_type`.
 * `matchField()` and the parser in flow-text.ts apply these foldings.
 */

import { FIELDS, anyField, type FieldFormat, type FieldInfo } from './fields.js';

export { FIELDS, type FieldFormat, type FieldInfo };

const FIELD_BY_NAME: ReadonlyMap<string, FieldInfo> = new Map(FIELDS.map((x) => [x.name, x]));
const FIELD_RANK: ReadonlyMap<string, number> = new Map(FIELDS.map((x, i) => [x.name, i]));

/** The canonical field called `name`, or undefined (aliases are not resolved here; see {@link matchField}). */
export function fieldInfo(name: string): FieldInfo | undefined {
  return FIELD_BY_NAME.get(name);
}

/** All-ones of `bits` width. */
export function ones(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}

/** One match field: `field=value[/mask]`. No mask means an exact match. */
export interface MatchField {
  readonly field: string;
  readonly value: bigint;
  /** Absent: exact match. A mask of all ones is stored as absent. */
  readonly mask?: bigint;
}

/**
 * A match: canonical fields, each at most once, in {@link FIELDS} order
 * (what {@link normalizeMatch} produces). An empty match matches every packet.
 */
export type Match = readonly MatchField[];

/** Thrown for a field name, value or mask the model cannot represent. */
export class FlowModelError extends Error {
  override readonly name = 'FlowModelError';
}

/**
 * Canonical match fields for `name=value[/mask]` written with any of OVS's
 * names for the field (see the module comment for the foldings). Returns one
 * or more canonical fields.
 */
export function matchField(name: string, value: bigint, mask?: bigint): MatchField[] {
  const xx = /^xxreg([0-3])$/.exec(name);
  if (xx !== null) return splitWide(Number(xx[1]) * 4, 4, value, mask);
  const x = /^xreg([0-7])$/.exec(name);
  if (x !== null) return splitWide(Number(x[1]) * 2, 2, value, mask);
  switch (name) {
    case 'dl_vlan':
      // 12-bit VID of a tagged packet; dl_vlan=0xffff means "no tag".
      if (value === 0xffffn) return [mf('vlan_tci', 0n, 0xffffn)];
      return [mf('vlan_tci', 0x1000n | (value & 0xfffn), mask === undefined ? 0x1fffn : 0x1000n | (mask & 0xfffn))];
    case 'vlan_vid':
      // OpenFlow VLAN_VID: 13 bits, 0x1000 = OFPVID_PRESENT.
      return [mf('vlan_tci', value & 0x1fffn, mask === undefined ? 0x1fffn : mask & 0x1fffn)];
    case 'dl_vlan_pcp':
    case 'vlan_pcp':
      return [mf('vlan_tci', 0x1000n | ((value & 7n) << 13n), 0xf000n)];
    case 'ip_dscp':
      return [mf('nw_tos', (value & 0x3fn) << 2n, undefined)];
    case 'ip_ecn':
      return [mf('nw_ecn', value, mask)];
    case 'nw_frag':
      return [mf('ip_frag', value, mask)];
    case 'tun_ipv4_src':
      return [mf('tun_src', value, mask)];
    case 'tun_ipv4_dst':
      return [mf('tun_dst', value, mask)];
    case 'icmpv4_type':
      return [mf('icmp_type', value, mask)];
    case 'icmpv4_code':
      return [mf('icmp_code', value, mask)];
    case 'dl_vlan_tci':
      return [mf('vlan_tci', value, mask)];
    default:
      return [mf(name, value, mask)];
  }
}

/** A canonical match field, checked against the field table; an all-ones mask is dropped. */
export function mf(field: string, value: bigint, mask?: bigint): MatchField {
  const info = FIELD_BY_NAME.get(field);
  if (info === undefined) throw new FlowModelError(`${field}: unknown field`);
  const all = ones(info.bits);
  if (value < 0n || value > all) throw new FlowModelError(`${field}: value 0x${value.toString(16)} does not fit in ${info.bits} bits`);
  if (mask === undefined || mask === all) return { field, value };
  if (mask < 0n || mask > all) throw new FlowModelError(`${field}: mask 0x${mask.toString(16)} does not fit in ${info.bits} bits`);
  if (!info.maskable) throw new FlowModelError(`${field}: field does not support masking`);
  return { field, value: value & mask, mask };
}

function splitWide(firstReg: number, n: number, value: bigint, mask: bigint | undefined): MatchField[] {
  const out: MatchField[] = [];
  for (let i = 0; i < n; i++) {
    const shift = BigInt(32 * (n - 1 - i));
    const v = (value >> shift) & 0xffffffffn;
    const m = mask === undefined ? 0xffffffffn : (mask >> shift) & 0xffffffffn;
    if (m !== 0n) out.push(mf(`reg${firstReg + i}`, v, m));
  }
  return out;
}

/**
 * Sorts into {@link FIELDS} order and merges repeated fields (bits constrained
 * by both must agree, else the match is contradictory and this throws).
 */
export function normalizeMatch(fields: Iterable<MatchField>): Match {
  const by = new Map<string, { value: bigint; mask: bigint }>();
  for (const x of fields) {
    const info = FIELD_BY_NAME.get(x.field);
    if (info === undefined) throw new FlowModelError(`${x.field}: unknown field`);
    const mask = x.mask ?? ones(info.bits);
    const had = by.get(x.field);
    if (had === undefined) {
      by.set(x.field, { value: x.value & mask, mask });
      continue;
    }
    const common = had.mask & mask;
    if ((had.value & common) !== (x.value & common)) throw new FlowModelError(`${x.field}: contradictory values`);
    by.set(x.field, { value: had.value | (x.value & mask), mask: had.mask | mask });
  }
  const out: MatchField[] = [];
  for (const [field, { value, mask }] of by) {
    if (mask === 0n) continue;
    out.push(mf(field, value, mask));
  }
  out.sort((a, b) => (FIELD_RANK.get(a.field) ?? 0) - (FIELD_RANK.get(b.field) ?? 0));
  return out;
}

/**
 * A bit range of a field, as in `NXM_NX_REG13[0..15]` or `reg13[0..15]`
 * (ovs-actions(7) "Field Specifications"). `ofs` counts from the least
 * significant bit. `field` may be any canonical field or `xreg*`/`xxreg*`.
 */
export interface FieldRef {
  readonly field: string;
  readonly ofs: number;
  readonly nBits: number;
}

/** The whole field: `reg0[]`. */
export function fieldRef(field: string, ofs?: number, nBits?: number): FieldRef {
  const bits = fieldBits(field);
  return { field, ofs: ofs ?? 0, nBits: nBits ?? bits - (ofs ?? 0) };
}

/** Width of a canonical field or of a field only actions name (`xreg*`, `xxreg*`, `vlan_vid`…). */
export function fieldBits(field: string): number {
  // In actions OVS's in_port is NXM_OF_IN_PORT (16 bits); in_port_oxm is the 32-bit OpenFlow 1.1+ one.
  if (field === 'in_port') return 16;
  if (field === 'dl_vlan') return 12;
  if (field === 'dl_vlan_pcp') return 3;
  if (field === 'nw_frag') return 8;
  const info = anyField(field);
  if (info === undefined) throw new FlowModelError(`${field}: unknown field`);
  return info.bits;
}

/** Reserved OpenFlow 1.1+ port numbers (OpenFlow 1.5 §7.2.1 ofp_port_no). */
export const OFPP = {
  MAX: 0xffffff00,
  UNSET: 0xfffffff7,
  IN_PORT: 0xfffffff8,
  TABLE: 0xfffffff9,
  NORMAL: 0xfffffffa,
  FLOOD: 0xfffffffb,
  ALL: 0xfffffffc,
  CONTROLLER: 0xfffffffd,
  LOCAL: 0xfffffffe,
  ANY: 0xffffffff,
} as const;

/** OFPTT_ALL: every table, for deletes and stats requests. */
export const OFPTT_ALL = 0xff;

/** Packet-in reasons (OpenFlow 1.5 §7.4.1 ofp_packet_in_reason), as ovs-actions(7) spells them in `controller(reason=…)`. */
export const PACKET_IN_REASON = {
  no_match: 0,
  action: 1,
  invalid_ttl: 2,
  action_set: 3,
  group: 4,
  packet_out: 5,
} as const;
export type PacketInReason = keyof typeof PACKET_IN_REASON;

/** NAT inside `ct` (ovs-actions(7) "The ct action", nat(...)). */
export interface NatSpec {
  /** Absent: reverse/un-NAT established connections only (plain `nat`). */
  readonly kind?: 'src' | 'dst';
  /** Address range, IPv4 (32 bits) or IPv6 (128 bits) per `ipv6`. */
  readonly ipMin?: bigint;
  readonly ipMax?: bigint;
  readonly ipv6?: boolean;
  readonly portMin?: number;
  readonly portMax?: number;
  readonly persistent?: boolean;
  /** Port selection: `hash` or `random` (mutually exclusive). */
  readonly hash?: boolean;
  readonly random?: boolean;
}

/** A value of `T` being filled in field by field (by the decoder and the text parser). */
type Building<T> = { -readonly [K in keyof T]: T[K] };
export type NatSpecBuilder = Building<NatSpec>;

/**
 * One action (ovs-actions(7)). An empty action list means drop.
 *
 * `load` and `set_field` differ only in how they are written: `load` names
 * a bit range (`load:V->reg0[0..15]`), `set_field` a value and mask
 * (`set_field:V/M->reg0`). Both travel as OpenFlow 1.5 OFPAT_SET_FIELD.
 */
export type Action =
  | { readonly type: 'output'; readonly port: number; readonly maxLen?: number }
  | { readonly type: 'output_reg'; readonly src: FieldRef; readonly maxLen?: number }
  | {
      readonly type: 'controller';
      /** Bytes of the packet to send; default 65535 (whole packet). */
      readonly maxLen?: number;
      /** Controller connection id; default 0. */
      readonly id?: number;
      /** Default 'action'. */
      readonly reason?: PacketInReason;
      readonly userdata?: Uint8Array;
      /** Pause the pipeline; the controller continues it with NXT_RESUME. */
      readonly pause?: boolean;
      readonly meterId?: number;
    }
  | { readonly type: 'resubmit'; readonly port?: number; readonly table?: number; readonly ct?: boolean }
  | { readonly type: 'set_field'; readonly field: string; readonly value: bigint; readonly mask?: bigint }
  | { readonly type: 'load'; readonly dst: FieldRef; readonly value: bigint }
  | { readonly type: 'move'; readonly src: FieldRef; readonly dst: FieldRef }
  | { readonly type: 'push_vlan'; readonly ethertype: number }
  | { readonly type: 'pop_vlan' }
  | { readonly type: 'set_tunnel'; readonly tunId: bigint }
  /** `clause` counts from 1, as in `conjunction(id, k/n)` (the wire form counts from 0). */
  | { readonly type: 'conjunction'; readonly id: number; readonly clause: number; readonly nClauses: number }
  | {
      readonly type: 'ct';
      readonly commit?: boolean;
      readonly force?: boolean;
      /** Immediate zone or a 16-bit field range holding it. Default 0. */
      readonly zone?: number | FieldRef;
      /** Recirculate into this table after conntrack; absent: no recirculation. */
      readonly table?: number;
      /** Application-layer gateway: 21 ftp, 69 tftp. */
      readonly alg?: number;
      readonly nat?: NatSpec;
      /** Actions on the connection (set_field/load of ct_mark and ct_label). */
      readonly exec?: readonly Action[];
    }
  | { readonly type: 'ct_clear' }
  | { readonly type: 'dec_ttl'; readonly ids?: readonly number[] }
  | { readonly type: 'note'; readonly data: Uint8Array }
  | { readonly type: 'group'; readonly groupId: number }
  | { readonly type: 'meter'; readonly meterId: number }
  | { readonly type: 'push'; readonly src: FieldRef }
  | { readonly type: 'pop'; readonly dst: FieldRef }
  | { readonly type: 'check_pkt_larger'; readonly pktLen: number; readonly dst: FieldRef }
  | { readonly type: 'clone'; readonly actions: readonly Action[] }
  | { readonly type: 'exit' }
  | LearnAction;

/**
 * One part of a `learn` action's new flow (ovs-actions(7) "The learn
 * action"): a match on `dst` (`FIELD[]`, `DST[]=SRC[]`, `field=value`), a
 * load into `dst` (`load:SRC[]->DST[]`, `load:value->DST[]`), or an output to
 * the port in `src` (`output:SRC[]`). `src` is a bit range of the packet
 * being processed or an immediate value of `dst`'s width.
 */
export interface LearnSpec {
  readonly kind: 'match' | 'load' | 'output';
  readonly src: FieldRef | { readonly value: bigint; readonly nBits: number };
  /** Absent for output. */
  readonly dst?: FieldRef;
}

/** NX_LEARN_F_* flags. */
export const LEARN_FLAGS = { SEND_FLOW_REM: 1, DELETE_LEARNED: 2 } as const;

/** `learn(...)`: adds or modifies a flow built from the current packet. */
export interface LearnAction {
  readonly type: 'learn';
  readonly table: number;
  /** Default 0x8000 (OFP_DEFAULT_PRIORITY). */
  readonly priority?: number;
  readonly idleTimeout?: number;
  readonly hardTimeout?: number;
  readonly finIdleTimeout?: number;
  readonly finHardTimeout?: number;
  readonly cookie?: bigint;
  /** LEARN_FLAGS bits. */
  readonly flags?: number;
  readonly specs: readonly LearnSpec[];
}

export type ActionType = Action['type'];

/** OFPFF_* flow mod flags (OpenFlow 1.5 §7.3.4.2). */
export const OFPFF = {
  SEND_FLOW_REM: 1 << 0,
  CHECK_OVERLAP: 1 << 1,
  RESET_COUNTS: 1 << 2,
  NO_PKT_COUNTS: 1 << 3,
  NO_BYT_COUNTS: 1 << 4,
} as const;

/** A flow entry (ovs-ofctl(8) "Flow Syntax"). */
export interface Flow {
  readonly table: number;
  readonly priority: number;
  readonly cookie: bigint;
  readonly match: Match;
  readonly actions: readonly Action[];
  /** Seconds; 0 or absent: never. */
  readonly idleTimeout?: number;
  readonly hardTimeout?: number;
  /** OFPFF_* bits; 0 or absent: none. */
  readonly flags?: number;
  readonly importance?: number;
}

/** A flow as the switch reports it in flow stats (ovs-ofctl dump-flows). */
export interface FlowStats extends Flow {
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly packetCount: bigint;
  readonly byteCount: bigint;
}

/** Flow mod commands (OpenFlow 1.5 §7.3.4.1 ofp_flow_mod_command). */
export const OFPFC = {
  ADD: 0,
  MODIFY: 1,
  MODIFY_STRICT: 2,
  DELETE: 3,
  DELETE_STRICT: 4,
} as const;
export type FlowModCommand = keyof typeof OFPFC;

/** A flow table modification. For deletes, `actions` is ignored and `outPort`/`outGroup`/`cookieMask` select. */
export interface FlowMod {
  readonly command: FlowModCommand;
  readonly flow: Flow;
  /** Modify/delete only flows whose cookie matches under this mask. Default 0 (any). */
  readonly cookieMask?: bigint;
  /** Delete: only flows that output to this port. Default OFPP.ANY. */
  readonly outPort?: number;
  /** Delete: only flows that output to this group. Default OFPG_ANY. */
  readonly outGroup?: number;
}

/** Convenience constructor with defaults (cookie 0, no timeouts). */
export function flow(table: number, priority: number, match: Iterable<MatchField>, actions: readonly Action[], cookie = 0n): Flow {
  return { table, priority, cookie, match: normalizeMatch(match), actions };
}

/** A group bucket (OpenFlow 1.5 §7.3.4.3 ofp_bucket). */
export interface Bucket {
  /** Default: numbered from 0 in list order. */
  readonly bucketId?: number;
  /** Select groups: relative weight. Default 1 (OVS's default is 1 when absent). */
  readonly weight?: number;
  /** Fast-failover groups: the port whose liveness gates the bucket. */
  readonly watchPort?: number;
  readonly actions: readonly Action[];
}

/** Group types (OFPGT_*), as ovs-ofctl(8) names them. */
export const OFPGT = { all: 0, select: 1, indirect: 2, ff: 3 } as const;

/** A group table modification (OpenFlow 1.5 §7.3.4.2; ovs-ofctl(8) "Group Syntax"). */
export interface GroupMod {
  readonly command: 'ADD' | 'MODIFY' | 'DELETE';
  readonly groupId: number;
  readonly type: keyof typeof OFPGT;
  readonly buckets: readonly Bucket[];
}

/** OFPMF_* meter flags (OpenFlow 1.5 §7.3.4.4). */
export const OFPMF = { KBPS: 1, PKTPS: 2, BURST: 4, STATS: 8 } as const;

/** A meter modification with drop bands (ovs-ofctl(8) "Meter Syntax"; OVN's CoPP and ACL log meters). */
export interface MeterMod {
  readonly command: 'ADD' | 'MODIFY' | 'DELETE';
  readonly meterId: number;
  /** OFPMF_* bits. */
  readonly flags: number;
  readonly bands: readonly { readonly rate: number; readonly burstSize?: number }[];
}

/** A `ct` action being filled in field by field (by the decoder and the text parser). */
export type CtActionBuilder = Building<Extract<Action, { readonly type: 'ct' }>>;
