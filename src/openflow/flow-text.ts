/**
 * The ovs-ofctl flow syntax for the structured model (ovs-ofctl(8) "Flow
 * Syntax", ovs-fields(7), ovs-actions(7)): a printer whose output
 * `ovs-ofctl add-flow` accepts, and a parser for what `ovs-ofctl dump-flows`
 * prints (and for the same syntax written by hand), for the fields and
 * actions in flow.ts.
 */
import {
  type Action,
  type Bucket,
  type FieldRef,
  type Flow,
  type GroupMod,
  OFPGT,
  type LearnAction,
  type LearnSpec,
  LEARN_FLAGS,
  type Match,
  type MatchField,
  type NatSpec,
  type NatSpecBuilder,
  type CtActionBuilder,
  FlowModelError,
  OFPFF,
  OFPP,
  PACKET_IN_REASON,
  type PacketInReason,
  fieldBits,
  fieldInfo,
  matchField,
  normalizeMatch,
  ones,
} from './flow.js';
import { anyField, fieldByRefName } from './fields.js';
import {
  formatIpv4,
  formatIpv6,
  formatMac,
  parseIpv4 as parseIpv4Text,
  parseIpv6 as parseIpv6Text,
  parseMac as parseMacText,
} from '../lib/address-text.js';

// ---------------------------------------------------------------- values

const PORT_NAMES: Record<string, number> = {
  IN_PORT: OFPP.IN_PORT,
  TABLE: OFPP.TABLE,
  NORMAL: OFPP.NORMAL,
  FLOOD: OFPP.FLOOD,
  ALL: OFPP.ALL,
  CONTROLLER: OFPP.CONTROLLER,
  LOCAL: OFPP.LOCAL,
  ANY: OFPP.ANY,
  NONE: OFPP.ANY,
  UNSET: OFPP.UNSET,
};

/** A port as ovs-ofctl prints it: reserved ports by name. */
export function formatPort(p: number): string {
  for (const [k, v] of Object.entries(PORT_NAMES)) if (v === p && k !== 'NONE') return k;
  return String(p);
}

function parsePort(s: string): number {
  const named = PORT_NAMES[s.toUpperCase()];
  if (named !== undefined) return named;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new FlowModelError(`${s}: bad port`);
  return n >= 0xff00 && n <= 0xffff ? n + 0xffff0000 : n;
}

function parseInt(s: string): bigint {
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(s)) throw new FlowModelError(`${s}: bad number`);
  return BigInt(s);
}

/** The address text forms are the logical-flow language's (inet_ntop's for IPv6, as OVS prints them); here a bad one is a model error. */
function addr(parse: (s: string) => bigint | undefined, what: string): (s: string) => bigint {
  return (s) => {
    const v = parse(s);
    if (v === undefined) throw new FlowModelError(`${s}: bad ${what} address`);
    return v;
  };
}
const parseMac = addr(parseMacText, 'Ethernet');
const parseIpv4 = addr(parseIpv4Text, 'IPv4');
const parseIpv6 = addr(parseIpv6Text, 'IPv6');

const CT_STATE_FLAGS: [string, bigint][] = [
  ['new', 0x01n],
  ['est', 0x02n],
  ['rel', 0x04n],
  ['rpl', 0x08n],
  ['inv', 0x10n],
  ['trk', 0x20n],
  ['snat', 0x40n],
  ['dnat', 0x80n],
];
const TCP_FLAGS: [string, bigint][] = [
  ['fin', 0x001n],
  ['syn', 0x002n],
  ['rst', 0x004n],
  ['psh', 0x008n],
  ['ack', 0x010n],
  ['urg', 0x020n],
  ['ece', 0x040n],
  ['cwr', 0x080n],
  ['ns', 0x100n],
];
const FRAG: [string, bigint, bigint][] = [
  ['no', 0n, 1n],
  ['yes', 1n, 1n],
  ['first', 1n, 3n],
  ['later', 3n, 3n],
  ['not_later', 0n, 2n],
];

function formatFlags(table: [string, bigint][], v: bigint, m: bigint): string {
  let out = '';
  for (const [name, bit] of table) if ((m & bit) !== 0n) out += `${(v & bit) !== 0n ? '+' : '-'}${name}`;
  return out;
}
function parseFlags(table: [string, bigint][], s: string): { value: bigint; mask: bigint } {
  let value = 0n;
  let mask = 0n;
  const re = /([+-])([a-z_]+)/g;
  let consumed = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const hit = table.find(([n]) => n === m[2]);
    if (hit === undefined) throw new FlowModelError(`${m[2]}: unknown flag`);
    mask |= hit[1];
    if (m[1] === '+') value |= hit[1];
    consumed += m[0].length;
  }
  if (consumed !== s.length) throw new FlowModelError(`${s}: bad flags`);
  return { value, mask };
}

/** `0x1f`, and `0` for zero, as OVS's `%#x` prints it. */
function hex(v: bigint): string {
  return v === 0n ? '0' : `0x${v.toString(16)}`;
}

/** `field=value[/mask]` as ovs-ofctl prints it. */
export function formatMatchField(x: MatchField): string {
  const info = fieldInfo(x.field);
  if (info === undefined) throw new FlowModelError(`${x.field}: unknown field`);
  const m = x.mask;
  const all = ones(info.bits);
  switch (info.format) {
    case 'ethernet':
      return `${x.field}=${formatMac(x.value)}${m === undefined ? '' : `/${formatMac(m)}`}`;
    case 'ipv4':
    case 'ipv6': {
      const fmt = info.format === 'ipv4' ? formatIpv4 : formatIpv6;
      if (m === undefined) return `${x.field}=${fmt(x.value)}`;
      const inv = all ^ m;
      const prefix = (inv & (inv + 1n)) === 0n ? info.bits - inv.toString(2).replace(/^0+/, '').length * (inv === 0n ? 0 : 1) : -1;
      return `${x.field}=${fmt(x.value)}/${prefix >= 0 ? prefix : fmt(m)}`;
    }
    case 'port':
      return `${x.field}=${formatPort(Number(x.value))}`;
    case 'ct_state':
      return `${x.field}=${formatFlags(CT_STATE_FLAGS, x.value, m ?? all)}`;
    case 'tcp_flags':
      return `${x.field}=${formatFlags(TCP_FLAGS, x.value, m ?? all)}`;
    case 'frag': {
      const f = FRAG.find(([, v, mm]) => v === x.value && mm === (m ?? all));
      return f !== undefined ? `nw_frag=${f[0]}` : `nw_frag=${hex(x.value)}${m === undefined ? '' : `/${hex(m)}`}`;
    }
    case 'decimal':
      // Masked, OVS prints both in hex.
      return m === undefined ? `${x.field}=${x.value}` : `${x.field}=${hex(x.value)}/${hex(m)}`;
    default:
      return `${x.field}=${hex(x.value)}${m === undefined ? '' : `/${hex(m)}`}`;
  }
}

const PROTO_NAMES: [string, bigint, bigint | undefined][] = [
  ['ip', 0x0800n, undefined],
  ['tcp', 0x0800n, 6n],
  ['udp', 0x0800n, 17n],
  ['icmp', 0x0800n, 1n],
  ['sctp', 0x0800n, 132n],
  ['ipv6', 0x86ddn, undefined],
  ['tcp6', 0x86ddn, 6n],
  ['udp6', 0x86ddn, 17n],
  ['icmp6', 0x86ddn, 58n],
  ['sctp6', 0x86ddn, 132n],
  ['arp', 0x0806n, undefined],
  ['rarp', 0x8035n, undefined],
  ['mpls', 0x8847n, undefined],
  ['mplsm', 0x8848n, undefined],
];

/**
 * The order ovs-ofctl prints match fields in (OVS's match_format, checked
 * with `ovs-ofctl parse-flow`): packet mark, recirculation and conjunction
 * ids and conntrack, then the protocol shorthand, registers, tunnel,
 * datapath, port, L2, L3, L4. Fields not listed follow.
 */
const PRINT_BEFORE_PROTO = [
  'pkt_mark',
  'recirc_id',
  'dp_hash',
  'conj_id',
  'skb_priority',
  'actset_output',
  'ct_state',
  'ct_zone',
  'ct_mark',
  'ct_label',
  'ct_nw_src',
  'ct_nw_dst',
  'ct_ipv6_src',
  'ct_ipv6_dst',
  'ct_nw_proto',
  'ct_tp_src',
  'ct_tp_dst',
];
const PRINT_AFTER_PROTO = [
  ...Array.from({ length: 16 }, (_, i) => `reg${i}`),
  'tun_id',
  'tun_src',
  'tun_dst',
  'tun_ipv6_src',
  'tun_ipv6_dst',
  'tun_flags',
  ...Array.from({ length: 64 }, (_, i) => `tun_metadata${i}`),
  'metadata',
  'in_port',
  'vlan_tci',
  'dl_src',
  'dl_dst',
  'dl_type',
  'mpls_label',
  'ipv6_src',
  'ipv6_dst',
  'ipv6_label',
  'nw_src',
  'nw_dst',
  'arp_spa',
  'arp_tpa',
  'nw_proto',
  'arp_op',
  'arp_sha',
  'arp_tha',
  'nw_tos',
  'nw_ecn',
  'nw_ttl',
  'ip_frag',
  'icmp_type',
  'icmp_code',
  'icmpv6_type',
  'icmpv6_code',
  'tcp_src',
  'tcp_dst',
  'udp_src',
  'udp_dst',
  'sctp_src',
  'sctp_dst',
  'tcp_flags',
  'nd_target',
  'nd_sll',
  'nd_tll',
];
const PRINT_RANK: ReadonlyMap<string, number> = new Map([...PRINT_BEFORE_PROTO, ...PRINT_AFTER_PROTO].map((n, i) => [n, i]));
const rankOf = (x: MatchField): number => PRINT_RANK.get(x.field) ?? PRINT_RANK.size;

/** Names ovs-ofctl prints for L4 fields once the protocol is known (`tcp,tp_dst=80`, `icmp6,icmp_type=135`). */
const L4_PRINT_NAME: Readonly<Record<string, string>> = {
  tcp_src: 'tp_src',
  tcp_dst: 'tp_dst',
  udp_src: 'tp_src',
  udp_dst: 'tp_dst',
  sctp_src: 'tp_src',
  sctp_dst: 'tp_dst',
  icmpv6_type: 'icmp_type',
  icmpv6_code: 'icmp_code',
};

/** A match in ovs-ofctl syntax, with `ip`/`tcp`/`arp`... shorthands and `dl_vlan` where they apply, in OVS's order. */
export function formatMatch(match: Match): string {
  const parts: string[] = [];
  const fields = normalizeMatch(match);
  const before = fields.filter((x) => PRINT_BEFORE_PROTO.includes(x.field)).sort((a, b) => rankOf(a) - rankOf(b));
  for (const x of before) parts.push(formatMatchField(x));
  let rest = fields.filter((x) => !PRINT_BEFORE_PROTO.includes(x.field)).sort((a, b) => rankOf(a) - rankOf(b));
  const dlType = rest.find((x) => x.field === 'dl_type' && x.mask === undefined);
  const proto = rest.find((x) => x.field === 'nw_proto' && x.mask === undefined);
  if (dlType !== undefined) {
    const withProto = proto === undefined ? undefined : PROTO_NAMES.find(([, t, p]) => t === dlType.value && p === proto.value);
    const plain = PROTO_NAMES.find(([, t, p]) => t === dlType.value && p === undefined);
    if (withProto !== undefined) {
      parts.push(withProto[0]);
      rest = rest.filter((x) => x !== dlType && x !== proto);
    } else if (plain !== undefined) {
      parts.push(plain[0]);
      rest = rest.filter((x) => x !== dlType);
    }
  }
  for (const x of rest) {
    if (x.field === 'ipv6_label' && x.mask === undefined) {
      parts.push(`ipv6_label=0x${x.value.toString(16).padStart(5, '0')}`);
      continue;
    }
    if (x.field === 'vlan_tci') {
      if (x.mask === 0x1fffn && (x.value & 0x1000n) !== 0n) parts.push(`dl_vlan=${x.value & 0xfffn}`);
      else if (x.mask === 0xf000n && (x.value & 0x1000n) !== 0n) parts.push(`dl_vlan_pcp=${x.value >> 13n}`);
      else if (x.mask === undefined && (x.value & 0x1000n) !== 0n) parts.push(`dl_vlan=${x.value & 0xfffn},dl_vlan_pcp=${x.value >> 13n}`);
      else parts.push(`vlan_tci=${pad4(x.value)}${x.mask === undefined ? '' : `/${pad4(x.mask)}`}`);
      continue;
    }
    const l4 = L4_PRINT_NAME[x.field];
    const text = formatMatchField(x);
    parts.push(l4 === undefined ? text : l4 + text.slice(x.field.length));
  }
  return parts.join(',');
}

/** vlan_tci as OVS prints it: four hex digits. */
function pad4(v: bigint): string {
  return `0x${v.toString(16).padStart(4, '0')}`;
}

/** Parses `value[/mask]` of `name` (any OVS spelling) into canonical fields. */
export function parseMatchField(name: string, text: string): MatchField[] {
  if (name === 'nw_frag' || name === 'ip_frag') {
    const f = FRAG.find(([n]) => n === text);
    if (f !== undefined) return [{ field: 'ip_frag', value: f[1], mask: f[2] }];
  }
  if (name === 'tp_src' || name === 'tp_dst') throw new FlowModelError(`${name}: write tcp_/udp_/sctp_ instead`);
  const canonicalName =
    name === 'ip_dscp' ||
    name === 'vlan_pcp' ||
    name === 'dl_vlan_pcp' ||
    name === 'dl_vlan' ||
    name === 'vlan_vid' ||
    /^x?xreg\d$/.test(name) ||
    name === 'ip_ecn' ||
    name === 'nw_frag'
      ? undefined
      : name;
  const info = canonicalName === undefined ? undefined : fieldInfo(aliasOf(canonicalName));
  const [vs, ms] = splitMask(text);
  if (info !== undefined) {
    const fname = info.name;
    switch (info.format) {
      case 'ethernet':
        return matchField(fname, parseMac(vs), ms === undefined ? undefined : parseMac(ms));
      case 'ipv4':
      case 'ipv6': {
        const p = info.format === 'ipv4' ? parseIpv4 : parseIpv6;
        const v = p(vs);
        if (ms === undefined) return matchField(fname, v);
        const mask = /^\d+$/.test(ms) ? (Number(ms) === 0 ? 0n : ones(Number(ms)) << BigInt(info.bits - Number(ms))) : p(ms);
        if (mask === 0n) return [];
        return matchField(fname, v & mask, mask);
      }
      case 'port':
        return [{ field: fname, value: BigInt(parsePort(text)) }];
      case 'ct_state':
      case 'tcp_flags':
        if (/^[+-]/.test(text)) {
          const { value, mask } = parseFlags(info.format === 'ct_state' ? CT_STATE_FLAGS : TCP_FLAGS, text);
          return matchField(fname, value, mask);
        }
        break;
      default:
        break;
    }
    return matchField(fname, parseInt(vs), ms === undefined ? undefined : parseInt(ms));
  }
  return matchField(name, parseInt(vs), ms === undefined ? undefined : parseInt(ms));
}

function aliasOf(name: string): string {
  const a: Record<string, string> = {
    eth_src: 'dl_src',
    eth_dst: 'dl_dst',
    eth_type: 'dl_type',
    ip_src: 'nw_src',
    ip_dst: 'nw_dst',
    ip_proto: 'nw_proto',
    ipv4_src: 'nw_src',
    ipv4_dst: 'nw_dst',
    tun_ipv4_src: 'tun_src',
    tun_ipv4_dst: 'tun_dst',
    icmpv4_type: 'icmp_type',
    icmpv4_code: 'icmp_code',
    ip_ttl: 'nw_ttl',
    nw_frag: 'ip_frag',
  };
  return a[name] ?? name;
}

function splitMask(s: string): [string, string | undefined] {
  const i = s.indexOf('/');
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

// ---------------------------------------------------------------- field refs

/** The reference name of a field (`NXM_OF_ETH_SRC` for dl_src; `in_port` is NXM_OF_IN_PORT, `in_port_oxm` OXM_OF_IN_PORT). */
function nxmName(field: string): string {
  return anyField(field)?.refName ?? field;
}
/** The field a reference names: an NXM/OXM name, or a field name (any OVS spelling). */
function fieldOfName(name: string): string {
  return fieldByRefName(name)?.name ?? aliasOf(name);
}

/** `NXM_NX_REG13[0..15]`-style reference (whole field: `[]`, one bit: `[n]`). */
export function formatFieldRef(r: FieldRef): string {
  const bits = fieldBits(r.field);
  const range = r.ofs === 0 && r.nBits === bits ? '' : r.nBits === 1 ? String(r.ofs) : `${r.ofs}..${r.ofs + r.nBits - 1}`;
  return `${nxmName(r.field)}[${range}]`;
}
export function parseFieldRef(s: string): FieldRef {
  const m = /^([A-Za-z0-9_]+)\[(?:(\d+)(?:\.\.(\d+))?)?\]$/.exec(s.trim());
  if (m === null) throw new FlowModelError(`${s}: bad field reference`);
  const field = fieldOfName(m[1] ?? '');
  const bits = fieldBits(field);
  if (m[2] === undefined) return { field, ofs: 0, nBits: bits };
  const lo = Number(m[2]);
  const hi = m[3] === undefined ? lo : Number(m[3]);
  if (hi < lo || hi >= bits) throw new FlowModelError(`${s}: bit range outside the ${bits}-bit field`);
  return { field, ofs: lo, nBits: hi - lo + 1 };
}

// ---------------------------------------------------------------- actions

function formatSetFieldValue(field: string, v: bigint): string {
  const info = fieldInfo(field);
  if (info?.format === 'ethernet') return formatMac(v);
  if (info?.format === 'ipv4') return formatIpv4(v);
  if (info?.format === 'ipv6') return formatIpv6(v);
  if (info?.format === 'port' || field === 'in_port_oxm') return formatPort(Number(v));
  if (field === 'vlan_vid' || field === 'vlan_pcp' || info?.format === 'decimal') return String(v);
  return hex(v);
}

function formatBytes(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('.');
}
function parseBytes(s: string): Uint8Array {
  const clean = s.replace(/\./g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new FlowModelError(`${s}: bad hex bytes`);
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

function formatNat(n: NatSpec): string {
  if (n.kind === undefined) return 'nat';
  const ip = n.ipv6 === true ? formatIpv6 : formatIpv4;
  // No range: `nat(src)`, NAT to the connection's own addresses (OVN's ct_snat/ct_dnat without an address).
  let s = n.ipMin === undefined ? n.kind : `${n.kind}=`;
  const ports = n.portMin !== undefined;
  const wrap = (x: string): string => (n.ipv6 === true && ports ? `[${x}]` : x);
  if (n.ipMin !== undefined) s += wrap(ip(n.ipMin));
  if (n.ipMax !== undefined && n.ipMax !== n.ipMin) s += `-${wrap(ip(n.ipMax))}`;
  if (n.portMin !== undefined) s += `:${n.portMin}`;
  if (n.portMax !== undefined && n.portMax !== n.portMin) s += `-${n.portMax}`;
  const flags = [n.persistent === true ? 'persistent' : '', n.hash === true ? 'hash' : '', n.random === true ? 'random' : ''].filter(
    (x) => x !== '',
  );
  return `nat(${[s, ...flags].join(',')})`;
}

/** One action in ovs-ofctl syntax. */
export function formatAction(a: Action): string {
  switch (a.type) {
    case 'output':
      return a.port === OFPP.IN_PORT ? 'IN_PORT' : a.port >= 0xffffff00 ? formatPort(a.port) : `output:${a.port}`;
    case 'output_reg':
      return `output:${formatFieldRef(a.src)}`;
    case 'controller': {
      const parts: string[] = [];
      if (a.reason !== undefined && a.reason !== 'action') parts.push(`reason=${a.reason}`);
      if (a.maxLen !== undefined && a.maxLen !== 0xffff) parts.push(`max_len=${a.maxLen}`);
      if (a.id !== undefined && a.id !== 0) parts.push(`id=${a.id}`);
      if (a.userdata !== undefined && a.userdata.length > 0) parts.push(`userdata=${formatBytes(a.userdata)}`);
      if (a.pause === true) parts.push('pause');
      if (a.meterId !== undefined) parts.push(`meter_id=${a.meterId}`);
      if (parts.length === 0 || (parts.length === 1 && a.maxLen !== undefined && parts[0] === `max_len=${a.maxLen}`))
        return `CONTROLLER:${a.maxLen ?? 65535}`;
      return `controller(${parts.join(',')})`;
    }
    case 'resubmit': {
      const port = a.port === undefined || a.port === OFPP.IN_PORT ? '' : formatPort(a.port);
      if (port !== '' && a.table === undefined && a.ct !== true) return `resubmit:${port}`;
      return `resubmit(${port},${a.table === undefined ? '' : a.table}${a.ct === true ? ',ct' : ''})`;
    }
    case 'set_field':
      return `set_field:${formatSetFieldValue(a.field, a.value)}${a.mask === undefined ? '' : `/${formatSetFieldValue(a.field, a.mask)}`}->${anyField(a.field)?.setName ?? a.field}`;
    case 'load':
      return `load:${hex(a.value)}->${formatFieldRef(a.dst)}`;
    case 'move':
      return `move:${formatFieldRef(a.src)}->${formatFieldRef(a.dst)}`;
    case 'push_vlan':
      return `push_vlan:${hex(BigInt(a.ethertype))}`;
    case 'pop_vlan':
      return 'pop_vlan';
    case 'set_tunnel':
      return `set_tunnel64:${hex(a.tunId)}`;
    case 'conjunction':
      return `conjunction(${a.id},${a.clause}/${a.nClauses})`;
    case 'ct': {
      const parts: string[] = [];
      if (a.commit === true) parts.push('commit');
      if (a.force === true) parts.push('force');
      if (a.table !== undefined) parts.push(`table=${a.table}`);
      if (a.zone !== undefined) parts.push(`zone=${typeof a.zone === 'number' ? a.zone : formatFieldRef(a.zone)}`);
      if (a.alg !== undefined) parts.push(`alg=${a.alg === 21 ? 'ftp' : a.alg === 69 ? 'tftp' : a.alg}`);
      if (a.nat !== undefined) parts.push(formatNat(a.nat));
      if (a.exec !== undefined && a.exec.length > 0) parts.push(`exec(${formatActions(a.exec)})`);
      return parts.length === 0 ? 'ct' : `ct(${parts.join(',')})`;
    }
    case 'ct_clear':
      return 'ct_clear';
    case 'dec_ttl':
      return a.ids === undefined ? 'dec_ttl' : `dec_ttl(${a.ids.join(',')})`;
    case 'note':
      return `note:${formatBytes(a.data)}`;
    case 'group':
      return `group:${a.groupId}`;
    case 'meter':
      return `meter:${a.meterId}`;
    case 'push':
      return `push:${formatFieldRef(a.src)}`;
    case 'pop':
      return `pop:${formatFieldRef(a.dst)}`;
    case 'check_pkt_larger':
      return `check_pkt_larger(${a.pktLen})->${formatFieldRef(a.dst)}`;
    case 'clone':
      return `clone(${formatActions(a.actions)})`;
    case 'exit':
      return 'exit';
    case 'learn':
      return formatLearn(a);
  }
}

function formatLearnSpec(sp: LearnSpec): string {
  const src = 'field' in sp.src ? formatFieldRef(sp.src) : undefined;
  if (sp.kind === 'output') return `output:${src ?? hex('value' in sp.src ? sp.src.value : 0n)}`;
  const dst = sp.dst;
  if (dst === undefined) throw new FlowModelError(`learn: ${sp.kind} without a destination`);
  const immediate = 'value' in sp.src ? sp.src.value : undefined;
  if (sp.kind === 'load') return `load:${src ?? hex(immediate ?? 0n)}->${formatFieldRef(dst)}`;
  if (src !== undefined)
    return 'field' in sp.src && sp.src.field === dst.field && sp.src.ofs === dst.ofs ? src : `${formatFieldRef(dst)}=${src}`;
  const whole = dst.ofs === 0 && dst.nBits === fieldBits(dst.field) && fieldInfo(dst.field) !== undefined;
  return whole
    ? `${fieldInfo(dst.field)?.setName ?? dst.field}=${formatSetFieldValue(dst.field, immediate ?? 0n)}`
    : `${formatFieldRef(dst)}=${hex(immediate ?? 0n)}`;
}

function formatLearn(a: LearnAction): string {
  const parts = [`table=${a.table}`];
  if (a.idleTimeout !== undefined) parts.push(`idle_timeout=${a.idleTimeout}`);
  if (a.hardTimeout !== undefined) parts.push(`hard_timeout=${a.hardTimeout}`);
  if (a.finIdleTimeout !== undefined) parts.push(`fin_idle_timeout=${a.finIdleTimeout}`);
  if (a.finHardTimeout !== undefined) parts.push(`fin_hard_timeout=${a.finHardTimeout}`);
  if (a.priority !== undefined) parts.push(`priority=${a.priority}`);
  if (((a.flags ?? 0) & LEARN_FLAGS.SEND_FLOW_REM) !== 0) parts.push('send_flow_rem');
  if (((a.flags ?? 0) & LEARN_FLAGS.DELETE_LEARNED) !== 0) parts.push('delete_learned');
  if (a.cookie !== undefined && a.cookie !== 0n) parts.push(`cookie=${hex(a.cookie)}`);
  for (const sp of a.specs) parts.push(formatLearnSpec(sp));
  return `learn(${parts.join(',')})`;
}

function parseLearn(body: string): LearnAction {
  const a: {
    type: 'learn';
    table: number;
    priority?: number;
    idleTimeout?: number;
    hardTimeout?: number;
    finIdleTimeout?: number;
    finHardTimeout?: number;
    cookie?: bigint;
    flags?: number;
    specs: LearnSpec[];
  } = { type: 'learn', table: 1, specs: [] };
  let flags = 0;
  const num: Record<string, 'priority' | 'idleTimeout' | 'hardTimeout' | 'finIdleTimeout' | 'finHardTimeout'> = {
    priority: 'priority',
    idle_timeout: 'idleTimeout',
    hard_timeout: 'hardTimeout',
    fin_idle_timeout: 'finIdleTimeout',
    fin_hard_timeout: 'finHardTimeout',
  };
  for (const arg of splitTop(body)) {
    const kv = /^([a-z_]+)=(.*)$/.exec(arg);
    const key = kv?.[1] ?? '';
    if (arg === 'send_flow_rem') flags |= LEARN_FLAGS.SEND_FLOW_REM;
    else if (arg === 'delete_learned') flags |= LEARN_FLAGS.DELETE_LEARNED;
    else if (key === 'table') a.table = Number(kv?.[2]);
    else if (key === 'cookie') a.cookie = parseInt(kv?.[2] ?? '');
    else if (num[key] !== undefined) a[num[key]] = Number(kv?.[2]);
    else if (arg.startsWith('load:')) {
      const m = /^load:(.+)->(.+)$/.exec(arg);
      if (m === null) throw new FlowModelError(`learn: ${arg}: bad load`);
      const dst = parseFieldRef(m[2] ?? '');
      const srcText = m[1] ?? '';
      a.specs.push({
        kind: 'load',
        src: srcText.includes('[') ? parseFieldRef(srcText) : { value: parseInt(srcText), nBits: dst.nBits },
        dst,
      });
    } else if (arg.startsWith('output:')) a.specs.push({ kind: 'output', src: parseFieldRef(arg.slice(7)) });
    else if (/^[A-Za-z0-9_]+\[[^\]]*\]$/.test(arg)) {
      const r = parseFieldRef(arg);
      a.specs.push({ kind: 'match', src: r, dst: r });
    } else {
      const m = /^([A-Za-z0-9_]+(?:\[[^\]]*\])?)=(.+)$/.exec(arg);
      if (m === null) throw new FlowModelError(`learn: ${arg}: unknown argument`);
      const lhs = m[1] ?? '';
      const rhs = m[2] ?? '';
      const dst = lhs.includes('[') ? parseFieldRef(lhs) : fieldRefWhole(aliasOf(lhs));
      if (rhs.includes('[')) a.specs.push({ kind: 'match', src: parseFieldRef(rhs), dst });
      else a.specs.push({ kind: 'match', src: { value: parseValueFor(dst.field, rhs), nBits: dst.nBits }, dst });
    }
  }
  if (flags !== 0) a.flags = flags;
  return a;
}

function fieldRefWhole(field: string): FieldRef {
  return { field, ofs: 0, nBits: fieldBits(field) };
}

/** An action list in ovs-ofctl syntax; the empty list is `drop`. */
export function formatActions(actions: readonly Action[]): string {
  return actions.length === 0 ? 'drop' : actions.map(formatAction).join(',');
}

/** Splits on commas outside parentheses and brackets. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

function parseValueFor(field: string, s: string): bigint {
  const info = fieldInfo(aliasOf(field));
  if (info?.format === 'ethernet' && s.includes(':')) return parseMac(s);
  if (info?.format === 'ipv4' && s.includes('.')) return parseIpv4(s);
  if (info?.format === 'ipv6' && s.includes(':')) return parseIpv6(s);
  if (info?.format === 'port' || field === 'in_port_oxm') return BigInt(parsePort(s));
  return parseInt(s);
}

function parseNat(body: string | undefined): NatSpec {
  if (body === undefined || body === '') return {};
  const n: NatSpecBuilder = {};
  for (const arg of splitTop(body)) {
    if (arg === 'persistent' || arg === 'hash' || arg === 'random') {
      n[arg] = true;
      continue;
    }
    const m = /^(src|dst)(?:=(.*))?$/.exec(arg);
    if (m === null) throw new FlowModelError(`nat: ${arg}: unknown argument`);
    n.kind = m[1] as 'src' | 'dst';
    const spec = m[2];
    if (spec === undefined) continue;
    let addrs = spec;
    let ports: string | undefined;
    const b = /^(\[[^\]]+\](?:-\[[^\]]+\])?)(?::(.*))?$/.exec(spec);
    if (b !== null) {
      addrs = (b[1] ?? '').replace(/[[\]]/g, '');
      ports = b[2];
    } else if (!spec.includes('::') && spec.split(':').length === 2) {
      [addrs, ports] = spec.split(':') as [string, string];
    }
    const [lo, hi] = addrs.split('-') as [string, string | undefined];
    const v6 = lo.includes(':');
    const p = v6 ? parseIpv6 : parseIpv4;
    if (v6) n.ipv6 = true;
    n.ipMin = p(lo);
    n.ipMax = hi === undefined ? n.ipMin : p(hi);
    if (ports !== undefined) {
      const [plo, phi] = ports.split('-') as [string, string | undefined];
      n.portMin = Number(plo);
      n.portMax = phi === undefined ? n.portMin : Number(phi);
    }
  }
  return n;
}

/** One action from ovs-ofctl syntax. */
export function parseAction(s: string): Action {
  const t = s.trim();
  const call = /^([a-z_0-9]+)\((.*)\)$/s.exec(t);
  const colon = /^([a-z_0-9]+):(.*)$/s.exec(t);
  if (t === 'drop') throw new FlowModelError('drop must be the only action');
  if (t === 'pop_vlan' || t === 'strip_vlan') return { type: 'pop_vlan' };
  if (t === 'ct_clear') return { type: 'ct_clear' };
  if (t === 'dec_ttl') return { type: 'dec_ttl' };
  if (t === 'exit') return { type: 'exit' };
  if (t === 'ct') return { type: 'ct' };
  if (t === 'controller') return { type: 'controller' };
  if (/^[A-Z_]+$/.test(t) && PORT_NAMES[t] !== undefined)
    return t === 'CONTROLLER' ? { type: 'controller' } : { type: 'output', port: PORT_NAMES[t] };
  if (/^\d+$/.test(t)) return { type: 'output', port: parsePort(t) };
  const cm = /^CONTROLLER:(\d+)$/.exec(t);
  if (cm !== null) return Number(cm[1]) === 65535 ? { type: 'controller' } : { type: 'controller', maxLen: Number(cm[1]) };
  const cpl = /^check_pkt_larger\((\d+)\)->(.+)$/.exec(t);
  if (cpl !== null) return { type: 'check_pkt_larger', pktLen: Number(cpl[1]), dst: parseFieldRef(cpl[2] ?? '') };
  if (call !== null) {
    const [, name, body = ''] = call;
    const args = splitTop(body);
    switch (name) {
      case 'resubmit': {
        const [port = '', table = '', ct] = body.split(',');
        const a: { type: 'resubmit'; port?: number; table?: number; ct?: boolean } = { type: 'resubmit' };
        if (port !== '' && parsePort(port) !== OFPP.IN_PORT) a.port = parsePort(port);
        if (table !== '' && table !== '255') a.table = Number(table);
        if (ct === 'ct') a.ct = true;
        return a;
      }
      case 'conjunction': {
        const m = /^(\d+),(\d+)\/(\d+)$/.exec(body);
        if (m === null) throw new FlowModelError(`conjunction(${body}): bad arguments`);
        return { type: 'conjunction', id: Number(m[1]), clause: Number(m[2]), nClauses: Number(m[3]) };
      }
      case 'controller': {
        const a: {
          type: 'controller';
          maxLen?: number;
          id?: number;
          reason?: PacketInReason;
          userdata?: Uint8Array;
          pause?: boolean;
          meterId?: number;
        } = { type: 'controller' };
        for (const arg of args) {
          const [k, v = ''] = arg.split('=') as [string, string | undefined];
          if (k === 'pause') a.pause = true;
          else if (k === 'max_len') a.maxLen = Number(v);
          else if (k === 'id') a.id = Number(v);
          else if (k === 'meter_id') a.meterId = Number(v);
          else if (k === 'userdata') a.userdata = parseBytes(v);
          else if (k === 'reason') {
            if (!(v in PACKET_IN_REASON)) throw new FlowModelError(`controller: unknown reason ${v}`);
            a.reason = v as PacketInReason;
          } else throw new FlowModelError(`controller: unknown argument ${arg}`);
        }
        if (a.maxLen === 65535) delete a.maxLen;
        if (a.reason === 'action') delete a.reason;
        if (a.id === 0) delete a.id;
        return a;
      }
      case 'ct': {
        const a: CtActionBuilder = { type: 'ct' };
        for (const arg of args) {
          if (arg === 'commit') a.commit = true;
          else if (arg === 'force') a.force = true;
          else if (arg === 'nat' || arg.startsWith('nat(')) a.nat = parseNat(/^nat\((.*)\)$/s.exec(arg)?.[1]);
          else if (arg.startsWith('exec(')) a.exec = parseActions(arg.slice(5, -1));
          else if (arg.startsWith('zone=')) {
            const z = arg.slice(5);
            a.zone = /^\d+$|^0x/.test(z) ? Number(z) : parseFieldRef(z);
          } else if (arg.startsWith('table=')) a.table = Number(arg.slice(6));
          else if (arg.startsWith('alg=')) {
            const v = arg.slice(4);
            a.alg = v === 'ftp' ? 21 : v === 'tftp' ? 69 : Number(v);
          } else throw new FlowModelError(`ct: unknown argument ${arg}`);
        }
        return a;
      }
      case 'dec_ttl':
        return { type: 'dec_ttl', ids: args.map(Number) };
      case 'clone':
        return { type: 'clone', actions: parseActions(body) };
      case 'learn':
        return parseLearn(body);
      default:
        break;
    }
  }
  if (colon !== null) {
    const [, name, arg = ''] = colon;
    switch (name) {
      case 'output':
        return /\[/.test(arg) ? { type: 'output_reg', src: parseFieldRef(arg) } : { type: 'output', port: parsePort(arg) };
      case 'set_field': {
        const m = /^(.+)->([a-z_0-9]+)$/.exec(arg);
        if (m === null) throw new FlowModelError(`set_field:${arg}: bad syntax`);
        const field = aliasOf(m[2] ?? '');
        const [vs, ms] = splitMask(m[1] ?? '');
        const value = parseValueFor(field, vs);
        return ms === undefined ? { type: 'set_field', field, value } : { type: 'set_field', field, value, mask: parseValueFor(field, ms) };
      }
      case 'load': {
        const m = /^(.+)->(.+)$/.exec(arg);
        if (m === null) throw new FlowModelError(`load:${arg}: bad syntax`);
        return { type: 'load', dst: parseFieldRef(m[2] ?? ''), value: parseInt(m[1] ?? '') };
      }
      case 'move': {
        const m = /^(.+)->(.+)$/.exec(arg);
        if (m === null) throw new FlowModelError(`move:${arg}: bad syntax`);
        return { type: 'move', src: parseFieldRef(m[1] ?? ''), dst: parseFieldRef(m[2] ?? '') };
      }
      case 'push_vlan':
        return { type: 'push_vlan', ethertype: Number(arg) };
      case 'set_tunnel':
      case 'set_tunnel64':
        return { type: 'set_tunnel', tunId: parseInt(arg) };
      case 'note':
        return { type: 'note', data: parseBytes(arg) };
      case 'group':
        return { type: 'group', groupId: Number(arg) };
      case 'meter':
        return { type: 'meter', meterId: Number(arg) };
      case 'push':
        return { type: 'push', src: parseFieldRef(arg) };
      case 'pop':
        return { type: 'pop', dst: parseFieldRef(arg) };
      case 'resubmit':
        return { type: 'resubmit', port: parsePort(arg) };
      default:
        break;
    }
  }
  throw new FlowModelError(`${t}: unknown action`);
}

/** An action list (`drop` or empty: no actions). */
export function parseActions(s: string): Action[] {
  const t = s.trim();
  if (t === '' || t === 'drop') return [];
  return splitTop(t).map(parseAction);
}

// ---------------------------------------------------------------- flows

const FLAG_NAMES: [string, number][] = [
  ['send_flow_rem', OFPFF.SEND_FLOW_REM],
  ['check_overlap', OFPFF.CHECK_OVERLAP],
  ['reset_counts', OFPFF.RESET_COUNTS],
  ['no_packet_counts', OFPFF.NO_PKT_COUNTS],
  ['no_byte_counts', OFPFF.NO_BYT_COUNTS],
];

/** A flow in `ovs-ofctl add-flow` syntax. */
export function formatFlow(f: Flow): string {
  const parts = [`table=${f.table}`, `priority=${f.priority}`];
  if (f.cookie !== 0n) parts.unshift(`cookie=${hex(f.cookie)}`);
  if (f.idleTimeout !== undefined && f.idleTimeout !== 0) parts.push(`idle_timeout=${f.idleTimeout}`);
  if (f.hardTimeout !== undefined && f.hardTimeout !== 0) parts.push(`hard_timeout=${f.hardTimeout}`);
  if (f.importance !== undefined && f.importance !== 0) parts.push(`importance=${f.importance}`);
  for (const [n, bit] of FLAG_NAMES) if (((f.flags ?? 0) & bit) !== 0) parts.push(n);
  const m = formatMatch(f.match);
  if (m !== '') parts.push(m);
  return `${parts.join(',')} actions=${formatActions(f.actions)}`;
}

const STAT_KEYS = new Set(['duration', 'n_packets', 'n_bytes', 'idle_age', 'hard_age']);

/**
 * A flow from one `ovs-ofctl dump-flows` line (statistics ignored) or from
 * `add-flow` syntax. Throws {@link FlowModelError} on anything it does not know.
 */
export function parseFlow(line: string): Flow {
  const i = line.indexOf('actions=');
  if (i < 0) throw new FlowModelError(`${line.trim()}: no actions`);
  const head = line.slice(0, i).trim().replace(/,$/, '');
  const actions = parseActions(line.slice(i + 'actions='.length));
  let table = 0;
  let priority = 0x8000;
  let cookie = 0n;
  let flags = 0;
  const extra: { idleTimeout?: number; hardTimeout?: number; importance?: number } = {};
  const fields: MatchField[] = [];
  for (const raw of splitTop(head.replace(/\s+/g, ','))) {
    const p = raw.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    const key = eq < 0 ? p : p.slice(0, eq);
    const val = eq < 0 ? '' : p.slice(eq + 1);
    if (STAT_KEYS.has(key)) continue;
    if (key === 'table') table = Number(val);
    else if (key === 'priority') priority = Number(val);
    else if (key === 'cookie') cookie = parseInt(val.split('/')[0] ?? '0');
    else if (key === 'idle_timeout') extra.idleTimeout = Number(val);
    else if (key === 'hard_timeout') extra.hardTimeout = Number(val);
    else if (key === 'importance') extra.importance = Number(val);
    else if (eq < 0 && key.startsWith('cookie:')) cookie = parseInt(key.slice(7).split('/')[0] ?? '0');
    else if (eq < 0) {
      const flag = FLAG_NAMES.find(([n]) => n === key);
      const proto = PROTO_NAMES.find(([n]) => n === key);
      if (flag !== undefined) flags |= flag[1];
      else if (proto !== undefined) {
        fields.push({ field: 'dl_type', value: proto[1] });
        if (proto[2] !== undefined) fields.push({ field: 'nw_proto', value: proto[2] });
      } else throw new FlowModelError(`${key}: unknown keyword`);
    } else if (key === 'tp_src' || key === 'tp_dst') {
      const proto = fields.find((x) => x.field === 'nw_proto')?.value;
      const pre = proto === 6n ? 'tcp' : proto === 17n ? 'udp' : proto === 132n ? 'sctp' : undefined;
      if (pre === undefined) throw new FlowModelError(`${key}: needs tcp, udp or sctp first`);
      fields.push(...parseMatchField(`${pre}_${key.slice(3)}`, val));
    } else fields.push(...parseMatchField(key, val));
  }
  // ovs-ofctl prints ICMPv6 type/code as icmp_type/icmp_code under icmp6.
  const v6 = fields.some((x) => x.field === 'dl_type' && x.value === 0x86ddn);
  const renamed = v6
    ? fields.map((x) => (x.field === 'icmp_type' || x.field === 'icmp_code' ? { ...x, field: x.field.replace('icmp_', 'icmpv6_') } : x))
    : fields;
  return {
    table,
    priority,
    cookie,
    match: normalizeMatch(renamed),
    actions,
    ...(extra.idleTimeout ? { idleTimeout: extra.idleTimeout } : {}),
    ...(extra.hardTimeout ? { hardTimeout: extra.hardTimeout } : {}),
    ...(extra.importance ? { importance: extra.importance } : {}),
    ...(flags !== 0 ? { flags } : {}),
  };
}

// ---------------------------------------------------------------- groups

/** A group in ovs-ofctl(8) "Group Syntax" (as `dump-groups` prints it for OpenFlow 1.5). */
export function formatGroup(g: Omit<GroupMod, 'command'>): string {
  const parts = [`group_id=${g.groupId}`, `type=${g.type}`];
  g.buckets.forEach((b, i) => {
    const bp = [`bucket_id:${b.bucketId ?? i}`];
    if (b.weight !== undefined) bp.push(`weight:${b.weight}`);
    if (b.watchPort !== undefined) bp.push(`watch_port:${formatPort(b.watchPort)}`);
    bp.push(`actions=${formatActions(b.actions)}`);
    parts.push(`bucket=${bp.join(',')}`);
  });
  return parts.join(',');
}

/** A group from one `ovs-ofctl dump-groups` line or from add-group syntax. */
export function parseGroup(line: string): Omit<GroupMod, 'command'> {
  const text = line.trim();
  const pieces = splitTop(text);
  let groupId: number | undefined;
  let type: keyof typeof OFPGT = 'all';
  const buckets: Bucket[] = [];
  let i = 0;
  while (i < pieces.length) {
    const p = pieces[i] ?? '';
    if (p.startsWith('bucket=')) {
      const b: { bucketId?: number; weight?: number; watchPort?: number; actions: Action[] } = { actions: [] };
      let cur = p.slice('bucket='.length);
      for (;;) {
        const kv = /^([a-z_]+)[:=](.*)$/s.exec(cur);
        if (kv === null) throw new FlowModelError(`bucket: ${cur}: bad syntax`);
        const [, k, v = ''] = kv;
        if (k === 'actions') {
          // Everything up to the next bucket belongs to the action list.
          const rest: string[] = [v];
          while (i + 1 < pieces.length && !(pieces[i + 1] ?? '').startsWith('bucket=')) rest.push(pieces[++i] ?? '');
          b.actions = parseActions(rest.join(','));
          break;
        }
        if (k === 'bucket_id') b.bucketId = Number(v);
        else if (k === 'weight') b.weight = Number(v);
        else if (k === 'watch_port') b.watchPort = parsePort(v);
        else if (k !== 'watch_group') throw new FlowModelError(`bucket: unknown key ${k}`);
        if (i + 1 >= pieces.length || (pieces[i + 1] ?? '').startsWith('bucket=')) break;
        cur = pieces[++i] ?? '';
      }
      buckets.push(b);
    } else {
      const kv = /^([a-z_]+)=(.*)$/.exec(p);
      if (kv?.[1] === 'group_id') groupId = Number(kv[2]);
      else if (kv?.[1] === 'type') {
        if (!((kv[2] ?? '') in OFPGT)) throw new FlowModelError(`type=${kv[2]}: unknown group type`);
        type = kv[2] as keyof typeof OFPGT;
      } else if (kv?.[1] !== 'selection_method' && kv?.[1] !== 'selection_method_param' && kv?.[1] !== 'fields')
        throw new FlowModelError(`${p}: unknown group keyword`);
    }
    i++;
  }
  if (groupId === undefined) throw new FlowModelError(`${text}: no group_id`);
  return { groupId, type, buckets };
}
