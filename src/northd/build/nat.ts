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

/** The router-level NAT flows; `ownIps` maps the IPv4 addresses of the router's ports to the port's UUID. */
export function buildRouterNatFlows(lr: nb.Logical_Router, nats: readonly NatEntry[], ownIps: ReadonlyMap<string, string>, add: AddFlow): void {
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
  if (!isGatewayRouter(lr)) return;
  const unsnat = new Set<string>();
  for (const n of nats) {
    if (n.type !== 'dnat' && !unsnat.has(n.external)) {
      unsnat.add(n.external);
      add(stage('lr_in_unsnat'), 90, `ip && ip4.dst == ${n.external}`, 'ct_snat;', n.row._uuid);
    }
    if (n.type !== 'snat') add(stage('lr_in_dnat'), 100, `ip && ip4.dst == ${n.external}`, `flags.loopback = 1; ct_dnat(${n.logical.addr});`, n.row._uuid);
    if (n.type !== 'dnat') {
      const src = n.logical.plen === 32 ? n.logical.addr : `${n.logical.network}/${n.logical.plen}`;
      add(stage('lr_out_snat'), n.logical.plen + 1, `ip && ip4.src == ${src} && (!ct.trk || !ct.rpl)`, `ct_snat(${n.external});`, n.row._uuid);
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
