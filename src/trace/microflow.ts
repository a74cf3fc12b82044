/**
 * The MICROFLOW argument of ovn-trace(8): a match expression that pins down
 * exactly one packet — a conjunction of equality tests after expansion
 * (predicates and prerequisites included). Fields it leaves out are zero.
 * Also the one-line OpenFlow-style description ovn-trace prints first
 * (ovs-fields(7) names: `dl_src`, `nw_ttl`, `tp_dst`, ...).
 */
import {
  LflowError,
  expandMatch,
  formatIpv4,
  formatIpv6,
  formatMac,
  parseMatch,
  printNormalized,
  type MatchLookups,
  type NormExpr,
} from '../lib/lflow/index.js';
import type { TracePacket } from './packet.js';
import { microflowTerms } from './microflow-terms.js';

/** A microflow that does not describe one packet; `message` in ovn-trace's words (printed after "error parsing flow: "). */
export class MicroflowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MicroflowError';
  }
}

/** The conjuncts of a normalized match (a single non-`and` node is its own conjunct). */
function conjuncts(e: NormExpr): NormExpr[] {
  if (e.type === 'true') return [];
  if (e.type === 'and') return e.exprs.flatMap(conjuncts);
  return [e];
}

/**
 * Pulls conjuncts shared by every branch of an `||` out of it and drops
 * repeated conjuncts, so prerequisites print once at the end as ovn-trace's
 * simplified expression shows them (`(ip4.src == 0x1 || ip4.src == 0x2) && eth.type == 0x800`).
 */
function factor(e: NormExpr): NormExpr {
  if (e.type === 'or') return { type: 'or', exprs: e.exprs.map(factor) };
  if (e.type !== 'and') return e;
  const head: NormExpr[] = [];
  const tail: NormExpr[] = [];
  for (const x0 of e.exprs) {
    const x = factor(x0);
    if (x.type !== 'or') {
      head.push(x);
      continue;
    }
    const branches = x.exprs.map(conjuncts);
    const key = (y: NormExpr): string => printNormalized(y);
    const common = branches[0]!.filter((c) => branches.every((b) => b.some((y) => key(y) === key(c))));
    if (common.length === 0) {
      head.push(x);
      continue;
    }
    const keys = new Set(common.map(key));
    const rest = branches.map((b) => b.filter((y) => !keys.has(key(y))));
    head.push({ type: 'or', exprs: rest.map((b) => (b.length === 1 ? b[0]! : { type: 'and', exprs: b })) });
    tail.push(...common);
  }
  const seen = new Set<string>();
  const out = [...head, ...tail].filter((y) => {
    const k = printNormalized(y);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return out.length === 1 ? out[0]! : { type: 'and', exprs: out };
}

/** Parses a microflow into the packet it describes. Throws MicroflowError. */
export function parseMicroflow(text: string, lookups: MatchLookups = {}): TracePacket {
  let norm: NormExpr;
  try {
    norm = expandMatch(parseMatch(text, lookups), lookups);
  } catch (e) {
    if (e instanceof LflowError) throw new MicroflowError(e.message);
    throw e;
  }
  const decided = microflowTerms(norm);
  if (decided.kind === 'contradictory') throw new MicroflowError('Constraints are contradictory.');
  if (decided.kind === 'ambiguous') throw new MicroflowError(`Constraints are ambiguous: ${printNormalized(factor(norm))}.`);
  const p: TracePacket = new Map();
  for (const a of decided.atoms) if (a.type === 'bits' || a.type === 'string') p.set(a.field, a.value);
  return p;
}

const int = (p: TracePacket, f: string): bigint => {
  const v = p.get(f);
  return typeof v === 'bigint' ? v : 0n;
};
const bits = (v: bigint, lo: number, w: number): bigint => (v >> BigInt(lo)) & ((1n << BigInt(w)) - 1n);
const hex = (v: bigint, digits = 0): string => `0x${v.toString(16).padStart(digits, '0')}`;

/**
 * The flow line ovn-trace prints before a trace (after "# "): protocol
 * keyword, registers, VLAN, Ethernet, then L3/L4 fields in ovs-ofctl's order.
 * `inportKey`/`outportKey` are the logical ports' tunnel keys (reg14/reg15).
 */
export function describeFlow(p: TracePacket, inportKey: number | undefined, outportKey: number | undefined): string {
  const parts: string[] = [];
  const ethType = int(p, 'eth.type');
  const proto = int(p, 'ip.proto');
  let keyword = '';
  if (ethType === 0x800n) keyword = proto === 1n ? 'icmp' : proto === 6n ? 'tcp' : proto === 17n ? 'udp' : proto === 132n ? 'sctp' : 'ip';
  else if (ethType === 0x86ddn)
    keyword = proto === 58n ? 'icmp6' : proto === 6n ? 'tcp6' : proto === 17n ? 'udp6' : proto === 132n ? 'sctp6' : 'ipv6';
  else if (ethType === 0x806n) keyword = 'arp';
  else if (ethType === 0x8035n) keyword = 'rarp';
  if (keyword !== '') parts.push(keyword);
  // Logical registers reg0..reg9 are OpenFlow reg0..reg9; inport/outport are reg14/reg15, flags reg10.
  const xx0 = int(p, 'xxreg0');
  const xx1 = int(p, 'xxreg1');
  const x4 = int(p, 'xreg4');
  const regs = [
    bits(xx0, 96, 32),
    bits(xx0, 64, 32),
    bits(xx0, 32, 32),
    bits(xx0, 0, 32),
    bits(xx1, 96, 32),
    bits(xx1, 64, 32),
    bits(xx1, 32, 32),
    bits(xx1, 0, 32),
    bits(x4, 32, 32),
    bits(x4, 0, 32),
    int(p, 'flags'),
  ];
  regs.forEach((v, i) => {
    if (v !== 0n) parts.push(`reg${i}=${hex(v)}`);
  });
  if (inportKey !== undefined && inportKey !== 0) parts.push(`reg14=${hex(BigInt(inportKey))}`);
  if (outportKey !== undefined && outportKey !== 0) parts.push(`reg15=${hex(BigInt(outportKey))}`);
  const tci = int(p, 'vlan.tci');
  if ((tci & 0x1000n) !== 0n) parts.push(`dl_vlan=${bits(tci, 0, 12)}`, `dl_vlan_pcp=${bits(tci, 13, 3)}`, 'vlan_tci1=0x0000');
  else parts.push(`vlan_tci=${hex(tci, 4)}`);
  parts.push(`dl_src=${formatMac(int(p, 'eth.src'))}`, `dl_dst=${formatMac(int(p, 'eth.dst'))}`);
  const ipTail = (): void => {
    const frag = int(p, 'ip.frag');
    parts.push(
      `nw_tos=${int(p, 'ip.dscp') << 2n}`,
      `nw_ecn=${int(p, 'ip.ecn')}`,
      `nw_ttl=${int(p, 'ip.ttl')}`,
      `nw_frag=${(frag & 1n) === 0n ? 'no' : (frag & 2n) === 0n ? 'first' : 'later'}`,
    );
  };
  const l4 = (): void => {
    if (proto === 6n) parts.push(`tp_src=${int(p, 'tcp.src')}`, `tp_dst=${int(p, 'tcp.dst')}`, `tcp_flags=${int(p, 'tcp.flags')}`);
    else if (proto === 17n) parts.push(`tp_src=${int(p, 'udp.src')}`, `tp_dst=${int(p, 'udp.dst')}`);
    else if (proto === 132n) parts.push(`tp_src=${int(p, 'sctp.src')}`, `tp_dst=${int(p, 'sctp.dst')}`);
    else if (proto === 1n && ethType === 0x800n) parts.push(`icmp_type=${int(p, 'icmp4.type')}`, `icmp_code=${int(p, 'icmp4.code')}`);
    else if (proto === 58n && ethType === 0x86ddn) {
      const type = int(p, 'icmp6.type');
      parts.push(`icmp_type=${type}`, `icmp_code=${int(p, 'icmp6.code')}`);
      // Neighbour solicitations and advertisements also show their ND fields.
      if ((type === 135n || type === 136n) && int(p, 'icmp6.code') === 0n) {
        parts.push(
          `nd_target=${formatIpv6(int(p, 'nd.target'))}`,
          `nd_sll=${formatMac(int(p, 'nd.sll'))}`,
          `nd_tll=${formatMac(int(p, 'nd.tll'))}`,
        );
      }
    }
  };
  if (ethType === 0x800n) {
    parts.push(`nw_src=${formatIpv4(int(p, 'ip4.src'))}`, `nw_dst=${formatIpv4(int(p, 'ip4.dst'))}`);
    if (keyword === 'ip') parts.push(`nw_proto=${proto}`);
    ipTail();
    l4();
  } else if (ethType === 0x86ddn) {
    parts.push(
      `ipv6_src=${formatIpv6(int(p, 'ip6.src'))}`,
      `ipv6_dst=${formatIpv6(int(p, 'ip6.dst'))}`,
      `ipv6_label=${hex(int(p, 'ip6.label'), 5)}`,
    );
    if (keyword === 'ipv6') parts.push(`nw_proto=${proto}`);
    ipTail();
    l4();
  } else if (ethType === 0x806n || ethType === 0x8035n) {
    const a = ethType === 0x806n ? 'arp' : 'rarp';
    parts.push(
      `arp_spa=${formatIpv4(int(p, `${a}.spa`))}`,
      `arp_tpa=${formatIpv4(int(p, `${a}.tpa`))}`,
      `arp_op=${int(p, `${a}.op`)}`,
      `arp_sha=${formatMac(int(p, `${a}.sha`))}`,
      `arp_tha=${formatMac(int(p, `${a}.tha`))}`,
    );
  } else {
    parts.push(`dl_type=${hex(ethType, 4)}`);
  }
  return parts.join(',');
}
