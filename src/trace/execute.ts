/**
 * Walks a packet through the logical pipelines of the Southbound database the
 * way ovn-trace(8) does: from the inport's ingress pipeline, table by table
 * (the highest-priority matching Logical_Flow wins), executing its actions
 * (ovn-sb(5), "Logical_Flow TABLE", actions) and following `output` into the
 * egress pipeline, multicast groups into one branch per member port, and patch
 * ports into the peer datapath's ingress. Pure: snapshot in, trace tree out.
 */
import {
  CT_STATE_BITS,
  defaultSymbols,
  expandMatch,
  evaluate,
  formatIntConstant,
  formatIpv4,
  formatIpv6,
  parseActions,
  parseIpv4,
  parseMatch,
  parseMac,
  printActions,
  type Action,
  type ActionArg,
  type NormExpr,
  type SymbolTable,
} from '../lib/lflow/index.js';
import { addNode, type TraceNode } from './nodes.js';
import { clonePacket, formatFieldValue, isMetadata, readField, writeField, type TracePacket } from './packet.js';
import { checkInPortSec, checkOutPortSec } from './port-security.js';
import { datapathName, type Datapath, type Flow, type SbIndex } from './snapshot.js';

type Pipeline = 'ingress' | 'egress';

export interface TraceOptions {
  /** `--ct` states in order, one per conntrack action (each a set of ct_state bits); default `est|trk`. */
  readonly ct?: readonly number[];
  readonly symbols?: SymbolTable;
  /** false: datapaths shown by UUID (--no-friendly-names). Default true. */
  readonly friendlyNames?: boolean;
}

/** The flags ovn-trace prints for a ct_state value (`est|trk`). */
export function ctStateText(v: number): string {
  return Object.entries(CT_STATE_BITS)
    .filter(([, bit]) => (v & (1 << bit)) !== 0)
    .map(([name]) => name)
    .join('|');
}

/** Parses one `--ct` value (`new`, `est,rpl`, `new|trk`): flags separated by `,` or `|`; `trk` is implied. */
export function parseCtFlags(text: string): number {
  let v = 1 << CT_STATE_BITS.trk;
  for (const f of text
    .split(/[,|]/)
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const bit = (CT_STATE_BITS as Record<string, number>)[f];
    if (bit === undefined) throw new Error(`${f}: unknown connection tracking state flag`);
    v |= 1 << bit;
  }
  return v;
}

/**
 * Why a `--ct` state cannot happen, in ovn-trace's words (it warns and goes
 * on), or undefined. "rpy" is ovn-trace's own spelling.
 */
export function ctStateProblem(v: number): string | undefined {
  const has = (f: keyof typeof CT_STATE_BITS): boolean => (v & (1 << CT_STATE_BITS[f])) !== 0;
  let why: string | undefined;
  if (has('inv') && (v & ~((1 << CT_STATE_BITS.inv) | (1 << CT_STATE_BITS.trk))) !== 0)
    why = 'when "inv" is set, only "trk" may also be set';
  else if (has('new') && has('est')) why = '"new" and "est" are mutually exclusive';
  else if (has('new') && has('rpl')) why = '"new" and "rpy" are mutually exclusive';
  return why === undefined ? undefined : `${ctStateText(v)}: invalid connection state: ${why}`;
}

interface Ctx {
  readonly dp: Datapath;
  readonly pipeline: Pipeline;
  readonly table: number;
  readonly packet: TracePacket;
  /** Where this flow's action nodes go (its table node's children). */
  readonly nodes: TraceNode[];
}

const DEFAULT_CT = (1 << CT_STATE_BITS.est) | (1 << CT_STATE_BITS.trk);
/** Tables visited in one branch before the trace gives up (a loop between patch ports, say). */
const MAX_DEPTH = 2000;

/** One trace over one snapshot. */
export class Tracer {
  private readonly symbols: SymbolTable;
  private readonly ct: number[];
  private readonly parsed = new Map<string, { match: NormExpr; actions: Action[] } | Error>();
  private depth = 0;
  private readonly friendly: boolean;

  constructor(
    private readonly index: SbIndex,
    opts: TraceOptions = {},
  ) {
    this.symbols = opts.symbols ?? defaultSymbols();
    this.ct = [...(opts.ct ?? [])];
    this.friendly = opts.friendlyNames ?? true;
  }

  private dpName(dp: Datapath): string {
    // Without friendly names ovn-trace shows the NB switch's or router's UUID.
    return this.friendly ? datapathName(dp) : (dp.external_ids.get('logical-switch') ?? dp.external_ids.get('logical-router') ?? dp._uuid);
  }

  /** Traces `packet` (its `inport` set) through `dp`'s ingress pipeline; returns the top-level nodes. */
  run(dp: Datapath, packet: TracePacket): TraceNode[] {
    const root: TraceNode[] = [];
    const node = addNode(root, 'pipeline', `ingress(dp="${this.dpName(dp)}", inport="${String(packet.get('inport') ?? '')}")`);
    this.table(dp, 'ingress', 0, packet, node.subs);
    return root;
  }

  /** A flow's match and actions, compiled for one datapath (port groups are per datapath in the SB). */
  private compile(f: Flow, dp: Datapath): { match: NormExpr; actions: Action[] } | Error {
    const key = `${f._uuid}/${dp._uuid}`;
    let c = this.parsed.get(key);
    if (c === undefined) {
      const lookups = { addressSet: (n: string) => this.index.addressSet(n), portGroup: (n: string) => this.index.portGroup(dp, n) };
      try {
        c = {
          match: expandMatch(parseMatch(f.match, { ...lookups, symbols: this.symbols }), { ...lookups, symbols: this.symbols }),
          actions: parseActions(f.actions, { symbols: this.symbols }),
        };
      } catch (e) {
        c = e instanceof Error ? e : new Error(String(e));
      }
      this.parsed.set(key, c);
    }
    return c;
  }

  private table(dp: Datapath, pipeline: Pipeline, table: number, packet: TracePacket, super_: TraceNode[]): void {
    if (++this.depth > MAX_DEPTH) {
      addNode(super_, 'error', '*** Too many nested actions; trace stopped');
      this.depth--;
      return;
    }
    try {
      const fields = Object.fromEntries(packet) as Record<string, bigint | string>;
      let hit: { flow: Flow; actions: Action[] } | undefined;
      for (const f of this.index.flows(dp._uuid, pipeline, table)) {
        const c = this.compile(f, dp);
        if (c instanceof Error) continue;
        if (evaluate(c.match, fields, { symbols: this.symbols })) {
          hit = { flow: f, actions: c.actions };
          break;
        }
      }
      const num = String(table).padStart(2);
      if (hit === undefined) {
        // Named by the stage of the table's other flows, if it has any.
        const stage = this.index.flows(dp._uuid, pipeline, table)[0]?.external_ids.get('stage-name');
        addNode(super_, 'table', `${num}. ${stage === undefined ? '' : `${stage}: `}no match (implicit drop)`);
        return;
      }
      const f = hit.flow;
      // ovn-trace leaves out the default flows that only pass the packet on.
      if (f.priority === 0 && f.match.trim() === '1' && f.actions.trim() === 'next;') {
        this.table(dp, pipeline, table + 1, packet, super_);
        return;
      }
      const stage = f.external_ids.get('stage-name');
      const source = f.external_ids.get('source');
      const where = stage === undefined ? '' : source === undefined ? `${stage}: ` : `${stage} (${source}): `;
      const node = addNode(super_, 'table', `${num}. ${where}${f.match}, priority ${f.priority}, uuid ${f._uuid.slice(0, 8)}`);
      this.actions(hit.actions, { dp, pipeline, table, packet, nodes: node.subs });
    } finally {
      this.depth--;
    }
  }

  /** Executes actions in order; returns true once the packet has left this flow (next, output, drop…). */
  private actions(list: readonly Action[], ctx: Ctx): boolean {
    for (const a of list) if (this.action(a, ctx)) return true;
    return false;
  }

  private action(a: Action, ctx: Ctx): boolean {
    const { packet, nodes } = ctx;
    const text = printActions([a]);
    const modify = (s: string): void => void addNode(nodes, 'modify', s);
    switch (a.type) {
      case 'next': {
        addNode(nodes, 'action', text);
        const pipeline = a.pipeline ?? ctx.pipeline;
        if (pipeline === ctx.pipeline) {
          this.table(ctx.dp, pipeline, a.table ?? ctx.table + 1, packet, nodes);
          return true;
        }
        // Into the other pipeline: a pipeline of its own, named by the port that pipeline is about.
        const port =
          pipeline === 'egress' ? `outport="${String(packet.get('outport') ?? '')}"` : `inport="${String(packet.get('inport') ?? '')}"`;
        const node = addNode(nodes, 'pipeline', `${pipeline}(dp="${this.dpName(ctx.dp)}", ${port})`);
        this.table(ctx.dp, pipeline, a.table ?? 0, packet, node.subs);
        return true;
      }
      case 'load':
      case 'move': {
        addNode(nodes, 'action', text);
        const v = a.type === 'load' ? a.value.value : readField(packet, a.src, this.symbols);
        writeField(packet, a.dst, v, this.symbols);
        if (!isMetadata(a.dst, this.symbols)) {
          // A constant shows as written; a copied value in the notation of the field it came from.
          const shown =
            a.type === 'load'
              ? a.value.kind === 'string'
                ? JSON.stringify(a.value.value)
                : formatIntConstant(a.value)
              : formatFieldValue(a.src, v, true);
          modify(`${refText(a.dst)} = ${shown}`);
        }
        return false;
      }
      case 'exchange': {
        addNode(nodes, 'action', text);
        const va = readField(packet, a.a, this.symbols);
        const vb = readField(packet, a.b, this.symbols);
        writeField(packet, a.a, vb, this.symbols);
        writeField(packet, a.b, va, this.symbols);
        if (!isMetadata(a.a, this.symbols)) modify(`${refText(a.a)} = ${formatFieldValue(a.b, vb, true)}`);
        if (!isMetadata(a.b, this.symbols)) modify(`${refText(a.b)} = ${formatFieldValue(a.a, va, true)}`);
        return false;
      }
      case 'dec_ttl': {
        addNode(nodes, 'action', text);
        const ttl = readField(packet, { name: 'ip.ttl' }, this.symbols) as bigint;
        writeField(packet, { name: 'ip.ttl' }, ttl - 1n, this.symbols);
        modify('ip.ttl--');
        return false;
      }
      case 'result':
        addNode(nodes, 'action', text);
        // No FDB entries are simulated: get_fdb finds nothing, which OVN spells "none".
        if (a.name === 'get_fdb') {
          writeField(packet, a.dst, 'none', this.symbols);
          return false;
        }
        writeField(packet, a.dst, this.result(a.name, a.args, text, ctx), this.symbols);
        return false;
      case 'call':
        addNode(nodes, 'action', text);
        if (a.name === 'get_arp') this.getArp(a.args, ctx);
        return false;
      case 'keyword':
        addNode(nodes, 'action', text);
        switch (a.name) {
          case 'output':
            this.output(ctx);
            return true;
          case 'drop':
            return true;
          case 'ct_next':
          case 'ct_lb':
          case 'ct_lb_mark':
            this.ctNext(ctx, a.name);
            return true;
          case 'ct_dnat':
          case 'ct_snat':
          case 'ct_dnat_in_czone':
          case 'ct_snat_in_czone': {
            const node = addNode(nodes, 'transformation', `${a.name} /* assuming no un-${a.name.slice(3, 7)} entry, so no change */`);
            this.table(ctx.dp, ctx.pipeline, ctx.table + 1, packet, node.subs);
            return true;
          }
          case 'ct_clear':
            writeField(packet, { name: 'ct_state' }, 0n, this.symbols);
            return false;
          default:
            return false;
        }
      case 'raw':
        // ct_lb/ct_lb_mark with backends: the first backend becomes the destination, silently as in ovn-trace.
        addNode(nodes, 'action', text);
        this.loadBalance(a.text, packet);
        this.ctNext(ctx, a.name);
        return true;
      case 'nested':
        addNode(nodes, 'action', text);
        return this.nested(a.name, a.actions, ctx);
    }
  }

  /**
   * ct_next and its kin: the packet comes back from conntrack with the next
   * `--ct` state. ovn-trace names the state for ct_next only; ct_lb/ct_lb_mark show their name.
   */
  private ctNext(ctx: Ctx, action: string): void {
    const given = this.ct.shift();
    const state = given ?? DEFAULT_CT;
    const note = given === undefined ? ' /* default (use --ct to customize) */' : '';
    const name = action === 'ct_next' ? `ct_next(ct_state=${ctStateText(state)}${note})` : `${action}${note}`;
    // ct_next replaces the state; ct_lb/ct_lb_mark add to what the packet already has (as ovn-trace 23.03 does).
    const prev = action === 'ct_next' ? 0n : (readField(ctx.packet, { name: 'ct_state' }, this.symbols) as bigint);
    writeField(ctx.packet, { name: 'ct_state' }, prev | BigInt(state), this.symbols);
    const node = addNode(ctx.nodes, 'transformation', name);
    this.table(ctx.dp, ctx.pipeline, ctx.table + 1, ctx.packet, node.subs);
  }

  /** Applies the first IPv4 backend of `backends=IP[:PORT],...` to the packet's destination. */
  private loadBalance(args: string, p: TracePacket): void {
    const m = /backends\s*=\s*"?([0-9.]+)(?::(\d+))?/.exec(args);
    if (m === null) return;
    const ip = parseIpv4(m[1]!);
    if (ip === undefined || readField(p, { name: 'eth.type' }, this.symbols) !== 0x800n) return;
    writeField(p, { name: 'ip4.dst' }, ip, this.symbols);
    if (m[2] === undefined) return;
    const proto = readField(p, { name: 'ip.proto' }, this.symbols);
    const l4 = proto === 6n ? 'tcp.dst' : proto === 17n ? 'udp.dst' : proto === 132n ? 'sctp.dst' : undefined;
    if (l4 !== undefined) writeField(p, { name: l4 }, BigInt(m[2]), this.symbols);
  }

  private nested(name: string, inner: readonly Action[], ctx: Ctx): boolean {
    if (name === 'ct_commit') return false; // Commits to conntrack; the packet itself is unchanged.
    const p = clonePacket(ctx.packet);
    const set = (f: string, v: bigint | string): void => writeField(p, { name: f }, v, this.symbols);
    const get = (f: string): bigint => readField(p, { name: f }, this.symbols) as bigint;
    switch (name) {
      case 'arp': {
        // An ARP request for the packet's IPv4 destination, from its source.
        const spa = get('ip4.src');
        const tpa = get('ip4.dst');
        const sha = get('eth.src');
        for (const f of [
          'ip4.src',
          'ip4.dst',
          'ip.proto',
          'ip.ttl',
          'ip.dscp',
          'ip.ecn',
          'tcp.src',
          'tcp.dst',
          'udp.src',
          'udp.dst',
          'icmp4.type',
          'icmp4.code',
        ])
          set(f, 0n);
        set('eth.type', 0x806n);
        set('eth.dst', 0xffffffffffffn);
        set('arp.op', 1n);
        set('arp.sha', sha);
        set('arp.spa', spa);
        set('arp.tha', 0n);
        set('arp.tpa', tpa);
        break;
      }
      case 'icmp4':
      case 'icmp4_error':
        set('ip.proto', 1n);
        set('icmp4.type', 3n);
        set('icmp4.code', 1n);
        set('ip.ttl', 255n);
        break;
      default:
        break;
    }
    const node = addNode(ctx.nodes, 'transformation', name);
    this.actions(inner, { ...ctx, packet: p, nodes: node.subs });
    // clone {} leaves the original packet to carry on; the others replace it.
    return name !== 'clone';
  }

  private result(name: string, args: readonly ActionArg[], text: string, ctx: Ctx): bigint {
    const { packet, nodes } = ctx;
    const inport = String(packet.get('inport') ?? '');
    const outport = String(packet.get('outport') ?? '');
    switch (name) {
      case 'check_in_port_sec':
        return checkInPortSec(this.index.portByName.get(inport)?.port_security ?? [], packet);
      case 'check_out_port_sec':
        return checkOutPortSec(this.index.portByName.get(outport)?.port_security ?? [], packet);
      case 'chk_lb_hairpin':
      case 'chk_lb_hairpin_reply':
        // No load-balancer connection is tracked, so never a hairpin; ovn-trace shows the result as a change.
        addNode(nodes, 'modify', `${text.slice(0, text.indexOf('=')).trim()} = 0`);
        return 0n;
      case 'put_dhcp_opts':
      case 'put_dhcpv6_opts': {
        addNode(
          nodes,
          'error',
          name === 'put_dhcp_opts'
            ? '/* We assume that this packet is DHCPDISCOVER or DHCPREQUEST. */'
            : '/* We assume that this packet is DHCPv6 request. */',
        );
        const call = text
          .slice(text.indexOf('=') + 1)
          .trim()
          .replace(/;$/, '');
        addNode(nodes, 'modify', call);
        return 1n;
      }
      case 'lookup_arp':
      case 'lookup_arp_ip':
      case 'lookup_nd':
      case 'lookup_nd_ip': {
        const port = this.argValue(args[0], packet);
        const ip = this.argValue(args[1], packet);
        const mac = name === 'lookup_arp' || name === 'lookup_nd' ? this.argValue(args[2], packet) : undefined;
        const ipText = typeof ip !== 'bigint' ? undefined : name.startsWith('lookup_nd') ? formatIpv6(ip) : formatIpv4(ip);
        const bound = ipText === undefined ? undefined : this.index.macBinding(String(port), ipText);
        if (bound === undefined) {
          addNode(nodes, 'action', '/* lookup failed - No MAC binding. */', false, false);
          return 0n;
        }
        if (mac !== undefined && parseMac(bound) !== mac) {
          addNode(nodes, 'action', `/* lookup failed - MAC binding for ${ipText ?? ''} is ${bound}. */`, false, false);
          return 0n;
        }
        // ovn-trace 23.03 shows the packet's eth.dst here, not the binding's MAC.
        addNode(
          nodes,
          'action',
          `/* MAC binding to ${formatFieldValue({ name: 'eth.dst' }, readField(packet, { name: 'eth.dst' }, this.symbols))} found. */`,
          false,
          false,
        );
        return 1n;
      }
      default:
        return 0n;
    }
  }

  private getArp(args: readonly ActionArg[], ctx: Ctx): void {
    const port = String(this.argValue(args[0], ctx.packet));
    const ip = this.argValue(args[1], ctx.packet);
    const bound = typeof ip === 'bigint' ? this.index.macBinding(port, formatIpv4(ip)) : undefined;
    const mac = bound === undefined ? 0n : (parseMac(bound) ?? 0n);
    addNode(ctx.nodes, 'action', bound === undefined ? '/* No MAC binding. */' : `/* MAC binding to ${bound}. */`, false, false);
    writeField(ctx.packet, { name: 'eth.dst' }, mac, this.symbols);
    addNode(ctx.nodes, 'modify', `eth.dst = ${formatFieldValue({ name: 'eth.dst' }, mac)}`);
  }

  private argValue(arg: ActionArg | undefined, p: TracePacket): bigint | string {
    if (arg === undefined) return 0n;
    if (arg.type === 'field') return readField(p, arg.field, this.symbols);
    if (arg.type === 'int') return arg.value.value;
    if (arg.type === 'string') return arg.value;
    return 0n;
  }

  /** `output`: from ingress into egress (one branch per member of a multicast group); from egress out of the port. */
  private output(ctx: Ctx): void {
    const { packet, nodes, dp } = ctx;
    const inport = String(packet.get('inport') ?? '');
    const outport = String(packet.get('outport') ?? '');
    const loopback = ((readField(packet, { name: 'flags.loopback' }, this.symbols) as bigint) & 1n) === 1n;
    if (ctx.pipeline === 'ingress') {
      const mc = this.index.multicastGroup(dp._uuid, outport);
      if (mc !== undefined) {
        const node = addNode(nodes, 'pipeline', `multicast(dp="${this.dpName(dp)}", mcgroup="${mc.name}")`);
        // Member ports in name order, as ovn-trace lists the branches.
        const members = mc.ports
          .flatMap((u) => this.index.portByUuid.get(u) ?? [])
          .sort((a, b) => (a.logical_port < b.logical_port ? -1 : a.logical_port > b.logical_port ? 1 : 0));
        for (const port of members) {
          const branch = addNode(
            node.subs,
            'pipeline',
            `egress(dp="${this.dpName(dp)}", inport="${inport}", outport="${port.logical_port}")`,
            true,
          );
          if (port.logical_port === inport && !loopback) {
            addNode(branch.subs, 'action', '/* omitting output because inport == outport && !flags.loopback */');
            continue;
          }
          const p = egressPacket(packet);
          p.set('outport', port.logical_port);
          this.table(dp, 'egress', 0, p, branch.subs);
        }
        return;
      }
      const node = addNode(nodes, 'pipeline', `egress(dp="${this.dpName(dp)}", inport="${inport}", outport="${outport}")`);
      this.table(dp, 'egress', 0, egressPacket(packet), node.subs);
      return;
    }
    if (outport === inport && !loopback) {
      addNode(nodes, 'action', '/* omitting output because inport == outport && !flags.loopback */');
      return;
    }
    const port = this.index.portByName.get(outport);
    if (port === undefined) {
      addNode(nodes, 'error', `/* no port binding for "${outport}" */`);
      return;
    }
    addNode(nodes, 'action', `/* output to "${outport}", type "${port.type}" */`);
    if (port.type === 'patch' || port.type === 'l3gateway') {
      const peer = this.index.portByName.get(port.options.get('peer') ?? '');
      const peerDp = peer === undefined ? undefined : this.index.datapathByUuid.get(peer.datapath);
      if (peer === undefined || peerDp === undefined) return;
      // A new pipeline starts with clear registers and flags; conntrack state stays as the last ct_next left it.
      const p = clonePacket(packet);
      for (const f of ['xxreg0', 'xxreg1', 'xreg4', 'flags']) p.delete(f);
      p.set('inport', peer.logical_port);
      p.set('outport', '');
      const node = addNode(nodes, 'pipeline', `ingress(dp="${this.dpName(peerDp)}", inport="${peer.logical_port}")`);
      this.table(peerDp, 'ingress', 0, p, node.subs);
      return;
    }
    addNode(nodes, 'output', `output("${outport}")`);
  }
}

/** The packet as the egress pipeline sees it: the ingress pipeline's registers do not carry over (flags do). */
function egressPacket(p: TracePacket): TracePacket {
  const q = clonePacket(p);
  for (const f of ['xxreg0', 'xxreg1', 'xreg4']) q.delete(f);
  return q;
}

function refText(f: { name: string; lo?: number; hi?: number }): string {
  return f.lo === undefined ? f.name : f.hi === undefined ? `${f.name}[${f.lo}]` : `${f.name}[${f.lo}..${f.hi}]`;
}
