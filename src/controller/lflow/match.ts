/**
 * Logical-flow matches → OpenFlow matches in ovs-ofctl syntax (ovn-sb(5)
 * "Logical_Flow TABLE", match; ovs-fields(7)). A match is parsed and expanded
 * by the lflow library into conjunctions of masked bit tests; each conjunction
 * becomes one OpenFlow match. Logical port names become their tunnel keys in
 * `reg14`/`reg15`, `is_chassis_resident()` is decided here from the local
 * bindings, and the logical datapath is the caller's `metadata` test.
 */
import {
  expandMatch,
  parseMatch,
  toConjunctions,
  type Conjunction,
  type MatchLookups,
  type NormExpr,
} from '../../lib/lflow/index.js';
import { BASE_FIELDS, REGISTER_SPLIT, formatCtState, formatMasked, formatNwFrag, hex, type ValueFormat } from './fields.js';

/** What a match needs from the SB and the chassis. */
export interface MatchContext extends MatchLookups {
  /** Tunnel key of a logical port (Port_Binding.tunnel_key) or multicast group on this flow's datapath. */
  readonly portKey: (name: string) => number | undefined;
  /** `is_chassis_resident(port)`: whether the port is bound to this chassis. */
  readonly isResident: (port: string) => boolean;
}

/** One OpenFlow field test. */
export interface FieldTest {
  readonly field: string;
  readonly value: bigint;
  readonly mask: bigint;
  readonly width: number;
  readonly format: ValueFormat;
}

/** An OpenFlow match as field tests by OVS match field name. */
export type OfMatch = Map<string, FieldTest>;

/** Adds a test, merging with an existing one on the same field; false if they contradict. */
export function addTest(m: OfMatch, t: FieldTest): boolean {
  const prev = m.get(t.field);
  if (prev === undefined) {
    m.set(t.field, t);
    return true;
  }
  if (((prev.value ^ t.value) & prev.mask & t.mask) !== 0n) return false;
  m.set(t.field, { ...prev, value: prev.value | t.value, mask: prev.mask | t.mask });
  return true;
}

/** A bit test on an OVN base field as OpenFlow tests (wide registers split into 32-bit ones). */
function bitsTests(field: string, value: bigint, mask: bigint): FieldTest[] {
  const of = BASE_FIELDS.get(field);
  if (of === undefined) throw new Error(`field ${field} has no OpenFlow equivalent`);
  const regs = REGISTER_SPLIT.get(field);
  if (regs !== undefined) {
    const out: FieldTest[] = [];
    regs.forEach((reg, i) => {
      const shift = BigInt(32 * (regs.length - 1 - i));
      const m = (mask >> shift) & 0xffffffffn;
      if (m !== 0n) out.push({ field: reg, value: (value >> shift) & m, mask: m, width: 32, format: 'hex' });
    });
    return out;
  }
  return [{ field: of.match, value: value & mask, mask, width: of.width, format: of.format }];
}

/**
 * One conjunction as an OpenFlow match, or undefined when it cannot match on
 * this chassis (an unknown logical port, a port not resident here).
 */
export function conjunctionToMatch(c: Conjunction, ctx: MatchContext): OfMatch | undefined {
  const m: OfMatch = new Map();
  const negStrings: { field: string; key: number }[] = [];
  for (const a of c) {
    if (a.type === 'chassis') {
      if (ctx.isResident(a.port) === a.negated) return undefined;
      continue;
    }
    if (a.type === 'string') {
      const key = ctx.portKey(a.value);
      if (a.negated) {
        // An unknown port is never equal: the test is always true.
        if (key !== undefined) negStrings.push({ field: a.field, key });
        continue;
      }
      if (key === undefined) return undefined;
      for (const t of bitsTests(a.field, BigInt(key), 0xffffffffn)) if (!addTest(m, t)) return undefined;
      continue;
    }
    for (const t of bitsTests(a.field, a.value, a.mask)) if (!addTest(m, t)) return undefined;
  }
  for (const n of negStrings) {
    const reg = BASE_FIELDS.get(n.field)!.match;
    const t = m.get(reg);
    // Already pinned to another port: the inequality holds.
    if (t !== undefined && t.mask === 0xffffffffn) {
      if (t.value === BigInt(n.key)) return undefined;
      continue;
    }
    // Left as a separate expansion by the caller (rare): not expressible in one match.
    throw new Error(`${n.field} != "${n.key}" without a positive test is not supported`);
  }
  return m;
}

/** Expands a negated port test (`outport != "p"`) into one match per differing bit, as OVN does for `!=`. */
function expandNegatedStrings(c: Conjunction, ctx: MatchContext): Conjunction[] {
  let out: Conjunction[] = [[]];
  for (const a of c) {
    if (a.type === 'string' && a.negated) {
      const hasPositive = c.some((b) => b.type === 'string' && !b.negated && b.field === a.field);
      const key = ctx.portKey(a.value);
      if (hasPositive || key === undefined) {
        out = out.map((x) => [...x, a]);
        continue;
      }
      const next: Conjunction[] = [];
      for (const x of out) {
        for (let i = 31; i >= 0; i--) {
          const bit = 1n << BigInt(i);
          next.push([...x, { type: 'bits', field: a.field, fieldWidth: 32, value: BigInt(key) & bit ? 0n : bit, mask: bit }]);
        }
      }
      out = next;
      continue;
    }
    out = out.map((x) => [...x, a]);
  }
  return out;
}

function lookupsOf(ctx: MatchContext): MatchLookups {
  return {
    ...(ctx.addressSet !== undefined ? { addressSet: ctx.addressSet } : {}),
    ...(ctx.portGroup !== undefined ? { portGroup: ctx.portGroup } : {}),
  };
}

/** The matches (without datapath) of a logical flow's match text; [] when it can never match here. */
export function translateMatch(text: string, ctx: MatchContext): OfMatch[] {
  const lookups = lookupsOf(ctx);
  return plainMatches(expandMatch(parseMatch(text, lookups), lookups), ctx);
}

function plainMatches(expr: NormExpr, ctx: MatchContext): OfMatch[] {
  const out: OfMatch[] = [];
  const seen = new Set<string>();
  for (const c0 of toConjunctions(expr)) {
    for (const c of expandNegatedStrings(c0, ctx)) {
      const m = conjunctionToMatch(c, ctx);
      if (m === undefined) continue;
      const k = formatMatch(m);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(m);
    }
  }
  return out;
}

/** OVS's protocol shorthands (ovs-fields(7) "Shorthand notation"). */
function shorthand(m: OfMatch): { name: string; consumed: string[] } | undefined {
  const t = m.get('dl_type');
  if (t === undefined || t.mask !== 0xffffn) return undefined;
  const p = m.get('nw_proto');
  const proto = p !== undefined && p.mask === 0xffn ? Number(p.value) : undefined;
  const v4: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 132: 'sctp' };
  const v6: Record<number, string> = { 58: 'icmp6', 6: 'tcp6', 17: 'udp6', 132: 'sctp6' };
  switch (Number(t.value)) {
    case 0x800:
      return proto !== undefined && v4[proto] !== undefined ? { name: v4[proto]!, consumed: ['dl_type', 'nw_proto'] } : { name: 'ip', consumed: ['dl_type'] };
    case 0x86dd:
      return proto !== undefined && v6[proto] !== undefined ? { name: v6[proto]!, consumed: ['dl_type', 'nw_proto'] } : { name: 'ipv6', consumed: ['dl_type'] };
    case 0x806:
      return { name: 'arp', consumed: ['dl_type'] };
    case 0x8035:
      return { name: 'rarp', consumed: ['dl_type'] };
    default:
      return undefined;
  }
}

/** The order OVS prints match fields in (approximately; identity comparisons sort them). */
const ORDER = [
  'ct_state', 'ct_mark', 'ct_label',
  ...Array.from({ length: 16 }, (_, i) => `reg${i}`),
  'pkt_mark', 'metadata', 'in_port', 'vlan_tci', 'dl_vlan', 'dl_src', 'dl_dst', 'dl_type',
  'arp_spa', 'arp_tpa', 'arp_op', 'arp_sha', 'arp_tha',
  'nw_src', 'nw_dst', 'ipv6_src', 'ipv6_dst', 'ipv6_label', 'nw_proto', 'nw_tos', 'ip_dscp', 'nw_ecn', 'nw_ttl', 'nw_frag',
  'tp_src', 'tp_dst', 'tcp_flags', 'icmp_type', 'icmp_code', 'nd_target', 'nd_sll', 'nd_tll',
];

function formatTest(t: FieldTest): string {
  if (t.field === 'ct_state') return formatCtState(t.value, t.mask);
  if (t.field === 'nw_frag') return formatNwFrag(t.value, t.mask);
  if (t.field === 'vlan_tci') {
    const h = (v: bigint): string => `0x${v.toString(16).padStart(4, '0')}`;
    return t.mask === 0xffffn ? h(t.value) : `${h(t.value)}/${h(t.mask)}`;
  }
  if (t.field === 'metadata') return hex(t.value);
  return formatMasked(t.value, t.mask, t.width, t.format);
}

/** An OpenFlow match in ovs-ofctl syntax (`ip,reg14=0x2,metadata=0x1,nw_src=10.0.0.0/8`). */
export function formatMatch(m: OfMatch): string {
  const sh = shorthand(m);
  const parts: string[] = sh === undefined ? [] : [sh.name];
  const rank = (k: string): number => {
    const i = ORDER.indexOf(k);
    return i < 0 ? ORDER.length : i;
  };
  const keys = [...m.keys()].filter((k) => !(sh?.consumed.includes(k) ?? false)).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  for (const k of keys) parts.push(`${k}=${formatTest(m.get(k)!)}`);
  return parts.join(',');
}

/** A `metadata=<datapath key>` test. */
export function metadataTest(key: number): FieldTest {
  return { field: 'metadata', value: BigInt(key), mask: (1n << 64n) - 1n, width: 64, format: 'hex' };
}

/** Merges two matches; undefined if they contradict. */
export function mergeMatches(a: OfMatch, b: OfMatch): OfMatch | undefined {
  const m = new Map(a);
  for (const t of b.values()) if (!addTest(m, t)) return undefined;
  return m;
}

/**
 * How a match becomes flows: plain (one flow per match), or OpenFlow's
 * conjunctive match (ovs-fields(7) "Conjunctive Match Fields") when the match
 * is an AND of at least two sets of alternatives on one field each, as OVN
 * does: one flow per alternative with `conjunction(id, k/n)` and one flow on
 * `conj_id` with the actions, instead of the product of the sets.
 */
export type MatchPlan =
  | { readonly kind: 'plain'; readonly matches: OfMatch[] }
  | { readonly kind: 'conj'; readonly base: OfMatch; readonly dims: OfMatch[][] };

function flattenAnd(e: NormExpr): NormExpr[] {
  return e.type === 'and' ? e.exprs.flatMap(flattenAnd) : [e];
}

/** A set of alternatives on one field: every conjunction is one positive test on the same field. */
function isDimension(cs: readonly Conjunction[]): boolean {
  if (cs.length < 2) return false;
  const first = cs[0]![0];
  if (first === undefined || first.type === 'chassis') return false;
  return cs.every((c) => {
    const a = c[0];
    if (c.length !== 1 || a === undefined || a.type !== first.type) return false;
    if (a.type === 'string') return !a.negated && a.field === first.field;
    return a.type === 'bits' && a.field === first.field;
  });
}

export function planMatch(text: string, ctx: MatchContext): MatchPlan {
  const lookups = lookupsOf(ctx);
  const expr = expandMatch(parseMatch(text, lookups), lookups);
  const kids = flattenAnd(expr);
  const baseKids: NormExpr[] = [];
  const dimKids: Conjunction[][] = [];
  for (const k of kids) {
    const cs = toConjunctions(k);
    if (isDimension(cs)) dimKids.push(cs);
    else baseKids.push(k);
  }
  const plain = (): MatchPlan => ({ kind: 'plain', matches: plainMatches(expr, ctx) });
  if (dimKids.length < 2) return plain();
  const baseExpr: NormExpr = baseKids.length === 0 ? { type: 'true' } : baseKids.length === 1 ? baseKids[0]! : { type: 'and', exprs: baseKids };
  if (toConjunctions(baseExpr).length !== 1) return plain();
  const baseMs = plainMatches(baseExpr, ctx);
  if (baseMs.length !== 1) return baseMs.length === 0 ? { kind: 'plain', matches: [] } : plain();
  let base = baseMs[0]!;
  const dims: OfMatch[][] = [];
  for (const d of dimKids) {
    const els: OfMatch[] = [];
    const seen = new Set<string>();
    for (const c of d) {
      const m = conjunctionToMatch(c, ctx);
      if (m === undefined || mergeMatches(base, m) === undefined) continue;
      const k = formatMatch(m);
      if (seen.has(k)) continue;
      seen.add(k);
      els.push(m);
    }
    if (els.length === 0) return { kind: 'plain', matches: [] };
    if (els.length === 1) {
      base = mergeMatches(base, els[0]!)!;
      continue;
    }
    dims.push(els);
  }
  // Alternatives the base settled may leave others contradicting it now.
  const live = dims.map((els) => els.filter((m) => mergeMatches(base, m) !== undefined));
  if (live.some((els) => els.length === 0)) return { kind: 'plain', matches: [] };
  // Alternatives of eth.type come from prerequisites (`ip` = IPv4 or IPv6): OVN multiplies
  // those out rather than making them a dimension of a conjunctive match.
  const prereqDim = (els: OfMatch[]): boolean => els.every((m) => m.size === 1 && m.has('dl_type'));
  if (live.length >= 2 && live.every((els) => els.length >= 2 && !prereqDim(els))) return { kind: 'conj', base, dims: live };
  // Fewer than two real sets: the product is small, plain flows as OVN makes them.
  let acc: OfMatch[] = [base];
  for (const els of live) {
    const next: OfMatch[] = [];
    for (const a of acc) for (const m of els) {
      const x = mergeMatches(a, m);
      if (x !== undefined) next.push(x);
    }
    acc = next;
  }
  return { kind: 'plain', matches: acc };
}
