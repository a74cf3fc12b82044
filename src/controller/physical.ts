/**
 * The physical part of the chassis' OpenFlow table and the entry point of the
 * flow translation (ovn-architecture(7), "Architectural Physical Life Cycle of
 * a Packet"; ovn-controller(8)):
 *
 * - table 0: packets from local VIFs (`in_port`), from container ports nested
 *   in a local VIF (`in_port` + `dl_vlan`, tag stripped, MLF_NESTED_CONTAINER
 *   set) and from tunnels get their logical datapath (`metadata`), logical
 *   inport (`reg14`) and conntrack zones (`reg13` port, `reg11`/`reg12` the
 *   datapath's DNAT/SNAT) and enter the ingress pipeline (table 8);
 * - 37/38: large-packet detection (pass-through), 39: output to remote chassis
 *   (Geneve: `tun_id` = datapath key, `tun_metadata0` = inport << 16 | outport)
 *   and multicast members behind patch ports, 40: local output (zones of the
 *   outport, multicast groups to their local members), 41: loopback check,
 *   then the egress pipeline (42);
 * - 64: `flags.loopback` lets a packet leave by the port it came in, 65: to the
 *   VIF's OpenFlow port, into a container's VLAN on its parent, or across a
 *   logical patch into the peer datapath's ingress pipeline;
 * - 73/74/75: port security (Port_Binding `port_security`), used by
 *   `check_in_port_sec()` / `check_out_port_sec()`.
 *
 * The flows are the flow model (openflow/flow.ts), built directly: no flow
 * text on the way from the SB to the switch. {@link computeDesiredFlows} is
 * pure; {@link FlowComputer} is the daemon's incremental computation.
 */
import type { OvsdbClient } from '../ovsdb/client.js';
import type { Port_Binding } from '../ovsdb/models/ovn-sb.js';
import { SbModels, type SbView } from './sb-models.js';
import { parseIpv4, parseIpv6, parseMac } from '../lib/address-text.js';
import type { ChassisFacts } from './controller.js';
import { textFlowOf, type TextFlow } from './ofctl-link.js';
import { LEARN_FLAGS, OFPP, type Action, type Flow, type LearnSpec, type MatchField } from '../openflow/flow.js';
import { MLF, OFTABLE } from './lflow/actions.js';
import { LflowCache, buildLflowEnv, translateLogicalFlows } from './lflow/translate.js';
import { PROTO, ctCommitNat, eq, mk, move, output, pop, push, ref, resubmit, setField } from './flow-build.js';

/** A local port with an OpenFlow port on the integration bridge. */
export interface LocalPort {
  readonly logicalPort: string;
  readonly ofport: number;
}

/** A container port: traffic of `tag` on its parent VIF's OpenFlow port. */
export interface LocalContainerPort extends LocalPort {
  readonly parent: string;
  readonly tag: number;
}

/** Everything local the flow computation needs (what the daemon finds on this chassis). */
export interface LocalState {
  readonly chassisUuid: string;
  readonly chassisName: string;
  /** VIFs and localports with an interface here. */
  readonly vifs: readonly LocalPort[];
  readonly containers: readonly LocalContainerPort[];
  /** Ports bound here without an OpenFlow port of their own (l3gateway). */
  readonly otherResident: readonly string[];
  /** Datapath_Binding UUIDs with flows here. */
  readonly localDatapaths: ReadonlySet<string>;
  /** Conntrack zones by logical port and `<datapath uuid>_dnat` / `_snat`. */
  readonly ctZones: ReadonlyMap<string, number>;
  /** Tunnel OpenFlow ports by remote chassis name. */
  readonly tunnels: ReadonlyMap<string, { readonly ofport: number; readonly type: string }>;
  /** Localnet patch OpenFlow ports by localnet logical port. */
  readonly localnetPorts: ReadonlyMap<string, number>;
}

export interface ComputeOptions {
  readonly log?: (m: string) => void;
  /** Translations kept from earlier passes (see {@link createFlowComputer}). */
  readonly cache?: LflowCache;
  /** Local ports' own flows kept from earlier passes. */
  readonly portCache?: PortFlowCache;
  /** Typed SB rows kept from earlier passes (see sb-models.ts). */
  readonly models?: SbModels;
}

/**
 * The physical flows of each local port (table 0 entry, local output,
 * loopback, delivery, port security), remote port and multicast group, kept
 * between passes with the inputs they were built from: one whose inputs are
 * unchanged reuses its flows (the same objects, which ofctrl does not compare
 * again), so one new port among hundreds builds only its own.
 */
export class PortFlowCache {
  private entries = new Map<string, { inputs: string; flows: readonly Flow[] }>();
  private next = new Map<string, { inputs: string; flows: readonly Flow[] }>();
  /** Ports built / reused in the last pass (for tests and stats). */
  readonly stats = { built: 0, reused: 0 };

  beginPass(): void {
    this.next = new Map();
    this.stats.built = 0;
    this.stats.reused = 0;
  }

  /** Appends the flows of port `id` to `out`, building them only when `inputs` changed. */
  flows(id: string, inputs: string, out: Flow[], build: () => Flow[]): void {
    let e = this.entries.get(id);
    if (e === undefined || e.inputs !== inputs) {
      e = { inputs, flows: build() };
      this.stats.built++;
    } else {
      this.stats.reused++;
    }
    this.next.set(id, e);
    for (const f of e.flows) out.push(f);
  }

  /** Forgets the ports this pass did not visit. */
  endPass(): void {
    this.entries = this.next;
  }
}

interface Pb {
  readonly row: Port_Binding;
  readonly name: string;
  readonly type: string;
  readonly dp: string;
  readonly key: number;
}

/** First conjunction id of the chassis-MAC replacement flows in table 0 (logical flows use ids from their UUIDs). */
const CHASSIS_MAC_CONJ_ID = 100;

/** The logical registers a patch hop or a remote input clears (reg0..reg9). */
const CLEAR_REGS: readonly Action[] = Array.from({ length: 10 }, (_, i) => setField(`reg${i}`, 0));

/** A single bit of `flags` (reg10) as value and mask. */
const bit = (n: number): bigint => 1n << BigInt(n);

/** `flags[n] == 1` (reg10 bit n set). */
const flagSet = (n: number): MatchField[] => eq('reg10', bit(n), bit(n));

/** `set_field` of one bit of `flags` (reg10). */
const setFlag = (n: number, on: boolean): Action => setField('reg10', on ? bit(n) : 0n, bit(n));

/** Port-security entries (ovn-sb(5) Port_Binding `port_security`): MAC, IPv4 and IPv6 addresses. */
function portSecurity(pb: Port_Binding): { mac: bigint; ipv4: string[]; ipv6: string[] }[] {
  const out: { mac: bigint; ipv4: string[]; ipv6: string[] }[] = [];
  for (const entry of pb.port_security) {
    const words = entry.trim().split(/[\s,]+/);
    const mac = parseMac(words[0] ?? '');
    if (mac === undefined) continue;
    const ips = words.slice(1).filter((w) => w !== '');
    out.push({ mac, ipv4: ips.filter((w) => !w.includes(':')), ipv6: ips.filter((w) => w.includes(':')) });
  }
  return out;
}

/**
 * An address (`10.0.0.5`, `fd00::5`) or a CIDR (`10.0.0.0/24`, `fd00::/64`)
 * as a match on `field` (a host address is an exact match); undefined if it
 * is not one of that family (`bits`: 32 for IPv4, 128 for IPv6).
 */
function ipMatch(field: string, a: string, bits: 32 | 128): MatchField[] | undefined {
  const [addr, plen] = a.split('/');
  const v = bits === 32 ? parseIpv4(addr ?? '') : parseIpv6(addr ?? '');
  const n = plen === undefined ? bits : Number(plen);
  if (v === undefined || !Number.isInteger(n) || n < 0 || n > bits) return undefined;
  if (n === bits) return eq(field, v);
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - n)) - 1n);
  return n === 0 ? [] : eq(field, v & mask, mask);
}

/** The link-local address of `mac` (fe80::/64 with its modified EUI-64 interface id, RFC 4291 §2.5.1). */
function linkLocal(mac: bigint): bigint {
  const iid = (((mac >> 24n) ^ 0x020000n) << 40n) | (0xfffen << 24n) | (mac & 0xffffffn);
  return (0xfe80n << 112n) | iid;
}

/**
 * The IPv6 part of a port-security entry with IPv6 addresses (ovn-nb(5)
 * `port_security`), as OVN 23.03 installs it: IPv6 from the MAC with one of
 * the addresses or the MAC's link-local one goes on to the ND checks, as do
 * DAD solicitations; MLD reports from `::` pass; NAs must advertise one of
 * the addresses; the port receives IPv6 to those addresses and multicast.
 */
function ipv6PortSecurityFlows(e: { mac: bigint; ipv6: string[] }, inp: MatchField[], outp: MatchField[]): Flow[] {
  const allow = [setFlag(MLF.CHECK_PORT_SEC, false)];
  const nd = [resubmit(T.CHK_IN_PORT_SEC_ND)];
  const src = eq('dl_src', e.mac);
  const dst = eq('dl_dst', e.mac);
  const lla = linkLocal(e.mac);
  const out: Flow[] = [];
  const fromUnspecified = (type: number): MatchField[] =>
    [
      PROTO.icmp6,
      inp,
      src,
      eq('ipv6_src', 0),
      eq('ipv6_dst', 0xff02n << 112n, 0xffffn << 112n),
      eq('icmpv6_type', type),
      eq('icmpv6_code', 0),
    ].flat();
  out.push(mk(T.CHK_IN_PORT_SEC, 90, [fromUnspecified(131)], allow));
  out.push(mk(T.CHK_IN_PORT_SEC, 90, [fromUnspecified(143)], allow));
  out.push(mk(T.CHK_IN_PORT_SEC, 90, [fromUnspecified(135)], nd));
  out.push(mk(T.CHK_OUT_PORT_SEC, 95, [PROTO.ipv6, outp, dst, eq('ipv6_dst', 0xffn << 120n, 0xffn << 120n)], allow));
  const na = [...PROTO.icmp6, ...inp, ...eq('icmpv6_type', 136), ...eq('icmpv6_code', 0)];
  for (const tll of [0n, e.mac]) {
    // OVN 23.03's link-local NA check: hop limit 225 and no Ethernet source, as its other ND checks here.
    out.push(mk(T.CHK_IN_PORT_SEC_ND, 90, [na, eq('nd_target', lla), eq('nd_tll', tll), eq('nw_ttl', 225)], allow));
  }
  out.push(mk(T.CHK_IN_PORT_SEC, 90, [PROTO.ipv6, inp, src, eq('ipv6_src', lla)], nd));
  out.push(mk(T.CHK_OUT_PORT_SEC, 95, [PROTO.ipv6, outp, dst, eq('ipv6_dst', lla)], allow));
  for (const ip of e.ipv6) {
    const ipSrc = ipMatch('ipv6_src', ip, 128);
    const ipDst = ipMatch('ipv6_dst', ip, 128);
    const target = ipMatch('nd_target', ip, 128);
    if (ipSrc === undefined || ipDst === undefined || target === undefined) continue;
    out.push(mk(T.CHK_IN_PORT_SEC, 90, [PROTO.ipv6, inp, src, ipSrc], nd));
    out.push(mk(T.CHK_OUT_PORT_SEC, 95, [PROTO.ipv6, outp, dst, ipDst], allow));
    for (const tll of [0n, e.mac]) out.push(mk(T.CHK_IN_PORT_SEC_ND, 90, [na, src, target, eq('nd_tll', tll)], allow));
  }
  return out;
}

/** Port security flows for one local port (tables 73, 74, 75). */
function portSecurityFlows(pb: Pb, dpKey: number): Flow[] {
  const entries = portSecurity(pb.row);
  if (entries.length === 0) return [];
  const allow = [setFlag(MLF.CHECK_PORT_SEC, false)];
  const deny = [setFlag(MLF.CHECK_PORT_SEC, true)];
  const inp = [...eq('reg14', pb.key), ...eq('metadata', dpKey)];
  const outp = [...eq('reg15', pb.key), ...eq('metadata', dpKey)];
  const nd = (ttl: number, type: number): MatchField[] => [...PROTO.icmp6, ...inp, ...eq('nw_ttl', ttl), ...eq('icmpv6_type', type)];
  const out: Flow[] = [
    mk(T.CHK_IN_PORT_SEC, 80, [inp], deny),
    mk(T.CHK_IN_PORT_SEC, 95, [PROTO.arp, inp], [resubmit(T.CHK_IN_PORT_SEC_ND)]),
    mk(T.CHK_IN_PORT_SEC_ND, 80, [PROTO.arp, inp], deny),
    mk(T.CHK_IN_PORT_SEC_ND, 80, [nd(255, 136)], deny),
    mk(T.CHK_IN_PORT_SEC_ND, 80, [nd(255, 135)], allow),
    mk(T.CHK_OUT_PORT_SEC, 80, [outp], deny),
  ];
  for (const e of entries) {
    const src = eq('dl_src', e.mac);
    const dst = eq('dl_dst', e.mac);
    out.push(mk(T.CHK_OUT_PORT_SEC, 85, [outp, dst], allow));
    // OVN 23.03 matches ND packets of a port's own MAC with hop limit 225 here (NAs: see ipv6PortSecurityFlows with IPv6 addresses).
    for (const [type, opt] of [
      [135, 'nd_sll'],
      [136, 'nd_tll'],
    ] as const) {
      if (type === 136 && e.ipv6.length > 0) continue;
      const code0 = eq('icmpv6_code', 0);
      out.push(mk(T.CHK_IN_PORT_SEC_ND, 90, [nd(225, type), code0, eq(opt, 0)], allow));
      out.push(mk(T.CHK_IN_PORT_SEC_ND, 90, [nd(225, type), code0, eq(opt, e.mac)], allow));
    }
    if (e.ipv6.length > 0) out.push(...ipv6PortSecurityFlows(e, inp, outp));
    if (e.ipv4.length === 0 && e.ipv6.length === 0) {
      out.push(mk(T.CHK_IN_PORT_SEC, 90, [inp, src], allow));
      out.push(mk(T.CHK_IN_PORT_SEC_ND, 90, [PROTO.arp, inp, src, eq('arp_sha', e.mac)], allow));
      continue;
    }
    out.push(mk(T.CHK_OUT_PORT_SEC, 90, [PROTO.ip, outp, dst], deny));
    out.push(mk(T.CHK_OUT_PORT_SEC, 90, [PROTO.ipv6, outp, dst], deny));
    // An entry with IPv6 addresses only allows no IPv4 (not even DHCPv4, broadcast or multicast).
    if (e.ipv4.length === 0) continue;
    out.push(
      mk(
        T.CHK_IN_PORT_SEC,
        90,
        [PROTO.udp, inp, src, eq('nw_src', 0), eq('nw_dst', 0xffffffff), eq('udp_src', 68), eq('udp_dst', 67)],
        allow,
      ),
    );
    out.push(mk(T.CHK_OUT_PORT_SEC, 95, [PROTO.ip, outp, dst, eq('nw_dst', 0xffffffff)], allow));
    out.push(mk(T.CHK_OUT_PORT_SEC, 95, [PROTO.ip, outp, dst, eq('nw_dst', 0xe0000000, 0xf0000000)], allow));
    for (const ip of e.ipv4) {
      const nwSrc = ipMatch('nw_src', ip, 32);
      const spa = ipMatch('arp_spa', ip, 32);
      const nwDst = ipMatch('nw_dst', ip, 32);
      if (nwSrc === undefined || spa === undefined || nwDst === undefined) continue;
      out.push(mk(T.CHK_IN_PORT_SEC, 90, [PROTO.ip, inp, src, nwSrc], allow));
      out.push(mk(T.CHK_IN_PORT_SEC_ND, 90, [PROTO.arp, inp, src, spa, eq('arp_sha', e.mac)], allow));
      out.push(mk(T.CHK_OUT_PORT_SEC, 95, [PROTO.ip, outp, dst, nwDst], allow));
    }
  }
  return out;
}

/**
 * What every feature's flows read: the SB rows indexed once per pass, the
 * chassis' facts, and the small helpers the tables share (OVN's physical.c
 * passes the same through `struct physical_ctx`).
 */
interface PhysicalCtx {
  readonly sb: SbView;
  /** The SB rows as their typed models. */
  readonly models: SbModels;
  readonly local: LocalState;
  readonly log: (m: string) => void;
  readonly pbs: ReadonlyMap<string, Pb>;
  readonly pbByUuid: ReadonlyMap<string, Pb>;
  readonly dpKey: ReadonlyMap<string, number>;
  readonly chassisName: ReadonlyMap<string, string>;
  /** Logical ports delivered on this chassis (VIFs, containers, localnet, local patch ports); filled as the features run. */
  readonly localNames: Set<string>;
  /** Datapaths with a localnet port here: their remote ports are reached over the provider network. */
  readonly localnetOf: Map<string, Pb>;
  /** The port's conntrack zone. */
  zone(name: string): number | undefined;
  /** set_field actions for a port's zone and its datapath's DNAT/SNAT zones. */
  zoneActions(port: string | undefined, dp: string): Action[];
  /** A datapath's `metadata` value. */
  md(dp: string): number;
}

const T = OFTABLE;

/** Output to the port the packet came in by: OVS drops output to in_port unless in_port is cleared first. */
const SAVE_INPORT: readonly Action[] = [push(ref('in_port')), setField('in_port', OFPP.ANY), resubmit(T.LOG_TO_PHY), pop(ref('in_port'))];

/**
 * The default flow of each physical table: constant data, the same objects
 * in every pass (so ofctrl never compares them again).
 */
const FIXED_FLOWS: readonly Flow[] = ((): Flow[] => {
  const none: MatchField[] = [];
  return [
    mk(T.PHY_TO_LOG, 0, [none], []),
    mk(T.OUTPUT_LARGE_PKT_DETECT, 0, [none], [resubmit(T.REMOTE_OUTPUT)]),
    mk(T.OUTPUT_LARGE_PKT_PROCESS, 10, [flagSet(MLF.ALLOW_LOOPBACK)], [resubmit(T.LOCAL_OUTPUT)]),
    mk(T.OUTPUT_LARGE_PKT_PROCESS, 0, [none], [resubmit(T.REMOTE_OUTPUT)]),
    mk(T.REMOTE_OUTPUT, 150, [flagSet(MLF.LOCAL_ONLY)], [resubmit(T.LOCAL_OUTPUT)]),
    mk(T.REMOTE_OUTPUT, 150, [eq('reg10', bit(MLF.RCV_FROM_RAMP), 0x3)], [resubmit(T.LOCAL_OUTPUT)]),
    mk(T.REMOTE_OUTPUT, 0, [none], [resubmit(T.LOCAL_OUTPUT)]),
    mk(T.LOCAL_OUTPUT, 0, [none], []),
    mk(T.CHECK_LOOPBACK, 0, [none], [...CLEAR_REGS, resubmit(T.LOG_EGRESS_PIPELINE)]),
    mk(T.SAVE_INPORT, 0, [none], [resubmit(T.LOG_TO_PHY)]),
    mk(T.LOG_TO_PHY, 0, [none], []),
  ];
})();

function physicalCtx(sb: SbView, models: SbModels, local: LocalState, log: (m: string) => void): PhysicalCtx {
  const pbs = new Map<string, Pb>();
  const pbByUuid = new Map<string, Pb>();
  for (const row of models.rows(sb, 'Port_Binding')) {
    const pb: Pb = { row, name: row.logical_port, type: row.type, dp: row.datapath, key: row.tunnel_key };
    pbs.set(pb.name, pb);
    pbByUuid.set(row._uuid, pb);
  }
  const dpKey = new Map<string, number>();
  for (const dp of models.rows(sb, 'Datapath_Binding')) dpKey.set(dp._uuid, dp.tunnel_key);
  const chassisName = new Map<string, string>();
  for (const c of models.rows(sb, 'Chassis')) chassisName.set(c._uuid, c.name);
  const zone = (name: string): number | undefined => local.ctZones.get(name);
  return {
    sb,
    models,
    local,
    log,
    pbs,
    pbByUuid,
    dpKey,
    chassisName,
    localNames: new Set(),
    localnetOf: new Map(),
    zone,
    zoneActions: (port, dp) => {
      const a: Action[] = [];
      const z = port === undefined ? undefined : zone(port);
      if (z !== undefined) a.push(setField('reg13', z));
      const dn = zone(`${dp}_dnat`);
      const sn = zone(`${dp}_snat`);
      if (dn !== undefined) a.push(setField('reg11', dn));
      if (sn !== undefined) a.push(setField('reg12', sn));
      return a;
    },
    md: (dp) => dpKey.get(dp) ?? 0,
  };
}

/** `reg15=<port>,metadata=<datapath>`: a logical outport. */
function outportOf(ctx: PhysicalCtx, pb: Pb): MatchField[] {
  return [...eq('reg15', pb.key), ...eq('metadata', ctx.md(pb.dp))];
}

/** Flows of a port delivered on this chassis: local output, loopback check. */
function deliveredHere(ctx: PhysicalCtx, to: Flow[], pb: Pb, withZone: boolean): void {
  const m = outportOf(ctx, pb);
  to.push(mk(T.LOCAL_OUTPUT, 100, [m], [...ctx.zoneActions(withZone ? pb.name : undefined, pb.dp), resubmit(T.CHECK_LOOPBACK)]));
  to.push(mk(T.CHECK_LOOPBACK, 100, [eq('reg10', 0, 1), eq('reg14', pb.key), m], []));
}

/** Into the ingress pipeline as logical port `pb`, with its zones. */
function enterPipeline(ctx: PhysicalCtx, pb: Pb): Action[] {
  return [
    ...ctx.zoneActions(pb.name, pb.dp),
    setField('metadata', ctx.md(pb.dp)),
    setField('reg14', pb.key),
    resubmit(T.LOG_INGRESS_PIPELINE),
  ];
}

/** Output in VLAN `tag` on `ofport` (the tag removed again for the actions that follow). */
function outputTagged(tag: number, ofport: number): Action[] {
  return [{ type: 'push_vlan', ethertype: 0x8100 }, setField('vlan_vid', 4096 + tag), output(ofport), { type: 'pop_vlan' }];
}

/** Local VIFs and nested containers: table 0 entry, delivery, port security (kept per port across passes). */
function localPortFlows(ctx: PhysicalCtx, out: Flow[], ports: PortFlowCache): void {
  const { local, pbs, dpKey, localNames, md } = ctx;
  const nested = new Set(local.containers.map((c) => c.parent));
  /** Everything a local port's own flows depend on, so that unchanged ports reuse theirs. */
  const portInputs = (pb: Pb, ofport: number, extra: string): string =>
    `${ofport}|${pb.key}|${md(pb.dp)}|${ctx.zone(pb.name)}|${ctx.zone(`${pb.dp}_dnat`)}|${ctx.zone(`${pb.dp}_snat`)}|${pb.row.port_security.join('\n')}|${extra}`;
  for (const v of local.vifs) {
    const pb = pbs.get(v.logicalPort);
    if (pb === undefined || !local.localDatapaths.has(pb.dp)) continue;
    localNames.add(pb.name);
    const isParent = nested.has(pb.name);
    ports.flows(`vif ${pb.name}`, portInputs(pb, v.ofport, String(isParent)), out, () => {
      const own: Flow[] = [];
      const outport = outportOf(ctx, pb);
      own.push(mk(T.PHY_TO_LOG, 100, [eq('in_port', v.ofport)], enterPipeline(ctx, pb)));
      deliveredHere(ctx, own, pb, true);
      own.push(mk(T.SAVE_INPORT, 100, [flagSet(MLF.ALLOW_LOOPBACK), outport], SAVE_INPORT));
      if (isParent) own.push(mk(T.SAVE_INPORT, 100, [flagSet(MLF.NESTED_CONTAINER), outport], SAVE_INPORT));
      own.push(mk(T.LOG_TO_PHY, 100, [outport], [output(v.ofport)]));
      own.push(...portSecurityFlows(pb, dpKey.get(pb.dp) ?? 0));
      return own;
    });
  }
  for (const c of local.containers) {
    const pb = pbs.get(c.logicalPort);
    if (pb === undefined || !local.localDatapaths.has(pb.dp)) continue;
    localNames.add(pb.name);
    ports.flows(`container ${pb.name}`, portInputs(pb, c.ofport, String(c.tag)), out, () => {
      const own: Flow[] = [];
      const outport = outportOf(ctx, pb);
      own.push(
        mk(
          T.PHY_TO_LOG,
          150,
          [eq('in_port', c.ofport), eq('dl_vlan', c.tag)],
          [setFlag(MLF.NESTED_CONTAINER, true), { type: 'pop_vlan' }, ...enterPipeline(ctx, pb)],
        ),
      );
      deliveredHere(ctx, own, pb, true);
      // Siblings and the parent share the OpenFlow port: delivery never depends on the in_port check.
      own.push(mk(T.SAVE_INPORT, 100, [outport], SAVE_INPORT));
      own.push(mk(T.LOG_TO_PHY, 100, [outport], outputTagged(c.tag, c.ofport)));
      own.push(...portSecurityFlows(pb, dpKey.get(pb.dp) ?? 0));
      return own;
    });
  }
}

/** Localnet ports: a patch port to a provider bridge (ovn-bridge-mappings), untagged or in a VLAN. */
function localnetFlows(ctx: PhysicalCtx, out: Flow[]): void {
  const { local, pbs, localNames, localnetOf } = ctx;
  let conjUsed = 0;
  const chassisMacClauses: { id: number; tag: number | undefined }[] = [];
  const untagged = eq('vlan_tci', 0, 0x1000);
  for (const [name, ofport] of local.localnetPorts) {
    const pb = pbs.get(name);
    if (pb === undefined || pb.type !== 'localnet' || !local.localDatapaths.has(pb.dp)) continue;
    localNames.add(pb.name);
    localnetOf.set(pb.dp, pb);
    const tag = pb.row.tag === null ? null : Number(pb.row.tag);
    const enter = enterPipeline(ctx, pb);
    const inPort = eq('in_port', ofport);
    const pop: Action = { type: 'pop_vlan' };
    if (tag === null) {
      out.push(mk(T.PHY_TO_LOG, 100, [inPort, untagged], enter));
      // Priority-tagged frames (VLAN 0) are taken as untagged.
      out.push(mk(T.PHY_TO_LOG, 100, [inPort, eq('dl_vlan', 0)], [pop, ...enter]));
    } else {
      out.push(mk(T.PHY_TO_LOG, 150, [inPort, eq('dl_vlan', tag)], [pop, ...enter]));
    }
    // Frames from the provider network that another chassis sent with its chassis MAC
    // (ovn-chassis-mac-mappings) get the router port's MAC back: a conjunctive match whose
    // first half (the chassis MACs) exists only once such chassis are known.
    const routerMacs: bigint[] = [];
    for (const p of pbs.values()) {
      if (p.dp !== pb.dp || p.type !== 'patch') continue;
      const peer = pbs.get(p.row.options.get('peer') ?? '');
      const mac = parseMac(peer?.row.mac[0]?.split(/\s+/)[0] ?? '');
      if (mac !== undefined) routerMacs.push(mac);
    }
    for (const mac of routerMacs) {
      const id = CHASSIS_MAC_CONJ_ID + conjUsed++;
      const setMac = [...enter.slice(0, -1), setField('dl_src', mac), enter[enter.length - 1]!];
      out.push(mk(T.PHY_TO_LOG, 180, [inPort, untagged, eq('conj_id', id)], setMac));
      if (tag !== null) out.push(mk(T.PHY_TO_LOG, 180, [inPort, eq('dl_vlan', tag), eq('conj_id', id)], [pop, ...setMac]));
      chassisMacClauses.push({ id, tag: tag === null ? undefined : tag });
    }
    deliveredHere(ctx, out, pb, true);
    const outport = outportOf(ctx, pb);
    // Never from the provider network back to it, nor local-only traffic onto it.
    for (const b of [MLF.LOCAL_ONLY, MLF.LOCALNET]) out.push(mk(T.CHECK_LOOPBACK, 160, [flagSet(b), outport], []));
    out.push(mk(T.SAVE_INPORT, 100, [flagSet(MLF.ALLOW_LOOPBACK), outport], SAVE_INPORT));
    out.push(mk(T.LOG_TO_PHY, 100, [outport], tag === null ? [output(ofport)] : outputTagged(tag, ofport)));
  }

  // The second half of each chassis-MAC conjunction: one flow per VLAN match with all of its clauses.
  const byTag = new Map<number | undefined, Set<number>>();
  const add = (tag: number | undefined, id: number): void => {
    let ids = byTag.get(tag);
    if (ids === undefined) byTag.set(tag, (ids = new Set()));
    ids.add(id);
  };
  for (const c of chassisMacClauses) {
    add(undefined, c.id);
    if (c.tag !== undefined) add(c.tag, c.id);
  }
  for (const [tag, ids] of byTag) {
    out.push(
      mk(
        T.PHY_TO_LOG,
        180,
        [tag === undefined ? untagged : eq('dl_vlan', tag)],
        [...ids].map((id): Action => ({ type: 'conjunction', id, clause: 2, nClauses: 2 })),
      ),
    );
  }
}

/** Logical patch ports between local datapaths: no OVS port, the packet re-enters the peer's ingress. */
function patchFlows(ctx: PhysicalCtx, out: Flow[]): void {
  const { local, pbs, localNames, zoneActions, md } = ctx;
  for (const pb of pbs.values()) {
    if (pb.type !== 'patch' || !local.localDatapaths.has(pb.dp)) continue;
    const peerName = pb.row.options.get('peer');
    const peer = peerName === undefined ? undefined : pbs.get(peerName);
    if (peer === undefined || !local.localDatapaths.has(peer.dp)) continue;
    localNames.add(pb.name);
    const outport = outportOf(ctx, pb);
    deliveredHere(ctx, out, pb, false);
    out.push(mk(T.SAVE_INPORT, 100, [flagSet(MLF.ALLOW_LOOPBACK), outport], SAVE_INPORT));
    const enter: Action[] = [
      { type: 'ct_clear' },
      setField('reg11', 0),
      setField('reg12', 0),
      setField('reg13', 0),
      ...zoneActions(undefined, peer.dp),
      setField('metadata', md(peer.dp)),
      setField('reg14', peer.key),
      setField('reg10', 0),
      setField('reg15', 0),
      ...CLEAR_REGS,
      resubmit(T.LOG_INGRESS_PIPELINE),
    ];
    out.push(mk(T.LOG_TO_PHY, 100, [outport], [{ type: 'clone', actions: enter }]));
  }
}

/** The tunnel port of a port bound on another chassis, if there is one. */
function tunnelOf(ctx: PhysicalCtx, pb: Pb): { ofport: number; type: string } | undefined {
  const ch = pb.row.chassis;
  if (ch === null || ch === ctx.local.chassisUuid) return undefined;
  const name = ctx.chassisName.get(ch);
  return name === undefined ? undefined : ctx.local.tunnels.get(name);
}

/**
 * Actions that send to other chassis. Geneve carries the datapath in tun_id
 * and inport << 16 | outport in tun_metadata0; VXLAN has only the 24-bit VNI:
 * outport (12 bits, multicast groups as 0x800 | low bits) << 12 | datapath
 * (12 bits), and no inport.
 */
function toTunnel(ctx: PhysicalCtx, dp: string, outKey: number, ports: readonly { ofport: number; type: string }[]): Action[] {
  const acts: Action[] = [];
  const byType = (t: string): number[] =>
    ports
      .filter((p) => (p.type === 'vxlan') === (t === 'vxlan'))
      .map((p) => p.ofport)
      .sort((a, b) => a - b);
  const geneve = byType('geneve');
  const vxlan = byType('vxlan');
  if (geneve.length > 0) {
    acts.push(
      setField('tun_id', ctx.md(dp), 0xffffff),
      setField('tun_metadata0', outKey),
      move(ref('reg14', 0, 15), ref('tun_metadata0', 16, 15)),
      ...geneve.map(output),
    );
  }
  if (vxlan.length > 0) {
    const out12 = outKey >= 0x8000 ? 0x800 | (outKey & 0x7ff) : outKey & 0xfff;
    const vni = (BigInt(out12) << 12n) | (BigInt(ctx.dpKey.get(dp) ?? 0) & 0xfffn);
    acts.push(setField('tun_id', vni, 0xffffff), ...vxlan.map(output));
  }
  return acts;
}

/** Ports on other chassis: through a tunnel, or over the datapath's localnet port. */
function remotePortFlows(ctx: PhysicalCtx, out: Flow[], kept: PortFlowCache): void {
  const { local, pbs, localNames, localnetOf, md } = ctx;
  for (const pb of pbs.values()) {
    if (!local.localDatapaths.has(pb.dp) || localNames.has(pb.name)) continue;
    const tun = tunnelOf(ctx, pb);
    if (tun === undefined) continue;
    const ln = localnetOf.get(pb.dp);
    kept.flows(`remote ${pb.name}`, `${pb.key}|${md(pb.dp)}|${tun.ofport}|${tun.type}|${ln?.key}`, out, () => {
      if (ln !== undefined) return [mk(T.LOCAL_OUTPUT, 100, [outportOf(ctx, pb)], [setField('reg15', ln.key), resubmit(T.LOCAL_OUTPUT)])];
      return [mk(T.REMOTE_OUTPUT, 100, [outportOf(ctx, pb)], [...toTunnel(ctx, pb.dp, pb.key, [tun]), resubmit(T.LOCAL_OUTPUT)])];
    });
  }
}

/** Packets arriving from other chassis: the logical datapath and ports from the tunnel metadata. */
function tunnelInputFlows(ctx: PhysicalCtx, out: Flow[]): void {
  for (const t of ctx.local.tunnels.values()) {
    if (t.ofport === undefined) continue;
    const inPort = eq('in_port', t.ofport);
    if (t.type === 'vxlan') {
      const meta = move(ref('tun_id', 0, 12), ref('metadata', 0, 12));
      out.push(mk(T.PHY_TO_LOG, 100, [inPort], [move(ref('tun_id', 12, 12), ref('reg15', 0, 12)), meta, resubmit(T.LOCAL_OUTPUT)]));
      out.push(
        mk(
          T.PHY_TO_LOG,
          105,
          [inPort, eq('tun_id', 0x800000, 0x800000)],
          [setField('reg15', 0x8000, 0x8000), move(ref('tun_id', 12, 11), ref('reg15', 0, 11)), meta, resubmit(T.LOCAL_OUTPUT)],
        ),
      );
      continue;
    }
    out.push(
      mk(
        T.PHY_TO_LOG,
        100,
        [inPort],
        [
          move(ref('tun_id', 0, 24), ref('metadata', 0, 24)),
          move(ref('tun_metadata0', 16, 15), ref('reg14', 0, 15)),
          move(ref('tun_metadata0', 0, 16), ref('reg15', 0, 16)),
          resubmit(T.LOCAL_OUTPUT),
        ],
      ),
    );
  }
}

/** Multicast groups: local members in 40, patch members and remote chassis in 39. */
function multicastFlows(ctx: PhysicalCtx, out: Flow[], kept: PortFlowCache): void {
  const { sb, local, pbByUuid, localNames, localnetOf, zone, md } = ctx;
  for (const mg of ctx.models.rows(sb, 'Multicast_Group')) {
    const dp = mg.datapath;
    if (!local.localDatapaths.has(dp)) continue;
    const patches: Pb[] = [];
    const locals: { pb: Pb; zone: number | undefined }[] = [];
    const remoteTunnels = new Map<number, { ofport: number; type: string }>();
    for (const u of mg.ports) {
      const pb = pbByUuid.get(u);
      if (pb === undefined) continue;
      if (pb.type === 'patch' && localNames.has(pb.name)) {
        patches.push(pb);
      } else if (localNames.has(pb.name)) {
        locals.push({ pb, zone: zone(pb.name) });
      } else {
        const t = tunnelOf(ctx, pb);
        // Over a localnet port the provider network floods to the other chassis.
        if (t !== undefined && !localnetOf.has(dp)) remoteTunnels.set(t.ofport, t);
      }
    }
    // A group's flows change only with its members' places: unchanged, they are last pass' objects.
    const inputs = `${mg.tunnel_key}|${md(dp)}|${patches.map((p) => p.key).join(',')}|${locals.map((l) => `${l.pb.key}:${l.zone}`).join(',')}|${[...remoteTunnels.values()].map((t) => `${t.ofport}:${t.type}`).join(',')}`;
    kept.flows(`mc ${mg._uuid}`, inputs, out, () =>
      multicastGroupFlows(ctx, dp, mg.tunnel_key, patches, locals, [...remoteTunnels.values()]),
    );
  }
}

/** The flows of one multicast group: local members in 40, patch members and remote chassis in 39. */
function multicastGroupFlows(
  ctx: PhysicalCtx,
  dp: string,
  key: number,
  patches: readonly Pb[],
  locals: readonly { pb: Pb; zone: number | undefined }[],
  tunnels: readonly { ofport: number; type: string }[],
): Flow[] {
  const out: Flow[] = [];
  const m = [...eq('reg15', key), ...eq('metadata', ctx.md(dp))];
  const localActs: Action[] = [];
  const remoteActs: Action[] = [];
  for (const pb of patches) remoteActs.push(setField('reg15', pb.key), resubmit(T.CHECK_LOOPBACK));
  for (const { pb, zone } of locals) {
    if (zone !== undefined) localActs.push(setField('reg13', zone));
    localActs.push(setField('reg15', pb.key), resubmit(T.CHECK_LOOPBACK));
  }
  if (localActs.length > 0) out.push(mk(T.LOCAL_OUTPUT, 100, [m], [...localActs, setField('reg15', key)]));
  // Patch members changed the outport: put the group back before tunnelling and local delivery.
  if (remoteActs.length > 0) remoteActs.push(setField('reg15', key));
  if (tunnels.length > 0) remoteActs.push(...toTunnel(ctx, dp, key, tunnels));
  if (remoteActs.length > 0) {
    if (localActs.length > 0) remoteActs.push(resubmit(T.LOCAL_OUTPUT));
    out.push(mk(T.REMOTE_OUTPUT, 100, [m], remoteActs));
  }
  return out;
}

/** The learnt FDB (ovn-sb(5) FDB): get_fdb in 71, lookup_fdb in 72. */
function fdbFlows(ctx: PhysicalCtx, out: Flow[]): void {
  const { sb, local, dpKey } = ctx;
  const localKeys = new Set([...local.localDatapaths].map((d) => dpKey.get(d)));
  for (const e of ctx.models.rows(sb, 'FDB')) {
    const dk = e.dp_key;
    const mac = parseMac(e.mac);
    if (!localKeys.has(dk) || mac === undefined) continue;
    const m = eq('metadata', dk);
    out.push(mk(T.GET_FDB, 100, [m, eq('dl_dst', mac)], [setField('reg15', e.port_key)]));
    out.push(mk(T.LOOKUP_FDB, 100, [eq('reg14', e.port_key), m, eq('dl_src', mac)], [setFlag(MLF.LOOKUP_FDB, true)]));
  }
}

/** Every logical flow of the local datapaths, with the ports resident here. */
function logicalFlows(ctx: PhysicalCtx, out: Flow[], cache: LflowCache | undefined): void {
  const { sb, local, pbs, localNames, log } = ctx;
  const resident = new Set<string>([...localNames, ...local.otherResident]);
  for (const pb of pbs.values()) {
    if (pb.row.chassis !== null && pb.row.chassis === local.chassisUuid) resident.add(pb.name);
  }
  const env = buildLflowEnv(sb, local.localDatapaths, resident, cache?.conjIds, ctx.models, cache?.parses);
  for (const f of translateLogicalFlows(sb, env, log, cache)) out.push(f);
}

/**
 * The desired flow table of this chassis: the physical flows of its local
 * ports, tunnels and multicast groups, plus every logical flow of its local
 * datapaths — one function per feature, in the order their results depend
 * on each other (local ports before the remote ones and the groups).
 */
export function computeDesiredFlows(sb: SbView, local: LocalState, opts: ComputeOptions = {}): Flow[] {
  const ctx = physicalCtx(sb, opts.models ?? new SbModels(), local, opts.log ?? ((): void => undefined));
  const out = [...FIXED_FLOWS];
  const kept = opts.portCache ?? new PortFlowCache();
  kept.beginPass();
  localPortFlows(ctx, out, kept);
  localnetFlows(ctx, out);
  patchFlows(ctx, out);
  remotePortFlows(ctx, out, kept);
  tunnelInputFlows(ctx, out);
  multicastFlows(ctx, out, kept);
  kept.endPass();
  out.push(...macBindingFlows(ctx));
  fdbFlows(ctx, out);
  out.push(...lbHairpinFlows(ctx));
  logicalFlows(ctx, out, opts.cache);
  return out;
}

/** `reg0=…` for an IPv4 address, `reg0..reg3` (xxreg0) for an IPv6 one; undefined if neither. */
function ipRegs(ip: string): MatchField[] | undefined {
  const v4 = parseIpv4(ip);
  if (v4 !== undefined) return eq('reg0', v4);
  const v6 = parseIpv6(ip);
  return v6 === undefined ? undefined : eq('xxreg0', v6);
}

/**
 * MAC bindings learnt by routers (ovn-sb(5) MAC_Binding): table 66 answers
 * `get_arp`/`get_nd` (the MAC for an IP behind an outport), table 67 answers
 * `lookup_arp`/`lookup_nd` (whether an inport's IP-MAC pair is known).
 */
function macBindingFlows(ctx: PhysicalCtx): Flow[] {
  const { sb, pbs, dpKey } = ctx;
  const localDps = ctx.local.localDatapaths;
  const out: Flow[] = [];
  const found = setFlag(MLF.LOOKUP_MAC, true);
  for (const mb of ctx.models.rows(sb, 'MAC_Binding')) {
    const pb = pbs.get(mb.logical_port);
    if (pb === undefined || !localDps.has(pb.dp)) continue;
    const regs = ipRegs(mb.ip);
    const mac = parseMac(mb.mac);
    if (regs === undefined || mac === undefined) continue;
    const md = eq('metadata', dpKey.get(pb.dp) ?? 0);
    const v4 = parseIpv4(mb.ip) !== undefined;
    out.push(mk(OFTABLE.MAC_BINDING, 100, [eq('reg15', pb.key), md, regs], [setField('dl_dst', mac), found]));
    out.push(
      mk(
        OFTABLE.MAC_LOOKUP,
        100,
        [v4 ? PROTO.arp : PROTO.icmp6, eq('reg14', pb.key), md, regs, eq('dl_src', mac), v4 ? [] : eq('icmpv6_code', 0)],
        [found],
      ),
    );
  }
  return out;
}

/** `a.b.c.d:port` or `a.b.c.d` → address and port (0 when absent); undefined for anything else (IPv6). */
function ipv4Endpoint(s: string): { n: bigint; port: number } | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(s.trim());
  const n = m === null ? undefined : parseIpv4(m[1]!);
  if (m === null || n === undefined) return undefined;
  return { n, port: m[2] === undefined ? 0 : Number(m[2]) };
}

/**
 * Load-balancer hairpin (a backend reaching itself through the VIP):
 * table 68 recognises a hairpinned packet by the original destination that
 * ct_lb_mark saved in reg1/reg2 and learns the reply direction into 69;
 * table 70 SNATs such packets to the VIP. IPv4 VIPs only.
 */
function lbHairpinFlows(ctx: PhysicalCtx): Flow[] {
  const { sb, log } = ctx;
  const localDps = ctx.local.localDatapaths;
  const out: Flow[] = [];
  const groups = new Map<string, string[]>();
  for (const g of ctx.models.rows(sb, 'Logical_DP_Group')) groups.set(g._uuid, g.datapaths);
  // ct_mark carries the hairpin bit when every chassis can match ct_label without masks, else ct_label.
  let natted: MatchField[] | undefined;
  for (const lb of ctx.models.rows(sb, 'Load_Balancer')) {
    const dps = [...lb.datapaths, ...(lb.datapath_group === null ? [] : (groups.get(lb.datapath_group) ?? []))];
    if (!dps.some((d) => localDps.has(d))) continue;
    if (natted === undefined) {
      const chassis = [...ctx.models.rows(sb, 'Chassis')];
      const useMark = chassis.length > 0 && chassis.every((c) => c.other_config.get('ct-no-masked-label') === 'true');
      natted = useMark ? eq('ct_mark', 2, 2) : eq('ct_label', 2, 2);
    }
    const proto = lb.protocol === 'udp' ? 'udp' : lb.protocol === 'sctp' ? 'sctp' : 'tcp';
    const nwProto = proto === 'udp' ? 17 : proto === 'sctp' ? 132 : 6;
    const cookie = BigInt(`0x${lb._uuid.slice(0, 8)}`);
    for (const [vipText, backendsText] of lb.vips) {
      const vip = ipv4Endpoint(String(vipText));
      if (vip === undefined) {
        log(`load balancer ${lb.name}: hairpin flows for VIP ${String(vipText)} are not supported (IPv4 only)`);
        continue;
      }
      const vipMatch = [...PROTO[proto], ...eq('reg1', vip.n), ...(vip.port !== 0 ? eq('reg2', vip.port, 0xffff) : [])];
      out.push(
        mk(OFTABLE.CT_SNAT_HAIRPIN, 100, [vipMatch], [ctCommitNat(ref('reg12', 0, 16), { kind: 'src', ipMin: vip.n, ipMax: vip.n })]),
      );
      for (const b of String(backendsText).split(',')) {
        const be = ipv4Endpoint(b);
        if (be === undefined) continue;
        const whole = (field: string, value: bigint): LearnSpec => ({
          kind: 'match',
          src: { value, nBits: ref(field).nBits },
          dst: ref(field),
        });
        const specs: LearnSpec[] = [
          { kind: 'match', src: ref('metadata'), dst: ref('metadata') },
          whole('dl_type', 0x800n),
          { kind: 'match', src: ref('nw_src'), dst: ref('nw_src') },
          whole('nw_dst', vip.n),
          whole('nw_proto', BigInt(nwProto)),
          ...(vip.port !== 0 ? [{ kind: 'match', src: ref(`${proto}_dst`), dst: ref(`${proto}_src`) } as const] : []),
          { kind: 'load', src: { value: 1n, nBits: 1 }, dst: ref('reg10', MLF.LOOKUP_LB_HAIRPIN, 1) },
        ];
        const learn: Action = { type: 'learn', table: OFTABLE.CHK_LB_HAIRPIN_REPLY, flags: LEARN_FLAGS.DELETE_LEARNED, cookie, specs };
        out.push(
          mk(
            OFTABLE.CHK_LB_HAIRPIN,
            100,
            [natted, vipMatch, eq('nw_src', be.n), eq('nw_dst', be.n), be.port !== 0 ? eq(`${proto}_dst`, be.port) : []],
            [setFlag(MLF.LOOKUP_LB_HAIRPIN, true), learn],
          ),
        );
      }
    }
  }
  return out;
}

/** The daemon's facts as a {@link LocalState}. */
export function localStateFromFacts(facts: ChassisFacts): LocalState {
  const b = facts.bindings;
  const tunnels = new Map<string, { ofport: number; type: string }>();
  for (const [chassis, t] of facts.tunnels) if (t.ofport !== undefined) tunnels.set(chassis, { ofport: t.ofport, type: t.type });
  return {
    chassisUuid: facts.chassisUuid,
    chassisName: facts.config.systemId,
    vifs: [...b.vifs.values(), ...b.localports.values()].map((v) => ({ logicalPort: v.logicalPort, ofport: v.ofport })),
    containers: [...b.containers.values()].map((c) => ({ logicalPort: c.logicalPort, ofport: c.ofport, parent: c.parent, tag: c.tag })),
    otherResident: [...b.l3gateways.keys()],
    localDatapaths: b.localDatapaths,
    ctZones: facts.ctZones,
    tunnels,
    localnetPorts: facts.localnetPorts,
  };
}

/** The desired table as the flow model, from scratch (a `ComputeFlows` of src/controller/pipeline.ts without memory). */
export function computeFlows(sb: OvsdbClient, facts: ChassisFacts, log?: (m: string) => void): Flow[] {
  return computeDesiredFlows(sb, localStateFromFacts(facts), log === undefined ? {} : { log });
}

/** The desired table printed in ovs-ofctl syntax (for tests and diffs against `ovs-ofctl dump-flows`). */
export function computeTextFlows(sb: OvsdbClient, facts: ChassisFacts, log?: (m: string) => void): TextFlow[] {
  return computeFlows(sb, facts, log).map(textFlowOf);
}

/** Factory (the component convention): the daemon's incremental {@link FlowComputer}. */
export function createFlowComputer(opts: { readonly log?: (m: string) => void } = {}): FlowComputer {
  return new FlowComputer(opts.log);
}

/**
 * The daemon's incremental flow computation: the desired table of a pass from
 * the previous pass' translations, redoing only what the SB or local changes
 * touched (logical flows, ports, the facts they read). Facts with `recompute`
 * (ovn-appctl recompute) start from nothing; the result is the same either
 * way. Unchanged flows are the same objects pass after pass, which ofctrl
 * recognises without comparing their content.
 */
export class FlowComputer {
  private lflows = new LflowCache();
  private ports = new PortFlowCache();
  /** Typed SB rows, converted once per replica row. */
  private readonly models = new SbModels();

  constructor(private readonly log?: (m: string) => void) {}

  /** The logical-flow translations kept (stats for tests). */
  get cache(): LflowCache {
    return this.lflows;
  }

  /** The local ports' flows kept (stats for tests). */
  get portCache(): PortFlowCache {
    return this.ports;
  }

  /** A `ComputeFlows` (src/controller/pipeline.ts). */
  readonly compute = (sb: SbView, facts: ChassisFacts): Flow[] => {
    if (facts.recompute === true) {
      this.lflows = new LflowCache();
      this.ports = new PortFlowCache();
    }
    return computeDesiredFlows(sb, localStateFromFacts(facts), {
      cache: this.lflows,
      portCache: this.ports,
      models: this.models,
      ...(this.log !== undefined ? { log: this.log } : {}),
    });
  };
}
