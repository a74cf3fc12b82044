/**
 * Whether a normalized match pins down one packet, decided the way
 * ovn-trace(8) decides it for a MICROFLOW: after expansion the match is
 * brought to a disjunction of terms, and it describes one packet only when
 * exactly one term is left and that term tests each field one way.
 *
 * Every comparison becomes alternatives of masked bit tests on its base field
 * (a one-bit `!=` is one test, the bit being the other value; a wider `!=` is
 * one alternative per bit). Within an `&&`, the tests and `||`s on one field
 * are crossed and repeated alternatives merge (ovn-trace takes
 * `reg0[3..4] != 1 && reg0[3..4] != 2 && reg0[3..4] != 3` as both bits 0);
 * an `||` over several fields is expanded into separate terms, and those do
 * not merge even when equal (it calls `(flags[0] || reg0 == 0) && flags[0] &&
 * reg0 == 0` ambiguous), nor do the alternatives of a bare `||`
 * (`reg0[3] || reg0[3]`). Behaviour recorded from ovn-trace 23.03
 * (test/unit/trace-microflow.test.ts).
 */
import { toConjunctions, type Atom, type NormExpr } from '../lib/lflow/index.js';

/** One alternative: a single test on one field. */
type Alt = Atom;
/** Alternatives per field (the key from {@link fieldKey}): a term holds when, for every field, one of its alternatives does. */
type Term = ReadonlyMap<string, readonly Alt[]>;

/** Past this many terms or alternatives the match is not one packet anyway (ovn-trace itself can take minutes here). */
const MAX = 10_000;

export type MicroflowTerms =
  { readonly kind: 'contradictory' } | { readonly kind: 'ambiguous' } | { readonly kind: 'one'; readonly atoms: readonly Atom[] };

const fieldKey = (a: Atom): string => (a.type === 'bits' ? `b:${a.field}` : a.type === 'string' ? `s:${a.field}` : `c:${a.port}`);

const altKey = (a: Alt): string =>
  a.type === 'bits' ? `${a.value}/${a.mask}` : a.type === 'string' ? `${a.negated}:${a.value}` : `${a.negated}`;

/** Both tests at once, or undefined when they contradict. */
function mergeAlt(a: Alt, b: Alt): Alt | undefined {
  if (a.type === 'bits' && b.type === 'bits') {
    if (((a.value ^ b.value) & a.mask & b.mask) !== 0n) return undefined;
    return { ...a, value: a.value | b.value, mask: a.mask | b.mask };
  }
  if (a.type === 'string' && b.type === 'string') {
    if (!a.negated && !b.negated) return a.value === b.value ? a : undefined;
    if (a.negated !== b.negated) {
      const [pos, neg] = a.negated ? [b, a] : [a, b];
      return pos.value === neg.value ? undefined : pos;
    }
    // Two `!=` (ovn-trace refuses `!=` on its string fields before this): kept as one, which is ambiguous anyway.
    return a;
  }
  if (a.type === 'chassis' && b.type === 'chassis') return a.negated === b.negated ? a : undefined;
  return undefined;
}

/** The alternatives of both fields' tests crossed, contradictions dropped, repeats merged. */
function crossAlts(xs: readonly Alt[], ys: readonly Alt[]): Alt[] {
  const out = new Map<string, Alt>();
  for (const x of xs) {
    for (const y of ys) {
      const m = mergeAlt(x, y);
      if (m !== undefined) out.set(altKey(m), m);
      if (out.size > MAX) throw new TooLarge();
    }
  }
  return [...out.values()];
}

/** Both terms at once, or undefined when a field's alternatives all contradict. */
function andTerms(a: Term, b: Term): Term | undefined {
  const out = new Map(a);
  for (const [k, alts] of b) {
    const prev = out.get(k);
    const next = prev === undefined ? alts : crossAlts(prev, alts);
    if (next.length === 0) return undefined;
    out.set(k, next);
  }
  return out;
}

class TooLarge extends Error {}

/** The single field every term of `ts` tests, if there is one. */
function uniqueField(ts: readonly Term[]): string | undefined {
  let field: string | undefined;
  for (const t of ts) {
    if (t.size !== 1) return undefined;
    const [k] = t.keys();
    if (field !== undefined && k !== field) return undefined;
    field = k;
  }
  return field;
}

function terms(e: NormExpr): Term[] {
  switch (e.type) {
    case 'true':
      return [new Map()];
    case 'false':
      return [];
    case 'cmp':
    case 'scmp':
    case 'chassis': {
      const alts = toConjunctions(e, { maxConjunctions: MAX }).map((c) => c[0]!);
      if (alts.length === 0) return [];
      return [new Map([[fieldKey(alts[0]!), alts]])];
    }
    case 'or': {
      const kids = e.exprs.flatMap(terms);
      if (kids.length > MAX) throw new TooLarge();
      // An `||` on one field stays one test with its alternatives (not merged: `reg0[3] || reg0[3]` is two).
      const field = uniqueField(kids);
      if (field !== undefined && kids.length > 0) return [new Map([[field, kids.flatMap((t) => t.get(field)!)]])];
      return kids;
    }
    case 'and': {
      let acc: Term[] = [new Map()];
      for (const kid of e.exprs) {
        const rhs = terms(kid);
        const next: Term[] = [];
        for (const a of acc) {
          for (const b of rhs) {
            const m = andTerms(a, b);
            if (m !== undefined) next.push(m);
            if (next.length > MAX) throw new TooLarge();
          }
        }
        acc = next;
        if (acc.length === 0) break;
      }
      return acc;
    }
  }
}

/**
 * What the microflow `e` (expanded, prerequisites included) describes: no
 * packet, more than one, or one, given as the tests that pin it (fields it
 * does not test are zero).
 */
export function microflowTerms(e: NormExpr): MicroflowTerms {
  let ts: Term[];
  try {
    ts = terms(e);
  } catch (err) {
    if (err instanceof TooLarge) return { kind: 'ambiguous' };
    throw err;
  }
  if (ts.length === 0) return { kind: 'contradictory' };
  if (ts.length > 1) return { kind: 'ambiguous' };
  const atoms: Atom[] = [];
  for (const alts of ts[0]!.values()) {
    const only = alts.length === 1 ? alts[0]! : undefined;
    // A field tested several ways, a negated string, a chassis test: more than one packet.
    if (only === undefined || only.type === 'chassis' || (only.type === 'string' && only.negated)) return { kind: 'ambiguous' };
    atoms.push(only);
  }
  return { kind: 'one', atoms };
}
