/**
 * Actions of OVN logical flows (ovn-sb(5), "Logical_Flow TABLE", actions):
 * parser with type checks against the symbol table, and a printer in the
 * canonical spacing (`next;`, `eth.dst <-> eth.src;`, `ct_commit { ct_mark.blocked = 0; };`,
 * `reg0[3] = put_dhcp_opts(offerip = 10.0.0.2, router = 10.0.0.1);`).
 *
 * Comments and an empty list both mean "drop"; an empty list prints as `drop;`.
 */
import { LflowError, TokenStream, formatIntConstant, type IntConstant } from './lexer.js';
import { defaultSymbols, type SymbolTable } from './symbols.js';
import { constantWidth, type FieldRef, type StringConstant } from './expr.js';
import { DHCPV4_OPTION_DEFS, DHCPV6_OPTION_DEFS, optionValueKind } from '../dhcp-option-codes.js';

/** An argument of a function-like action. */
export type ActionArg =
  | { readonly type: 'field'; readonly field: FieldRef }
  | { readonly type: 'int'; readonly value: IntConstant }
  | { readonly type: 'string'; readonly value: string }
  /** A bare word that is not a field, e.g. `alert` in `log(severity=alert)`. */
  | { readonly type: 'word'; readonly value: string }
  | { readonly type: 'set'; readonly values: readonly ActionArg[] }
  | { readonly type: 'kv'; readonly key: string; readonly value: ActionArg };

export type Action =
  /** `next;`, `next(3);`, `next(pipeline=egress, table=3);` */
  | { readonly type: 'next'; readonly pipeline?: 'ingress' | 'egress'; readonly table?: number }
  /** An action without arguments: `output;`, `drop;`, `ct_next;`, `ct_commit;`… */
  | { readonly type: 'keyword'; readonly name: string }
  /** `get_arp(outport, reg0);` */
  | { readonly type: 'call'; readonly name: string; readonly args: readonly ActionArg[] }
  /** An argument list with its own syntax, kept as text: `ct_lb_mark(backends=10.0.0.2:80);` */
  | { readonly type: 'raw'; readonly name: string; readonly text: string }
  /** `arp { … };`, `clone { … };`, `ct_commit { … };` */
  | { readonly type: 'nested'; readonly name: string; readonly actions: readonly Action[] }
  /** `field = constant;` */
  | { readonly type: 'load'; readonly dst: FieldRef; readonly value: IntConstant | StringConstant }
  /** `field = field;` */
  | { readonly type: 'move'; readonly dst: FieldRef; readonly src: FieldRef }
  /** `field <-> field;` */
  | { readonly type: 'exchange'; readonly a: FieldRef; readonly b: FieldRef }
  /** `ip.ttl--;` */
  | { readonly type: 'dec_ttl' }
  /** `reg9[2] = lookup_arp(inport, arp.spa, arp.sha);` */
  | { readonly type: 'result'; readonly dst: FieldRef; readonly name: string; readonly args: readonly ActionArg[] };

export interface ParseActionsOptions {
  /** Default: OVN's table (`defaultSymbols()`). */
  readonly symbols?: SymbolTable;
  /** Highest table `next(N)` may name (the pipeline's last stage); default 253. */
  readonly maxTable?: number;
}

/** Actions without arguments (`name;`). */
const KEYWORDS = new Set([
  'output',
  'drop',
  'next',
  'ct_next',
  'ct_commit',
  'ct_commit_nat',
  'ct_dnat',
  'ct_snat',
  'ct_dnat_in_czone',
  'ct_snat_in_czone',
  'ct_lb',
  'ct_lb_mark',
  'ct_clear',
  'ct_snat_to_vip',
  'handle_dhcpv6_reply',
  'reg_remote',
  'mac_cache_use',
  'ct_state_save',
]);

/** Function-like actions (`name(args);`) and their fixed argument widths where known (0 = string field). */
const CALLS: ReadonlyMap<string, readonly number[] | undefined> = new Map<string, readonly number[] | undefined>([
  ['get_arp', [0, 32]],
  ['put_arp', [0, 32, 48]],
  ['get_nd', [0, 128]],
  ['put_nd', [0, 128, 48]],
  ['handle_svc_check', [0]],
  ['bind_vport', undefined],
  ['ct_dnat', undefined],
  ['ct_snat', undefined],
  ['ct_dnat_in_czone', undefined],
  ['ct_snat_in_czone', undefined],
  ['ct_commit', undefined],
  ['log', undefined],
  ['set_queue', undefined],
  ['set_meter', undefined],
  ['trigger_event', undefined],
  ['fwd_group', undefined],
  ['commit_ecmp_nh', undefined],
  ['commit_lb_aff', undefined],
  ['ct_snat_to_vip', undefined],
  ['sample', undefined],
  ['mac_cache_use', undefined],
]);

/** Actions whose argument list is kept as raw text. */
const RAW_CALLS = new Set(['ct_lb', 'ct_lb_mark']);

/** Actions with a nested action list (`name { … };`). */
const NESTED = new Set([
  'arp',
  'nd_na',
  'nd_na_router',
  'nd_ns',
  'nd_ns_resolve',
  'icmp4',
  'icmp4_error',
  'icmp6',
  'icmp6_error',
  'igmp',
  'tcp_reset',
  'sctp_abort',
  'reject',
  'clone',
  'ct_commit',
  'put_nd_ra_opts',
]);

/** Functions whose result is assigned to a field (`dst = name(args);`), with the destination width (0 = string). */
const RESULTS: ReadonlyMap<string, number> = new Map([
  ['put_dhcp_opts', 1],
  ['put_dhcpv6_opts', 1],
  ['put_nd_ra_opts', 1],
  ['lookup_arp', 1],
  ['lookup_nd', 1],
  ['lookup_arp_ip', 1],
  ['lookup_nd_ip', 1],
  ['lookup_fdb', 1],
  ['check_in_port_sec', 1],
  ['check_out_port_sec', 1],
  ['chk_lb_hairpin', 1],
  ['chk_lb_hairpin_reply', 1],
  ['chk_lb_aff', 1],
  ['chk_ecmp_nh', 1],
  ['chk_ecmp_nh_mac', 1],
  ['check_pkt_larger', 1],
  ['dns_lookup', 1],
  ['get_fdb', 0],
  ['select', -1],
]);

/**
 * Options of `put_dhcp_opts`, `put_dhcpv6_opts` and `put_nd_ra_opts`: each
 * takes constants only, numeric or string by option (as OVN 23.03 accepts
 * them; ovn-nb(5) "DHCP_Options TABLE" and "Logical_Router_Port" ipv6_ra_configs).
 */
interface OptionTable {
  /** "DHCPv4 option", "DHCPv6 option", "IPv6 ND RA option". */
  readonly what: string;
  readonly options: ReadonlyMap<string, 'numeric' | 'string' | 'any' | 'mac' | 'ipv6'>;
  /** Options that must be present. */
  readonly required: readonly string[];
  readonly requiredMessage: (option: string) => string;
}

const optionMap = (
  numeric: string,
  string: string,
  extra: Record<string, 'any' | 'mac' | 'ipv6'> = {},
): ReadonlyMap<string, 'numeric' | 'string' | 'any' | 'mac' | 'ipv6'> =>
  new Map([
    ...numeric
      .split(' ')
      .filter(Boolean)
      .map((n) => [n, 'numeric'] as const),
    ...string
      .split(' ')
      .filter(Boolean)
      .map((n) => [n, 'string'] as const),
    ...Object.entries(extra),
  ]);

export const OPTION_TABLES: ReadonlyMap<string, OptionTable> = new Map([
  [
    'put_dhcp_opts',
    {
      what: 'DHCPv4 option',
      options: new Map(DHCPV4_OPTION_DEFS.map((d) => [d.name, optionValueKind(d.type)])),
      required: ['offerip'],
      requiredMessage: (o: string) => `put_dhcp_opts requires ${o} to be specified.`,
    },
  ],
  [
    'put_dhcpv6_opts',
    {
      what: 'DHCPv6 option',
      options: new Map(DHCPV6_OPTION_DEFS.map((d) => [d.name, optionValueKind(d.type)])),
      required: [],
      requiredMessage: (o: string) => `put_dhcpv6_opts requires ${o} to be specified.`,
    },
  ],
  [
    'put_nd_ra_opts',
    {
      what: 'IPv6 ND RA option',
      options: optionMap('mtu', 'addr_mode router_preference dnssl route_info', { slla: 'mac', prefix: 'ipv6', rdnss: 'ipv6' }),
      required: ['slla'],
      requiredMessage: (o: string) => `${o} option not present`,
    },
  ],
]);

/** Arguments of result functions with fixed shapes (0 = string field). */
const RESULT_ARGS: ReadonlyMap<string, readonly number[]> = new Map([
  ['lookup_arp', [0, 32, 48]],
  ['lookup_nd', [0, 128, 48]],
  ['lookup_arp_ip', [0, 32]],
  ['lookup_nd_ip', [0, 128]],
  ['lookup_fdb', [0, 48]],
  ['get_fdb', [48]],
  ['check_in_port_sec', []],
  ['check_out_port_sec', []],
  ['chk_lb_hairpin', []],
  ['chk_lb_hairpin_reply', []],
  ['dns_lookup', []],
]);

interface FieldInfo {
  readonly ref: FieldRef;
  readonly width: number;
  readonly isString: boolean;
  readonly pos: number;
}

const refText = (f: FieldRef): string =>
  f.lo === undefined ? f.name : f.hi === undefined ? `${f.name}[${f.lo}]` : `${f.name}[${f.lo}..${f.hi}]`;

/** How deep action lists may nest (`clone { clone { … }; };`), as in OVN. */
const MAX_NESTED_ACTION_DEPTH = 32;

class ActionParser {
  private readonly ts: TokenStream;
  private readonly symbols: SymbolTable;

  private readonly maxTable: number;

  constructor(input: string, opts: ParseActionsOptions) {
    this.ts = new TokenStream(input);
    this.symbols = opts.symbols ?? defaultSymbols();
    this.maxTable = opts.maxTable ?? 253;
  }

  parseAll(): Action[] {
    const acts = this.parseList(false);
    if (this.ts.peek().type !== 'end') this.ts.syntaxError('action');
    return acts;
  }

  private parseList(nested: boolean): Action[] {
    const out: Action[] = [];
    for (;;) {
      const t = this.ts.peek();
      if (t.type === 'end' || (nested && t.type === 'punct' && t.text === '}')) return out;
      out.push(this.parseAction());
      this.ts.expect(';');
    }
  }

  private isAssignmentStart(): boolean {
    const t1 = this.ts.peek(1);
    return t1.type === 'punct' && (t1.text === '=' || t1.text === '<->' || t1.text === '--' || t1.text === '[');
  }

  private parseAction(): Action {
    const t = this.ts.peek();
    if (t.type !== 'id') return this.ts.syntaxError('action');
    if (this.isAssignmentStart()) return this.parseAssignment();
    const name = t.name;
    this.ts.next();
    if (name === 'next') return this.parseNext();
    if (this.ts.isPunct('{')) {
      if (!NESTED.has(name)) this.ts.syntaxError("`;'", this.ts.peek());
      return { type: 'nested', name, actions: this.parseNested(name) };
    }
    if (this.ts.isPunct('(')) {
      if (RAW_CALLS.has(name)) {
        this.ts.next();
        return { type: 'raw', name, text: this.ts.rawUntilCloseParen() };
      }
      if (!CALLS.has(name)) this.ts.syntaxError('action', t);
      const args = this.parseArgs(CALLS.get(name));
      return { type: 'call', name, args };
    }
    if (!KEYWORDS.has(name)) this.ts.syntaxError('action', t);
    return { type: 'keyword', name };
  }

  /** Inside `ct_commit { … }` only ct_mark and ct_label may be assigned. */
  private inCtCommit = false;

  /** How deep nested action lists are, for OVN's limit. */
  private depth = 0;
  private inSet = false;

  private parseNested(name: string): Action[] {
    // OVN's limit on nested actions (lib/actions.c), in its words; it also bounds this parser's recursion.
    if (this.depth >= MAX_NESTED_ACTION_DEPTH) this.ts.error('Action nested too deeply', this.ts.peek().pos);
    this.ts.expect('{');
    const outer = this.inCtCommit;
    this.inCtCommit = name === 'ct_commit';
    this.depth++;
    try {
      const acts = this.parseList(true);
      this.ts.expect('}');
      return acts;
    } finally {
      this.inCtCommit = outer;
      this.depth--;
    }
  }

  /** Destinations of assignments must be modifiable here. */
  private checkModifiable(f: FieldInfo): void {
    const access = this.symbols.access(f.ref.name);
    const ok = this.inCtCommit ? access === 'ct' : access === 'rw';
    if (!ok) this.ts.error(`Field ${f.ref.name} is not modifiable.`, f.pos);
  }

  private parseNext(): Action {
    if (!this.ts.match('(')) return { type: 'next' };
    let pipeline: 'ingress' | 'egress' | undefined;
    let table: number | undefined;
    if (this.ts.peek().type === 'int') table = this.parseTable();
    else {
      do {
        const k = this.ts.peek();
        if (k.type !== 'id' || (k.name !== 'pipeline' && k.name !== 'table')) this.ts.syntaxError("`pipeline' or `table'");
        this.ts.next();
        this.ts.expect('=');
        if (k.name === 'table') table = this.parseTable();
        else {
          const p = this.ts.peek();
          if (p.type !== 'id' || (p.name !== 'ingress' && p.name !== 'egress')) this.ts.syntaxError('"ingress" or "egress"');
          this.ts.next();
          pipeline = p.name;
        }
      } while (this.ts.match(','));
    }
    this.ts.expect(')');
    return { type: 'next', ...(pipeline !== undefined ? { pipeline } : {}), ...(table !== undefined ? { table } : {}) };
  }

  private parseTable(): number {
    const t = this.ts.peek();
    if (t.type !== 'int' || t.value.format !== 'decimal' || t.value.mask !== undefined) return this.ts.syntaxError('table number');
    if (t.value.value > BigInt(this.maxTable)) this.ts.error(`"next" action cannot advance beyond table ${this.maxTable}.`, t.pos);
    this.ts.next();
    return Number(t.value.value);
  }

  /** A field reference checked against the symbol table; predicates are not assignable. */
  private parseField(): FieldInfo {
    const t = this.ts.peek();
    if (t.type !== 'id') return this.ts.syntaxError('field name');
    const sym = this.symbols.get(t.name);
    if (sym === undefined) return this.ts.syntaxError('field name');
    if (sym.kind === 'predicate') this.ts.error(`Predicate symbol ${t.name} used where lvalue required.`, t.pos);
    this.ts.next();
    const isString = sym.kind === 'field' && sym.type === 'string';
    const full = this.symbols.width(sym);
    if (!this.ts.isPunct('[')) return { ref: { name: t.name }, width: full, isString, pos: t.pos };
    const open = this.ts.next();
    if (isString) this.ts.error(`Cannot select subfield of string field ${t.name}.`, open.pos);
    const { lo, hi } = this.ts.bitRange(open);
    const h = hi ?? lo;
    if (h >= full || (sym.kind === 'field' && sym.nominal))
      this.ts.error(`Cannot select bits ${lo} to ${h} of ${full}-bit field ${t.name}.`, open.pos);
    return { ref: hi === undefined ? { name: t.name, lo } : { name: t.name, lo, hi }, width: h - lo + 1, isString: false, pos: t.pos };
  }

  private parseAssignment(): Action {
    const first = this.ts.peek();
    if (first.type === 'id' && first.name === 'ip.ttl' && this.ts.isPunct('--', 1)) {
      this.ts.next();
      this.ts.next();
      return { type: 'dec_ttl' };
    }
    if (this.ts.isPunct('--', 1)) this.ts.syntaxError('action');
    const dst = this.parseField();
    const opTok = this.ts.next();
    if (opTok.type === 'punct' && opTok.text === '<->') {
      const src = this.parseField();
      this.checkModifiable(dst);
      this.checkModifiable(src);
      if (dst.isString !== src.isString) {
        const kind = (f: FieldInfo): string => (f.isString ? 'string' : 'integer');
        this.ts.error(`Can't exchange ${kind(dst)} field (${refText(dst.ref)}) with ${kind(src)} field (${refText(src.ref)}).`, opTok.pos);
      }
      if (dst.width !== src.width) this.ts.error(`Can't exchange ${dst.width}-bit field with ${src.width}-bit field.`, opTok.pos);
      return { type: 'exchange', a: dst.ref, b: src.ref };
    }
    if (!(opTok.type === 'punct' && opTok.text === '=')) return this.ts.syntaxError("`=', `<->' or `--'", opTok);
    this.checkModifiable(dst);
    const v = this.ts.peek();
    if (v.type === 'int') {
      this.ts.next();
      if (dst.isString) this.ts.error(`String field ${refText(dst.ref)} is not compatible with integer constant.`, v.pos);
      this.checkWidth(v.value, dst, v.pos);
      return { type: 'load', dst: dst.ref, value: v.value };
    }
    if (v.type === 'string') {
      this.ts.next();
      if (!dst.isString) this.ts.error(`Integer field ${refText(dst.ref)} is not compatible with string constant.`, v.pos);
      return { type: 'load', dst: dst.ref, value: { kind: 'string', value: v.value } };
    }
    if (v.type === 'id' && this.ts.isPunct('(', 1) && !this.symbols.has(v.name)) {
      const name = v.name;
      const w = RESULTS.get(name);
      if (w === undefined) this.ts.syntaxError('field name');
      this.ts.next();
      this.checkFieldShape(dst, w);
      const args = this.parseArgs(RESULT_ARGS.get(name), OPTION_TABLES.get(name));
      return { type: 'result', dst: dst.ref, name, args };
    }
    if (v.type === 'id') {
      const src = this.parseField();
      this.checkSameType(dst, src, v.pos);
      return { type: 'move', dst: dst.ref, src: src.ref };
    }
    return this.ts.syntaxError('constant or field');
  }

  private checkSameType(a: FieldInfo, b: FieldInfo, pos: number): void {
    const kind = (f: FieldInfo): string => (f.isString ? 'string' : 'integer');
    if (a.isString !== b.isString)
      this.ts.error(`Can't assign ${kind(b)} field (${refText(b.ref)}) to ${kind(a)} field (${refText(a.ref)}).`, pos);
    if (!a.isString && a.width !== b.width) this.ts.error(`Can't assign ${b.width}-bit value to ${a.width}-bit destination.`, pos);
  }

  /** `width` 0: a string field; > 0: an integer field of exactly that width; < 0: any. */
  private checkFieldShape(f: FieldInfo, width: number): void {
    if (width < 0) return;
    if (width === 0) {
      if (!f.isString) this.ts.error(`Cannot use numeric field ${refText(f.ref)} where string field is required.`, f.pos);
      return;
    }
    if (f.isString) this.ts.error(`Cannot use string field ${refText(f.ref)} where numeric field is required.`, f.pos);
    if (f.width !== width) {
      const lo = f.ref.lo ?? 0;
      this.ts.error(
        `Cannot use ${f.width}-bit field ${f.ref.name}[${lo}..${lo + f.width - 1}] where ${width}-bit field is required.`,
        f.pos,
      );
    }
  }

  private checkWidth(v: IntConstant, dst: FieldInfo, pos: number): void {
    const bits = constantWidth(v);
    if (bits > dst.width) this.ts.error(`${bits}-bit constant is not compatible with ${dst.width}-bit field ${refText(dst.ref)}.`, pos);
  }

  /** `( arg, arg, key = value, … )`; `shape` gives the fixed field arguments where known. */
  private parseArgs(shape: readonly number[] | undefined, options?: OptionTable): ActionArg[] {
    const open = this.ts.peek();
    this.ts.expect('(');
    const args: ActionArg[] = [];
    if (shape !== undefined) {
      for (let i = 0; i < shape.length; i++) {
        if (i > 0) this.ts.expect(',');
        const f = this.parseField();
        this.checkFieldShape(f, shape[i]!);
        args.push({ type: 'field', field: f.ref });
      }
      this.ts.expect(')');
      return args;
    }
    if (!this.ts.isPunct(')')) {
      do args.push(options === undefined ? this.parseArg(false) : this.parseOption(options));
      while (this.ts.match(','));
    }
    this.ts.expect(')');
    if (options !== undefined) {
      for (const r of options.required) {
        if (!args.some((a) => a.type === 'kv' && a.key === r)) this.ts.error(options.requiredMessage(r), open.pos);
      }
    }
    return args;
  }

  /** `name = constant` for put_dhcp_opts and friends, checked against the option table. */
  private parseOption(table: OptionTable): ActionArg {
    const k = this.ts.peek();
    const kind = k.type === 'id' ? table.options.get(k.name) : undefined;
    if (k.type !== 'id' || kind === undefined) return this.ts.syntaxError(`${table.what} name`);
    this.ts.next();
    this.ts.expect('=');
    const vTok = this.ts.peek();
    const value = this.parseArgValue(true);
    const leaves = value.type === 'set' ? value.values : [value];
    const numeric = leaves.every((l) => l.type === 'int');
    const strings = leaves.every((l) => l.type === 'string');
    if ((kind === 'numeric' || kind === 'mac' || kind === 'ipv6') && !numeric)
      this.ts.error(`${table.what} ${k.name} requires numeric value.`, vTok.pos);
    if (kind === 'string' && !strings) this.ts.error(`${table.what} ${k.name} requires string value.`, vTok.pos);
    if (kind === 'mac' || kind === 'ipv6') {
      const ok = leaves.every((l) => l.type === 'int' && l.value.format === kind);
      if (!ok) this.ts.error(`Invalid value for "${k.name}" option`, vTok.pos);
    }
    return { type: 'kv', key: k.name, value };
  }

  private parseArg(constantsOnly: boolean): ActionArg {
    const t = this.ts.peek();
    if (t.type === 'id' && this.ts.isPunct('=', 1)) {
      this.ts.next();
      this.ts.next();
      return { type: 'kv', key: t.name, value: this.parseArgValue(constantsOnly) };
    }
    return this.parseArgValue(constantsOnly);
  }

  private parseArgValue(constantsOnly = false): ActionArg {
    const t = this.ts.peek();
    if (constantsOnly && t.type !== 'int' && t.type !== 'string' && !(t.type === 'punct' && t.text === '{'))
      this.ts.syntaxError('constant');
    switch (t.type) {
      case 'int':
        this.ts.next();
        return { type: 'int', value: t.value };
      case 'string':
        this.ts.next();
        return { type: 'string', value: t.value };
      case 'id': {
        if (this.symbols.has(t.name)) return { type: 'field', field: this.parseField().ref };
        // Bare words such as `drop` in `log(verdict=drop)`.
        this.ts.next();
        return { type: 'word', value: t.name };
      }
      case 'punct':
        // A set of constants; sets do not nest (OVN's constant sets are flat).
        if (t.text === '{' && !this.inSet) {
          this.ts.next();
          const values: ActionArg[] = [];
          this.inSet = true;
          try {
            while (!this.ts.isPunct('}')) {
              values.push(this.parseArgValue(constantsOnly));
              this.ts.match(',');
            }
          } finally {
            this.inSet = false;
          }
          this.ts.expect('}');
          return { type: 'set', values };
        }
        break;
      default:
        break;
    }
    return this.ts.syntaxError('constant');
  }
}

/**
 * Parses an actions string. Throws LflowError for syntax errors
 * (`Syntax error at `nxt' expecting action.`) and type errors (widths,
 * strings vs integers, unknown fields).
 */
export function parseActions(input: string, opts: ParseActionsOptions = {}): Action[] {
  return new ActionParser(input, opts).parseAll();
}

function printArg(a: ActionArg): string {
  switch (a.type) {
    case 'field':
      return refText(a.field);
    case 'int':
      return formatIntConstant(a.value);
    case 'string':
      return JSON.stringify(a.value);
    case 'word':
      return a.value;
    case 'set':
      return `{${a.values.map(printArg).join(', ')}}`;
    case 'kv':
      return `${a.key} = ${printArg(a.value)}`;
  }
}

function printAction(a: Action): string {
  switch (a.type) {
    case 'next':
      if (a.pipeline !== undefined)
        return a.table === undefined ? `next(pipeline=${a.pipeline});` : `next(pipeline=${a.pipeline}, table=${a.table});`;
      return a.table === undefined ? 'next;' : `next(${a.table});`;
    case 'keyword':
      return `${a.name};`;
    case 'call':
      return `${a.name}(${a.args.map(printArg).join(', ')});`;
    case 'raw':
      return `${a.name}(${a.text});`;
    case 'nested':
      return a.actions.length === 0 ? `${a.name} { };` : `${a.name} { ${a.actions.map(printAction).join(' ')} };`;
    case 'load':
      return `${refText(a.dst)} = ${a.value.kind === 'string' ? JSON.stringify(a.value.value) : formatIntConstant(a.value)};`;
    case 'move':
      return `${refText(a.dst)} = ${refText(a.src)};`;
    case 'exchange':
      return `${refText(a.a)} <-> ${refText(a.b)};`;
    case 'dec_ttl':
      return 'ip.ttl--;';
    case 'result':
      return `${refText(a.dst)} = ${a.name}(${a.args.map(printArg).join(', ')});`;
  }
}

/** Prints actions in canonical form, one space between actions; `[]` prints as `drop;`. */
export function printActions(actions: readonly Action[]): string {
  return actions.length === 0 ? 'drop;' : actions.map(printAction).join(' ');
}

export { LflowError };
