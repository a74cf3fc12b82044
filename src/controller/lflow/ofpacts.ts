/**
 * The binary OpenFlow 1.5 actions OVN puts inside a `controller(userdata=…)`
 * action for the actions that pinctrl runs on a packet it composes (`arp {…}`,
 * `icmp4 {…}`, `nd_na {…}`…): OpenFlow 1.5 `set_field` (OFPAT_SET_FIELD) and
 * `copy_field` (OFPAT_COPY_FIELD), and the Nicira extensions `stack_push`,
 * `stack_pop` and `resubmit(,table)` (ovs-actions(7); OpenFlow 1.5.1 §7.2.3).
 * Field headers are OXM where OpenFlow has the field and NXM otherwise, as OVS
 * encodes them for OpenFlow 1.5; stack actions use NXM headers.
 */

/** An OXM/NXM header: class, field, payload length in bytes. */
export interface FieldHeader {
  readonly cls: number;
  readonly field: number;
  readonly bytes: number;
}

const h = (cls: number, field: number, bytes: number): FieldHeader => ({ cls, field, bytes });

/** OVS set_field name → header used by set_field/copy_field in OpenFlow 1.5. */
const OXM: ReadonlyMap<string, FieldHeader> = new Map([
  ['eth_dst', h(0x8000, 3, 6)],
  ['eth_src', h(0x8000, 4, 6)],
  ['eth_type', h(0x8000, 5, 2)],
  ['ip_dscp', h(0x8000, 8, 1)],
  ['nw_ecn', h(0x8000, 9, 1)],
  ['nw_proto', h(0x8000, 10, 1)],
  ['ip_src', h(0x8000, 11, 4)],
  ['ip_dst', h(0x8000, 12, 4)],
  ['tcp_src', h(0x8000, 13, 2)],
  ['tcp_dst', h(0x8000, 14, 2)],
  ['udp_src', h(0x8000, 15, 2)],
  ['udp_dst', h(0x8000, 16, 2)],
  ['sctp_src', h(0x8000, 17, 2)],
  ['sctp_dst', h(0x8000, 18, 2)],
  ['icmp_type', h(0x8000, 19, 1)],
  ['icmp_code', h(0x8000, 20, 1)],
  ['arp_op', h(0x8000, 21, 2)],
  ['arp_spa', h(0x8000, 22, 4)],
  ['arp_tpa', h(0x8000, 23, 4)],
  ['arp_sha', h(0x8000, 24, 6)],
  ['arp_tha', h(0x8000, 25, 6)],
  ['ipv6_src', h(0x8000, 26, 16)],
  ['ipv6_dst', h(0x8000, 27, 16)],
  ['ipv6_label', h(0x8000, 28, 4)],
  ['icmpv6_type', h(0x8000, 29, 1)],
  ['icmpv6_code', h(0x8000, 30, 1)],
  ['nd_target', h(0x8000, 31, 16)],
  ['nd_sll', h(0x8000, 32, 6)],
  ['nd_tll', h(0x8000, 33, 6)],
  ['nw_ttl', h(0x0001, 29, 1)],
  ['pkt_mark', h(0x0001, 33, 4)],
  ['ct_mark', h(0x0001, 107, 4)],
  ['ct_label', h(0x0001, 108, 16)],
  ['xxreg0', h(0x0001, 111, 16)],
  ['xxreg1', h(0x0001, 112, 16)],
  ['xreg4', h(0x8001, 4, 8)],
  ...Array.from({ length: 16 }, (_, i) => [`reg${i}`, h(0x0001, i, 4)] as const),
]);

/** NXM name (as in `push:NXM_OF_ETH_SRC[]`) → NXM header. */
const NXM: ReadonlyMap<string, FieldHeader> = new Map([
  ['NXM_OF_IN_PORT', h(0x0000, 0, 2)],
  ['NXM_OF_ETH_DST', h(0x0000, 1, 6)],
  ['NXM_OF_ETH_SRC', h(0x0000, 2, 6)],
  ['NXM_OF_ETH_TYPE', h(0x0000, 3, 2)],
  ['NXM_OF_VLAN_TCI', h(0x0000, 4, 2)],
  ['NXM_OF_IP_PROTO', h(0x0000, 6, 1)],
  ['NXM_OF_IP_SRC', h(0x0000, 7, 4)],
  ['NXM_OF_IP_DST', h(0x0000, 8, 4)],
  ['NXM_OF_TCP_SRC', h(0x0000, 9, 2)],
  ['NXM_OF_TCP_DST', h(0x0000, 10, 2)],
  ['NXM_OF_UDP_SRC', h(0x0000, 11, 2)],
  ['NXM_OF_UDP_DST', h(0x0000, 12, 2)],
  ['NXM_OF_ICMP_TYPE', h(0x0000, 13, 1)],
  ['NXM_OF_ICMP_CODE', h(0x0000, 14, 1)],
  ['NXM_OF_ARP_OP', h(0x0000, 15, 2)],
  ['NXM_OF_ARP_SPA', h(0x0000, 16, 4)],
  ['NXM_OF_ARP_TPA', h(0x0000, 17, 4)],
  ['NXM_NX_ARP_SHA', h(0x0001, 17, 6)],
  ['NXM_NX_ARP_THA', h(0x0001, 18, 6)],
  ['NXM_NX_IPV6_SRC', h(0x0001, 19, 16)],
  ['NXM_NX_IPV6_DST', h(0x0001, 20, 16)],
  ['NXM_NX_ICMPV6_TYPE', h(0x0001, 21, 1)],
  ['NXM_NX_ICMPV6_CODE', h(0x0001, 22, 1)],
  ['NXM_NX_ND_TARGET', h(0x0001, 23, 16)],
  ['NXM_NX_ND_SLL', h(0x0001, 24, 6)],
  ['NXM_NX_ND_TLL', h(0x0001, 25, 6)],
  ['NXM_NX_IP_TTL', h(0x0001, 29, 1)],
  ['NXM_NX_PKT_MARK', h(0x0001, 33, 4)],
  ['NXM_NX_CT_MARK', h(0x0001, 107, 4)],
  ['NXM_NX_CT_LABEL', h(0x0001, 108, 16)],
  ['NXM_NX_XXREG0', h(0x0001, 111, 16)],
  ['NXM_NX_XXREG1', h(0x0001, 112, 16)],
  ['OXM_OF_PKT_REG4', h(0x8001, 4, 8)],
  ...Array.from({ length: 16 }, (_, i) => [`NXM_NX_REG${i}`, h(0x0001, i, 4)] as const),
]);

/** NXM names whose OpenFlow 1.5 header (for copy_field) is OXM. */
const NXM_TO_SET: ReadonlyMap<string, string> = new Map([
  ['NXM_OF_ETH_DST', 'eth_dst'],
  ['NXM_OF_ETH_SRC', 'eth_src'],
  ['NXM_OF_IP_SRC', 'ip_src'],
  ['NXM_OF_IP_DST', 'ip_dst'],
  ['NXM_OF_TCP_SRC', 'tcp_src'],
  ['NXM_OF_TCP_DST', 'tcp_dst'],
  ['NXM_OF_UDP_SRC', 'udp_src'],
  ['NXM_OF_UDP_DST', 'udp_dst'],
  ['NXM_OF_ARP_OP', 'arp_op'],
  ['NXM_OF_ARP_SPA', 'arp_spa'],
  ['NXM_OF_ARP_TPA', 'arp_tpa'],
  ['NXM_NX_ARP_SHA', 'arp_sha'],
  ['NXM_NX_ARP_THA', 'arp_tha'],
  ['NXM_NX_IPV6_SRC', 'ipv6_src'],
  ['NXM_NX_IPV6_DST', 'ipv6_dst'],
  ['NXM_NX_ND_TARGET', 'nd_target'],
  ['NXM_NX_ND_SLL', 'nd_sll'],
  ['NXM_NX_ND_TLL', 'nd_tll'],
  ['NXM_OF_ICMP_TYPE', 'icmp_type'],
  ['NXM_OF_ICMP_CODE', 'icmp_code'],
  ['NXM_NX_ICMPV6_TYPE', 'icmpv6_type'],
  ['NXM_NX_ICMPV6_CODE', 'icmpv6_code'],
]);

function headerBytes(hd: FieldHeader, masked: boolean): number[] {
  const len = masked ? hd.bytes * 2 : hd.bytes;
  const fieldByte = (hd.field << 1) | (masked ? 1 : 0);
  const out = [hd.cls >> 8, hd.cls & 0xff, fieldByte, len];
  // OpenFlow 1.5 packet registers are experimenter-less OXM class 0x8001.
  return out;
}

function bigBytes(v: bigint, n: number): number[] {
  const out: number[] = [];
  for (let i = n - 1; i >= 0; i--) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return out;
}

function pad8(b: number[]): number[] {
  while (b.length % 8 !== 0) b.push(0);
  return b;
}

function u16(v: number): number[] {
  return [(v >> 8) & 0xff, v & 0xff];
}

/** One action in the encoding the userdata needs. */
export type Ofpact =
  | { readonly type: 'set_field'; readonly field: string; readonly value: bigint; readonly mask?: bigint }
  | { readonly type: 'copy_field'; readonly src: string; readonly srcOfs: number; readonly dst: string; readonly dstOfs: number; readonly nBits: number }
  | { readonly type: 'push' | 'pop'; readonly field: string; readonly ofs: number; readonly nBits: number }
  | { readonly type: 'resubmit'; readonly table: number };

function setHeader(name: string): FieldHeader {
  const hd = OXM.get(name);
  if (hd === undefined) throw new Error(`no OpenFlow header for field ${name}`);
  return hd;
}

function nxmHeader(name: string): FieldHeader {
  const hd = NXM.get(name);
  if (hd === undefined) throw new Error(`no NXM header for field ${name}`);
  return hd;
}

/** The copy_field header of an NXM-named field (OXM when OpenFlow 1.5 has it). */
function copyHeader(nxm: string): FieldHeader {
  const set = NXM_TO_SET.get(nxm);
  return set !== undefined ? setHeader(set) : nxmHeader(nxm);
}

/** Encodes actions as OpenFlow 1.5 wire bytes. */
export function encodeOfpacts(acts: readonly Ofpact[]): number[] {
  const out: number[] = [];
  for (const a of acts) {
    switch (a.type) {
      case 'set_field': {
        const hd = setHeader(a.field);
        const masked = a.mask !== undefined;
        const body = [...headerBytes(hd, masked), ...bigBytes(a.value, hd.bytes), ...(masked ? bigBytes(a.mask!, hd.bytes) : [])];
        const len = Math.ceil((4 + body.length) / 8) * 8;
        out.push(...pad8([...u16(25), ...u16(len), ...body]));
        break;
      }
      case 'copy_field': {
        const b = [...u16(28), ...u16(24), ...u16(a.nBits), ...u16(a.srcOfs), ...u16(a.dstOfs), 0, 0, ...headerBytes(copyHeader(a.src), false), ...headerBytes(copyHeader(a.dst), false)];
        out.push(...pad8(b));
        break;
      }
      case 'push':
      case 'pop': {
        const b = [0xff, 0xff, ...u16(24), 0, 0, 0x23, 0x20, ...u16(a.type === 'push' ? 27 : 28), ...u16(a.ofs), ...headerBytes(nxmHeader(a.field), false), ...u16(a.nBits)];
        out.push(...pad8(b));
        break;
      }
      case 'resubmit': {
        out.push(0xff, 0xff, ...u16(16), 0, 0, 0x23, 0x20, ...u16(14), 0xff, 0xf8, a.table, 0, 0, 0);
        break;
      }
    }
  }
  return out;
}

/** Bytes as ovs-ofctl prints userdata: `00.01.de.10`. */
export function dotted(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join('.');
}
