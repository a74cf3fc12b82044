/**
 * The userdata of the OpenFlow `controller(userdata=…)` actions that the
 * logical actions needing pinctrl become (ovn-sb(5) "Logical_Flow TABLE":
 * `arp`, `put_arp`, `put_dhcp_opts`, `icmp4`, …). The layout is the one the
 * real ovn-controller 23.03 installs, learned from its `ovs-ofctl dump-flows`
 * output and checked byte for byte by test/compat/pinctrl-real.test.ts:
 *
 *     0   opcode, 32-bit big-endian (ACTION_OPCODE)
 *     4   4 zero bytes
 *     8   opcode-specific payload:
 *         put_dhcp_opts: NXM/OXM header of the result field (4 bytes; 8 for an
 *           experimenter OXM), 32-bit bit offset in that field, the offered IPv4
 *           address (4 bytes), then every other option as a DHCP option
 *           (code, length, value) in the order the action lists them, except
 *           that bootfile_name, bootfile_name_alt and next_server come first
 *         arp, icmp4, nd_ns, tcp_reset, …: the nested actions, already encoded as
 *           OpenFlow actions by the flow translation (opaque here)
 *         put_arp, put_nd, handle_svc_check: nothing (the inputs are in registers)
 *
 * Pure: no OpenFlow dependency; nested actions are opaque bytes.
 */
import { defaultSymbols, type Action, type ActionArg, type IntConstant } from '../../lib/lflow/index.js';
import { DHCPV4_OPTIONS } from '../../lib/dhcp-option-codes.js';

/**
 * Opcodes as ovn-controller numbers them. Verified against the real
 * controller's flows for the seed lab: arp 0, put_arp 1, put_dhcp_opts 2,
 * put_nd 4, nd_ns 9, icmp4/icmp6 10, tcp_reset 11, nd_na_router 12,
 * handle_svc_check 18, sctp_abort 24.
 */
export const ACTION_OPCODE = {
  arp: 0,
  put_arp: 1,
  put_dhcp_opts: 2,
  nd_na: 3,
  put_nd: 4,
  put_dhcpv6_opts: 5,
  dns_lookup: 6,
  log: 7,
  put_nd_ra_opts: 8,
  nd_ns: 9,
  icmp: 10,
  tcp_reset: 11,
  nd_na_router: 12,
  handle_svc_check: 18,
  sctp_abort: 24,
} as const;

export type ActionOpcodeName = keyof typeof ACTION_OPCODE;

const OPCODE_NAMES: ReadonlyMap<number, ActionOpcodeName> = new Map(
  (Object.entries(ACTION_OPCODE) as [ActionOpcodeName, number][]).map(([n, c]) => [c, n]),
);

/** The action's name (`put_dhcp_opts`), or its number when OVN names none this code knows. */
export function actionOpcodeName(code: number): string {
  return OPCODE_NAMES.get(code) ?? String(code);
}

/** Opcodes whose payload is nested OpenFlow actions. */
const NESTED_OPCODES: ReadonlySet<number> = new Set([
  ACTION_OPCODE.arp,
  ACTION_OPCODE.nd_na,
  ACTION_OPCODE.nd_ns,
  ACTION_OPCODE.icmp,
  ACTION_OPCODE.tcp_reset,
  ACTION_OPCODE.nd_na_router,
  ACTION_OPCODE.sctp_abort,
]);

export const USERDATA_HEADER_LEN = 8;

/** A malformed action (encoding) or userdata (decoding). */
export class UserdataError extends Error {
  override readonly name = 'UserdataError';
}

/** Where put_dhcp_opts stores its result: a logical field (`reg0`) and a bit in it, or a bit of its base field (`xxreg0`, 99). */
export interface ResultField {
  readonly field: string;
  readonly bit: number;
}

/** One `name = value` argument of put_dhcp_opts, as src/lib/lflow/actions.ts parses it. */
export interface DhcpOptionArg {
  readonly name: string;
  readonly value: ActionArg;
}

/**
 * OVS fields that OVN's logical storage lives in, as NXM/OXM headers
 * (class << 16 | field << 9 | hasmask << 8 | length), from the OVS field
 * reference ovs-fields(7): xxreg0/xxreg1 are NXM_NX_XXREG0/1, xreg4 is
 * OXM_OF_PKT_REG4, flags is NXM_NX_REG10, pkt.mark is NXM_NX_PKT_MARK.
 */
const BASE_FIELD_HEADERS: ReadonlyMap<string, number> = new Map([
  ['xxreg0', nxmHeader(0x0001, 111, 16)],
  ['xxreg1', nxmHeader(0x0001, 112, 16)],
  ['xreg4', nxmHeader(0x8001, 4, 8)],
  ['flags', nxmHeader(0x0001, 10, 4)],
  ['pkt.mark', nxmHeader(0x0001, 33, 4)],
]);

const HEADER_NAMES: ReadonlyMap<number, string> = new Map([...BASE_FIELD_HEADERS].map(([n, h]) => [h, n]));

function nxmHeader(cls: number, field: number, len: number): number {
  return ((cls << 16) | (field << 9) | len) >>> 0;
}

function opHeader(opcode: number, payloadLen: number): Uint8Array {
  const out = new Uint8Array(USERDATA_HEADER_LEN + payloadLen);
  new DataView(out.buffer).setUint32(0, opcode >>> 0);
  return out;
}

/** Userdata for an opcode without payload (`put_arp`, `put_nd`, `handle_svc_check`). */
export function encodeOpcodeOnly(opcode: number): Uint8Array {
  return opHeader(opcode, 0);
}

/** Userdata for `put_arp(inport, ip, mac)`: the arguments travel in registers the translator loads first. */
export function encodePutArp(): Uint8Array {
  return encodeOpcodeOnly(ACTION_OPCODE.put_arp);
}

/**
 * Userdata for an action with nested actions (`arp { … }`, `icmp4 { … }`,
 * `nd_ns { … }`, `tcp_reset { … }`): the header, then the nested actions as
 * the flow translation encoded them (OpenFlow actions, opaque here).
 */
export function encodeNestedActionsOp(opcode: number, nestedActions: Uint8Array): Uint8Array {
  if (!NESTED_OPCODES.has(opcode)) throw new UserdataError(`opcode ${opcode} does not take nested actions`);
  const out = opHeader(opcode, nestedActions.length);
  out.set(nestedActions, USERDATA_HEADER_LEN);
  return out;
}

/** `arp { … };` (ovn-sb(5)): pinctrl builds an ARP request from the IPv4 packet and runs the nested actions on it. */
export function encodeArp(nestedActions: Uint8Array): Uint8Array {
  return encodeNestedActionsOp(ACTION_OPCODE.arp, nestedActions);
}

/** Resolves a logical field (+bit) to the OVS field header and the absolute bit offset in it. */
export function resolveResultField(rf: ResultField): { header: number; ofs: number } {
  const st = defaultSymbols().resolveStorage(rf.field);
  if (st === undefined) throw new UserdataError(`unknown field ${rf.field}`);
  if (!Number.isInteger(rf.bit) || rf.bit < 0 || rf.bit >= st.width)
    throw new UserdataError(`bit ${rf.bit} is outside ${rf.field} (${st.width} bits)`);
  const header = BASE_FIELD_HEADERS.get(st.field.name);
  if (header === undefined) throw new UserdataError(`${rf.field} cannot hold a put_dhcp_opts result (not a register)`);
  return { header, ofs: st.lo + rf.bit };
}

/**
 * Userdata of `dst = put_dhcp_opts(offerip = A, name = value, …)`
 * (ovn-sb(5) "put_dhcp_opts"): the result field, `offerip` first as 4
 * bytes, then the other options as DHCP options in the order given, each
 * encoded by its OVN type (see encodeDhcpOption); bootfile_name,
 * bootfile_name_alt and next_server move to the front, as the real
 * controller puts them.
 */
export function encodePutDhcpOpts(resultField: ResultField, options: readonly DhcpOptionArg[]): Uint8Array {
  const { header, ofs } = resolveResultField(resultField);
  const offer = options.find((o) => o.name === 'offerip');
  if (offer === undefined) throw new UserdataError('put_dhcp_opts requires offerip to be specified.');
  const offerIp = ipv4Leaves(offer, 'offerip');
  if (offerIp.length !== 1) throw new UserdataError('offerip takes one IPv4 address');
  // The real controller moves bootfile_name, bootfile_name_alt and
  // next_server right after offerip, where pinctrl finds them (to pick a
  // bootfile for iPXE clients, to fill siaddr).
  const rank = (n: string): number => FRONT_OPTIONS.indexOf(n) >>> 0;
  const rest = options.filter((o) => o.name !== 'offerip');
  const ordered = rest.map((o, i) => ({ o, i })).sort((a, b) => rank(a.o.name) - rank(b.o.name) || a.i - b.i);
  const tlvs = ordered.map(({ o }) => encodeDhcpOption(o.name, o.value));
  const payloadLen = 12 + tlvs.reduce((n, t) => n + t.length, 0);
  const out = opHeader(ACTION_OPCODE.put_dhcp_opts, payloadLen);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, header);
  dv.setUint32(12, ofs);
  dv.setUint32(16, offerIp[0]!);
  let at = 20;
  for (const t of tlvs) {
    out.set(t, at);
    at += t.length;
  }
  return out;
}

/**
 * Userdata for a parsed `dst = put_dhcp_opts(…)` action (the Action that
 * src/lib/lflow/actions.ts returns), for the flow translation.
 */
export function encodePutDhcpOptsAction(action: Extract<Action, { type: 'result' }>): Uint8Array {
  if (action.name !== 'put_dhcp_opts') throw new UserdataError(`${action.name} is not put_dhcp_opts`);
  if (action.dst.hi !== undefined && action.dst.hi !== action.dst.lo) throw new UserdataError('put_dhcp_opts stores its result in one bit');
  return encodePutDhcpOpts({ field: action.dst.name, bit: action.dst.lo ?? 0 }, dhcpOptionArgs(action.args));
}

/** Options the real controller encodes first, in this order (others keep theirs). */
const FRONT_OPTIONS: readonly string[] = ['bootfile_name', 'bootfile_name_alt', 'next_server'];

/** The options of a parsed `put_dhcp_opts` action's arguments (`kv` args), in order. */
export function dhcpOptionArgs(args: readonly ActionArg[]): DhcpOptionArg[] {
  return args.map((a) => {
    if (a.type !== 'kv') throw new UserdataError('put_dhcp_opts arguments are name = value pairs');
    return { name: a.key, value: a.value };
  });
}

function leaves(v: ActionArg): readonly ActionArg[] {
  return v.type === 'set' ? v.values : [v];
}

function intLeaves(o: DhcpOptionArg): IntConstant[] {
  return leaves(o.value).map((l) => {
    if (l.type !== 'int') throw new UserdataError(`DHCPv4 option ${o.name} requires numeric value.`);
    return l.value;
  });
}

function ipv4Leaves(o: DhcpOptionArg, what: string): number[] {
  return intLeaves(o).map((c) => {
    if (c.value < 0n || c.value > 0xffffffffn) throw new UserdataError(`${what}: ${c.value} is not an IPv4 address`);
    return Number(c.value);
  });
}

function stringValue(o: DhcpOptionArg): string {
  const l = leaves(o.value);
  if (l.length !== 1 || l[0]!.type !== 'string') throw new UserdataError(`DHCPv4 option ${o.name} requires string value.`);
  return l[0]!.value;
}

function tlv(code: number, data: Uint8Array, name: string): Uint8Array {
  if (data.length > 255) throw new UserdataError(`DHCPv4 option ${name} is too long (${data.length} bytes, at most 255)`);
  const out = new Uint8Array(2 + data.length);
  out[0] = code;
  out[1] = data.length;
  out.set(data, 2);
  return out;
}

function uintBytes(v: bigint, bytes: number, name: string): Uint8Array {
  if (v < 0n || v >= 1n << BigInt(8 * bytes)) throw new UserdataError(`DHCPv4 option ${name}: ${v} does not fit in ${8 * bytes} bits`);
  const out = new Uint8Array(bytes);
  for (let i = bytes - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * One DHCPv4 option in wire form (code, length, value), by its OVN type
 * (ovn-sb(5) DHCP_Options `type`): ipv4 = 4 bytes per address; uint8/16/32
 * big-endian; bool one byte; str and host_id names as their bytes (an IPv4
 * host_id as 4 bytes); static_routes as RFC 3442 (prefix length, significant
 * destination octets, router) per `{dest/len, router}` pair; domains as an
 * RFC 3397 search list (RFC 1035 names with compression pointers).
 */
export function encodeDhcpOption(name: string, value: ActionArg): Uint8Array {
  const def = DHCPV4_OPTIONS.get(name);
  if (def === undefined || def.code === 0) throw new UserdataError(`unknown DHCPv4 option ${name}`);
  const o = { name, value };
  switch (def.type) {
    case 'ipv4': {
      const ips = ipv4Leaves(o, name);
      const data = new Uint8Array(4 * ips.length);
      const dv = new DataView(data.buffer);
      ips.forEach((ip, i) => dv.setUint32(4 * i, ip));
      return tlv(def.code, data, name);
    }
    case 'uint8':
    case 'uint16':
    case 'uint32':
    case 'bool': {
      const v = intLeaves(o);
      if (v.length !== 1) throw new UserdataError(`DHCPv4 option ${name} takes one value`);
      const bytes = def.type === 'uint16' ? 2 : def.type === 'uint32' ? 4 : 1;
      return tlv(def.code, uintBytes(v[0]!.value, bytes, name), name);
    }
    case 'str':
      return tlv(def.code, new TextEncoder().encode(stringValue(o)), name);
    case 'host_id': {
      const l = leaves(value);
      const first = l[0];
      if (l.length === 1 && first !== undefined && first.type === 'int') return tlv(def.code, uintBytes(first.value.value, 4, name), name);
      return tlv(def.code, new TextEncoder().encode(stringValue(o)), name);
    }
    case 'static_routes':
      return tlv(def.code, encodeStaticRoutes(intLeaves(o), name), name);
    case 'domains':
      return tlv(def.code, encodeDomainSearchList(stringValue(o)), name);
  }
}

/** RFC 3442 classless static routes from `{dest/len, router, dest/len, router, …}`. */
export function encodeStaticRoutes(values: readonly IntConstant[], name = 'classless_static_route'): Uint8Array {
  if (values.length === 0 || values.length % 2 !== 0) throw new UserdataError(`DHCPv4 option ${name} needs destination/router pairs`);
  const out: number[] = [];
  for (let i = 0; i < values.length; i += 2) {
    const dest = values[i]!;
    const gw = values[i + 1]!;
    const plen = dest.mask === undefined ? 32 : maskPrefixLen(dest.mask);
    if (plen === undefined) throw new UserdataError(`DHCPv4 option ${name}: destination mask must be a prefix`);
    const d = Number(dest.value & 0xffffffffn);
    out.push(plen);
    for (let b = 0; b < Math.ceil(plen / 8); b++) out.push((d >>> (24 - 8 * b)) & 255);
    const g = Number(gw.value & 0xffffffffn);
    out.push((g >>> 24) & 255, (g >>> 16) & 255, (g >>> 8) & 255, g & 255);
  }
  return Uint8Array.from(out);
}

function maskPrefixLen(mask: bigint): number | undefined {
  for (let n = 0; n <= 32; n++) {
    const m = n === 0 ? 0n : ((1n << BigInt(n)) - 1n) << BigInt(32 - n);
    if (m === mask) return n;
  }
  return undefined;
}

/**
 * RFC 3397 domain search list from OVN's comma-separated text: each name as
 * RFC 1035 labels; a suffix already written is replaced by a pointer to it
 * (offsets count from the start of the option data).
 */
export function encodeDomainSearchList(text: string): Uint8Array {
  const out: number[] = [];
  const suffixAt = new Map<string, number>();
  for (const raw of text.split(',')) {
    const domain = raw.trim().replace(/\.$/, '');
    if (domain === '') continue;
    const labels = domain.split('.');
    let i = 0;
    for (; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.');
      const ptr = suffixAt.get(suffix);
      if (ptr !== undefined) {
        out.push(0xc0 | (ptr >> 8), ptr & 255);
        break;
      }
      if (out.length < 0x3fff) suffixAt.set(suffix, out.length);
      const bytes = new TextEncoder().encode(labels[i]);
      if (bytes.length === 0 || bytes.length > 63)
        throw new UserdataError(`domain_search_list: invalid label in ${JSON.stringify(domain)}`);
      out.push(bytes.length, ...bytes);
    }
    if (i === labels.length) out.push(0);
  }
  return Uint8Array.from(out);
}

/** A DHCP option as carried in put_dhcp_opts userdata: code and raw value. */
export interface DhcpOptionTlv {
  readonly code: number;
  readonly data: Uint8Array;
}

export type DecodedUserdata =
  | {
      readonly opcode: 'put_dhcp_opts';
      /** The result field's NXM/OXM header and bit offset; `field` names the OVN base field when known (`xxreg0`). */
      readonly result: { readonly header: number; readonly field: string | undefined; readonly ofs: number };
      readonly offerIp: number;
      readonly options: readonly DhcpOptionTlv[];
    }
  | { readonly opcode: ActionOpcodeName; readonly code: number; readonly nested: Uint8Array }
  | { readonly opcode: ActionOpcodeName | undefined; readonly code: number; readonly payload: Uint8Array };

/**
 * Decodes controller-action userdata; payloads and option values are views
 * into `buf`. Lengths are checked before every read; malformed input throws
 * UserdataError (never a RangeError).
 */
export function decodeUserdata(buf: Uint8Array): DecodedUserdata {
  if (buf.length < USERDATA_HEADER_LEN) throw new UserdataError(`userdata too short: ${buf.length} bytes, need ${USERDATA_HEADER_LEN}`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const code = dv.getUint32(0);
  const name = OPCODE_NAMES.get(code);
  const payload = buf.subarray(USERDATA_HEADER_LEN);
  if (code === ACTION_OPCODE.put_dhcp_opts) return decodePutDhcpOpts(buf, dv);
  if (NESTED_OPCODES.has(code)) return { opcode: name!, code, nested: payload };
  return { opcode: name, code, payload };
}

function decodePutDhcpOpts(buf: Uint8Array, dv: DataView): DecodedUserdata {
  let at = USERDATA_HEADER_LEN;
  const needBytes = (n: number, what: string): void => {
    if (at + n > buf.length) throw new UserdataError(`put_dhcp_opts userdata truncated in ${what} at offset ${at}`);
  };
  needBytes(4, 'result field');
  const header = dv.getUint32(at);
  // An experimenter OXM (class 0xffff) carries a 4-byte experimenter id after the header.
  const headerLen = header >>> 16 === 0xffff ? 8 : 4;
  needBytes(headerLen + 4 + 4, 'result field');
  at += headerLen;
  const ofs = dv.getUint32(at);
  // NXM length byte: value bytes (doubled when the mask bit is set).
  const fieldBits = ((header & 0xff) * 8) / (header & 0x100 ? 2 : 1);
  if (ofs >= fieldBits) throw new UserdataError(`put_dhcp_opts result bit ${ofs} outside a ${fieldBits}-bit field`);
  at += 4;
  const offerIp = dv.getUint32(at);
  at += 4;
  const options: DhcpOptionTlv[] = [];
  while (at < buf.length) {
    needBytes(2, 'option header');
    const c = buf[at]!;
    const len = buf[at + 1]!;
    at += 2;
    needBytes(len, `option ${c}`);
    options.push({ code: c, data: buf.subarray(at, at + len) });
    at += len;
  }
  return { opcode: 'put_dhcp_opts', result: { header, field: HEADER_NAMES.get(header), ofs }, offerIp, options };
}
