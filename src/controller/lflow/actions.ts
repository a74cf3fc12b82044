/**
 * Logical-flow actions → OpenFlow actions (ovn-sb(5) "Logical_Flow TABLE",
 * actions; ovs-actions(7)). Actions are first lowered to a small list of
 * operations that become the flow model's actions (openflow/flow.ts) and, for
 * the actions pinctrl runs on packets it composes (`arp {…}`, `icmp4 {…}`…),
 * OpenFlow 1.5 bytes inside `controller(userdata=…)`.
 *
 * Table layout (ovn-architecture(7), "Architectural Physical Life Cycle of a
 * Packet"): logical ingress table N is OpenFlow table 8+N, egress table N is
 * 42+N; `output` in ingress goes to 37 (then remote/local output), in egress
 * to 64 (loopback check, then delivery in 65). MAC bindings are looked up in
 * 66 (get_arp/get_nd) and 67 (lookup_arp/lookup_nd); the FDB in 71/72; port
 * security in 73/74 (ingress) and 75 (egress).
 */
import { parseActions, defaultSymbols, type Action, type ActionArg, type FieldRef, type SymbolTable } from '../../lib/lflow/index.js';
import type { Action as OfAction, FieldRef as OfFieldRef, NatSpec } from '../../openflow/flow.js';
import { encodePutDhcpOptsAction, UserdataError } from '../pinctrl/userdata.js';
import { anyField, type FieldInfo } from '../../openflow/fields.js';
import { BASE_FIELDS } from './fields.js';
import { encodeOfpacts, type Ofpact } from './ofpacts.js';

/** OpenFlow tables around the logical pipelines. */
export const OFTABLE = {
  PHY_TO_LOG: 0,
  LOG_INGRESS_PIPELINE: 8,
  OUTPUT_LARGE_PKT_DETECT: 37,
  OUTPUT_LARGE_PKT_PROCESS: 38,
  REMOTE_OUTPUT: 39,
  LOCAL_OUTPUT: 40,
  CHECK_LOOPBACK: 41,
  LOG_EGRESS_PIPELINE: 42,
  SAVE_INPORT: 64,
  LOG_TO_PHY: 65,
  MAC_BINDING: 66,
  MAC_LOOKUP: 67,
  GET_FDB: 71,
  LOOKUP_FDB: 72,
  CHK_IN_PORT_SEC: 73,
  CHK_IN_PORT_SEC_ND: 74,
  CHK_OUT_PORT_SEC: 75,
  CHK_LB_HAIRPIN: 68,
  CHK_LB_HAIRPIN_REPLY: 69,
  CT_SNAT_HAIRPIN: 70,
} as const;

/** Bits of `flags` (reg10) that the physical tables and these actions use. */
export const MLF = {
  ALLOW_LOOPBACK: 0,
  RCV_FROM_RAMP: 1,
  LOCAL_ONLY: 4,
  NESTED_CONTAINER: 5,
  LOOKUP_MAC: 6,
  LOOKUP_LB_HAIRPIN: 7,
  LOOKUP_FDB: 8,
  LOCALNET: 10,
  CHECK_PORT_SEC: 12,
} as const;

/** pinctrl opcodes at the start of a controller action's userdata. */
export const ACTION_OPCODE: Readonly<Record<string, number>> = {
  arp: 0,
  put_arp: 1,
  put_dhcp_opts: 2,
  nd_na: 3,
  put_nd: 4,
  nd_ns: 9,
  icmp4: 10,
  icmp6: 10,
  tcp_reset: 11,
  nd_na_router: 12,
  icmp4_error: 14,
  igmp: 16,
  handle_svc_check: 18,
  handle_dhcpv6_reply: 19,
  icmp6_error: 20,
  reject: 22,
  sctp_abort: 24,
};

/** What the packet must be for a nested action to apply (added to the flow's match). */
const NESTED_PREREQ: Readonly<Record<string, string>> = {
  arp: 'ip4',
  nd_ns: 'ip6',
  nd_na: 'nd_ns',
  nd_na_router: 'nd_ns',
  icmp4: 'ip4',
  icmp4_error: 'ip4',
  icmp6: 'ip6',
  icmp6_error: 'ip6',
  tcp_reset: 'tcp',
  sctp_abort: 'sctp',
};

export interface ActionContext {
  readonly pipeline: 'ingress' | 'egress';
  /** The logical table (Logical_Flow.table_id) the actions belong to. */
  readonly table: number;
  /** Whether the datapath is a logical switch (conntrack zone in reg13) or a router (reg11/reg12). */
  readonly isSwitch: boolean;
  /** Tunnel key of a logical port or multicast group on this datapath. */
  readonly portKey: (name: string) => number | undefined;
  readonly symbols?: SymbolTable;
}

/** A field location in OVS terms. */
interface Loc {
  /** OVN base field (BASE_FIELDS key). */
  readonly base: string;
  readonly lo: number;
  readonly width: number;
  readonly baseWidth: number;
}

/** A lowered operation. */
type Op =
  | { readonly type: 'set'; readonly loc: Loc; readonly value: bigint }
  | { readonly type: 'move'; readonly src: Loc; readonly dst: Loc }
  | { readonly type: 'push' | 'pop'; readonly loc: Loc }
  | { readonly type: 'resubmit'; readonly table: number }
  /** Any other action (cannot appear inside userdata). */
  | { readonly type: 'action'; readonly action: OfAction };

export class ActionError extends Error {}

function tableBase(p: 'ingress' | 'egress'): number {
  return p === 'ingress' ? OFTABLE.LOG_INGRESS_PIPELINE : OFTABLE.LOG_EGRESS_PIPELINE;
}

function locate(ref: FieldRef, symbols: SymbolTable): Loc {
  const st = symbols.resolveStorage(ref.name);
  if (st === undefined) throw new ActionError(`${ref.name} is not a field`);
  const base = st.field.name;
  const of = BASE_FIELDS.get(base);
  if (of === undefined) throw new ActionError(`field ${base} has no OpenFlow equivalent`);
  const fieldWidth = st.field.type === 'string' ? 32 : st.width;
  const lo = st.lo + (ref.lo ?? 0);
  const width = ref.lo === undefined ? fieldWidth : (ref.hi ?? ref.lo) - ref.lo + 1;
  return { base, lo, width, baseWidth: of.width };
}

/** A location as a field reference of the flow model. */
function refOf(l: Loc): OfFieldRef {
  return { field: BASE_FIELDS.get(l.base)!.field, ofs: l.lo, nBits: l.width };
}

/** `set_field` of a value into a location (masked when it is part of the field). */
function setAction(l: Loc, value: bigint): OfAction {
  const field = BASE_FIELDS.get(l.base)!.field;
  const v = value << BigInt(l.lo);
  if (l.lo === 0 && l.width === l.baseWidth) return { type: 'set_field', field, value: v };
  return { type: 'set_field', field, value: v, mask: ((1n << BigInt(l.width)) - 1n) << BigInt(l.lo) };
}

function opAction(o: Op): OfAction {
  switch (o.type) {
    case 'set':
      return setAction(o.loc, o.value);
    case 'move':
      return { type: 'move', src: refOf(o.src), dst: refOf(o.dst) };
    case 'push':
      return { type: 'push', src: refOf(o.loc) };
    case 'pop':
      return { type: 'pop', dst: refOf(o.loc) };
    case 'resubmit':
      return { type: 'resubmit', table: o.table };
    case 'action':
      return o.action;
  }
}

function fieldOf(name: string): FieldInfo {
  const info = anyField(name);
  if (info === undefined) throw new ActionError(`${name}: not an OVS field`);
  return info;
}

const refName = (l: Loc): string => fieldOf(BASE_FIELDS.get(l.base)!.field).refName;

function opOfpact(o: Op): Ofpact {
  switch (o.type) {
    case 'set': {
      const a = setAction(o.loc, o.value) as Extract<OfAction, { type: 'set_field' }>;
      return { type: 'set_field', field: fieldOf(a.field).setName, value: a.value, ...(a.mask === undefined ? {} : { mask: a.mask }) };
    }
    case 'move':
      return { type: 'copy_field', src: refName(o.src), srcOfs: o.src.lo, dst: refName(o.dst), dstOfs: o.dst.lo, nBits: o.src.width };
    case 'push':
    case 'pop':
      return { type: o.type, field: refName(o.loc), ofs: o.loc.lo, nBits: o.loc.width };
    case 'resubmit':
      return { type: 'resubmit', table: o.table };
    case 'action':
      throw new ActionError(`${o.action.type} cannot be used inside an action that composes a packet`);
  }
}

const FULL = (base: string): Loc => {
  const of = BASE_FIELDS.get(base)!;
  return { base, lo: 0, width: of.width, baseWidth: of.width };
};

/** Lowers one logical flow's actions. */
class Lowering {
  private readonly symbols: SymbolTable;
  /** Prerequisites the actions add to the match (OVN ANDs them in), e.g. `ip` for `ct_next`. */
  readonly prereqs = new Set<string>();
  /** Inside a nested action list: its fields' prerequisites do not apply to the outer packet. */
  private depth = 0;
  constructor(private readonly ctx: ActionContext) {
    this.symbols = ctx.symbols ?? defaultSymbols();
  }

  /** A field reference's location, noting its prerequisites. */
  private loc(ref: FieldRef): Loc {
    if (this.depth === 0) {
      let sym = this.symbols.get(ref.name);
      while (sym !== undefined) {
        if (sym.kind !== 'predicate' && sym.prereq !== undefined) this.prereqs.add(sym.prereq);
        sym = sym.kind === 'subfield' ? this.symbols.get(sym.field) : undefined;
      }
    }
    return locate(ref, this.symbols);
  }

  private need(prereq: string): void {
    if (this.depth === 0) this.prereqs.add(prereq);
  }

  private inner(actions: readonly Action[]): Op[] {
    this.depth++;
    try {
      return this.lower(actions);
    } finally {
      this.depth--;
    }
  }

  private get ofTable(): number {
    return tableBase(this.ctx.pipeline) + this.ctx.table;
  }

  private zone(): OfFieldRef {
    return zoneRef(this.ctx.isSwitch ? 'reg13' : 'reg11');
  }

  private fieldOf(arg: ActionArg | undefined, what: string): FieldRef {
    if (arg?.type === 'field') return arg.field;
    throw new ActionError(`${what}: expected a field`);
  }

  lower(actions: readonly Action[]): Op[] {
    const out: Op[] = [];
    for (const a of actions) out.push(...this.one(a));
    return out;
  }

  private one(a: Action): Op[] {
    switch (a.type) {
      case 'next': {
        const p = a.pipeline ?? this.ctx.pipeline;
        const t = a.table ?? (p === this.ctx.pipeline ? this.ctx.table + 1 : 0);
        return [{ type: 'resubmit', table: tableBase(p) + t }];
      }
      case 'keyword':
        switch (a.name) {
          case 'output':
            return [{ type: 'resubmit', table: this.ctx.pipeline === 'ingress' ? OFTABLE.OUTPUT_LARGE_PKT_DETECT : OFTABLE.SAVE_INPORT }];
          case 'drop':
            return [];
          case 'next':
            return this.one({ type: 'next' });
          case 'ct_next':
            this.need('ip');
            return [act({ type: 'ct', table: this.ofTable + 1, zone: this.zone() })];
          case 'ct_lb':
          case 'ct_lb_mark':
            this.need('ip');
            return [act({ type: 'ct', table: this.ofTable + 1, zone: this.zone(), nat: {} })];
          case 'ct_clear':
            return [act({ type: 'ct_clear' })];
          case 'ct_commit':
            this.need('ip');
            return [act({ type: 'ct', commit: true, zone: this.zone(), nat: { kind: 'src' } })];
          case 'ct_commit_nat':
            this.need('ip');
            return [act({ type: 'ct', commit: true, table: this.ofTable + 1, zone: this.zone(), nat: {} })];
          case 'ct_dnat':
          case 'ct_snat':
            return this.ctNat(a.name, []);
          case 'ct_snat_to_vip':
            return [{ type: 'resubmit', table: OFTABLE.CT_SNAT_HAIRPIN }];
          case 'handle_dhcpv6_reply':
            return [controller(opcode(ACTION_OPCODE['handle_dhcpv6_reply']!))];
          default:
            throw new ActionError(`action ${a.name} is not supported`);
        }
      case 'load': {
        const dst = this.loc(a.dst);
        if (a.value.kind === 'string') {
          const key = this.ctx.portKey(a.value.value);
          return [{ type: 'set', loc: dst, value: BigInt(key ?? 0) }];
        }
        return [{ type: 'set', loc: dst, value: a.value.value }];
      }
      case 'move':
        return [{ type: 'move', src: this.loc(a.src), dst: this.loc(a.dst) }];
      case 'exchange': {
        const x = this.loc(a.a);
        const y = this.loc(a.b);
        return [
          { type: 'push', loc: y },
          { type: 'push', loc: x },
          { type: 'pop', loc: y },
          { type: 'pop', loc: x },
        ];
      }
      case 'dec_ttl':
        this.need('ip');
        return [act({ type: 'dec_ttl', ids: [] })];
      case 'nested':
        return this.nested(a.name, a.actions);
      case 'call':
        return this.call(a.name, a.args);
      case 'result':
        if (a.name === 'put_dhcp_opts') return [controller(putDhcpOptsUserdata(a), true)];
        return this.result(this.loc(a.dst), a.name, a.args);
      case 'raw':
        if ((a.name === 'ct_lb_mark' || a.name === 'ct_lb') && a.text.trim() === '') return this.one({ type: 'keyword', name: a.name });
        throw new ActionError(`action ${a.name}(${a.text}) is not supported`);
    }
  }

  private nested(name: string, inner: readonly Action[]): Op[] {
    if (name === 'clone') return [act({ type: 'clone', actions: this.inner(inner).map(opAction) })];
    if (name === 'ct_commit') {
      this.need('ip');
      this.depth++;
      let exec: OfAction[];
      try {
        exec = inner.map((a) => this.ctExec(a));
      } finally {
        this.depth--;
      }
      return [act({ type: 'ct', commit: true, zone: this.zone(), nat: { kind: 'src' }, exec })];
    }
    const code = ACTION_OPCODE[name];
    if (code === undefined || name === 'igmp') throw new ActionError(`action ${name} is not supported`);
    const p = NESTED_PREREQ[name];
    if (p !== undefined) this.need(p);
    const bytes = [...opcode(code), ...encodeOfpacts(this.inner(inner).map(opOfpact))];
    return [controller(bytes)];
  }

  /** ct_mark/ct_label assignments inside `ct_commit { … }`. */
  private ctExec(a: Action): OfAction {
    if (a.type === 'load' && a.value.kind === 'int') return setAction(locate(a.dst, this.symbols), a.value.value);
    if (a.type === 'move') return opAction({ type: 'move', src: locate(a.src, this.symbols), dst: locate(a.dst, this.symbols) });
    throw new ActionError('ct_commit accepts only ct_mark and ct_label assignments');
  }

  private call(name: string, args: readonly ActionArg[]): Op[] {
    switch (name) {
      case 'get_arp':
      case 'get_nd': {
        const port = this.fieldOf(args[0], name);
        if (port.name !== 'outport') throw new ActionError(`${name}: only outport is supported`);
        const ip = this.loc(this.fieldOf(args[1], name));
        const reg: Loc = name === 'get_arp' ? FULL('reg0') : FULL('xxreg0');
        const same = ip.base === reg.base && ip.lo === reg.lo && ip.width === reg.width;
        const clearDst: Op = { type: 'set', loc: FULL('eth.dst'), value: 0n };
        const lookup: Op = { type: 'resubmit', table: OFTABLE.MAC_BINDING };
        if (same && name === 'get_nd') return [clearDst, lookup];
        return [
          { type: 'push', loc: reg },
          { type: 'push', loc: ip },
          { type: 'pop', loc: reg },
          clearDst,
          lookup,
          { type: 'pop', loc: reg },
        ];
      }
      case 'put_arp':
      case 'put_nd': {
        const [ipReg, ip, mac] = this.macIpArgs(name, args);
        const ctl: Op = controller(opcode(ACTION_OPCODE[name]!));
        const [pre, post] = stageMacIp(ipReg, ip, mac);
        return [...pre, ctl, ...post];
      }
      case 'ct_dnat':
      case 'ct_snat':
        return this.ctNat(name, args);
      case 'handle_svc_check':
        return [controller(opcode(ACTION_OPCODE['handle_svc_check']!))];
      default:
        throw new ActionError(`action ${name} is not supported`);
    }
  }

  /**
   * `ct_dnat`/`ct_snat`: through the datapath's DNAT (reg11) or SNAT (reg12)
   * zone and on to the next table; with an address, commit with that NAT.
   */
  private ctNat(name: string, args: readonly ActionArg[]): Op[] {
    this.need('ip');
    const zone = zoneRef(name === 'ct_dnat' ? 'reg11' : 'reg12');
    if (args.length === 0) return [act({ type: 'ct', table: this.ofTable + 1, zone, nat: {} })];
    const a = args[0];
    if (args.length !== 1 || a?.type !== 'int') throw new ActionError(`${name} with ports or options is not supported`);
    const ip = a.value.value;
    const nat: NatSpec = {
      kind: name === 'ct_dnat' ? 'dst' : 'src',
      ipMin: ip,
      ipMax: ip,
      ...(a.value.format === 'ipv6' ? { ipv6: true } : {}),
    };
    return [act({ type: 'ct', commit: true, table: this.ofTable + 1, zone, nat })];
  }

  /** (inport, ip, mac) arguments: the register the IP goes through, the IP and MAC locations. */
  private macIpArgs(name: string, args: readonly ActionArg[]): [Loc, Loc, Loc] {
    const port = this.fieldOf(args[0], name);
    if (port.name !== 'inport') throw new ActionError(`${name}: only inport is supported`);
    const v6 = name.endsWith('_nd');
    const ipReg: Loc = v6 ? FULL('xxreg0') : FULL('reg0');
    return [ipReg, this.loc(this.fieldOf(args[1], name)), this.loc(this.fieldOf(args[2], name))];
  }

  private bitResult(dst: Loc, bit: number, table: number, pre: Op[] = [], post: Op[] = []): Op[] {
    const flag: Loc = { base: 'flags', lo: bit, width: 1, baseWidth: 32 };
    return [...pre, { type: 'set', loc: flag, value: 0n }, { type: 'resubmit', table }, { type: 'move', src: flag, dst }, ...post];
  }

  private result(dst: Loc, name: string, args: readonly ActionArg[]): Op[] {
    switch (name) {
      case 'check_in_port_sec':
        return this.bitResult(dst, MLF.CHECK_PORT_SEC, OFTABLE.CHK_IN_PORT_SEC);
      case 'check_out_port_sec':
        return this.bitResult(dst, MLF.CHECK_PORT_SEC, OFTABLE.CHK_OUT_PORT_SEC);
      case 'chk_lb_hairpin':
        return this.bitResult(dst, MLF.LOOKUP_LB_HAIRPIN, OFTABLE.CHK_LB_HAIRPIN);
      case 'chk_lb_hairpin_reply':
        return this.bitResult(dst, MLF.LOOKUP_LB_HAIRPIN, OFTABLE.CHK_LB_HAIRPIN_REPLY);
      case 'lookup_arp':
      case 'lookup_nd': {
        const [ipReg, ip, mac] = this.macIpArgs(name, args);
        const [pre, post] = stageMacIp(ipReg, ip, mac);
        return this.bitResult(dst, MLF.LOOKUP_MAC, OFTABLE.MAC_LOOKUP, pre, post);
      }
      case 'lookup_fdb': {
        const port = this.fieldOf(args[0], name);
        const mac = this.fieldOf(args[1], name);
        if (port.name !== 'inport' || mac.name !== 'eth.src')
          throw new ActionError('lookup_fdb: only lookup_fdb(inport, eth.src) is supported');
        return this.bitResult(dst, MLF.LOOKUP_FDB, OFTABLE.LOOKUP_FDB);
      }
      case 'get_fdb': {
        const mac = this.fieldOf(args[0], name);
        if (mac.name !== 'eth.dst' || dst.base !== 'outport')
          throw new ActionError('get_fdb: only outport = get_fdb(eth.dst) is supported');
        return [
          { type: 'set', loc: dst, value: 0n },
          { type: 'resubmit', table: OFTABLE.GET_FDB },
        ];
      }
      default:
        throw new ActionError(`action ${name} is not supported`);
    }
  }
}

const sameLoc = (a: Loc, b: Loc): boolean => a.base === b.base && a.lo === b.lo && a.width === b.width;

/**
 * MAC-binding actions take the IP in reg0 (IPv4) or xxreg0 (IPv6) and the MAC
 * in eth.src: the arguments are staged there through the stack and the
 * previous values restored afterwards.
 */
function stageMacIp(ipReg: Loc, ip: Loc, mac: Loc): [Op[], Op[]] {
  const eth = FULL('eth.src');
  const macMoves = !sameLoc(mac, eth);
  const pre: Op[] = [{ type: 'push', loc: ipReg }];
  if (macMoves) pre.push({ type: 'push', loc: eth }, { type: 'push', loc: mac });
  pre.push({ type: 'push', loc: ip }, { type: 'pop', loc: ipReg });
  if (macMoves) pre.push({ type: 'pop', loc: eth });
  const post: Op[] = macMoves
    ? [
        { type: 'pop', loc: eth },
        { type: 'pop', loc: ipReg },
      ]
    : [{ type: 'pop', loc: ipReg }];
  return [pre, post];
}

/** The conntrack zone in the low 16 bits of a register (ct's `zone=NXM_NX_REGn[0..15]`). */
function zoneRef(reg: string): OfFieldRef {
  return { field: reg, ofs: 0, nBits: 16 };
}

function act(action: OfAction): Op {
  return { type: 'action', action };
}

/** `controller(userdata=…[,pause])`: a packet-in for pinctrl. */
function controller(userdata: readonly number[], pause = false): Op {
  return act({ type: 'controller', userdata: Uint8Array.from(userdata), ...(pause ? { pause: true } : {}) });
}

function opcode(code: number): number[] {
  return [0, 0, 0, code, 0, 0, 0, 0];
}

/**
 * put_dhcp_opts userdata, from pinctrl's encoder (the one pinctrl decodes
 * again when the packet comes back): opcode, the result bit, offerip, then
 * the options in the order and encodings the real controller uses.
 */
function putDhcpOptsUserdata(a: Extract<Action, { type: 'result' }>): number[] {
  try {
    return [...encodePutDhcpOptsAction(a)];
  } catch (e) {
    if (e instanceof UserdataError) throw new ActionError(`put_dhcp_opts: ${e.message}`);
    throw e;
  }
}

/** OpenFlow actions of a logical flow, and the prerequisites they add to its match. */
export interface TranslatedActions {
  /** Empty: drop. */
  readonly actions: readonly OfAction[];
  readonly prereqs: readonly string[];
}

/**
 * Translates a logical flow's actions text into OpenFlow actions. `parsed`:
 * the text already parsed (with the same symbols), when the caller keeps
 * parses (see text-memo.ts).
 */
export function translateActions(
  text: string,
  ctx: ActionContext,
  parsed: readonly Action[] = parseActions(text, ctx.symbols !== undefined ? { symbols: ctx.symbols } : {}),
): TranslatedActions {
  const l = new Lowering(ctx);
  const ops = l.lower(parsed);
  return { actions: ops.map(opAction), prereqs: [...l.prereqs] };
}
