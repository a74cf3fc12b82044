/**
 * Logical-flow matches → OpenFlow matches of the flow model (ovn-sb(5)
 * "Logical_Flow TABLE", match; ovs-fields(7)). A match is parsed and expanded
 * by the lflow library into conjunctions of masked bit tests; each conjunction
 * becomes one OpenFlow match. Logical port names become their tunnel keys in
 * `reg14`/`reg15`, `is_chassis_resident()` is decided here from the local
 * bindings, and the logical datapath is the caller's `metadata` test.
 */
import {
  LflowError,
  expandMatch,
  parseMatch,
  toConjunctions,
  type Conjunction,
  type MatchLookups,
  type NormExpr,
} from '../../lib/lflow/index.js';
import { fieldInfo, matchField, normalizeMatch, ones, type Match } from '../../openflow/flow.js';
import { BASE_FIELDS } from './fields.js';

/** What a match needs from the SB and the chassis. */
export interface MatchContext extends MatchLookups {
  /** Tunnel key of a logical port (Port_Binding.tunnel_key) or multicast group on this flow's datapath. */
  readonly portKey: (name: string) => number | undefined;
  /** `is_chassis_resident(port)`: whether the port is bound to this chassis. */
  readonly isResident: (port: string) => boolean;
}

/** One OpenFlow field test on a canonical model field (the mask is all ones for an exact match). */
export interface FieldTest {
  readonly field: string;
  readonly value: bigint;
  readonly mask: bigint;
}

/** An OpenFlow match being built: field tests by canonical model field. */
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

/** A bit test on an OVN base field as tests on the model's fields (wide registers split into 32-bit ones). */
function bitsTests(field: string, value: bigint, mask: bigint): FieldTest[] {
  const of = BASE_FIELDS.get(field);
  if (of === undefined) throw new Error(`field ${field} has no OpenFlow equivalent`);
  return matchField(of.field, value & mask, mask).map(full);
}

/** A model match field as a test with an explicit mask. */
function full(x: { readonly field: string; readonly value: bigint; readonly mask?: bigint }): FieldTest {
  return { field: x.field, value: x.value, mask: x.mask ?? ones(fieldInfo(x.field)?.bits ?? 0) };
}

/** The flow model's match for a built one. */
export function toMatch(m: OfMatch): Match {
  return normalizeMatch(m.values());
}

/** A key of a match's tests, independent of the order they were added in (for de-duplication). */
export function matchKey(m: OfMatch): string {
  return [...m.values()]
    .map((t) => `${t.field}=${t.value.toString(16)}/${t.mask.toString(16)}`)
    .sort()
    .join(',');
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
    // A zero mask (`icmp4.type == 1/0`) tests nothing: no field test, not even on a field OVS cannot mask.
    if (a.mask === 0n) continue;
    for (const t of bitsTests(a.field, a.value, a.mask)) if (!addTest(m, t)) return undefined;
  }
  for (const n of negStrings) {
    const reg = BASE_FIELDS.get(n.field)!.field;
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
  return plainMatches(toConjunctions(expandMatch(parseMatch(text, lookups), lookups)), ctx);
}

function plainMatches(conjunctions: readonly Conjunction[], ctx: MatchContext): OfMatch[] {
  const out: OfMatch[] = [];
  const seen = new Set<string>();
  for (const c0 of conjunctions) {
    for (const c of expandNegatedStrings(c0, ctx)) {
      const m = conjunctionToMatch(c, ctx);
      if (m === undefined) continue;
      const k = matchKey(m);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(m);
    }
  }
  return out;
}

/** The most plain flows one match may expand to: toConjunctions's default limit. */
const MAX_PLAIN_FLOWS = 10000;

/** A `metadata=<datapath key>` test. */
export function metadataTest(key: number): FieldTest {
  return { field: 'metadata', value: BigInt(key), mask: ones(64) };
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
  { readonly kind: 'plain'; readonly matches: OfMatch[] } | { readonly kind: 'conj'; readonly base: OfMatch; readonly dims: OfMatch[][] };

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

/**
 * What a match text expands to before any fact of the SB or the chassis is
 * applied (those are in the {@link MatchContext} of {@link planMatch}): the
 * same for every flow with that text, as long as it names no address set or
 * port group.
 */
export interface MatchShape {
  /** The conjunctions of the whole match (expanded on first use). */
  conjunctions(): readonly Conjunction[];
  /** The parts of its top-level AND that are sets of alternatives on one field each. */
  readonly dims: readonly (readonly Conjunction[])[];
  /** The conjunctions of the other parts, ANDed; undefined with fewer than two sets. */
  readonly base: readonly Conjunction[] | undefined;
}

export function matchShape(text: string, lookups: MatchLookups): MatchShape {
  const expr = expandMatch(parseMatch(text, lookups), lookups);
  const baseKids: NormExpr[] = [];
  const dims: Conjunction[][] = [];
  for (const k of flattenAnd(expr)) {
    const cs = toConjunctions(k);
    if (isDimension(cs)) dims.push(cs);
    else baseKids.push(k);
  }
  let all: readonly Conjunction[] | undefined;
  const conjunctions = (): readonly Conjunction[] => (all ??= toConjunctions(expr));
  if (dims.length < 2) return { conjunctions, dims, base: undefined };
  const baseExpr: NormExpr =
    baseKids.length === 0 ? { type: 'true' } : baseKids.length === 1 ? baseKids[0]! : { type: 'and', exprs: baseKids };
  return { conjunctions, dims, base: toConjunctions(baseExpr) };
}

/** `shape`: the text's {@link matchShape} when the caller keeps them (see text-memo.ts). */
export function planMatch(text: string, ctx: MatchContext, shape: MatchShape = matchShape(text, lookupsOf(ctx))): MatchPlan {
  const plain = (): MatchPlan => ({ kind: 'plain', matches: plainMatches(shape.conjunctions(), ctx) });
  const dimKids = shape.dims;
  if (shape.base === undefined || shape.base.length !== 1) return plain();
  const baseMs = plainMatches(shape.base, ctx);
  if (baseMs.length !== 1) return baseMs.length === 0 ? { kind: 'plain', matches: [] } : plain();
  let base = baseMs[0]!;
  const dims: OfMatch[][] = [];
  for (const d of dimKids) {
    const els: OfMatch[] = [];
    const seen = new Set<string>();
    for (const c of d) {
      const m = conjunctionToMatch(c, ctx);
      if (m === undefined || mergeMatches(base, m) === undefined) continue;
      const k = matchKey(m);
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
  // Fewer than two real sets, or sets beside eth.type's alternatives: plain flows as OVN makes them, within
  // the limit toConjunctions keeps (four `ct_mark != {...}` of 32 alternatives each are a million flows).
  let acc: OfMatch[] = [base];
  for (const els of live) {
    const next: OfMatch[] = [];
    for (const a of acc)
      for (const m of els) {
        const x = mergeMatches(a, m);
        if (x !== undefined && next.push(x) > MAX_PLAIN_FLOWS)
          throw new LflowError(`Match expands to more than ${MAX_PLAIN_FLOWS} conjunctions.`, 0, text);
      }
    acc = next;
  }
  return { kind: 'plain', matches: acc };
}
