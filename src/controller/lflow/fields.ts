/**
 * OVN's logical-flow symbols as Open vSwitch fields (ovn-architecture(7),
 * "Architectural Physical Life Cycle of a Packet": logical datapath in
 * `metadata`, logical inport/outport in `reg14`/`reg15`, flags in `reg10`;
 * ovs-fields(7) for the field names). Three spellings per field, because OVS
 * uses three: the match name (`nw_src`), the `set_field` name (`ip_src`) and
 * the NXM/OXM name of `move`/`push`/`pop` (`NXM_OF_IP_SRC`).
 */
import { formatIpv4, formatIpv6, formatMac, prefixLength } from '../../lib/lflow/index.js';

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

const f = (match: string, set: string, nxm: string, width: number, format: ValueFormat): OvsField => ({ match, set, nxm, width, format });

/**
 * Base fields of OVN's symbol table → OVS fields. Registers keep OVN's
 * overlays: `xxreg0` is OVS `xxreg0` (= reg0..reg3), `xreg4` is OVS `xreg4`
 * (= reg8:reg9); OVS prints matches on them register by register.
 */
export const BASE_FIELDS: ReadonlyMap<string, OvsField> = new Map([
  ['xxreg0', f('xxreg0', 'xxreg0', 'NXM_NX_XXREG0', 128, 'hex')],
  ['xxreg1', f('xxreg1', 'xxreg1', 'NXM_NX_XXREG1', 128, 'hex')],
  ['xreg4', f('xreg4', 'xreg4', 'OXM_OF_PKT_REG4', 64, 'hex')],
  // The 32-bit register OVN's MAC-binding actions stage an IPv4 address in (not an OVN symbol).
  ['reg0', f('reg0', 'reg0', 'NXM_NX_REG0', 32, 'hex')],
  ['flags', f('reg10', 'reg10', 'NXM_NX_REG10', 32, 'hex')],
  ['inport', f('reg14', 'reg14', 'NXM_NX_REG14', 32, 'hex')],
  ['outport', f('reg15', 'reg15', 'NXM_NX_REG15', 32, 'hex')],
  ['pkt.mark', f('pkt_mark', 'pkt_mark', 'NXM_NX_PKT_MARK', 32, 'hex')],
  ['ct_mark', f('ct_mark', 'ct_mark', 'NXM_NX_CT_MARK', 32, 'hex')],
  ['ct_label', f('ct_label', 'ct_label', 'NXM_NX_CT_LABEL', 128, 'hex')],
  ['ct_state', f('ct_state', 'ct_state', 'NXM_NX_CT_STATE', 32, 'hex')],
  ['eth.src', f('dl_src', 'eth_src', 'NXM_OF_ETH_SRC', 48, 'mac')],
  ['eth.dst', f('dl_dst', 'eth_dst', 'NXM_OF_ETH_DST', 48, 'mac')],
  ['eth.type', f('dl_type', 'eth_type', 'NXM_OF_ETH_TYPE', 16, 'hex')],
  ['vlan.tci', f('vlan_tci', 'vlan_tci', 'NXM_OF_VLAN_TCI', 16, 'hex')],
  ['ip.proto', f('nw_proto', 'nw_proto', 'NXM_OF_IP_PROTO', 8, 'decimal')],
  ['ip.dscp', f('ip_dscp', 'ip_dscp', 'OXM_OF_IP_DSCP', 6, 'decimal')],
  ['ip.ecn', f('nw_ecn', 'nw_ecn', 'NXM_NX_IP_ECN', 2, 'decimal')],
  ['ip.ttl', f('nw_ttl', 'nw_ttl', 'NXM_NX_IP_TTL', 8, 'decimal')],
  ['ip.frag', f('nw_frag', 'nw_frag', 'NXM_NX_IP_FRAG', 2, 'decimal')],
  ['ip4.src', f('nw_src', 'ip_src', 'NXM_OF_IP_SRC', 32, 'ipv4')],
  ['ip4.dst', f('nw_dst', 'ip_dst', 'NXM_OF_IP_DST', 32, 'ipv4')],
  ['ip6.src', f('ipv6_src', 'ipv6_src', 'NXM_NX_IPV6_SRC', 128, 'ipv6')],
  ['ip6.dst', f('ipv6_dst', 'ipv6_dst', 'NXM_NX_IPV6_DST', 128, 'ipv6')],
  ['ip6.label', f('ipv6_label', 'ipv6_label', 'NXM_NX_IPV6_LABEL', 20, 'hex')],
  ['icmp4.type', f('icmp_type', 'icmp_type', 'NXM_OF_ICMP_TYPE', 8, 'decimal')],
  ['icmp4.code', f('icmp_code', 'icmp_code', 'NXM_OF_ICMP_CODE', 8, 'decimal')],
  ['icmp6.type', f('icmp_type', 'icmpv6_type', 'NXM_NX_ICMPV6_TYPE', 8, 'decimal')],
  ['icmp6.code', f('icmp_code', 'icmpv6_code', 'NXM_NX_ICMPV6_CODE', 8, 'decimal')],
  ['arp.op', f('arp_op', 'arp_op', 'NXM_OF_ARP_OP', 16, 'decimal')],
  ['arp.spa', f('arp_spa', 'arp_spa', 'NXM_OF_ARP_SPA', 32, 'ipv4')],
  ['arp.tpa', f('arp_tpa', 'arp_tpa', 'NXM_OF_ARP_TPA', 32, 'ipv4')],
  ['arp.sha', f('arp_sha', 'arp_sha', 'NXM_NX_ARP_SHA', 48, 'mac')],
  ['arp.tha', f('arp_tha', 'arp_tha', 'NXM_NX_ARP_THA', 48, 'mac')],
  ['rarp.op', f('arp_op', 'arp_op', 'NXM_OF_ARP_OP', 16, 'decimal')],
  ['rarp.spa', f('arp_spa', 'arp_spa', 'NXM_OF_ARP_SPA', 32, 'ipv4')],
  ['rarp.tpa', f('arp_tpa', 'arp_tpa', 'NXM_OF_ARP_TPA', 32, 'ipv4')],
  ['rarp.sha', f('arp_sha', 'arp_sha', 'NXM_NX_ARP_SHA', 48, 'mac')],
  ['rarp.tha', f('arp_tha', 'arp_tha', 'NXM_NX_ARP_THA', 48, 'mac')],
  ['nd.target', f('nd_target', 'nd_target', 'NXM_NX_ND_TARGET', 128, 'ipv6')],
  ['nd.sll', f('nd_sll', 'nd_sll', 'NXM_NX_ND_SLL', 48, 'mac')],
  ['nd.tll', f('nd_tll', 'nd_tll', 'NXM_NX_ND_TLL', 48, 'mac')],
  ['tcp.src', f('tp_src', 'tcp_src', 'NXM_OF_TCP_SRC', 16, 'decimal')],
  ['tcp.dst', f('tp_dst', 'tcp_dst', 'NXM_OF_TCP_DST', 16, 'decimal')],
  ['tcp.flags', f('tcp_flags', 'tcp_flags', 'NXM_NX_TCP_FLAGS', 12, 'hex')],
  ['udp.src', f('tp_src', 'udp_src', 'NXM_OF_UDP_SRC', 16, 'decimal')],
  ['udp.dst', f('tp_dst', 'udp_dst', 'NXM_OF_UDP_DST', 16, 'decimal')],
  ['sctp.src', f('tp_src', 'sctp_src', 'OXM_OF_SCTP_SRC', 16, 'decimal')],
  ['sctp.dst', f('tp_dst', 'sctp_dst', 'OXM_OF_SCTP_DST', 16, 'decimal')],
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
