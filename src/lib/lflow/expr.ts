/**
 * Match expressions of OVN logical flows (ovn-sb(5), "Logical_Flow TABLE",
 * match): parser with type checking, canonical printer, expansion to a
 * normalized form over base fields (predicates, subfields, sets, address sets
 * and prerequisites expanded), and evaluation against a packet for tracing.
 *
 * Errors are LflowError with OVN's wording (as the real `ovn-trace` prints
 * them for a bad microflow) and the offset of the offending token.
 */
import { LflowError, TokenStream, bitLength, formatIntConstant, formatIntValue, tokenize, type IntConstant, type Token } from './lexer.js';
import { defaultSymbols, type LflowSymbol, type SymbolTable } from './symbols.js';

export const REL_OPS = ['==', '!=', '<', '<=', '>', '>='] as const;
export type RelOp = (typeof REL_OPS)[number];

/** A field, subfield or predicate, optionally with a bit selection (`reg0[3]`, `reg0[0..15]`). */
export interface FieldRef {
  readonly name: string;
  /** Bit selection: `[lo]` when hi is absent, `[lo..hi]` otherwise. */
  readonly lo?: number;
  readonly hi?: number;
}

export interface StringConstant {
  readonly kind: 'string';
  readonly value: string;
}
export interface AddressSetRef {
  readonly kind: 'addrset';
  readonly name: string;
}
export interface PortGroupRef {
  readonly kind: 'portgroup';
  readonly name: string;
}
export type MatchValue = IntConstant | StringConstant | AddressSetRef | PortGroupRef;

/** A parsed (and type-checked) match expression, as written. */
export type Expr =
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'cmp'; readonly field: FieldRef; readonly op: RelOp; readonly values: readonly MatchValue[]; readonly set: boolean }
  | { readonly type: 'test'; readonly field: FieldRef }
  | { readonly type: 'not'; readonly expr: Expr }
  | { readonly type: 'and' | 'or'; readonly exprs: readonly Expr[] }
  | { readonly type: 'call'; readonly name: 'is_chassis_resident'; readonly port: string };

/** Address set and port group contents, as in the SB Address_Set / Port_Group tables. */
export interface MatchLookups {
  /** Members of `$name` as constant strings (`10.0.0.1`, `10.0.0.0/8`, MACs), or undefined if there is none. */
  readonly addressSet?: (name: string) => readonly string[] | undefined;
  /** Port names of `@name`, or undefined if there is none. */
  readonly portGroup?: (name: string) => readonly string[] | undefined;
}

export interface ParseMatchOptions extends MatchLookups {
  /** Default: OVN's table (`defaultSymbols()`). */
  readonly symbols?: SymbolTable;
}

// ---------------------------------------------------------------------------
// Parser + type checker

const fieldRefText = (f: FieldRef): string =>
  f.lo === undefined ? f.name : f.hi === undefined ? `${f.name}[${f.lo}]` : `${f.name}[${f.lo}..${f.hi}]`;

const flipOp = (op: RelOp): RelOp => (({ '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' }) as const)[op];

interface ResolvedField {
  readonly ref: FieldRef;
  readonly sym: LflowSymbol;
  readonly width: number;
  readonly isString: boolean;
  readonly nominal: boolean;
}

/** How deep parentheses may nest in a match, as in OVN. */
const MAX_PAREN_DEPTH = 100;

class MatchParser {
  private readonly ts: TokenStream;
  private readonly symbols: SymbolTable;
  private parenDepth = 0;

  constructor(
    input: string,
    private readonly opts: ParseMatchOptions,
  ) {
    this.ts = new TokenStream(input);
    this.symbols = opts.symbols ?? defaultSymbols();
  }

  parseAll(): Expr {
    const e = this.parseExpr(false);
    if (this.ts.peek().type !== 'end') this.ts.syntaxError('end of input');
    return e;
  }

  /** Binary chain of `&&` or `||` (not both unparenthesized). `neg` is true under an odd number of `!`. */
  private parseExpr(neg: boolean): Expr {
    const first = this.parseNot(neg);
    let kind: 'and' | 'or' | undefined;
    const items: Expr[] = [first];
    for (;;) {
      const t = this.ts.peek();
      let k: 'and' | 'or' | undefined;
      if (t.type === 'punct' && t.text === '&&') k = 'and';
      else if (t.type === 'punct' && t.text === '||') k = 'or';
      if (k === undefined) break;
      if (kind !== undefined && kind !== k) this.ts.error('&& and || must be parenthesized when used together.', t.pos);
      kind = k;
      this.ts.next();
      items.push(this.parseNot(neg));
    }
    if (kind === undefined) return first;
    return makeJunction(kind, items);
  }

  /** A chain of `!` is read in a loop, not by recursion: a user's ACL may hold thousands. */
  private parseNot(neg: boolean): Expr {
    let n = 0;
    while (this.ts.match('!')) n++;
    let e = this.parsePrimary(n % 2 === 1 ? !neg : neg);
    for (let i = 0; i < n; i++) e = negateExpr(e);
    return e;
  }

  private parsePrimary(neg: boolean): Expr {
    const t = this.ts.peek();
    if (t.type === 'punct' && t.text === '(') {
      // OVN's limit (lib/expr.c MAX_PAREN_DEPTH), in its words; it also bounds this parser's recursion.
      if (this.parenDepth >= MAX_PAREN_DEPTH) this.ts.error('Parentheses nested too deeply.', t.pos);
      this.ts.next();
      this.parenDepth++;
      const e = this.parseExpr(neg);
      this.parenDepth--;
      this.ts.expect(')');
      return e;
    }
    if (t.type === 'id') {
      if (this.ts.isPunct('(', 1) && !this.symbols.has(t.name)) return this.parseCall();
      return this.parseFieldFirst(neg);
    }
    if (
      t.type === 'int' &&
      !this.isRelop(1) &&
      t.value.mask === undefined &&
      t.value.format === 'decimal' &&
      (t.value.value === 0n || t.value.value === 1n)
    ) {
      this.ts.next();
      return { type: 'bool', value: t.value.value === 1n };
    }
    if (
      t.type === 'int' ||
      t.type === 'string' ||
      t.type === 'addrset' ||
      t.type === 'portgroup' ||
      (t.type === 'punct' && t.text === '{')
    ) {
      return this.parseConstantFirst(neg);
    }
    return this.ts.syntaxError('constant');
  }

  private parseCall(): Expr {
    const t = this.ts.next();
    if (t.type !== 'id' || t.name !== 'is_chassis_resident') return this.ts.syntaxError('field name', t);
    this.ts.expect('(');
    const a = this.ts.peek();
    if (a.type !== 'string') this.ts.syntaxError('string');
    this.ts.next();
    this.ts.expect(')');
    return { type: 'call', name: 'is_chassis_resident', port: a.value };
  }

  private isRelop(k = 0): boolean {
    const t = this.ts.peek(k);
    return t.type === 'punct' && (REL_OPS as readonly string[]).includes(t.text);
  }

  private parseRelop(): RelOp {
    if (!this.isRelop()) this.ts.syntaxError('relational operator');
    return this.ts.next().text as RelOp;
  }

  /** A field name with optional `[lo]` / `[lo..hi]`, checked against the symbol table. */
  private parseField(): ResolvedField {
    const t = this.ts.peek();
    if (t.type !== 'id') return this.ts.syntaxError('field name');
    const sym = this.symbols.get(t.name);
    if (sym === undefined) return this.ts.syntaxError('field name');
    this.ts.next();
    const isString = sym.kind === 'field' && sym.type === 'string';
    let width = this.symbols.width(sym);
    let ref: FieldRef = { name: t.name };
    if (this.ts.isPunct('[')) {
      const open = this.ts.next();
      if (isString) this.ts.error(`Cannot select subfield of string field ${t.name}.`, open.pos);
      const { lo, hi } = this.ts.bitRange(open);
      const h = hi ?? lo;
      if (h >= width || sym.kind === 'predicate' || (sym.kind === 'field' && sym.nominal)) {
        if (sym.kind === 'field' && sym.nominal && h < width) this.ts.error(`Cannot select subfield of nominal field ${t.name}.`, open.pos);
        this.ts.error(`Cannot select bits ${lo} to ${h} of ${width}-bit field ${t.name}.`, open.pos);
      }
      ref = hi === undefined ? { name: t.name, lo } : { name: t.name, lo, hi };
      width = h - lo + 1;
      return { ref, sym, width, isString: false, nominal: false };
    }
    return { ref, sym, width, isString, nominal: this.symbols.isNominal(sym) };
  }

  /** One constant or a `{…}` set; commas are optional. */
  private parseValues(): { values: MatchValue[]; set: boolean; tokens: Token[] } {
    if (this.ts.match('{')) {
      const values: MatchValue[] = [];
      const tokens: Token[] = [];
      do {
        if (values.length > 0 && this.ts.isPunct('}')) break;
        const first = values[0];
        const t = this.ts.peek();
        // An unknown `$name`/`@name` is reported before a type mismatch, as OVN does.
        if (t.type === 'addrset' && this.opts.addressSet !== undefined && this.opts.addressSet(t.name) === undefined)
          this.ts.syntaxError('address set name');
        if (t.type === 'portgroup' && this.opts.portGroup !== undefined && this.opts.portGroup(t.name) === undefined)
          this.ts.syntaxError('port group name');
        if (first !== undefined) {
          const wantString = first.kind === 'string' || first.kind === 'portgroup';
          const isString = t.type === 'string' || t.type === 'portgroup';
          const isInt = t.type === 'int' || t.type === 'addrset';
          if (wantString && isInt) this.ts.syntaxError('string');
          if (!wantString && isString) this.ts.syntaxError('integer');
        }
        values.push(this.parseOneValue());
        tokens.push(t);
        this.ts.match(',');
      } while (!this.ts.isPunct('}'));
      this.ts.expect('}');
      return { values, set: true, tokens };
    }
    const t = this.ts.peek();
    return { values: [this.parseOneValue()], set: false, tokens: [t] };
  }

  private parseOneValue(): MatchValue {
    const t = this.ts.peek();
    switch (t.type) {
      case 'int':
        this.ts.next();
        return t.value;
      case 'string':
        this.ts.next();
        return { kind: 'string', value: t.value };
      case 'addrset':
        if (this.opts.addressSet !== undefined && this.opts.addressSet(t.name) === undefined) this.ts.syntaxError('address set name');
        this.ts.next();
        return { kind: 'addrset', name: t.name };
      case 'portgroup':
        if (this.opts.portGroup !== undefined && this.opts.portGroup(t.name) === undefined) this.ts.syntaxError('port group name');
        this.ts.next();
        return { kind: 'portgroup', name: t.name };
      default:
        return this.ts.syntaxError('constant');
    }
  }

  private parseFieldFirst(neg: boolean): Expr {
    const fieldTok = this.ts.peek();
    const f = this.parseField();
    if (!this.isRelop()) {
      if (f.isString) this.ts.syntaxError('relational operator');
      return this.checkTest(f, neg, fieldTok.pos);
    }
    const opTok = this.ts.peek();
    const op = this.parseRelop();
    const v = this.parseValues();
    return this.checkCmp(f, op, v.values, v.set, v.tokens, neg, opTok.pos);
  }

  private parseConstantFirst(neg: boolean): Expr {
    const v = this.parseValues();
    const opTok = this.ts.peek();
    const op1 = this.parseRelop();
    const f = this.parseField();
    const c1 = this.checkCmp(f, flipOp(op1), v.values, v.set, v.tokens, neg, opTok.pos);
    if (!this.isRelop()) return c1;
    // `1024 <= tcp.src <= 49151`
    const op2Tok = this.ts.peek();
    const op2 = this.parseRelop();
    const v2 = this.parseValues();
    const c2 = this.checkCmp(f, op2, v2.values, v2.set, v2.tokens, neg, op2Tok.pos);
    return { type: 'and', exprs: [c1, c2] };
  }

  private checkTest(f: ResolvedField, neg: boolean, pos: number): Expr {
    if (f.sym.kind === 'predicate' && f.nominal && neg) this.nominalPredicate(f.ref.name, pos);
    if (f.width !== 1 && !neg) this.ts.error("Explicit `!= 0' is required for inequality test of multibit field against 0.", pos);
    return { type: 'test', field: f.ref };
  }

  private nominalPredicate(name: string, pos: number): never {
    return this.ts.error(
      `Nominal predicate ${name} may only be tested positively, e.g. \`${name}' or \`${name} == 1' but not \`!${name}' or \`${name} == 0'.`,
      pos,
    );
  }

  private checkCmp(f: ResolvedField, op: RelOp, values: MatchValue[], set: boolean, tokens: Token[], neg: boolean, opPos: number): Expr {
    const name = fieldRefText(f.ref);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      const tok = tokens[i]!;
      const isStr = v.kind === 'string' || v.kind === 'portgroup';
      if (f.isString && !isStr) this.ts.error(`String field ${name} is not compatible with integer constant.`, tok.pos);
      if (!f.isString && isStr) this.ts.error(`Integer field ${name} is not compatible with string constant.`, tok.pos);
      if (v.kind === 'int') {
        if (v.mask !== undefined && op !== '==' && op !== '!=') {
          this.ts.error(
            'Only == and != operators may be used with masked constants.  Consider using subfields instead (e.g. eth.src[0..15] > 0x1111 in place of eth.src > 00:00:00:00:11:11/00:00:00:00:ff:ff).',
            tok.pos,
          );
        }
        this.checkWidth(v, f.width, name, tok.pos);
      }
      if (v.kind === 'addrset' && this.opts.addressSet !== undefined) {
        for (const member of this.opts.addressSet(v.name) ?? []) {
          const c = parseConstantString(member, tok.pos, this.ts.input);
          this.checkWidth(c, f.width, name, tok.pos);
        }
      }
    }
    if (f.nominal || f.isString) {
      if (op !== '==' && op !== '!=') this.ts.error(`Only == and != operators may be used with nominal field ${name}.`, opPos);
      if (f.sym.kind === 'predicate') {
        // `ip4 == 1` is fine; `ip4 == 0`, `ip4 != 1`, `!(ip4 == 1)` are not.
        const v = values[0];
        const positive = (op === '==') === (v?.kind === 'int' && v.value === 1n);
        if (positive === neg) this.nominalPredicate(name, opPos);
      } else if ((op === '==') === neg) {
        this.ts.error(`Nominal field ${name} may only be tested for equality (taking enclosing \`!' operators into account).`, opPos);
      }
    }
    return { type: 'cmp', field: f.ref, op, values, set };
  }

  private checkWidth(v: IntConstant, width: number, name: string, pos: number): void {
    const bits = constantWidth(v);
    if (bits > width) this.ts.error(`${bits}-bit constant is not compatible with ${width}-bit field ${name}.`, pos);
  }
}

/**
 * The width OVN gives a constant when checking it against a field: the
 * notation's width for addresses (IPv4 32, Ethernet 48, IPv6 128), the
 * significant bits of value and mask otherwise.
 */
export function constantWidth(v: IntConstant): number {
  if (v.format === 'ipv4') return 32;
  if (v.format === 'mac') return 48;
  if (v.format === 'ipv6') return 128;
  return Math.max(bitLength(v.value), v.mask === undefined ? 0 : bitLength(v.mask));
}

/** Parses one constant (with optional mask) from text, e.g. an Address_Set member. */
export function parseConstantString(text: string, pos = 0, input = text): IntConstant {
  let toks: Token[];
  try {
    toks = tokenize(text);
  } catch (e) {
    if (e instanceof LflowError) throw new LflowError(`${e.message.replace(/\.$/, '')} in \`${text}'.`, pos, input);
    throw e;
  }
  const t = toks[0];
  if (toks.length !== 2 || t === undefined || t.type !== 'int') throw new LflowError(`Invalid constant \`${text}'.`, pos, input);
  return t.value;
}

function makeJunction(type: 'and' | 'or', items: readonly Expr[]): Expr {
  const out: Expr[] = [];
  for (const e of items) {
    if (e.type === type) out.push(...e.exprs);
    else out.push(e);
  }
  return out.length === 1 ? out[0]! : { type, exprs: out };
}

function negateExpr(e: Expr): Expr {
  return { type: 'not', expr: e };
}

/**
 * Parses and type-checks a match expression. Throws LflowError with OVN's
 * message for syntax errors (`Syntax error at `x' expecting field name.`) and
 * type errors (`17-bit constant is not compatible with 16-bit field tcp.src.`).
 */
export function parseMatch(input: string, opts: ParseMatchOptions = {}): Expr {
  return new MatchParser(input, opts).parseAll();
}

// ---------------------------------------------------------------------------
// Printer

function printValue(v: MatchValue): string {
  switch (v.kind) {
    case 'int':
      return formatIntConstant(v);
    case 'string':
      return JSON.stringify(v.value);
    case 'addrset':
      return `$${v.name}`;
    case 'portgroup':
      return `@${v.name}`;
  }
}

/**
 * Prints a parsed match in canonical form: single spaces around binary
 * operators, `{a, b}` sets, constants in the notation they were written in,
 * parentheses only where the grammar requires them. parse → print → parse is
 * stable.
 */
export function printMatch(e: Expr): string {
  switch (e.type) {
    case 'bool':
      return e.value ? '1' : '0';
    case 'test':
      return fieldRefText(e.field);
    case 'cmp': {
      const vals = e.set ? `{${e.values.map(printValue).join(', ')}}` : printValue(e.values[0]!);
      return `${fieldRefText(e.field)} ${e.op} ${vals}`;
    }
    case 'not': {
      // A chain of `!` in a loop (it may be thousands long).
      let bangs = 0;
      let inner: Expr = e;
      while (inner.type === 'not') {
        bangs++;
        inner = inner.expr;
      }
      const text = printMatch(inner);
      const bare = inner.type === 'test' || inner.type === 'bool' || inner.type === 'call';
      return bare ? `${'!'.repeat(bangs)}${text}` : `${'!'.repeat(bangs - 1)}!(${text})`;
    }
    case 'and':
    case 'or':
      return e.exprs
        .map((x) => (x.type === 'and' || x.type === 'or' ? `(${printMatch(x)})` : printMatch(x)))
        .join(e.type === 'and' ? ' && ' : ' || ');
    case 'call':
      return `${e.name}(${JSON.stringify(e.port)})`;
  }
}

// ---------------------------------------------------------------------------
// Expansion to the normalized form

/** A normalized match over base fields only (no predicates, subfield symbols, sets or `!`). */
export type NormExpr =
  | { readonly type: 'true' }
  | { readonly type: 'false' }
  | {
      readonly type: 'cmp';
      /** Base field name (`xxreg0` for `reg0`, `vlan.tci` for `vlan.vid`). */
      readonly field: string;
      readonly fieldWidth: number;
      /** Selected bits of the base field. */
      readonly lo: number;
      readonly width: number;
      readonly op: RelOp;
      readonly value: bigint;
      /** For `==`/`!=` on masked constants: only these bits (relative to lo) are compared. */
      readonly mask?: bigint;
    }
  | { readonly type: 'scmp'; readonly field: string; readonly op: '==' | '!='; readonly value: string }
  | { readonly type: 'and' | 'or'; readonly exprs: readonly NormExpr[] }
  | { readonly type: 'chassis'; readonly port: string; readonly negated: boolean };

export type ExpandOptions = ParseMatchOptions;

const TRUE: NormExpr = { type: 'true' };
const FALSE: NormExpr = { type: 'false' };

function nJunction(type: 'and' | 'or', items: readonly NormExpr[]): NormExpr {
  const out: NormExpr[] = [];
  const absorbing = type === 'and' ? 'false' : 'true';
  const neutral = type === 'and' ? 'true' : 'false';
  for (const e of items) {
    if (e.type === absorbing) return e;
    if (e.type === neutral) continue;
    if (e.type === type) out.push(...e.exprs);
    else out.push(e);
  }
  if (out.length === 0) return type === 'and' ? TRUE : FALSE;
  return out.length === 1 ? out[0]! : { type, exprs: out };
}

const NEG_OP: Record<RelOp, RelOp> = { '==': '!=', '!=': '==', '<': '>=', '>=': '<', '>': '<=', '<=': '>' };

/** Logical negation pushed down to the leaves (De Morgan). */
export function negateNorm(e: NormExpr): NormExpr {
  switch (e.type) {
    case 'true':
      return FALSE;
    case 'false':
      return TRUE;
    case 'cmp':
      return { ...e, op: NEG_OP[e.op] };
    case 'scmp':
      return { ...e, op: e.op === '==' ? '!=' : '==' };
    case 'and':
      return nJunction('or', e.exprs.map(negateNorm));
    case 'or':
      return nJunction('and', e.exprs.map(negateNorm));
    case 'chassis':
      return { ...e, negated: !e.negated };
  }
}

class Expander {
  private readonly symbols: SymbolTable;

  constructor(private readonly opts: ExpandOptions & { readonly noPrereqs?: boolean }) {
    this.symbols = opts.symbols ?? defaultSymbols();
  }

  private parsed(text: string): Expr {
    return this.symbols.memo(`match:${text}`, () => parseMatch(text, { symbols: this.symbols }));
  }

  private prereq(sym: LflowSymbol): NormExpr {
    return sym.prereq === undefined || this.opts.noPrereqs === true ? TRUE : this.expand(this.parsed(sym.prereq), false);
  }

  expand(e: Expr, neg: boolean): NormExpr {
    switch (e.type) {
      case 'bool':
        return e.value !== neg ? TRUE : FALSE;
      case 'not': {
        // A chain of `!` in a loop (it may be thousands long).
        let inner: Expr = e;
        let n = neg;
        while (inner.type === 'not') {
          n = !n;
          inner = inner.expr;
        }
        return this.expand(inner, n);
      }
      case 'and':
      case 'or': {
        const kids = e.exprs.map((x) => this.expand(x, neg));
        return nJunction((e.type === 'and') !== neg ? 'and' : 'or', kids);
      }
      case 'call':
        return { type: 'chassis', port: e.port, negated: neg };
      case 'test':
        return this.expandTest(e.field, neg);
      case 'cmp':
        return this.expandCmp(e, neg);
    }
  }

  private symbol(name: string): LflowSymbol {
    const s = this.symbols.get(name);
    if (s === undefined) throw new Error(`unknown symbol ${name}`);
    return s;
  }

  private expandTest(ref: FieldRef, neg: boolean): NormExpr {
    const sym = this.symbol(ref.name);
    if (sym.kind === 'predicate' && ref.lo === undefined) {
      // A predicate is negated as a whole, with the prerequisites of what it mentions.
      const inner = sym.innerPrereqs === false ? new Expander({ ...this.opts, symbols: this.symbols, noPrereqs: true }) : this;
      const whole = nJunction('and', [inner.expand(this.parsed(sym.expansion), false), this.prereq(sym)]);
      return neg ? negateNorm(whole) : whole;
    }
    const leaf = this.leaf(ref, sym);
    // A 1-bit test means `== 1`; a multibit one (only valid under `!`) means `!= 0`.
    const core: NormExpr = leaf.width === 1 ? { ...leaf, op: '==', value: 1n } : { ...leaf, op: '!=', value: 0n };
    return nJunction('and', [neg ? negateNorm(core) : core, this.prereq(sym)]);
  }

  private leaf(ref: FieldRef, sym: LflowSymbol): { type: 'cmp'; field: string; fieldWidth: number; lo: number; width: number } {
    const st = this.symbols.resolveStorage(sym.name);
    if (st === undefined) throw new Error(`symbol ${sym.name} has no storage`);
    const lo = st.lo + (ref.lo ?? 0);
    const width = ref.lo === undefined ? st.width : (ref.hi ?? ref.lo) - ref.lo + 1;
    return { type: 'cmp', field: st.field.name, fieldWidth: st.field.width, lo, width };
  }

  private values(vs: readonly MatchValue[]): (IntConstant | StringConstant)[] {
    const out: (IntConstant | StringConstant)[] = [];
    for (const v of vs) {
      if (v.kind === 'int' || v.kind === 'string') out.push(v);
      else if (v.kind === 'addrset') {
        const members = this.opts.addressSet?.(v.name);
        if (members === undefined) throw new LflowError(`Syntax error at \`$${v.name}' expecting address set name.`, 0, `$${v.name}`);
        for (const m of members) out.push(parseConstantString(m));
      } else {
        const ports = this.opts.portGroup?.(v.name);
        if (ports === undefined) throw new LflowError(`Syntax error at \`@${v.name}' expecting port group name.`, 0, `@${v.name}`);
        for (const p of ports) out.push({ kind: 'string', value: p });
      }
    }
    return out;
  }

  private expandCmp(e: Extract<Expr, { type: 'cmp' }>, neg: boolean): NormExpr {
    const sym = this.symbol(e.field.name);
    if (sym.kind === 'predicate' && e.field.lo === undefined) {
      // `ip4 == 1`, `ip4 != 0`: a test with polarity.
      const v = e.values[0];
      const one = v?.kind === 'int' && v.value === 1n;
      return this.expandTest(e.field, neg !== ((e.op === '==') !== one));
    }
    const vals = this.values(e.values);
    let leaves: NormExpr[];
    if (sym.kind === 'field' && sym.type === 'string') {
      leaves = vals.map((v) => ({
        type: 'scmp',
        field: sym.name,
        op: e.op === '!=' ? '!=' : '==',
        value: v.kind === 'string' ? v.value : '',
      }));
    } else {
      const base = this.leaf(e.field, sym);
      leaves = vals.map((v): NormExpr => {
        if (v.kind !== 'int') return FALSE;
        const full = (1n << BigInt(base.width)) - 1n;
        if (v.mask !== undefined && (v.mask & full) !== full) return { ...base, op: e.op, value: v.value & v.mask, mask: v.mask & full };
        return { ...base, op: e.op, value: v.value };
      });
    }
    const core = nJunction(e.op === '!=' ? 'and' : 'or', leaves);
    return nJunction('and', [neg ? negateNorm(core) : core, this.prereq(sym)]);
  }
}

/**
 * Expands a parsed match to its normalized form: predicates replaced by their
 * definitions, subfield symbols by bit ranges of base fields, `{…}` sets by
 * `||` (or `&&` for `!=`), address sets and port groups through the lookups,
 * prerequisites added beside each use (`tcp.dst == 80` →
 * `tcp.dst == 0x50 && ip.proto == 0x6 && (eth.type == 0x800 || eth.type == 0x86dd)`),
 * and `!` pushed down to the comparisons.
 */
export function expandMatch(e: Expr, opts: ExpandOptions = {}): NormExpr {
  return new Expander(opts).expand(e, false);
}

/** A normalized field reference as OVN prints it: `tcp.dst`, `ct_state[1]`, `xxreg0[96..127]`. */
function normFieldText(e: { field: string; fieldWidth: number; lo: number; width: number }): string {
  if (e.lo === 0 && e.width === e.fieldWidth) return e.field;
  return e.width === 1 ? `${e.field}[${e.lo}]` : `${e.field}[${e.lo}..${e.lo + e.width - 1}]`;
}

const hexOrZero = (v: bigint): string => (v === 0n ? '0' : `0x${v.toString(16)}`);

/**
 * Prints a normalized match the way OVN's tools print expanded expressions
 * (`ct_state[5]`, `!ct_state[1]`, `ip.proto == 0x6`, `tcp.flags[0..3] == 0x3`).
 */
export function printNormalized(e: NormExpr, parent?: 'and' | 'or'): string {
  switch (e.type) {
    case 'true':
      return '1';
    case 'false':
      return '0';
    case 'scmp':
      return `${e.field} ${e.op} ${JSON.stringify(e.value)}`;
    case 'chassis':
      return `${e.negated ? '!' : ''}is_chassis_resident(${JSON.stringify(e.port)})`;
    case 'and':
    case 'or': {
      const inner = e.exprs.map((x) => printNormalized(x, e.type)).join(e.type === 'and' ? ' && ' : ' || ');
      return parent !== undefined ? `(${inner})` : inner;
    }
    case 'cmp': {
      if (e.mask === undefined) return printBits(e, e.lo, e.width, e.op, e.value);
      // A contiguous mask prints as a bit range; any other as value/mask.
      const m = e.mask;
      const low = m === 0n ? 0 : bitLength(m & -m) - 1;
      const run = m >> BigInt(low);
      if (m !== 0n && (run & (run + 1n)) === 0n) return printBits(e, e.lo + low, bitLength(run), e.op, e.value >> BigInt(low));
      return `${normFieldText(e)} ${e.op} ${hexOrZero(e.value)}/${hexOrZero(m)}`;
    }
  }
}

function printBits(e: { field: string; fieldWidth: number }, lo: number, width: number, op: RelOp, value: bigint): string {
  const name = normFieldText({ field: e.field, fieldWidth: e.fieldWidth, lo, width });
  if (width === 1 && (op === '==' || op === '!=')) return (op === '==') === (value === 1n) ? name : `!${name}`;
  return `${name} ${op} ${hexOrZero(value)}`;
}

// ---------------------------------------------------------------------------
// Evaluation

/**
 * Field values of a packet for `evaluate`, by symbol name: base fields
 * (`eth.src`, `xxreg0`) or any field/subfield symbol (`reg0`, `vlan.vid`,
 * `ct.est`), which are overlaid onto their base field. Integer fields take
 * bigint/number/boolean or a constant string (`"10.0.0.1"`, `"02:00:00:00:00:01"`);
 * string fields take strings. Missing fields are 0 / "".
 */
export type Packet = Readonly<Record<string, bigint | number | boolean | string>>;

export interface EvaluateOptions extends ExpandOptions {
  /** `is_chassis_resident(port)`; default: false. */
  readonly isChassisResident?: (port: string) => boolean;
}

function toBigint(v: bigint | number | boolean | string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return parseConstantString(v).value;
}

/** Base-field values of a packet, with subfield symbols overlaid. */
export function packetFields(packet: Packet, symbols: SymbolTable = defaultSymbols()): Map<string, bigint | string> {
  const out = new Map<string, bigint | string>();
  // Base fields first, then subfields (so `reg0` overrides bits of `xxreg0`).
  const entries = Object.entries(packet).sort(
    ([a], [b]) => Number(symbols.get(a)?.kind === 'subfield') - Number(symbols.get(b)?.kind === 'subfield'),
  );
  for (const [name, raw] of entries) {
    const sym = symbols.get(name);
    if (sym === undefined || sym.kind === 'predicate') throw new Error(`packet field ${name} is not a field of the symbol table`);
    if (sym.kind === 'field' && sym.type === 'string') {
      out.set(name, String(raw));
      continue;
    }
    const st = symbols.resolveStorage(name)!;
    const fieldMask = ((1n << BigInt(st.width)) - 1n) << BigInt(st.lo);
    const prev = out.get(st.field.name);
    const base = typeof prev === 'bigint' ? prev : 0n;
    out.set(st.field.name, (base & ~fieldMask) | ((toBigint(raw) << BigInt(st.lo)) & fieldMask));
  }
  return out;
}

function evalNorm(e: NormExpr, fields: Map<string, bigint | string>, opts: EvaluateOptions): boolean {
  switch (e.type) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'and':
      return e.exprs.every((x) => evalNorm(x, fields, opts));
    case 'or':
      return e.exprs.some((x) => evalNorm(x, fields, opts));
    case 'chassis':
      return (opts.isChassisResident?.(e.port) ?? false) !== e.negated;
    case 'scmp': {
      const v = fields.get(e.field);
      const s = typeof v === 'string' ? v : '';
      return (s === e.value) === (e.op === '==');
    }
    case 'cmp': {
      const raw = fields.get(e.field);
      const whole = typeof raw === 'bigint' ? raw : 0n;
      let v = (whole >> BigInt(e.lo)) & ((1n << BigInt(e.width)) - 1n);
      let c = e.value;
      if (e.mask !== undefined) {
        v &= e.mask;
        c &= e.mask;
      }
      switch (e.op) {
        case '==':
          return v === c;
        case '!=':
          return v !== c;
        case '<':
          return v < c;
        case '<=':
          return v <= c;
        case '>':
          return v > c;
        case '>=':
          return v >= c;
      }
    }
  }
}

/**
 * Whether `packet` matches `expr` (a parsed match, or an already normalized
 * one). Prerequisites count: `tcp.dst == 80` is false for a UDP packet.
 */
export function evaluate(expr: Expr | NormExpr, packet: Packet, opts: EvaluateOptions = {}): boolean {
  const norm = isNorm(expr) ? expr : expandMatch(expr, opts);
  return evalNorm(norm, packetFields(packet, opts.symbols ?? defaultSymbols()), opts);
}

function isNorm(e: Expr | NormExpr): e is NormExpr {
  return (
    e.type === 'true' ||
    e.type === 'false' ||
    e.type === 'scmp' ||
    e.type === 'chassis' ||
    (e.type === 'cmp' && 'fieldWidth' in e) ||
    ((e.type === 'and' || e.type === 'or') && e.exprs.every(isNorm))
  );
}

export { formatIntValue };
