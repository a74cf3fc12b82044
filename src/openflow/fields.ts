/**
 * The one list of the OVS fields ovnts knows (ovs-fields(7)): for each, its
 * name, width, print format, whether it takes a mask, where it travels on the
 * wire in OpenFlow 1.5 (OXM where OpenFlow has the field, NXM otherwise, as
 * OVS sends it), its older NXM code, the NXM/OXM name field references use
 * (`NXM_OF_ETH_SRC[]`) and the name OVS prints after `set_field:…->`.
 *
 * Every other table is derived from this one: the model's canonical fields
 * (flow.ts), the match codec (codec/oxm.ts), the actions' field codes and
 * names (codec/action-wire.ts, text-values.ts, used by the action table),
 * the flow syntax (flow-text.ts) and the controller's OVN-symbol map and
 * userdata encoder (controller/lflow). Adding a field touches only this list;
 * adding an action, only the action table (action-table.ts).
 */

/** How a field's value is written in ovs-ofctl syntax (ovs-fields(7) "Field Formats"). */
export type FieldFormat = 'decimal' | 'hex' | 'ethernet' | 'ipv4' | 'ipv6' | 'port' | 'ct_state' | 'tcp_flags' | 'frag' | 'tun_flags';

/** OXM classes (OpenFlow 1.5 §7.2.3.2; NXM0/NXM1 are Nicira's). */
export const OXM_CLASS = { NXM0: 0x0000, NXM1: 0x0001, OPENFLOW_BASIC: 0x8000, PACKET_REGS: 0x8001, EXPERIMENTER: 0xffff } as const;

/** Where a field lives on the wire. */
export interface OxmCode {
  readonly cls: number;
  readonly field: number;
  /** Bytes of the value. */
  readonly bytes: number;
}

/** What the model knows about one field. */
export interface FieldInfo {
  /** OVS's name (ovs-fields(7)). */
  readonly name: string;
  /** Width in bits of the value (the mask has the same width). */
  readonly bits: number;
  readonly format: FieldFormat;
  /** OVS rejects a mask on this field. */
  readonly maskable: boolean;
  /** The TLV ovnts writes for the field (matches, set_field, copy_field); absent: not encodable. */
  readonly oxm?: OxmCode;
  /** The Nicira code OVS also accepts (and uses in NXAST stack actions), when it differs from {@link oxm}. */
  readonly nxm?: OxmCode;
  /** Name in field references: `NXM_OF_ETH_SRC`, `NXM_NX_REG0`, `OXM_OF_METADATA`. */
  readonly refName: string;
  /** Name OVS prints after `set_field:…->` (`eth_src` for dl_src). */
  readonly setName: string;
}

const B = OXM_CLASS.OPENFLOW_BASIC;
const N0 = OXM_CLASS.NXM0;
const N1 = OXM_CLASS.NXM1;
const code = (cls: number, field: number, bytes: number): OxmCode => ({ cls, field, bytes });

interface Extra {
  readonly maskable?: boolean;
  readonly oxm?: OxmCode;
  readonly nxm?: OxmCode;
  readonly setName?: string;
}

function f(name: string, bits: number, format: FieldFormat, refName: string, x: Extra): FieldInfo {
  return {
    name,
    bits,
    format,
    maskable: x.maskable ?? true,
    refName,
    setName: x.setName ?? name,
    ...(x.oxm === undefined ? {} : { oxm: x.oxm }),
    ...(x.nxm === undefined ? {} : { nxm: x.nxm }),
  };
}

const fixed = { maskable: false } as const;

/** Fields, in the order the printer writes them (close to ovs-ofctl's own order). */
export const FIELDS: readonly FieldInfo[] = [
  f('recirc_id', 32, 'hex', 'NXM_NX_RECIRC_ID', { ...fixed, oxm: code(N1, 36, 4) }),
  f('dp_hash', 32, 'hex', 'NXM_NX_DP_HASH', { oxm: code(N1, 35, 4) }),
  f('conj_id', 32, 'decimal', 'NXM_NX_CONJ_ID', { ...fixed, oxm: code(N1, 37, 4) }),
  f('tun_id', 64, 'hex', 'NXM_NX_TUN_ID', { oxm: code(B, 38, 8), nxm: code(N1, 16, 8) }),
  f('tun_src', 32, 'ipv4', 'NXM_NX_TUN_IPV4_SRC', { oxm: code(N1, 31, 4) }),
  f('tun_dst', 32, 'ipv4', 'NXM_NX_TUN_IPV4_DST', { oxm: code(N1, 32, 4) }),
  f('tun_ipv6_src', 128, 'ipv6', 'NXM_NX_TUN_IPV6_SRC', { oxm: code(N1, 109, 16) }),
  f('tun_ipv6_dst', 128, 'ipv6', 'NXM_NX_TUN_IPV6_DST', { oxm: code(N1, 110, 16) }),
  f('tun_flags', 16, 'tun_flags', 'NXM_NX_TUN_FLAGS', { oxm: code(N1, 104, 2) }),
  // 4 bytes: OVN maps its one Geneve option with length 4 (the TLV table decides; see codec/oxm.ts).
  ...Array.from({ length: 64 }, (_, i) => f(`tun_metadata${i}`, 992, 'hex', `NXM_NX_TUN_METADATA${i}`, { oxm: code(N1, 40 + i, 4) })),
  f('metadata', 64, 'hex', 'OXM_OF_METADATA', { oxm: code(B, 2, 8) }),
  // In a match in_port is the 32-bit OXM field; in actions `in_port` is NXM_OF_IN_PORT (16 bits) — see flow.ts fieldBits.
  f('in_port', 32, 'port', 'NXM_OF_IN_PORT', { ...fixed, oxm: code(B, 0, 4), nxm: code(N0, 0, 2) }),
  f('actset_output', 32, 'port', 'ONFOXM_ET_ACTSET_OUTPUT', { ...fixed, oxm: code(B, 43, 4) }),
  f('skb_priority', 32, 'hex', 'NXM_NX_SKB_PRIORITY', fixed),
  f('pkt_mark', 32, 'hex', 'NXM_NX_PKT_MARK', { oxm: code(N1, 33, 4) }),
  f('ct_state', 32, 'ct_state', 'NXM_NX_CT_STATE', { oxm: code(N1, 105, 4) }),
  f('ct_zone', 16, 'decimal', 'NXM_NX_CT_ZONE', { ...fixed, oxm: code(N1, 106, 2) }),
  f('ct_mark', 32, 'hex', 'NXM_NX_CT_MARK', { oxm: code(N1, 107, 4) }),
  f('ct_label', 128, 'hex', 'NXM_NX_CT_LABEL', { oxm: code(N1, 108, 16) }),
  f('ct_nw_src', 32, 'ipv4', 'NXM_NX_CT_NW_SRC', { oxm: code(N1, 120, 4) }),
  f('ct_nw_dst', 32, 'ipv4', 'NXM_NX_CT_NW_DST', { oxm: code(N1, 121, 4) }),
  f('ct_ipv6_src', 128, 'ipv6', 'NXM_NX_CT_IPV6_SRC', { oxm: code(N1, 122, 16) }),
  f('ct_ipv6_dst', 128, 'ipv6', 'NXM_NX_CT_IPV6_DST', { oxm: code(N1, 123, 16) }),
  f('ct_nw_proto', 8, 'decimal', 'NXM_NX_CT_NW_PROTO', { ...fixed, oxm: code(N1, 119, 1) }),
  f('ct_tp_src', 16, 'decimal', 'NXM_NX_CT_TP_SRC', { oxm: code(N1, 124, 2) }),
  f('ct_tp_dst', 16, 'decimal', 'NXM_NX_CT_TP_DST', { oxm: code(N1, 125, 2) }),
  ...Array.from({ length: 16 }, (_, i) => f(`reg${i}`, 32, 'hex', `NXM_NX_REG${i}`, { oxm: code(N1, i, 4) })),
  f('dl_src', 48, 'ethernet', 'NXM_OF_ETH_SRC', { oxm: code(B, 4, 6), nxm: code(N0, 2, 6), setName: 'eth_src' }),
  f('dl_dst', 48, 'ethernet', 'NXM_OF_ETH_DST', { oxm: code(B, 3, 6), nxm: code(N0, 1, 6), setName: 'eth_dst' }),
  f('dl_type', 16, 'hex', 'NXM_OF_ETH_TYPE', { ...fixed, oxm: code(B, 5, 2), nxm: code(N0, 3, 2), setName: 'eth_type' }),
  f('vlan_tci', 16, 'hex', 'NXM_OF_VLAN_TCI', { oxm: code(N0, 4, 2) }),
  f('mpls_label', 20, 'decimal', 'OXM_OF_MPLS_LABEL', { ...fixed, oxm: code(B, 34, 4) }),
  f('nw_src', 32, 'ipv4', 'NXM_OF_IP_SRC', { oxm: code(B, 11, 4), nxm: code(N0, 7, 4), setName: 'ip_src' }),
  f('nw_dst', 32, 'ipv4', 'NXM_OF_IP_DST', { oxm: code(B, 12, 4), nxm: code(N0, 8, 4), setName: 'ip_dst' }),
  f('ipv6_src', 128, 'ipv6', 'NXM_NX_IPV6_SRC', { oxm: code(B, 26, 16), nxm: code(N1, 19, 16) }),
  f('ipv6_dst', 128, 'ipv6', 'NXM_NX_IPV6_DST', { oxm: code(B, 27, 16), nxm: code(N1, 20, 16) }),
  f('ipv6_label', 20, 'hex', 'NXM_NX_IPV6_LABEL', { oxm: code(B, 28, 4), nxm: code(N1, 27, 4) }),
  f('arp_spa', 32, 'ipv4', 'NXM_OF_ARP_SPA', { oxm: code(B, 22, 4), nxm: code(N0, 16, 4) }),
  f('arp_tpa', 32, 'ipv4', 'NXM_OF_ARP_TPA', { oxm: code(B, 23, 4), nxm: code(N0, 17, 4) }),
  f('arp_sha', 48, 'ethernet', 'NXM_NX_ARP_SHA', { oxm: code(B, 24, 6), nxm: code(N1, 17, 6) }),
  f('arp_tha', 48, 'ethernet', 'NXM_NX_ARP_THA', { oxm: code(B, 25, 6), nxm: code(N1, 18, 6) }),
  f('arp_op', 16, 'decimal', 'NXM_OF_ARP_OP', { ...fixed, oxm: code(B, 21, 2), nxm: code(N0, 15, 2) }),
  f('nw_proto', 8, 'decimal', 'NXM_OF_IP_PROTO', { ...fixed, oxm: code(B, 10, 1), nxm: code(N0, 6, 1) }),
  f('nw_tos', 8, 'decimal', 'NXM_OF_IP_TOS', { ...fixed, oxm: code(N0, 5, 1) }),
  f('nw_ecn', 2, 'decimal', 'NXM_NX_IP_ECN', { ...fixed, oxm: code(B, 9, 1), nxm: code(N1, 28, 1) }),
  f('nw_ttl', 8, 'decimal', 'NXM_NX_IP_TTL', { ...fixed, oxm: code(N1, 29, 1) }),
  f('ip_frag', 8, 'frag', 'NXM_NX_IP_FRAG', { oxm: code(N1, 26, 1) }),
  f('tcp_src', 16, 'decimal', 'NXM_OF_TCP_SRC', { oxm: code(B, 13, 2), nxm: code(N0, 9, 2) }),
  f('tcp_dst', 16, 'decimal', 'NXM_OF_TCP_DST', { oxm: code(B, 14, 2), nxm: code(N0, 10, 2) }),
  f('udp_src', 16, 'decimal', 'NXM_OF_UDP_SRC', { oxm: code(B, 15, 2), nxm: code(N0, 11, 2) }),
  f('udp_dst', 16, 'decimal', 'NXM_OF_UDP_DST', { oxm: code(B, 16, 2), nxm: code(N0, 12, 2) }),
  f('sctp_src', 16, 'decimal', 'OXM_OF_SCTP_SRC', { oxm: code(B, 17, 2) }),
  f('sctp_dst', 16, 'decimal', 'OXM_OF_SCTP_DST', { oxm: code(B, 18, 2) }),
  f('tcp_flags', 12, 'tcp_flags', 'NXM_NX_TCP_FLAGS', { oxm: code(B, 42, 2), nxm: code(N1, 34, 2) }),
  f('icmp_type', 8, 'decimal', 'NXM_OF_ICMP_TYPE', { ...fixed, oxm: code(B, 19, 1), nxm: code(N0, 13, 1) }),
  f('icmp_code', 8, 'decimal', 'NXM_OF_ICMP_CODE', { ...fixed, oxm: code(B, 20, 1), nxm: code(N0, 14, 1) }),
  f('icmpv6_type', 8, 'decimal', 'NXM_NX_ICMPV6_TYPE', { ...fixed, oxm: code(B, 29, 1), nxm: code(N1, 21, 1) }),
  f('icmpv6_code', 8, 'decimal', 'NXM_NX_ICMPV6_CODE', { ...fixed, oxm: code(B, 30, 1), nxm: code(N1, 22, 1) }),
  f('nd_target', 128, 'ipv6', 'NXM_NX_ND_TARGET', { oxm: code(B, 31, 16), nxm: code(N1, 23, 16) }),
  f('nd_sll', 48, 'ethernet', 'NXM_NX_ND_SLL', { oxm: code(B, 32, 6), nxm: code(N1, 24, 6) }),
  f('nd_tll', 48, 'ethernet', 'NXM_NX_ND_TLL', { oxm: code(B, 33, 6), nxm: code(N1, 25, 6) }),
];

/**
 * Fields that only actions name: the wide registers (overlays of the 32-bit
 * ones, which is how a match stores them), OpenFlow's own VLAN, DSCP and ECN
 * fields (folded into vlan_tci/nw_tos/nw_ecn in a match) and the 32-bit
 * OXM ingress port.
 */
export const ACTION_FIELDS: readonly FieldInfo[] = [
  ...Array.from({ length: 8 }, (_, i) => f(`xreg${i}`, 64, 'hex', `OXM_OF_PKT_REG${i}`, { oxm: code(OXM_CLASS.PACKET_REGS, i, 8) })),
  ...Array.from({ length: 4 }, (_, i) => f(`xxreg${i}`, 128, 'hex', `NXM_NX_XXREG${i}`, { oxm: code(N1, 111 + i, 16) })),
  f('vlan_vid', 12, 'decimal', 'OXM_OF_VLAN_VID', { oxm: code(B, 6, 2) }),
  f('vlan_pcp', 3, 'decimal', 'OXM_OF_VLAN_PCP', { oxm: code(B, 7, 1) }),
  f('ip_dscp', 6, 'decimal', 'OXM_OF_IP_DSCP', { oxm: code(B, 8, 1) }),
  f('ip_ecn', 2, 'decimal', 'OXM_OF_IP_ECN', { oxm: code(B, 9, 1) }),
  f('in_port_oxm', 32, 'port', 'OXM_OF_IN_PORT', { oxm: code(B, 0, 4) }),
];

const BY_NAME: ReadonlyMap<string, FieldInfo> = new Map([...FIELDS, ...ACTION_FIELDS].map((x) => [x.name, x]));
const BY_REF_NAME: ReadonlyMap<string, FieldInfo> = new Map([...FIELDS, ...ACTION_FIELDS].map((x) => [x.refName, x]));
const BY_SET_NAME: ReadonlyMap<string, FieldInfo> = new Map([...FIELDS, ...ACTION_FIELDS].map((x) => [x.setName, x]));

/** Any field of either list by its OVS name. */
export function anyField(name: string): FieldInfo | undefined {
  return BY_NAME.get(name);
}

/** The field a reference name (`NXM_OF_ETH_SRC`) denotes. */
export function fieldByRefName(refName: string): FieldInfo | undefined {
  return BY_REF_NAME.get(refName);
}

/** The field a `set_field` name (`eth_src`, or the match name) denotes. */
export function fieldBySetName(setName: string): FieldInfo | undefined {
  return BY_SET_NAME.get(setName) ?? BY_NAME.get(setName);
}

function codeKey(cls: number, field: number): number {
  return cls * 0x100 + field;
}

/**
 * Field names by wire code (class, field number), over both the OXM and the
 * NXM codes; where two fields share a code (in_port's OXM is also
 * in_port_oxm's), the one in {@link FIELDS} wins.
 */
const BY_CODE: ReadonlyMap<number, FieldInfo> = (() => {
  const m = new Map<number, FieldInfo>();
  for (const x of [...FIELDS, ...ACTION_FIELDS]) {
    for (const c of [x.oxm, x.nxm]) if (c !== undefined && !m.has(codeKey(c.cls, c.field))) m.set(codeKey(c.cls, c.field), x);
  }
  return m;
})();

/** The field a wire code denotes, or undefined. */
export function fieldByCode(cls: number, field: number): FieldInfo | undefined {
  return BY_CODE.get(codeKey(cls, field));
}
