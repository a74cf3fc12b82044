/**
 * NAT on logical routers (ovn-nb(5) NAT; ovn-northd(8) "UNSNAT", "DNAT", "SNAT",
 * "UNDNAT"), IPv4. Every router answers ARP for its NAT external IPs, and the
 * switches in front of it send those requests to it. On a gateway router
 * (options:chassis) the NAT itself happens: replies are un-SNATed and DNAT
 * targets translated in the ingress pipeline, and the egress pipeline un-DNATs
 * and SNATs, longest logical prefix first.
 *
 * Not built: NAT on distributed routers through gateway ports, IPv6 NAT,
 * external_mac/logical_port (distributed dnat_and_snat), allowed/exempted
 * external IPs, port ranges, stateless NAT and force/lb SNAT options.
 */
import type * as nb from '../../ovsdb/models/ovn-nb.js';
import type { AddFlow, NbView } from '../nb-view.js';
import { stage } from '../stages.js';
import { ipv4Net, type Ipv4Net } from './addresses.js';

export interface NatEntry {
  readonly row: nb.NAT;
  readonly type: nb.NAT['type'];
  readonly external: string;
  readonly logical: Ipv4Net;
}

/** The router's IPv4 NAT entries that parse (external IP, logical IP or network). */
export function routerNats(nbv: NbView, lr: nb.Logical_Router): NatEntry[] {
  const out: NatEntry[] = [];
  for (const u of lr.nat) {
    const row = nbv.nats.get(u);
    if (row === undefined || row.external_ip.includes(':') || row.logical_ip.includes(':')) continue;
    const ext = ipv4Net(row.external_ip);
    const logical = ipv4Net(row.logical_ip);
    if (ext === undefined || ext.plen !== 32 || logical === undefined) continue;
    // A dnat target is one address.
    if (row.type !== 'snat' && logical.plen !== 32) continue;
    out.push({ row, type: row.type, external: ext.addr, logical });
  }
  return out;
}

/** A gateway router is pinned to one chassis and does its NAT there. */
export function isGatewayRouter(lr: nb.Logical_Router): boolean {
  return (lr.options.get('chassis') ?? '') !== '';
}

/** External IPs other hosts resolve to the router: the targets of dnat and dnat_and_snat. */
export function natArpTargets(nats: readonly NatEntry[]): string[] {
  return [...new Set(nats.filter((n) => n.type !== 'snat').map((n) => n.external))];
}

/** A distributed router's gateway port: NAT happens where its chassisredirect port is resident. */
export interface GatewayPort {
  readonly lrp: nb.Logical_Router_Port;
  readonly mac: string;
}

/**
 * SNAT through a distributed gateway port (ovn-northd(8) "Distributed Gateway
 * Port"), on the chassis where `cr-<port>` is resident: un-SNAT of replies in the
 * SNAT zone, SNAT of traffic leaving through the port (priority offset 128 over
 * the prefix length), dnat_and_snat's DNAT and un-DNAT in the same zone, and
 * hairpin of traffic the router sends to its own NAT IPs. Not built: plain dnat
 * through a gateway port, and distributed dnat_and_snat (external_mac/logical_port).
 */
function buildGatewayPortSnat(nats: readonly NatEntry[], gw: GatewayPort, ownIps: ReadonlyMap<string, string>, add: AddFlow): void {
  const p = gw.lrp.name;
  const resident = `is_chassis_resident("cr-${p}")`;
  const snats = nats.filter((n) => n.type !== 'dnat');
  if (snats.length === 0) return;
  const ips = [...new Set(snats.map((n) => n.external))];
  const ip = stage('lr_in_ip_input');
  for (const e of ips) {
    const h = snats.find((n) => n.external === e)?.row._uuid;
    if (snats.some((n) => n.external === e && n.type === 'snat')) add(ip, 120, `inport == "${p}" && ip4.src == ${e}`, 'next;', h);
    add(
      ip,
      92,
      `inport == "${p}" && arp.op == 1 && arp.tpa == ${e} && ${resident}`,
      'eth.dst = eth.src; eth.src = xreg0[0..47]; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = xreg0[0..47]; arp.tpa <-> arp.spa; outport = inport; flags.loopback = 1; output;',
      h,
    );
    add(ip, 91, `inport == "${p}" && arp.op == 1 && arp.tpa == ${e}`, 'drop;', h);
    add(
      stage('lr_in_unsnat'),
      100,
      `ip && ip4.dst == ${e} && inport == "${p}" && flags.loopback == 0 && ${resident}`,
      'ct_snat_in_czone;',
      h,
    );
    add(
      stage('lr_in_unsnat'),
      100,
      `ip && ip4.dst == ${e} && inport == "${p}" && flags.loopback == 1 && flags.use_snat_zone == 1 && ${resident}`,
      'ct_snat;',
      h,
    );
    add(stage('lr_in_arp_resolve'), 150, `inport == "${p}" && outport == "${p}" && ip4.dst == ${e}`, 'drop;', h);
    add(stage('lr_in_arp_resolve'), 100, `outport == "${p}" && reg0 == ${e}`, `eth.dst = ${gw.mac}; next;`, h);
    add(stage('lr_out_chk_dnat_local'), 50, `ip && ip4.dst == ${e} && ${resident}`, 'reg9[4] = 1; next;', h);
    add(
      stage('lr_out_egr_loop'),
      100,
      `ip4.dst == ${e} && outport == "${p}" && ${resident}`,
      `clone { ct_clear; inport = outport; outport = ""; eth.dst <-> eth.src; flags = 0; flags.loopback = 1; flags.use_snat_zone = reg9[4]; reg0 = 0; reg1 = 0; reg2 = 0; reg3 = 0; reg4 = 0; reg5 = 0; reg6 = 0; reg7 = 0; reg8 = 0; reg9 = 0; reg9[0] = 1; next(pipeline=ingress, table=${stage('lr_in_admission').table}); };`,
      h,
    );
  }
  for (const n of snats) {
    const src = n.logical.plen === 32 ? n.logical.addr : `${n.logical.network}/${n.logical.plen}`;
    if (n.type === 'dnat_and_snat') {
      add(
        stage('lr_in_dnat'),
        100,
        `ip && ip4.dst == ${n.external} && inport == "${p}" && ${resident}`,
        `ct_dnat_in_czone(${n.logical.addr});`,
        n.row._uuid,
      );
      add(
        stage('lr_out_undnat'),
        100,
        `ip && ip4.src == ${n.logical.addr} && outport == "${p}" && ${resident}`,
        'ct_dnat_in_czone;',
        n.row._uuid,
      );
    }
    const m = `ip && ip4.src == ${src} && outport == "${p}" && ${resident}`;
    add(stage('lr_out_snat'), n.logical.plen + 1 + 128 + 1, `${m} && reg9[4] == 1`, `reg9[4] = 0; ct_snat(${n.external});`, n.row._uuid);
    add(stage('lr_out_snat'), n.logical.plen + 1 + 128, m, `ct_snat_in_czone(${n.external});`, n.row._uuid);
  }
  const byPort = new Map<string, string[]>();
  for (const e of ips) {
    const port = ownIps.get(e);
    if (port !== undefined) byPort.set(port, [...(byPort.get(port) ?? []), e]);
  }
  for (const [port, own] of byPort) add(stage('lr_in_arp_resolve'), 2, `ip4.dst == {${own.join(', ')}}`, 'drop;', port);
}

/** The router-level NAT flows; `ownIps` maps the IPv4 addresses of the router's ports to the port's UUID. */
export function buildRouterNatFlows(
  lr: nb.Logical_Router,
  nats: readonly NatEntry[],
  ownIps: ReadonlyMap<string, string>,
  add: AddFlow,
  gwPort?: GatewayPort,
): void {
  if (nats.length === 0) return;
  const seen = new Set<string>();
  for (const n of nats) {
    if (seen.has(n.external)) continue;
    seen.add(n.external);
    add(
      stage('lr_in_ip_input'),
      90,
      `arp.op == 1 && arp.tpa == ${n.external}`,
      'eth.dst = eth.src; eth.src = xreg0[0..47]; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = xreg0[0..47]; arp.tpa <-> arp.spa; outport = inport; flags.loopback = 1; output;',
      n.row._uuid,
    );
  }
  if (gwPort !== undefined) {
    buildGatewayPortSnat(nats, gwPort, ownIps, add);
    if (nats.some((n) => n.type !== 'dnat'))
      add(stage('lr_out_chk_dnat_local'), 50, 'ip && ct_mark.natted == 1', 'reg9[4] = 1; next;', lr._uuid);
    return;
  }
  if (!isGatewayRouter(lr)) return;
  const unsnat = new Set<string>();
  for (const n of nats) {
    if (n.type !== 'dnat' && !unsnat.has(n.external)) {
      unsnat.add(n.external);
      add(stage('lr_in_unsnat'), 90, `ip && ip4.dst == ${n.external}`, 'ct_snat;', n.row._uuid);
    }
    if (n.type !== 'snat')
      add(stage('lr_in_dnat'), 100, `ip && ip4.dst == ${n.external}`, `flags.loopback = 1; ct_dnat(${n.logical.addr});`, n.row._uuid);
    if (n.type !== 'dnat') {
      const src = n.logical.plen === 32 ? n.logical.addr : `${n.logical.network}/${n.logical.plen}`;
      add(
        stage('lr_out_snat'),
        n.logical.plen + 1,
        `ip && ip4.src == ${src} && (!ct.trk || !ct.rpl)`,
        `ct_snat(${n.external});`,
        n.row._uuid,
      );
    }
  }
  // The router's own addresses used for SNAT: what is not a reply to be un-SNATed is not for a host behind it.
  const byPort = new Map<string, string[]>();
  for (const ip of unsnat) {
    const port = ownIps.get(ip);
    if (port !== undefined) byPort.set(port, [...(byPort.get(port) ?? []), ip]);
  }
  for (const [port, ips] of byPort) add(stage('lr_in_arp_resolve'), 2, `ip4.dst == {${ips.join(', ')}}`, 'drop;', port);
  add(stage('lr_out_chk_dnat_local'), 50, 'ip && ct_mark.natted == 1', 'reg9[4] = 1; next;', lr._uuid);
  add(stage('lr_out_undnat'), 100, 'nd || nd_rs || nd_ra', 'next;');
  add(stage('lr_out_undnat'), 50, 'ip', 'flags.loopback = 1; ct_dnat;');
  add(stage('lr_out_post_undnat'), 50, 'ip && ct.new', 'ct_commit { } ; next; ');
}
