/**
 * Lexer for OVN's logical-flow language: the tokens shared by the `match` and
 * `actions` columns of the Southbound `Logical_Flow` table (ovn-sb(5),
 * "Logical_Flow TABLE": match, "Constants", actions).
 *
 * Integer constants carry the notation they were written in (decimal, hex,
 * IPv4, IPv6, Ethernet) so a printer can write them back the same way; a
 * constant followed by `/` and a second constant is one masked token, and an
 * IPv4/IPv6 value followed by `/N` is a CIDR prefix.
 *
 * Error messages use the wording of OVN's own tools (as printed by
 * `ovn-trace` for a bad microflow).
 */
import { formatIpv4, formatIpv6, formatMac, parseIpv4, parseIpv6, parseMac, prefixLength, prefixMask } from '../address-text.js';

// The address text forms live in lib/address-text.ts (OpenFlow's flow syntax shares them); re-exported for the language's users.
export { formatIpv4, formatIpv6, formatMac, parseIpv4, parseIpv6, parseMac, prefixLength, prefixMask } from '../address-text.js';

/** How an integer constant was written. */
export const INT_FORMATS = ['decimal', 'hex', 'ipv4', 'ipv6', 'mac'] as const;
export type IntFormat = (typeof INT_FORMATS)[number];

/** An integer constant, optionally masked. Values are unsigned, up to 128 bits. */
export interface IntConstant {
  readonly kind: 'int';
  readonly value: bigint;
  readonly format: IntFormat;
  /** Present for `value/mask`; value has already been ANDed with the mask. */
  readonly mask?: bigint;
  /** How the mask was written; a CIDR prefix (`/24`) is `'prefix'`. */
  readonly maskFormat?: IntFormat | 'prefix';
}

export const PUNCTUATION = [
  '==',
  '!=',
  '<=',
  '>=',
  '<',
  '>',
  '&&',
  '||',
  '!',
  '(',
  ')',
  '{',
  '}',
  '[',
  ']',
  ',',
  ';',
  '=',
  '<->',
  '->',
  '..',
  '--',
  '-',
] as const;
export type Punct = (typeof PUNCTUATION)[number];

export type Token =
  | { readonly type: 'id'; readonly text: string; readonly pos: number; readonly end: number; readonly name: string }
  | { readonly type: 'int'; readonly text: string; readonly pos: number; readonly end: number; readonly value: IntConstant }
  | { readonly type: 'string'; readonly text: string; readonly pos: number; readonly end: number; readonly value: string }
  | { readonly type: 'addrset'; readonly text: string; readonly pos: number; readonly end: number; readonly name: string }
  | { readonly type: 'portgroup'; readonly text: string; readonly pos: number; readonly end: number; readonly name: string }
  | { readonly type: 'punct'; readonly text: Punct; readonly pos: number; readonly end: number }
  | { readonly type: 'end'; readonly text: ''; readonly pos: number; readonly end: number };

/**
 * A syntax or type error in a match or action string. `message` is the
 * one-line explanation in OVN's words; `pos` is the 0-based offset in the
 * input where the problem was found (the offending token when there is one).
 */
export class LflowError extends Error {
  constructor(
    message: string,
    readonly pos: number,
    readonly input: string,
  ) {
    super(message);
    this.name = 'LflowError';
  }

  /** The message with the input and a caret under the error position. */
  detail(): string {
    return `${this.message}\n${this.input}\n${' '.repeat(Math.max(0, Math.min(this.pos, this.input.length)))}^`;
  }
}

const isIdStart = (c: string): boolean => /[A-Za-z_]/.test(c);
const isIdChar = (c: string): boolean => /[A-Za-z0-9_.]/.test(c);
const isDigit = (c: string): boolean => c >= '0' && c <= '9';

/** Bits needed to hold `v` (0 for 0). */
export function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

/** Prints an integer constant in the notation it was written in. */
export function formatIntValue(v: bigint, format: IntFormat): string {
  switch (format) {
    case 'decimal':
      // Beyond 64 bits decimal is not valid input: such a value (built, not parsed) prints in hex.
      return v > 0xffffffffffffffffn ? `0x${v.toString(16)}` : v.toString(10);
    case 'hex':
      return `0x${v.toString(16)}`;
    case 'ipv4':
      return formatIpv4(v);
    case 'ipv6':
      return formatIpv6(v);
    case 'mac':
      return formatMac(v);
  }
}

/** Prints an integer constant token back (`1.2.3.0/24`, `0x3/0xf`). */
export function formatIntConstant(c: IntConstant): string {
  const v = formatIntValue(c.value, c.format);
  if (c.mask === undefined) return v;
  if (c.maskFormat === 'prefix') {
    const w = c.format === 'ipv6' ? 128 : 32;
    return `${v}/${prefixLength(c.mask, w) ?? 0}`;
  }
  return `${v}/${formatIntValue(c.mask, c.maskFormat ?? c.format)}`;
}

/**
 * Splits `input` into tokens (the last one is `end`). Comments (`//` to end of
 * line, `/* … *\/`) are skipped. Throws LflowError on malformed input.
 */
export function tokenize(input: string): Token[] {
  const out: Token[] = [];
  for (let pos = 0; ;) {
    const t = lexToken(input, pos);
    out.push(t);
    if (t.type === 'end') return out;
    pos = t.end;
  }
}

/** The next token at or after offset `start` (whitespace and comments skipped). */
export function lexToken(input: string, start: number): Token {
  const out: Token[] = [];
  let i = start;
  const n = input.length;
  const fail = (msg: string, pos: number): never => {
    throw new LflowError(msg, pos, input);
  };

  // One constant (no mask) starting at i; returns its value, format, and end.
  const scanConstant = (start: number): { value: bigint; format: IntFormat; end: number; raw: string } => {
    let j = start;
    // A run of characters that can form a number or address; `..` ends it (reg0[0..15]).
    while (j < n && /[0-9A-Za-z:._]/.test(input[j]!)) {
      if (input[j] === '.' && input[j + 1] === '.') break;
      j++;
    }
    const raw = input.slice(start, j);
    if (/^0[xX]/.test(raw)) {
      const digits = raw.slice(2);
      if (digits === '') fail('Hex digits expected following 0x.', start);
      if (!/^[0-9a-fA-F]+$/.test(digits)) fail('Invalid numeric constant.', start);
      // OVN's lexer limit (its constants hold 1024 bits), before any bigint is made of it.
      if (digits.replace(/^0+/, '').length > 256) fail('Hexadecimal constant requires more than 1024 bits.', start);
      return { value: BigInt(`0x${digits}`), format: 'hex', end: j, raw };
    }
    if (/^\d+$/.test(raw)) {
      if (raw.length > 1 && raw.startsWith('0')) fail('Decimal constants must not have leading zeros.', start);
      // OVN's lexer limit (a decimal constant is read into 64 bits); checked before any bigint is made of it.
      if (raw.length > 20 || BigInt(raw) > 0xffffffffffffffffn) fail('Decimal constants must be less than 2**64.', start);
      return { value: BigInt(raw), format: 'decimal', end: j, raw };
    }
    const v4 = parseIpv4(raw);
    if (v4 !== undefined) return { value: v4, format: 'ipv4', end: j, raw };
    const mac = parseMac(raw);
    if (mac !== undefined) return { value: mac, format: 'mac', end: j, raw };
    const v6 = parseIpv6(raw);
    if (v6 !== undefined) return { value: v6, format: 'ipv6', end: j, raw };
    return fail('Invalid numeric constant.', start);
  };

  const scanInt = (start: number): void => {
    const a = scanConstant(start);
    let end = a.end;
    let c: IntConstant = { kind: 'int', value: a.value, format: a.format };
    if (input[end] === '/') {
      const b = scanConstant(end + 1);
      const w = a.format === 'ipv6' ? 128 : a.format === 'ipv4' ? 32 : undefined;
      let mask: bigint;
      let maskFormat: IntFormat | 'prefix';
      if (w !== undefined && b.format === 'decimal') {
        if (b.value > BigInt(w)) fail('Value and mask have incompatible formats.', start);
        mask = prefixMask(Number(b.value), w);
        maskFormat = 'prefix';
      } else if (
        b.format === a.format ||
        ((a.format === 'decimal' || a.format === 'hex') && (b.format === 'decimal' || b.format === 'hex'))
      ) {
        mask = b.value;
        maskFormat = b.format;
      } else {
        return fail('Value and mask have incompatible formats.', start);
      }
      c = { kind: 'int', value: a.value & mask, format: a.format, mask, maskFormat };
      end = b.end;
    }
    out.push({ type: 'int', text: input.slice(start, end), pos: start, end, value: c });
    i = end;
  };

  while (i < n && out.length === 0) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '/' && input[i + 1] === '/') {
      while (i < n && input[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && input[i + 1] === '*') {
      const close = input.indexOf('*/', i + 2);
      if (close < 0) fail("`/*' without matching `*/'.", i);
      i = close + 2;
      continue;
    }
    if (isDigit(c) || (c === ':' && input[i + 1] === ':')) {
      scanInt(i);
      continue;
    }
    if (isIdStart(c)) {
      // `ff:ff:…` and `fe80::1` start like identifiers; identifiers never contain `:`.
      let j = i;
      while (j < n && /[0-9A-Za-z:.]/.test(input[j]!)) {
        if (input[j] === '.' && input[j + 1] === '.') break;
        j++;
      }
      const run = input.slice(i, j);
      if (run.includes(':') && (parseMac(run) !== undefined || parseIpv6(run) !== undefined)) {
        scanInt(i);
        continue;
      }
      let k = i;
      while (k < n && isIdChar(input[k]!)) {
        if (input[k] === '.' && (input[k + 1] === '.' || !isIdChar(input[k + 1] ?? ' '))) break;
        k++;
      }
      const name = input.slice(i, k);
      out.push({ type: 'id', text: name, pos: i, end: k, name });
      i = k;
      continue;
    }
    if (c === '$' || c === '@') {
      let k = i + 1;
      if (k < n && isIdStart(input[k]!)) {
        while (k < n && /[A-Za-z0-9_]/.test(input[k]!)) k++;
      }
      if (k === i + 1) fail(`\`${c}' must be followed by a valid identifier.`, i);
      const name = input.slice(i + 1, k);
      out.push({ type: c === '$' ? 'addrset' : 'portgroup', text: input.slice(i, k), pos: i, end: k, name });
      i = k;
      continue;
    }
    if (c === '"') {
      let k = i + 1;
      let s = '';
      for (;;) {
        if (k >= n) fail('Input ends inside quoted string.', i);
        const ch = input[k]!;
        if (ch === '"') break;
        if (ch === '\\') {
          const e = input[k + 1];
          if (e === undefined) fail('Input ends inside quoted string.', i);
          const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
          if (e === 'u') {
            const hex = input.slice(k + 2, k + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('Malformed \\u escape in quoted string.', k);
            s += String.fromCharCode(parseInt(hex, 16));
            k += 6;
            continue;
          }
          const r = simple[e!];
          if (r === undefined) fail(`Invalid escape \`\\${e}' in quoted string.`, k);
          s += r;
          k += 2;
          continue;
        }
        if (ch < ' ') fail('Control character in quoted string.', k);
        s += ch;
        k++;
      }
      out.push({ type: 'string', text: input.slice(i, k + 1), pos: i, end: k + 1, value: s });
      i = k + 1;
      continue;
    }
    // Operators, longest first.
    const three = input.slice(i, i + 3);
    const two = input.slice(i, i + 2);
    let p: Punct | undefined;
    if (three === '<->') p = '<->';
    else if (['==', '!=', '<=', '>=', '&&', '||', '->', '..', '--'].includes(two)) p = two as Punct;
    else if (['<', '>', '!', '(', ')', '{', '}', '[', ']', ',', ';', '=', '-'].includes(c)) p = c as Punct;
    if (p !== undefined) {
      out.push({ type: 'punct', text: p, pos: i, end: i + p.length });
      i += p.length;
      continue;
    }
    if (c === '&') fail("`&' is only valid as part of `&&'.", i);
    if (c === '|') fail("`|' is only valid as part of `||'.", i);
    if (c === '.') fail("`.' is only valid as part of `..' or a number.", i);
    if (c === '/') fail("`/' is only valid as part of `//' or `/*'.", i);
    fail(`Invalid character \`${c}' in input.`, i);
  }
  return out[0] ?? { type: 'end', text: '', pos: n, end: n };
}

/** A cursor over a token list with OVN-style "Syntax error at … expecting …" errors. */
export class TokenStream {
  private i = 0;
  /** Tokens lexed so far (lexing is lazy so a caller can take raw text instead). */
  private readonly tokens: Token[] = [];

  constructor(readonly input: string) {}

  peek(k = 0): Token {
    while (this.tokens.length <= this.i + k) {
      const last = this.tokens[this.tokens.length - 1];
      if (last?.type === 'end') return last;
      this.tokens.push(lexToken(this.input, last === undefined ? 0 : last.end));
    }
    return this.tokens[this.i + k]!;
  }

  next(): Token {
    const t = this.peek();
    if (t.type !== 'end') this.i++;
    return t;
  }

  /**
   * The raw source text from the end of the last consumed token up to (not
   * including) the `)` that closes the current parenthesis, which is consumed.
   * For argument lists with their own syntax (`ct_lb(backends=10.0.0.1:80)`).
   */
  rawUntilCloseParen(): string {
    const prev = this.tokens[this.i - 1];
    const from = prev === undefined ? 0 : prev.end;
    let depth = 0;
    let quoted = false;
    for (let j = from; j < this.input.length; j++) {
      const c = this.input[j]!;
      if (quoted) {
        if (c === '\\') j++;
        else if (c === '"') quoted = false;
        continue;
      }
      if (c === '"') quoted = true;
      else if (c === '(') depth++;
      else if (c === ')') {
        if (depth === 0) {
          this.tokens.length = this.i;
          this.tokens.push({ type: 'punct', text: ')', pos: j, end: j + 1 });
          this.next();
          return this.input.slice(from, j).trim();
        }
        depth--;
      }
    }
    throw new LflowError("Syntax error at end of input expecting `)'.", this.input.length, this.input);
  }

  isPunct(p: Punct, k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'punct' && t.text === p;
  }

  isId(name?: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'id' && (name === undefined || t.name === name);
  }

  /** Consumes punctuation `p` if it is next. */
  match(p: Punct): boolean {
    if (!this.isPunct(p)) return false;
    this.next();
    return true;
  }

  expect(p: Punct): void {
    if (!this.match(p)) this.syntaxError(`\`${p}'`);
  }

  /** A plain decimal or hex integer up to 2^31-1 (a bit index), consumed. */
  smallInt(): number {
    const t = this.peek();
    if (
      t.type !== 'int' ||
      t.value.mask !== undefined ||
      (t.value.format !== 'decimal' && t.value.format !== 'hex') ||
      t.value.value > 0x7fffffffn
    )
      return this.syntaxError('small integer');
    this.next();
    return Number(t.value.value);
  }

  /** `lo]` or `lo..hi]` after the `[` token `open` of a subfield; `hi` is undefined for one bit. Refuses lo > hi as OVN does. */
  bitRange(open: Token): { lo: number; hi: number | undefined } {
    const lo = this.smallInt();
    const hi = this.match('..') ? this.smallInt() : undefined;
    this.expect(']');
    if (lo > (hi ?? lo)) this.error(`Invalid bit range ${lo} to ${hi ?? lo}.`, open.pos);
    return { lo, hi };
  }

  /** Throws "Syntax error at `tok' expecting what." for the next token. */
  syntaxError(expecting: string, tok: Token = this.peek()): never {
    const at = tok.type === 'end' ? 'end of input' : `\`${tok.text}'`;
    throw new LflowError(`Syntax error at ${at} expecting ${expecting}.`, tok.pos, this.input);
  }

  error(message: string, pos: number = this.peek().pos): never {
    throw new LflowError(message, pos, this.input);
  }
}
