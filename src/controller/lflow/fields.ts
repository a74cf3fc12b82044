/**
 * OVN's logical-flow symbols as Open vSwitch fields (ovn-architecture(7),
 * "Architectural Physical Life Cycle of a Packet": logical datapath in
 * `metadata`, logical inport/outport in `reg14`/`reg15`, flags in `reg10`).
 * Each is the flow model's field (openflow/fields.ts, the one field list):
 * how it is printed, encoded or referenced is the model's business.
 */
import { anyField } from '../../openflow/fields.js';

/** An OVS field as the flow model names it, and its width. */
export interface OvsField {
  /**
   * The model's name (openflow/fields.ts): a match field (`dl_src`,
   * `tcp_src`, `icmpv6_type`) or an action-only one (`xxreg0`, `ip_dscp`);
   * matches fold the action-only names as flow.ts's `matchField` does.
   */
  readonly field: string;
  readonly width: number;
}

function ovs(name: string): OvsField {
  const info = anyField(name);
  if (info === undefined) throw new Error(`${name}: not an OVS field`);
  return { field: name, width: info.bits };
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
  // OVN's ip.frag is the two low bits of OVS's nw_frag (ip_frag in the model).
  ['ip.frag', { field: 'ip_frag', width: 2 }],
  ['ip4.src', ovs('nw_src')],
  ['ip4.dst', ovs('nw_dst')],
  ['ip6.src', ovs('ipv6_src')],
  ['ip6.dst', ovs('ipv6_dst')],
  ['ip6.label', ovs('ipv6_label')],
  ['icmp4.type', ovs('icmp_type')],
  ['icmp4.code', ovs('icmp_code')],
  ['icmp6.type', ovs('icmpv6_type')],
  ['icmp6.code', ovs('icmpv6_code')],
  // ARP and RARP share OVS's arp_* fields.
  ...['arp', 'rarp'].flatMap((p) => ['op', 'spa', 'tpa', 'sha', 'tha'].map((x): [string, OvsField] => [`${p}.${x}`, ovs(`arp_${x}`)])),
  ['nd.target', ovs('nd_target')],
  ['nd.sll', ovs('nd_sll')],
  ['nd.tll', ovs('nd_tll')],
  ['tcp.src', ovs('tcp_src')],
  ['tcp.dst', ovs('tcp_dst')],
  ['tcp.flags', ovs('tcp_flags')],
  ['udp.src', ovs('udp_src')],
  ['udp.dst', ovs('udp_dst')],
  ['sctp.src', ovs('sctp_src')],
  ['sctp.dst', ovs('sctp_dst')],
]);
