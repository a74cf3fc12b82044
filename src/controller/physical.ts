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
 * {@link computeDesiredFlows} is pure; {@link computeTextFlows} is the shape
 * the daemon's flow pipeline calls (src/controller/pipeline.ts).
 */
import type { OvsdbClient } from '../ovsdb/client.js';
import type { Port_Binding } from '../ovsdb/models/ovn-sb.js';
import { SbModels, type SbView } from './sb-models.js';
import { parseIpv4, parseIpv6, parseMac, prefixLength } from '../lib/lflow/index.js';
import type { ChassisFacts } from './controller.js';
import { flowOfText, type TextFlow } from './ofctl-link.js';
import type { Flow } from '../openflow/flow.js';
import { MLF, OFTABLE } from './lflow/actions.js';
import { hex } from './lflow/fields.js';
import { LflowCache, buildLflowEnv, translateLogicalFlows } from './lflow/translate.js';

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
 * The flows of each local port (table 0 entry, local output, loopback,
 * delivery, port security) kept between passes with the inputs they were
 * built from: a port whose inputs are unchanged reuses its flows, so one new
 * port among hundreds builds only its own.
 */
export class PortFlowCache {
  private entries = new Map<string, { inputs: string; flows: readonly TextFlow[] }>();
  private next = new Map<string, { inputs: string; flows: readonly TextFlow[] }>();
  /** Ports built / reused in the last pass (for tests and stats). */
  readonly stats = { built: 0, reused: 0 };

  beginPass(): void {
    this.next = new Map();
    this.stats.built = 0;
    this.stats.reused = 0;
  }

  /** Appends the flows of port `id` to `out`, building them only when `inputs` changed. */
  flows(id: string, inputs: string, out: TextFlow[], build: () => TextFlow[]): void {
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

const flow = (table: number, priority: number, match: string, actions: string): TextFlow => ({ table, priority, match, actions });

/** The logical registers a patch hop or a remote input clears (reg0..reg9). */
const CLEAR_REGS = Array.from({ length: 10 }, (_, i) => `set_field:0->reg${i}`).join(',');

/** Port-security entries (ovn-sb(5) Port_Binding `port_security`): MAC and IPv4 addresses. */
function portSecurity(pb: Port_Binding): { mac: string; ipv4: string[] }[] {
  const out: { mac: string; ipv4: string[] }[] = [];
  for (const entry of pb.port_security) {
    const words = entry.trim().split(/\s+/);
    if (words.length === 0 || words[0] === '') continue;
    const ipv4 = words.slice(1).filter((w) => !w.includes(':'));
    out.push({ mac: words[0]!.toLowerCase(), ipv4 });
  }
  return out;
}

/** `10.0.0.5` or `10.0.0.0/24` as an nw_src value (OVS prints a host address without prefix). */
function ipv4Match(a: string): string {
  const [addr, plen] = a.split('/');
  if (plen === undefined || plen === '32') return addr!;
  const v = parseIpv4(addr!);
  if (v === undefined) return a;
  const n = Number(plen);
  const mask = n === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - n)) - 1n);
  const net = v & mask;
  return `${[24n, 16n, 8n, 0n].map((s) => Number((net >> s) & 0xffn)).join('.')}/${prefixLength(mask, 32) ?? n}`;
}

/** Port security flows for one local port (tables 73, 74, 75). */
function portSecurityFlows(pb: Pb, dpKey: number): TextFlow[] {
  const entries = portSecurity(pb.row);
  if (entries.length === 0) return [];
  const allow = 'set_field:0/0x1000->reg10';
  const deny = 'set_field:0x1000/0x1000->reg10';
  const inp = `reg14=${hex(BigInt(pb.key))},metadata=${hex(BigInt(dpKey))}`;
  const outp = `reg15=${hex(BigInt(pb.key))},metadata=${hex(BigInt(dpKey))}`;
  const T = OFTABLE;
  const out: TextFlow[] = [
    flow(T.CHK_IN_PORT_SEC, 80, inp, deny),
    flow(T.CHK_IN_PORT_SEC, 95, `arp,${inp}`, `resubmit(,${T.CHK_IN_PORT_SEC_ND})`),
    flow(T.CHK_IN_PORT_SEC_ND, 80, `arp,${inp}`, deny),
    flow(T.CHK_IN_PORT_SEC_ND, 80, `icmp6,${inp},nw_ttl=255,icmp_type=136`, deny),
    flow(T.CHK_IN_PORT_SEC_ND, 80, `icmp6,${inp},nw_ttl=255,icmp_type=135`, allow),
    flow(T.CHK_OUT_PORT_SEC, 80, outp, deny),
  ];
  for (const e of entries) {
    out.push(flow(T.CHK_OUT_PORT_SEC, 85, `${outp},dl_dst=${e.mac}`, allow));
    // OVN 23.03 matches ND packets of a port's own MAC with hop limit 225 here.
    for (const [type, opt] of [
      [135, 'nd_sll'],
      [136, 'nd_tll'],
    ] as const) {
      out.push(flow(T.CHK_IN_PORT_SEC_ND, 90, `icmp6,${inp},nw_ttl=225,icmp_type=${type},icmp_code=0,${opt}=00:00:00:00:00:00`, allow));
      out.push(flow(T.CHK_IN_PORT_SEC_ND, 90, `icmp6,${inp},nw_ttl=225,icmp_type=${type},icmp_code=0,${opt}=${e.mac}`, allow));
    }
    if (e.ipv4.length === 0) {
      out.push(flow(T.CHK_IN_PORT_SEC, 90, `${inp},dl_src=${e.mac}`, allow));
      out.push(flow(T.CHK_IN_PORT_SEC_ND, 90, `arp,${inp},dl_src=${e.mac},arp_sha=${e.mac}`, allow));
      continue;
    }
    out.push(flow(T.CHK_IN_PORT_SEC, 90, `udp,${inp},dl_src=${e.mac},nw_src=0.0.0.0,nw_dst=255.255.255.255,tp_src=68,tp_dst=67`, allow));
    out.push(flow(T.CHK_OUT_PORT_SEC, 90, `ip,${outp},dl_dst=${e.mac}`, deny));
    out.push(flow(T.CHK_OUT_PORT_SEC, 90, `ipv6,${outp},dl_dst=${e.mac}`, deny));
    out.push(flow(T.CHK_OUT_PORT_SEC, 95, `ip,${outp},dl_dst=${e.mac},nw_dst=255.255.255.255`, allow));
    out.push(flow(T.CHK_OUT_PORT_SEC, 95, `ip,${outp},dl_dst=${e.mac},nw_dst=224.0.0.0/4`, allow));
    for (const ip of e.ipv4) {
      const m = ipv4Match(ip);
      out.push(flow(T.CHK_IN_PORT_SEC, 90, `ip,${inp},dl_src=${e.mac},nw_src=${m}`, allow));
      out.push(flow(T.CHK_IN_PORT_SEC_ND, 90, `arp,${inp},dl_src=${e.mac},arp_spa=${m},arp_sha=${e.mac}`, allow));
      out.push(flow(T.CHK_OUT_PORT_SEC, 95, `ip,${outp},dl_dst=${e.mac},nw_dst=${m}`, allow));
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
  zoneActions(port: string | undefined, dp: string): string[];
  /** A datapath's `metadata` value. */
  md(dp: string): string;
}

const T = OFTABLE;
const SAVE_INPORT = 'push:NXM_OF_IN_PORT[],set_field:ANY->in_port,resubmit(,65),pop:NXM_OF_IN_PORT[]';

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
      const a: string[] = [];
      const z = port === undefined ? undefined : zone(port);
      if (z !== undefined) a.push(`set_field:${hex(BigInt(z))}->reg13`);
      const dn = zone(`${dp}_dnat`);
      const sn = zone(`${dp}_snat`);
      if (dn !== undefined) a.push(`set_field:${hex(BigInt(dn))}->reg11`);
      if (sn !== undefined) a.push(`set_field:${hex(BigInt(sn))}->reg12`);
      return a;
    },
    md: (dp) => hex(BigInt(dpKey.get(dp) ?? 0)),
  };
}

/** The default flow of each physical table. */
function fixedFlows(): TextFlow[] {
  return [
    flow(T.PHY_TO_LOG, 0, '', 'drop'),
    flow(T.OUTPUT_LARGE_PKT_DETECT, 0, '', `resubmit(,${T.REMOTE_OUTPUT})`),
    flow(T.OUTPUT_LARGE_PKT_PROCESS, 10, `reg10=0x1/0x1`, `resubmit(,${T.LOCAL_OUTPUT})`),
    flow(T.OUTPUT_LARGE_PKT_PROCESS, 0, '', `resubmit(,${T.REMOTE_OUTPUT})`),
    flow(T.REMOTE_OUTPUT, 150, `reg10=${hex(1n << BigInt(MLF.LOCAL_ONLY))}/${hex(1n << BigInt(MLF.LOCAL_ONLY))}`, `resubmit(,${T.LOCAL_OUTPUT})`),
    flow(T.REMOTE_OUTPUT, 150, `reg10=${hex(1n << BigInt(MLF.RCV_FROM_RAMP))}/0x3`, `resubmit(,${T.LOCAL_OUTPUT})`),
    flow(T.REMOTE_OUTPUT, 0, '', `resubmit(,${T.LOCAL_OUTPUT})`),
    flow(T.LOCAL_OUTPUT, 0, '', 'drop'),
    flow(T.CHECK_LOOPBACK, 0, '', `${CLEAR_REGS},resubmit(,${T.LOG_EGRESS_PIPELINE})`),
    flow(T.SAVE_INPORT, 0, '', `resubmit(,${T.LOG_TO_PHY})`),
    flow(T.LOG_TO_PHY, 0, '', 'drop'),
  ];
}

/** Flows of a port delivered on this chassis: local output, loopback check. */
function deliveredHere(ctx: PhysicalCtx, to: TextFlow[], pb: Pb, withZone: boolean): void {
  const m = `reg15=${hex(BigInt(pb.key))},metadata=${ctx.md(pb.dp)}`;
  to.push(flow(T.LOCAL_OUTPUT, 100, m, `${ctx.zoneActions(withZone ? pb.name : undefined, pb.dp).join(',')},resubmit(,${T.CHECK_LOOPBACK})`));
  to.push(flow(T.CHECK_LOOPBACK, 100, `reg10=0/0x1,reg14=${hex(BigInt(pb.key))},${m}`, 'drop'));
}

/** Local VIFs and nested containers: table 0 entry, delivery, port security (kept per port across passes). */
function localPortFlows(ctx: PhysicalCtx, out: TextFlow[], ports: PortFlowCache): void {
  const { local, pbs, dpKey, localNames, zoneActions, md } = ctx;
  const nested = new Set(local.containers.map((c) => c.parent));
  ports.beginPass();
  /** Everything a local port's own flows depend on, so that unchanged ports reuse theirs. */
  const portInputs = (pb: Pb, ofport: number, extra: string): string =>
    `${ofport}|${pb.key}|${md(pb.dp)}|${zoneActions(pb.name, pb.dp).join(',')}|${pb.row.port_security.join('\n')}|${extra}`;
  for (const v of local.vifs) {
    const pb = pbs.get(v.logicalPort);
    if (pb === undefined || !local.localDatapaths.has(pb.dp)) continue;
    localNames.add(pb.name);
    const isParent = nested.has(pb.name);
    ports.flows(`vif ${pb.name}`, portInputs(pb, v.ofport, String(isParent)), out, () => {
      const own: TextFlow[] = [];
      const key = hex(BigInt(pb.key));
      own.push(flow(T.PHY_TO_LOG, 100, `in_port=${v.ofport}`, [...zoneActions(pb.name, pb.dp), `set_field:${md(pb.dp)}->metadata`, `set_field:${key}->reg14`, `resubmit(,${T.LOG_INGRESS_PIPELINE})`].join(',')));
      deliveredHere(ctx, own, pb, true);
      own.push(flow(T.SAVE_INPORT, 100, `reg10=0x1/0x1,reg15=${key},metadata=${md(pb.dp)}`, SAVE_INPORT));
      if (isParent) {
        const bit = hex(1n << BigInt(MLF.NESTED_CONTAINER));
        own.push(flow(T.SAVE_INPORT, 100, `reg10=${bit}/${bit},reg15=${key},metadata=${md(pb.dp)}`, SAVE_INPORT));
      }
      own.push(flow(T.LOG_TO_PHY, 100, `reg15=${key},metadata=${md(pb.dp)}`, `output:${v.ofport}`));
      own.push(...portSecurityFlows(pb, dpKey.get(pb.dp) ?? 0));
      return own;
    });
  }
  for (const c of local.containers) {
    const pb = pbs.get(c.logicalPort);
    if (pb === undefined || !local.localDatapaths.has(pb.dp)) continue;
    localNames.add(pb.name);
    ports.flows(`container ${pb.name}`, portInputs(pb, c.ofport, String(c.tag)), out, () => {
      const own: TextFlow[] = [];
      const key = hex(BigInt(pb.key));
      const bit = hex(1n << BigInt(MLF.NESTED_CONTAINER));
      own.push(
        flow(
          T.PHY_TO_LOG,
          150,
          `in_port=${c.ofport},dl_vlan=${c.tag}`,
          [`set_field:${bit}/${bit}->reg10`, 'pop_vlan', ...zoneActions(pb.name, pb.dp), `set_field:${md(pb.dp)}->metadata`, `set_field:${key}->reg14`, `resubmit(,${T.LOG_INGRESS_PIPELINE})`].join(','),
        ),
      );
      deliveredHere(ctx, own, pb, true);
      // Siblings and the parent share the OpenFlow port: delivery never depends on the in_port check.
      own.push(flow(T.SAVE_INPORT, 100, `reg15=${key},metadata=${md(pb.dp)}`, SAVE_INPORT));
      own.push(flow(T.LOG_TO_PHY, 100, `reg15=${key},metadata=${md(pb.dp)}`, `push_vlan:0x8100,set_field:${4096 + c.tag}->vlan_vid,output:${c.ofport},pop_vlan`));
      own.push(...portSecurityFlows(pb, dpKey.get(pb.dp) ?? 0));
      return own;
    });
  }
  ports.endPass();

}

/** Localnet ports: a patch port to a provider bridge (ovn-bridge-mappings), untagged or in a VLAN. */
function localnetFlows(ctx: PhysicalCtx, out: TextFlow[]): void {
  const { local, pbs, localNames, localnetOf, zoneActions, md } = ctx;
  let conjUsed = 0;
  const chassisMacClauses: { id: number; tag: number | undefined }[] = [];
  // Localnet ports: a patch port to a provider bridge (ovn-bridge-mappings), untagged or in a VLAN.
  for (const [name, ofport] of local.localnetPorts) {
    const pb = pbs.get(name);
    if (pb === undefined || pb.type !== 'localnet' || !local.localDatapaths.has(pb.dp)) continue;
    localNames.add(pb.name);
    localnetOf.set(pb.dp, pb);
    const key = hex(BigInt(pb.key));
    const tag = pb.row.tag;
    const enter = [...zoneActions(pb.name, pb.dp), `set_field:${md(pb.dp)}->metadata`, `set_field:${key}->reg14`, `resubmit(,${T.LOG_INGRESS_PIPELINE})`];
    if (tag === null) {
      out.push(flow(T.PHY_TO_LOG, 100, `in_port=${ofport},vlan_tci=0x0000/0x1000`, enter.join(',')));
      // Priority-tagged frames (VLAN 0) are taken as untagged.
      out.push(flow(T.PHY_TO_LOG, 100, `in_port=${ofport},dl_vlan=0`, ['pop_vlan', ...enter].join(',')));
    } else {
      out.push(flow(T.PHY_TO_LOG, 150, `in_port=${ofport},dl_vlan=${Number(tag)}`, ['pop_vlan', ...enter].join(',')));
    }
    // Frames from the provider network that another chassis sent with its chassis MAC
    // (ovn-chassis-mac-mappings) get the router port's MAC back: a conjunctive match whose
    // first half (the chassis MACs) exists only once such chassis are known.
    const routerMacs: string[] = [];
    for (const p of pbs.values()) {
      if (p.dp !== pb.dp || p.type !== 'patch') continue;
      const peer = pbs.get(p.row.options.get('peer') ?? '');
      const mac = peer?.row.mac[0]?.split(/\s+/)[0];
      if (mac !== undefined && parseMac(mac) !== undefined) routerMacs.push(mac.toLowerCase());
    }
    for (const mac of routerMacs) {
      const id = CHASSIS_MAC_CONJ_ID + conjUsed++;
      const setMac = [...enter.slice(0, -1), `set_field:${mac}->eth_src`, enter[enter.length - 1]!];
      out.push(flow(T.PHY_TO_LOG, 180, `in_port=${ofport},vlan_tci=0x0000/0x1000,conj_id=${id}`, setMac.join(',')));
      if (tag !== null) out.push(flow(T.PHY_TO_LOG, 180, `in_port=${ofport},dl_vlan=${Number(tag)},conj_id=${id}`, ['pop_vlan', ...setMac].join(',')));
      chassisMacClauses.push({ id, tag: tag === null ? undefined : Number(tag) });
    }
    deliveredHere(ctx, out, pb, true);
    // Never from the provider network back to it, nor local-only traffic onto it.
    for (const bit of [MLF.LOCAL_ONLY, MLF.LOCALNET]) {
      const b = hex(1n << BigInt(bit));
      out.push(flow(T.CHECK_LOOPBACK, 160, `reg10=${b}/${b},reg15=${key},metadata=${md(pb.dp)}`, 'drop'));
    }
    out.push(flow(T.SAVE_INPORT, 100, `reg10=0x1/0x1,reg15=${key},metadata=${md(pb.dp)}`, SAVE_INPORT));
    out.push(
      flow(
        T.LOG_TO_PHY,
        100,
        `reg15=${key},metadata=${md(pb.dp)}`,
        tag === null ? `output:${ofport}` : `push_vlan:0x8100,set_field:${4096 + Number(tag)}->vlan_vid,output:${ofport},pop_vlan`,
      ),
    );
  }

  {
    const byMatch = new Map<string, string[]>();
    const add = (m: string, a: string): void => void byMatch.set(m, [...(byMatch.get(m) ?? []), a]);
    for (const c of chassisMacClauses) {
      add('vlan_tci=0x0000/0x1000', `conjunction(${c.id},2/2)`);
      if (c.tag !== undefined) add(`dl_vlan=${c.tag}`, `conjunction(${c.id},2/2)`);
    }
    for (const [m, acts] of byMatch) out.push(flow(T.PHY_TO_LOG, 180, m, [...new Set(acts)].join(',')));
  }

}

/** Logical patch ports between local datapaths: no OVS port, the packet re-enters the peer's ingress. */
function patchFlows(ctx: PhysicalCtx, out: TextFlow[]): void {
  const { local, pbs, localNames, zoneActions, md } = ctx;
  for (const pb of pbs.values()) {
    if (pb.type !== 'patch' || !local.localDatapaths.has(pb.dp)) continue;
    const peerName = pb.row.options.get('peer');
    const peer = peerName === undefined ? undefined : pbs.get(peerName);
    if (peer === undefined || !local.localDatapaths.has(peer.dp)) continue;
    localNames.add(pb.name);
    const key = hex(BigInt(pb.key));
    deliveredHere(ctx, out, pb, false);
    out.push(flow(T.SAVE_INPORT, 100, `reg10=0x1/0x1,reg15=${key},metadata=${md(pb.dp)}`, SAVE_INPORT));
    const enter = [
      'ct_clear',
      'set_field:0->reg11',
      'set_field:0->reg12',
      'set_field:0->reg13',
      ...zoneActions(undefined, peer.dp),
      `set_field:${md(peer.dp)}->metadata`,
      `set_field:${hex(BigInt(peer.key))}->reg14`,
      'set_field:0->reg10',
      'set_field:0->reg15',
      CLEAR_REGS,
      `resubmit(,${T.LOG_INGRESS_PIPELINE})`,
    ];
    out.push(flow(T.LOG_TO_PHY, 100, `reg15=${key},metadata=${md(pb.dp)}`, `clone(${enter.join(',')})`));
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
function toTunnel(ctx: PhysicalCtx, dp: string, outKey: number, ports: readonly { ofport: number; type: string }[]): string {
  const acts: string[] = [];
  const byType = (t: string): number[] => ports.filter((p) => (p.type === 'vxlan') === (t === 'vxlan')).map((p) => p.ofport).sort((a, b) => a - b);
  const geneve = byType('geneve');
  const vxlan = byType('vxlan');
  if (geneve.length > 0) {
    acts.push(`set_field:${ctx.md(dp)}/0xffffff->tun_id`, `set_field:${hex(BigInt(outKey))}->tun_metadata0`, 'move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30]', ...geneve.map((p) => `output:${p}`));
  }
  if (vxlan.length > 0) {
    const out12 = outKey >= 0x8000 ? 0x800 | (outKey & 0x7ff) : outKey & 0xfff;
    const vni = (BigInt(out12) << 12n) | (BigInt(ctx.dpKey.get(dp) ?? 0) & 0xfffn);
    acts.push(`set_field:${hex(vni)}/0xffffff->tun_id`, ...vxlan.map((p) => `output:${p}`));
  }
  return acts.join(',');
}

/** Ports on other chassis: through a tunnel, or over the datapath's localnet port. */
function remotePortFlows(ctx: PhysicalCtx, out: TextFlow[]): void {
  const { local, pbs, localNames, localnetOf, md } = ctx;
  for (const pb of pbs.values()) {
    if (!local.localDatapaths.has(pb.dp) || localNames.has(pb.name)) continue;
    const tun = tunnelOf(ctx, pb);
    if (tun === undefined) continue;
    const ln = localnetOf.get(pb.dp);
    if (ln !== undefined) {
      out.push(flow(T.LOCAL_OUTPUT, 100, `reg15=${hex(BigInt(pb.key))},metadata=${md(pb.dp)}`, `set_field:${hex(BigInt(ln.key))}->reg15,resubmit(,${T.LOCAL_OUTPUT})`));
      continue;
    }
    out.push(flow(T.REMOTE_OUTPUT, 100, `reg15=${hex(BigInt(pb.key))},metadata=${md(pb.dp)}`, `${toTunnel(ctx, pb.dp, pb.key, [tun])},resubmit(,${T.LOCAL_OUTPUT})`));
  }
}

/** Packets arriving from other chassis: the logical datapath and ports from the tunnel metadata. */
function tunnelInputFlows(ctx: PhysicalCtx, out: TextFlow[]): void {
  for (const t of ctx.local.tunnels.values()) {
    if (t.ofport === undefined) continue;
    if (t.type === 'vxlan') {
      const meta = 'move:NXM_NX_TUN_ID[0..11]->OXM_OF_METADATA[0..11]';
      out.push(flow(T.PHY_TO_LOG, 100, `in_port=${t.ofport}`, `move:NXM_NX_TUN_ID[12..23]->NXM_NX_REG15[0..11],${meta},resubmit(,${T.LOCAL_OUTPUT})`));
      out.push(
        flow(T.PHY_TO_LOG, 105, `in_port=${t.ofport},tun_id=0x800000/0x800000`, `set_field:0x8000/0x8000->reg15,move:NXM_NX_TUN_ID[12..22]->NXM_NX_REG15[0..10],${meta},resubmit(,${T.LOCAL_OUTPUT})`),
      );
      continue;
    }
    out.push(
      flow(
        T.PHY_TO_LOG,
        100,
        `in_port=${t.ofport}`,
        `move:NXM_NX_TUN_ID[0..23]->OXM_OF_METADATA[0..23],move:NXM_NX_TUN_METADATA0[16..30]->NXM_NX_REG14[0..14],move:NXM_NX_TUN_METADATA0[0..15]->NXM_NX_REG15[0..15],resubmit(,${T.LOCAL_OUTPUT})`,
      ),
    );
  }

}

/** Multicast groups: local members in 40, patch members and remote chassis in 39. */
function multicastFlows(ctx: PhysicalCtx, out: TextFlow[]): void {
  const { sb, local, pbByUuid, localNames, localnetOf, zone, md } = ctx;
  for (const mg of ctx.models.rows(sb, 'Multicast_Group')) {
    const dp = mg.datapath;
    if (!local.localDatapaths.has(dp)) continue;
    const mkey = hex(BigInt(mg.tunnel_key));
    const m = `reg15=${mkey},metadata=${md(dp)}`;
    const localActs: string[] = [];
    const remoteActs: string[] = [];
    const remoteTunnels = new Map<number, { ofport: number; type: string }>();
    for (const u of mg.ports) {
      const pb = pbByUuid.get(u);
      if (pb === undefined) continue;
      if (pb.type === 'patch' && localNames.has(pb.name)) {
        remoteActs.push(`set_field:${hex(BigInt(pb.key))}->reg15`, `resubmit(,${T.CHECK_LOOPBACK})`);
      } else if (localNames.has(pb.name)) {
        const z = zone(pb.name);
        if (z !== undefined) localActs.push(`set_field:${hex(BigInt(z))}->reg13`);
        localActs.push(`set_field:${hex(BigInt(pb.key))}->reg15`, `resubmit(,${T.CHECK_LOOPBACK})`);
      } else {
        const t = tunnelOf(ctx, pb);
        // Over a localnet port the provider network floods to the other chassis.
        if (t !== undefined && !localnetOf.has(dp)) remoteTunnels.set(t.ofport, t);
      }
    }
    if (localActs.length > 0) out.push(flow(T.LOCAL_OUTPUT, 100, m, [...localActs, `set_field:${mkey}->reg15`].join(',')));
    // Patch members changed the outport: put the group back before tunnelling and local delivery.
    if (remoteActs.length > 0) remoteActs.push(`set_field:${mkey}->reg15`);
    if (remoteTunnels.size > 0) remoteActs.push(toTunnel(ctx, dp, mg.tunnel_key, [...remoteTunnels.values()]));
    if (remoteActs.length > 0) {
      if (localActs.length > 0) remoteActs.push(`resubmit(,${T.LOCAL_OUTPUT})`);
      out.push(flow(T.REMOTE_OUTPUT, 100, m, remoteActs.join(',')));
    }
  }

}

/** The learnt FDB (ovn-sb(5) FDB): get_fdb in 71, lookup_fdb in 72. */
function fdbFlows(ctx: PhysicalCtx, out: TextFlow[]): void {
  const { sb, local, dpKey } = ctx;
  const localKeys = new Set([...local.localDatapaths].map((d) => dpKey.get(d)));
  const fdbFound = hex(1n << BigInt(MLF.LOOKUP_FDB));
  for (const e of ctx.models.rows(sb, 'FDB')) {
    const dk = e.dp_key;
    const mac = e.mac.toLowerCase();
    if (!localKeys.has(dk) || parseMac(mac) === undefined) continue;
    const m = `metadata=${hex(BigInt(dk))}`;
    const port = hex(BigInt(e.port_key));
    out.push(flow(T.GET_FDB, 100, `${m},dl_dst=${mac}`, `set_field:${port}->reg15`));
    out.push(flow(T.LOOKUP_FDB, 100, `reg14=${port},${m},dl_src=${mac}`, `set_field:${fdbFound}/${fdbFound}->reg10`));
  }

}

/** Every logical flow of the local datapaths, with the ports resident here. */
function logicalFlows(ctx: PhysicalCtx, out: TextFlow[], cache: LflowCache | undefined): void {
  const { sb, local, pbs, localNames, log } = ctx;
  const resident = new Set<string>([...localNames, ...local.otherResident]);
  for (const pb of pbs.values()) {
    if (pb.row.chassis !== null && pb.row.chassis === local.chassisUuid) resident.add(pb.name);
  }
  const env = buildLflowEnv(sb, local.localDatapaths, resident, cache?.conjIds, ctx.models);
  out.push(...translateLogicalFlows(sb, env, log, cache));
}

/**
 * The desired flow table of this chassis: the physical flows of its local
 * ports, tunnels and multicast groups, plus every logical flow of its local
 * datapaths — one function per feature, in the order their results depend
 * on each other (local ports before the remote ones and the groups).
 */
export function computeDesiredFlows(sb: SbView, local: LocalState, opts: ComputeOptions = {}): TextFlow[] {
  const ctx = physicalCtx(sb, opts.models ?? new SbModels(), local, opts.log ?? ((): void => undefined));
  const out = fixedFlows();
  localPortFlows(ctx, out, opts.portCache ?? new PortFlowCache());
  localnetFlows(ctx, out);
  patchFlows(ctx, out);
  remotePortFlows(ctx, out);
  tunnelInputFlows(ctx, out);
  multicastFlows(ctx, out);
  out.push(...macBindingFlows(ctx));
  fdbFlows(ctx, out);
  out.push(...lbHairpinFlows(ctx));
  logicalFlows(ctx, out, opts.cache);
  return out;
}

/** `reg0=…` for an IPv4 address, `reg0=…,reg1=…,reg2=…,reg3=…` (xxreg0) for an IPv6 one; undefined if neither. */
function ipRegs(ip: string): string | undefined {
  const v4 = parseIpv4(ip);
  if (v4 !== undefined) return `reg0=${hex(v4)}`;
  const v6 = parseIpv6(ip);
  if (v6 === undefined) return undefined;
  return [0, 1, 2, 3].map((i) => `reg${i}=${hex((v6 >> BigInt(32 * (3 - i))) & 0xffffffffn)}`).join(',');
}

/**
 * MAC bindings learnt by routers (ovn-sb(5) MAC_Binding): table 66 answers
 * `get_arp`/`get_nd` (the MAC for an IP behind an outport), table 67 answers
 * `lookup_arp`/`lookup_nd` (whether an inport's IP-MAC pair is known).
 */
function macBindingFlows(ctx: PhysicalCtx): TextFlow[] {
  const { sb, pbs, dpKey } = ctx;
  const localDps = ctx.local.localDatapaths;
  const out: TextFlow[] = [];
  const found = hex(1n << BigInt(MLF.LOOKUP_MAC));
  for (const mb of ctx.models.rows(sb, 'MAC_Binding')) {
    const pb = pbs.get(mb.logical_port);
    if (pb === undefined || !localDps.has(pb.dp)) continue;
    const ip = mb.ip;
    const regs = ipRegs(ip);
    const mac = mb.mac.toLowerCase();
    if (regs === undefined || parseMac(mac) === undefined) continue;
    const key = hex(BigInt(pb.key));
    const md = hex(BigInt(dpKey.get(pb.dp) ?? 0));
    const v4 = parseIpv4(ip) !== undefined;
    out.push(flow(OFTABLE.MAC_BINDING, 100, `reg15=${key},metadata=${md},${regs}`, `set_field:${mac}->eth_dst,set_field:${found}/${found}->reg10`));
    out.push(flow(OFTABLE.MAC_LOOKUP, 100, `${v4 ? 'arp' : 'icmp6'},reg14=${key},metadata=${md},${regs},dl_src=${mac}${v4 ? '' : ',icmp_code=0'}`, `set_field:${found}/${found}->reg10`));
  }
  return out;
}

/** `a.b.c.d:port` or `a.b.c.d` → address and port (0 when absent); undefined for anything else (IPv6). */
function ipv4Endpoint(s: string): { ip: string; n: bigint; port: number } | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(s.trim());
  const n = m === null ? undefined : parseIpv4(m[1]!);
  if (m === null || n === undefined) return undefined;
  return { ip: m[1]!, n, port: m[2] === undefined ? 0 : Number(m[2]) };
}

/**
 * Load-balancer hairpin (a backend reaching itself through the VIP):
 * table 68 recognises a hairpinned packet by the original destination that
 * ct_lb_mark saved in reg1/reg2 and learns the reply direction into 69;
 * table 70 SNATs such packets to the VIP. IPv4 VIPs only.
 */
function lbHairpinFlows(ctx: PhysicalCtx): TextFlow[] {
  const { sb, log } = ctx;
  const localDps = ctx.local.localDatapaths;
  const out: TextFlow[] = [];
  const groups = new Map<string, string[]>();
  for (const g of ctx.models.rows(sb, 'Logical_DP_Group')) groups.set(g._uuid, g.datapaths);
  // ct_mark carries the hairpin bit when every chassis can match ct_label without masks, else ct_label.
  let natted: string | undefined;
  for (const lb of ctx.models.rows(sb, 'Load_Balancer')) {
    const dps = [...lb.datapaths, ...(lb.datapath_group === null ? [] : (groups.get(lb.datapath_group) ?? []))];
    if (!dps.some((d) => localDps.has(d))) continue;
    if (natted === undefined) {
      const chassis = [...ctx.models.rows(sb, 'Chassis')];
      const useMark = chassis.length > 0 && chassis.every((c) => c.other_config.get('ct-no-masked-label') === 'true');
      natted = useMark ? 'ct_mark=0x2/0x2' : 'ct_label=0x2/0x2';
    }
    const proto = lb.protocol ?? 'tcp';
    const nwProto = proto === 'udp' ? 17 : proto === 'sctp' ? 132 : 6;
    const l4 = proto === 'udp' ? 'UDP' : proto === 'sctp' ? 'SCTP' : 'TCP';
    const l4nxm = proto === 'sctp' ? 'OXM_OF_SCTP' : `NXM_OF_${l4}`;
    const cookie = `0x${lb._uuid.slice(0, 8).replace(/^0+(?=.)/, '')}`;
    for (const [vipText, backendsText] of lb.vips) {
      const vip = ipv4Endpoint(String(vipText));
      if (vip === undefined) {
        log(`load balancer ${lb.name}: hairpin flows for VIP ${String(vipText)} are not supported (IPv4 only)`);
        continue;
      }
      const vipMatch = `${proto},reg1=${hex(vip.n)}${vip.port !== 0 ? `,reg2=${hex(BigInt(vip.port))}/0xffff` : ''}`;
      out.push(flow(OFTABLE.CT_SNAT_HAIRPIN, 100, vipMatch, `ct(commit,zone=NXM_NX_REG12[0..15],nat(src=${vip.ip}))`));
      for (const b of String(backendsText).split(',')) {
        const be = ipv4Endpoint(b);
        if (be === undefined) continue;
        const learn = [
          `table=${OFTABLE.CHK_LB_HAIRPIN_REPLY}`,
          'delete_learned',
          `cookie=${cookie}`,
          'OXM_OF_METADATA[]',
          'eth_type=0x800',
          'NXM_OF_IP_SRC[]',
          `ip_dst=${vip.ip}`,
          `nw_proto=${nwProto}`,
          ...(vip.port !== 0 ? [`${l4nxm}_SRC[]=${l4nxm}_DST[]`] : []),
          `load:0x1->NXM_NX_REG10[${MLF.LOOKUP_LB_HAIRPIN}]`,
        ];
        const bit = hex(1n << BigInt(MLF.LOOKUP_LB_HAIRPIN));
        out.push(
          flow(
            OFTABLE.CHK_LB_HAIRPIN,
            100,
            `${natted},${vipMatch},nw_src=${be.ip},nw_dst=${be.ip}${be.port !== 0 ? `,tp_dst=${be.port}` : ''}`,
            `set_field:${bit}/${bit}->reg10,learn(${learn.join(',')})`,
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

/** The desired table in ovs-ofctl syntax, from scratch (a `ComputeFlows` of src/controller/pipeline.ts without memory). */
export function computeTextFlows(sb: OvsdbClient, facts: ChassisFacts, log?: (m: string) => void): TextFlow[] {
  return computeDesiredFlows(sb, localStateFromFacts(facts), log === undefined ? {} : { log });
}

/** The desired table as the flow model, from scratch. */
export function computeFlows(sb: OvsdbClient, facts: ChassisFacts, log?: (m: string) => void): Flow[] {
  return computeTextFlows(sb, facts, log).map(flowOfText);
}

/** Factory (the component convention): the daemon's incremental {@link FlowComputer}. */
export function createFlowComputer(opts: { readonly log?: (m: string) => void } = {}): FlowComputer {
  return new FlowComputer(opts.log);
}

/**
 * The daemon's incremental flow computation: the desired table of a pass from
 * the previous pass' translations, redoing only what the SB or local changes
 * touched (logical flows, ports, the facts they read). Facts with `recompute`
 * (ovn-appctl recompute) start from nothing; the result is the same either way.
 */
export class FlowComputer {
  private lflows = new LflowCache();
  private ports = new PortFlowCache();
  /**
   * The model of each text flow: by object first (the translation and port
   * caches hand back the same objects for unchanged flows, pass after pass),
   * then by text (flows rebuilt each pass with the same content). An
   * unchanged flow keeps its model object, which ofctrl keys by object.
   */
  private byObject = new WeakMap<TextFlow, Flow>();
  private byText = new Map<string, Flow>();
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
      this.byObject = new WeakMap();
      this.byText = new Map();
    }
    const text = computeDesiredFlows(sb, localStateFromFacts(facts), { cache: this.lflows, portCache: this.ports, models: this.models, ...(this.log !== undefined ? { log: this.log } : {}) });
    const out: Flow[] = [];
    for (const t of text) {
      let f = this.byObject.get(t);
      if (f === undefined) {
        const key = `${t.table}/${t.priority}/${t.cookie ?? 0n}/${t.match} ${t.actions}`;
        f = this.byText.get(key);
        if (f === undefined) this.byText.set(key, (f = flowOfText(t)));
        this.byObject.set(t, f);
      }
      out.push(f);
    }
    // Forget flows long gone (the live ones are still found by object).
    if (this.byText.size > 2 * out.length + 1024) this.byText = new Map();
    return out;
  };
}
