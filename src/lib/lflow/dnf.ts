/**
 * Normalized matches as a disjunction of conjunctions of masked bit tests:
 * the shape an OpenFlow table needs (one flow per conjunction, each field a
 * value/mask). Relational operators and `!=` become masked tests bit by bit,
 * the way ovn-sb(5) says OVN implements them ("collections of bitwise tests").
 * Conjunctions whose tests contradict each other are dropped, so an empty
 * result means the match can never be true ("Constraints are contradictory").
 */
import { LflowError } from './lexer.js';
import { printNormalized, type NormExpr } from './expr.js';

/** `field & mask == value` over the whole base field. */
export interface BitsAtom {
  readonly type: 'bits';
  readonly field: string;
  readonly fieldWidth: number;
  readonly value: bigint;
  readonly mask: bigint;
}

/** `field == "value"` (or `!=` when negated) on a string field. */
export interface StringAtom {
  readonly type: 'string';
  readonly field: string;
  readonly value: string;
  readonly negated: boolean;
}

export interface ChassisAtom {
  readonly type: 'chassis';
  readonly port: string;
  readonly negated: boolean;
}

export type Atom = BitsAtom | StringAtom | ChassisAtom;

/** Tests that must all hold; at most one BitsAtom per field. */
export type Conjunction = readonly Atom[];

export interface ToConjunctionsOptions {
  /** Upper bound on the number of conjunctions; beyond it LflowError. Default 10000. */
  readonly maxConjunctions?: number;
}

type Conj = Map<string, Atom>;

const atomKey = (a: Atom): string =>
  a.type === 'bits' ? `b:${a.field}` : a.type === 'string' ? `s:${a.field}:${a.negated}:${a.value}` : `c:${a.port}:${a.negated}`;

/** Adds `a` to a conjunction; false if that makes it contradictory. */
function addAtom(c: Conj, a: Atom): boolean {
  if (a.type === 'bits') {
    const prev = c.get(atomKey(a));
    if (prev !== undefined && prev.type === 'bits') {
      if (((prev.value ^ a.value) & prev.mask & a.mask) !== 0n) return false;
      c.set(atomKey(a), { ...a, value: prev.value | a.value, mask: prev.mask | a.mask });
      return true;
    }
    c.set(atomKey(a), a);
    return true;
  }
  if (a.type === 'string') {
    for (const other of c.values()) {
      if (other.type !== 'string' || other.field !== a.field) continue;
      if (!a.negated && !other.negated && other.value !== a.value) return false;
      if (a.negated !== other.negated && other.value === a.value) return false;
    }
  } else {
    const opposite = c.get(atomKey({ ...a, negated: !a.negated }));
    if (opposite !== undefined) return false;
  }
  c.set(atomKey(a), a);
  return true;
}

function merge(a: Conj, b: Conj): Conj | undefined {
  const out = new Map(a);
  for (const atom of b.values()) if (!addAtom(out, atom)) return undefined;
  return out;
}

const bitsAtom = (e: Extract<NormExpr, { type: 'cmp' }>, value: bigint, mask: bigint): Conj => {
  const a: BitsAtom = { type: 'bits', field: e.field, fieldWidth: e.fieldWidth, value: value << BigInt(e.lo), mask: mask << BigInt(e.lo) };
  return new Map([[atomKey(a), a]]);
};

/** One comparison as a list of alternative masked tests. */
function leafConjunctions(e: Extract<NormExpr, { type: 'cmp' }>): Conj[] {
  const w = e.width;
  const all = (1n << BigInt(w)) - 1n;
  const m = e.mask ?? all;
  const c = e.value & all;
  const eq = (): Conj[] => [bitsAtom(e, c & m, m)];
  const bit = (i: number): bigint => (c >> BigInt(i)) & 1n;
  /** Bits above i equal to c's, bit i equal to `b`. */
  const prefix = (i: number, b: bigint): Conj => {
    const mask = (all >> BigInt(i)) << BigInt(i);
    const value = ((c >> BigInt(i + 1)) << BigInt(i + 1)) | (b << BigInt(i));
    return bitsAtom(e, value, mask);
  };
  const less = (): Conj[] =>
    [...Array(w).keys()]
      .reverse()
      .filter((i) => bit(i) === 1n)
      .map((i) => prefix(i, 0n));
  const greater = (): Conj[] =>
    [...Array(w).keys()]
      .reverse()
      .filter((i) => bit(i) === 0n)
      .map((i) => prefix(i, 1n));
  switch (e.op) {
    case '==':
      return eq();
    case '!=': {
      const out: Conj[] = [];
      for (let i = w - 1; i >= 0; i--) {
        if (((m >> BigInt(i)) & 1n) === 0n) continue;
        out.push(bitsAtom(e, (bit(i) ^ 1n) << BigInt(i), 1n << BigInt(i)));
      }
      return out;
    }
    case '<':
      return less();
    case '<=':
      return [...less(), ...eq()];
    case '>':
      return greater();
    case '>=':
      return [...greater(), ...eq()];
  }
}

/**
 * Converts a normalized match into conjunctions (disjunctive normal form),
 * merging tests on the same field and dropping contradictory conjunctions.
 * `[]` means never true; `[[]]` means always true.
 */
export function toConjunctions(e: NormExpr, opts: ToConjunctionsOptions = {}): Conjunction[] {
  const max = opts.maxConjunctions ?? 10000;
  const check = (n: number): void => {
    if (n > max) throw new LflowError(`Match expands to more than ${max} conjunctions.`, 0, printNormalized(e));
  };
  const walk = (x: NormExpr): Conj[] => {
    switch (x.type) {
      case 'true':
        return [new Map<string, Atom>()];
      case 'false':
        return [];
      case 'cmp':
        return leafConjunctions(x);
      case 'scmp': {
        const a: StringAtom = { type: 'string', field: x.field, value: x.value, negated: x.op === '!=' };
        return [new Map([[atomKey(a), a]])];
      }
      case 'chassis': {
        const a: ChassisAtom = { type: 'chassis', port: x.port, negated: x.negated };
        return [new Map([[atomKey(a), a]])];
      }
      case 'or': {
        const out = x.exprs.flatMap(walk);
        check(out.length);
        return out;
      }
      case 'and': {
        let acc: Conj[] = [new Map<string, Atom>()];
        for (const kid of x.exprs) {
          const rhs = walk(kid);
          // Deduplicated as it grows, and refused as soon as it is too big: a product of
          // large alternatives (a user's `!` over a set of 128-bit values) must not be built first.
          const next: Conj[] = [];
          const seen = new Set<string>();
          for (const a of acc) {
            for (const b of rhs) {
              const m = merge(a, b);
              if (m === undefined) continue;
              const k = conjKey(m);
              if (seen.has(k)) continue;
              seen.add(k);
              next.push(m);
              check(next.length);
            }
          }
          acc = next;
          if (acc.length === 0) return acc;
        }
        return acc;
      }
    }
  };
  return dedupe(walk(e)).map((c) => [...c.values()]);
}

function conjKey(c: Conj): string {
  return [...c.values()]
    .map((a) => `${atomKey(a)}=${a.type === 'bits' ? `${a.value}/${a.mask}` : ''}`)
    .sort()
    .join(',');
}

/** Drops repeated conjunctions, keeping the first of each. */
function dedupe(cs: readonly Conj[]): Conj[] {
  const seen = new Set<string>();
  return cs.filter((c) => {
    const k = conjKey(c);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Whether a packet's base-field values satisfy a conjunction. */
export function conjunctionHolds(
  c: Conjunction,
  fields: ReadonlyMap<string, bigint | string>,
  isChassisResident: (port: string) => boolean = () => false,
): boolean {
  return c.every((a) => {
    switch (a.type) {
      case 'bits': {
        const v = fields.get(a.field);
        return ((typeof v === 'bigint' ? v : 0n) & a.mask) === a.value;
      }
      case 'string': {
        const v = fields.get(a.field);
        return ((typeof v === 'string' ? v : '') === a.value) !== a.negated;
      }
      case 'chassis':
        return isChassisResident(a.port) !== a.negated;
    }
  });
}

/** Prints a conjunction like a normalized match (`eth.type == 0x800 && tcp.dst == 0x50`); `1` when empty. */
export function printConjunction(c: Conjunction): string {
  if (c.length === 0) return '1';
  const parts = c.map((a): NormExpr => {
    switch (a.type) {
      case 'bits':
        return a.mask === (1n << BigInt(a.fieldWidth)) - 1n
          ? { type: 'cmp', field: a.field, fieldWidth: a.fieldWidth, lo: 0, width: a.fieldWidth, op: '==', value: a.value }
          : { type: 'cmp', field: a.field, fieldWidth: a.fieldWidth, lo: 0, width: a.fieldWidth, op: '==', value: a.value, mask: a.mask };
      case 'string':
        return { type: 'scmp', field: a.field, op: a.negated ? '!=' : '==', value: a.value };
      case 'chassis':
        return { type: 'chassis', port: a.port, negated: a.negated };
    }
  });
  return printNormalized(parts.length === 1 ? parts[0]! : { type: 'and', exprs: parts });
}
