/**
 * OVN's logical-flow symbols as Open vSwitch fields (ovn-architecture(7),
 * "Architectural Physical Life Cycle of a Packet": logical datapath in
 * `metadata`, logical inport/outport in `reg14`/`reg15`, flags in `reg10`).
 * Three spellings per field, because OVS uses three: the match name
 * (`nw_src`), the `set_field` name (`ip_src`) and the NXM/OXM name of
 * `move`/`push`/`pop` (`NXM_OF_IP_SRC`); all three, the width and the format
 * come from the one field list, openflow/fields.ts.
 */
import { formatIpv4, formatIpv6, formatMac, prefixLength } from '../../lib/lflow/index.js';
import { anyField, type FieldFormat } from '../../openflow/fields.js';

/** How OVS prints a value of the field. */
export type ValueFormat = 'hex' | 'decimal' | 'mac' | 'ipv4' | 'ipv6';

export interface OvsField {
  /** Name in a match (`ovs-ofctl` flow syntax). */
  readonly match: string;
  /** Name after `set_field:…->`. */
  readonly set: string;
  /** NXM/OXM name for `move`, `push`, `pop`. */
  readonly nxm: string;
  readonly width: number;
  readonly format: ValueFormat;
}

/** How the model's print format reads for the translator's values. */
function valueFormat(format: FieldFormat): ValueFormat {
  switch (format) {
    case 'ethernet':
      return 'mac';
    case 'ipv4':
    case 'ipv6':
    case 'decimal':
      return format;
    default:
      return 'hex';
  }
}

/**
 * The OVS field `name` of openflow/fields.ts (names, width and format come
 * from there), printed as `match` in a match where OVS's printer differs
 * (`tp_src` for tcp_src, `icmp_type` for icmpv6_type under icmp6).
 */
function ovs(name: string, match = name): OvsField {
  const info = anyField(name);
  if (info === undefined) throw new Error(`${name}: not an OVS field`);
  return { match, set: info.setName, nxm: info.refName, width: info.bits, format: valueFormat(info.format) };
}

/**
 * Base fields of OVN's symbol table → OVS fields. Registers keep OVN's
 * overlays: `xxreg0` is OVS `xxreg0` (= reg0..reg3), `xreg4` is OVS `xreg4`
 * (= reg8:reg9); OVS prints matches on them register by register.
 */
export const BASE_FIELDS: ReadonlyMap<string, OvsField> = new Map<string, OvsField>([
  ['xxreg0', ovs('xxreg0')],
  ['xxreg1', ovs('xxreg1')],
  ['xreg4', ovs('xreg4')],
  // The 32-bit register OVN's MAC-binding actions stage an IPv4 address in (not an OVN symbol).
  ['reg0', ovs('reg0')],
  ['flags', ovs('reg10')],
  ['inport', ovs('reg14')],
  ['outport', ovs('reg15')],
  ['pkt.mark', ovs('pkt_mark')],
  ['ct_mark', ovs('ct_mark')],
  ['ct_label', ovs('ct_label')],
  ['ct_state', ovs('ct_state')],
  ['eth.src', ovs('dl_src')],
  ['eth.dst', ovs('dl_dst')],
  ['eth.type', ovs('dl_type')],
  ['vlan.tci', ovs('vlan_tci')],
  ['ip.proto', ovs('nw_proto')],
  ['ip.dscp', ovs('ip_dscp')],
  ['ip.ecn', ovs('nw_ecn')],
  ['ip.ttl', ovs('nw_ttl')],
  // OVN's ip.frag is the two low bits of OVS's nw_frag, printed by name (formatNwFrag).
  ['ip.frag', { ...ovs('ip_frag', 'nw_frag'), set: 'nw_frag', width: 2, format: 'decimal' }],
  ['ip4.src', ovs('nw_src')],
  ['ip4.dst', ovs('nw_dst')],
  ['ip6.src', ovs('ipv6_src')],
  ['ip6.dst', ovs('ipv6_dst')],
  ['ip6.label', ovs('ipv6_label')],
  ['icmp4.type', ovs('icmp_type')],
  ['icmp4.code', ovs('icmp_code')],
  ['icmp6.type', ovs('icmpv6_type', 'icmp_type')],
  ['icmp6.code', ovs('icmpv6_code', 'icmp_code')],
  // ARP and RARP share OVS's arp_* fields.
  ...['arp', 'rarp'].flatMap((p) => ['op', 'spa', 'tpa', 'sha', 'tha'].map((x): [string, OvsField] => [`${p}.${x}`, ovs(`arp_${x}`)])),
  ['nd.target', ovs('nd_target')],
  ['nd.sll', ovs('nd_sll')],
  ['nd.tll', ovs('nd_tll')],
  ['tcp.src', ovs('tcp_src', 'tp_src')],
  ['tcp.dst', ovs('tcp_dst', 'tp_dst')],
  ['tcp.flags', ovs('tcp_flags')],
  ['udp.src', ovs('udp_src', 'tp_src')],
  ['udp.dst', ovs('udp_dst', 'tp_dst')],
  ['sctp.src', ovs('sctp_src', 'tp_src')],
  ['sctp.dst', ovs('sctp_dst', 'tp_dst')],
]);

/** The 32-bit registers a wide register overlays, most significant first (ovs-fields(7) "Register fields"). */
export const REGISTER_SPLIT: ReadonlyMap<string, readonly string[]> = new Map([
  ['xxreg0', ['reg0', 'reg1', 'reg2', 'reg3']],
  ['xxreg1', ['reg4', 'reg5', 'reg6', 'reg7']],
  ['xreg4', ['reg8', 'reg9']],
]);

/** `0x1f`, or `0` for zero (OVS prints zero without a prefix). */
export function hex(v: bigint): string {
  return v === 0n ? '0' : `0x${v.toString(16)}`;
}

/** A value of a field in OVS's notation. */
export function formatValue(v: bigint, format: ValueFormat): string {
  switch (format) {
    case 'hex':
      return hex(v);
    case 'decimal':
      return v.toString();
    case 'mac':
      return formatMac(v);
    case 'ipv4':
      return formatIpv4(v);
    case 'ipv6':
      return formatIpv6(v);
  }
}

/** `value` or `value/mask` in OVS's match notation (CIDR for prefix masks of addresses). */
export function formatMasked(value: bigint, mask: bigint, width: number, format: ValueFormat): string {
  const all = (1n << BigInt(width)) - 1n;
  if (mask === all) return formatValue(value, format);
  if (format === 'ipv4' || format === 'ipv6') {
    const p = prefixLength(mask, width);
    if (p !== undefined) return `${formatValue(value, format)}/${p}`;
    return `${formatValue(value, format)}/${formatValue(mask, format)}`;
  }
  if (format === 'mac') return `${formatMac(value)}/${formatMac(mask)}`;
  return `${hex(value)}/${hex(mask)}`;
}

/** A bit range of an NXM field as `move`/`push` print it: `[]`, `[5]`, `[0..15]`. */
export function nxmRange(nxm: string, lo: number, width: number, fieldWidth: number): string {
  if (lo === 0 && width === fieldWidth) return `${nxm}[]`;
  if (width === 1) return `${nxm}[${lo}]`;
  return `${nxm}[${lo}..${lo + width - 1}]`;
}

/** ct_state flags in bit order, as OVS prints them. */
const CT_FLAGS = ['new', 'est', 'rel', 'rpl', 'inv', 'trk', 'snat', 'dnat'];

export function formatCtState(value: bigint, mask: bigint): string {
  let out = '';
  for (let i = 0; i < CT_FLAGS.length; i++) {
    const b = 1n << BigInt(i);
    if ((mask & b) === 0n) continue;
    out += `${(value & b) !== 0n ? '+' : '-'}${CT_FLAGS[i]!}`;
  }
  return out;
}

/** nw_frag as OVS names its value/mask pairs. */
export function formatNwFrag(value: bigint, mask: bigint): string {
  const key = `${value}/${mask}`;
  const names: Record<string, string> = { '0/1': 'no', '0/3': 'no', '1/1': 'yes', '1/3': 'first', '3/3': 'later', '2/2': 'later', '0/2': 'not_later' };
  return names[key] ?? `${hex(value)}/${hex(mask)}`;
}
