/**
 * Logical router flows (ovn-northd(8) "Logical Router Datapaths") for distributed
 * routers: admission, neighbour learning, IP input (ARP/ICMP for the router's
 * own addresses), connected and static routes, ARP resolution and requests.
 * Every router port also has its EUI-64 IPv6 link-local address, as in OVN.
 */
import type * as nb from '../../ovsdb/models/ovn-nb.js';
import type { AddFlow, NbView } from '../nb-view.js';
import { buildRouterNatFlows, isGatewayRouter, routerNats } from './nat.js';
import { stage } from '../stages.js';
import { parseIpv6 } from '../../lib/lflow/index.js';
import {
  ipv4InNet,
  ipv4Net,
  ipv6InNet,
  ipv6Net,
  linkLocal,
  lspAddresses,
  normalizeMac,
  solicitedNode,
  type Ipv4Net,
  type Ipv6Net,
} from './addresses.js';

export interface RouterPortNetworks {
  readonly mac: string;
  readonly ipv4: readonly Ipv4Net[];
  /** Global (configured) IPv6 networks; the link-local address is `lla`. */
  readonly ipv6: readonly Ipv6Net[];
  readonly lla: string;
}

export function routerPortNetworks(lrp: nb.Logical_Router_Port): RouterPortNetworks | undefined {
  const mac = normalizeMac(lrp.mac);
  if (mac === undefined) return undefined;
  const ipv4: Ipv4Net[] = [];
  const ipv6: Ipv6Net[] = [];
  for (const n of lrp.networks) {
    const v = n.includes(':') ? undefined : ipv4Net(n);
    if (v !== undefined) ipv4.push(v);
    const v6 = n.includes(':') ? ipv6Net(n) : undefined;
    if (v6 !== undefined) ipv6.push(v6);
  }
  return { mac, ipv4, ipv6, lla: linkLocal(mac) };
}

/** Every IPv6 address of a router port: the configured ones, then the link-local one. */
export function routerPortIpv6(net: RouterPortNetworks): string[] {
  return [...net.ipv6.map((n) => n.addr), net.lla];
}

function routerPorts(nb: NbView, lr: nb.Logical_Router): Array<{ lrp: nb.Logical_Router_Port; net: RouterPortNetworks }> {
  const out: Array<{ lrp: nb.Logical_Router_Port; net: RouterPortNetworks }> = [];
  for (const u of lr.ports) {
    const lrp = nb.routerPorts.get(u);
    if (lrp === undefined || lrp.enabled === false) continue;
    const net = routerPortNetworks(lrp);
    if (net !== undefined) out.push({ lrp, net });
  }
  return out;
}

const set = (xs: readonly string[]): string => (xs.length === 1 ? (xs[0] as string) : `{${xs.join(', ')}}`);

/** Flows of router `lr` that do not belong to one port. */
export function buildRouterFlows(nb: NbView, lr: nb.Logical_Router, add: AddFlow): void {
  const rps = routerPorts(nb, lr);
  add(stage('lr_in_admission'), 100, 'vlan.present || eth.src[40]', 'drop;');
  add(stage('lr_in_admission'), 0, '1', 'drop;');

  add(stage('lr_in_lookup_neighbor'), 100, 'arp.op == 2', 'reg9[2] = lookup_arp(inport, arp.spa, arp.sha); next;');
  add(stage('lr_in_lookup_neighbor'), 100, 'nd_na', 'reg9[2] = lookup_nd(inport, nd.target, nd.tll); next;');
  add(stage('lr_in_lookup_neighbor'), 100, 'nd_ns', 'reg9[2] = lookup_nd(inport, ip6.src, nd.sll); next;');
  add(stage('lr_in_lookup_neighbor'), 0, '1', 'reg9[2] = 1; next;');
  add(stage('lr_in_learn_neighbor'), 100, 'reg9[2] == 1', 'next;');
  add(stage('lr_in_learn_neighbor'), 95, 'nd_na && nd.tll == 0', 'put_nd(inport, nd.target, eth.src); next;');
  add(stage('lr_in_learn_neighbor'), 95, 'nd_ns && (ip6.src == 0 || nd.sll == 0)', 'next;');
  add(stage('lr_in_learn_neighbor'), 90, 'arp', 'put_arp(inport, arp.spa, arp.sha); next;');
  add(stage('lr_in_learn_neighbor'), 90, 'nd_na', 'put_nd(inport, nd.target, nd.tll); next;');
  add(stage('lr_in_learn_neighbor'), 90, 'nd_ns', 'put_nd(inport, ip6.src, nd.sll); next;');
  add(stage('lr_in_learn_neighbor'), 0, '1', 'drop;');

  const ip = 'lr_in_ip_input' as const;
  add(
    stage(ip),
    100,
    'ip4.src_mcast ||ip4.src == 255.255.255.255 || ip4.src == 127.0.0.0/8 || ip4.dst == 127.0.0.0/8 || ip4.src == 0.0.0.0/8 || ip4.dst == 0.0.0.0/8',
    'drop;',
  );
  add(stage(ip), 85, 'arp || nd', 'drop;');
  add(stage(ip), 84, 'nd_rs || nd_ra', 'next;');
  add(stage(ip), 83, 'ip6.mcast_rsvd', 'drop;');
  add(stage(ip), 82, 'ip4.mcast || ip6.mcast', 'drop;');
  add(stage(ip), 50, 'eth.bcast', 'drop;');
  add(stage(ip), 32, 'ip.ttl == {0, 1} && !ip.later_frag && (ip4.mcast || ip6.mcast)', 'drop;');
  add(stage(ip), 30, 'ip.ttl == {0, 1}', 'drop;');
  add(stage(ip), 0, '1', 'next;');
  for (const st of [
    'lr_in_unsnat',
    'lr_in_defrag',
    'lr_in_lb_aff_check',
    'lr_in_dnat',
    'lr_in_lb_aff_learn',
    'lr_in_ecmp_stateful',
    'lr_in_nd_ra_options',
    'lr_in_nd_ra_response',
    'lr_in_chk_pkt_len',
    'lr_in_larger_pkts',
    'lr_in_gw_redirect',
    'lr_out_undnat',
    'lr_out_post_undnat',
    'lr_out_snat',
    'lr_out_post_snat',
    'lr_out_egr_loop',
  ] as const) {
    add(stage(st), 0, '1', 'next;');
  }
  add(stage('lr_in_ip_routing_pre'), 0, '1', 'reg7 = 0; next;');
  add(stage('lr_in_ip_routing'), 10550, 'nd_rs || nd_ra', 'drop;');
  add(stage('lr_in_ip_routing'), 0, '1', 'drop;');
  for (const st of ['lr_in_ip_routing_ecmp', 'lr_in_policy_ecmp'] as const) {
    add(stage(st), 150, 'reg8[0..15] == 0', 'next;');
    add(stage(st), 0, '1', 'drop;');
  }
  add(stage('lr_in_policy'), 0, '1', 'reg8[0..15] = 0; next;');
  add(stage('lr_in_arp_resolve'), 500, 'ip4.mcast || ip6.mcast', 'next;');
  add(stage('lr_in_arp_resolve'), 1, 'ip4', 'get_arp(outport, reg0); next;');
  add(stage('lr_in_arp_resolve'), 1, 'ip6', 'get_nd(outport, xxreg0); next;');
  add(stage('lr_in_arp_resolve'), 0, '1', 'drop;');
  add(
    stage('lr_in_arp_request'),
    100,
    'eth.dst == 00:00:00:00:00:00 && ip4',
    'arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = reg1; arp.tpa = reg0; arp.op = 1; output; };',
  );
  add(stage('lr_in_arp_request'), 100, 'eth.dst == 00:00:00:00:00:00 && ip6', 'nd_ns { nd.target = xxreg0; output; };');
  add(stage('lr_in_arp_request'), 0, '1', 'output;');
  add(stage('lr_out_chk_dnat_local'), 0, '1', 'reg9[4] = 0; next;');
  add(stage('lr_out_snat'), 120, 'nd_ns', 'next;');
  add(stage('lr_out_delivery'), 0, '1', 'drop;');

  buildStaticRoutes(nb, lr, rps, add);
  buildPolicies(nb, lr, rps, add);
  // NAT through a distributed gateway port: only with exactly one such port, as OVN requires without NAT gateway_port.
  const gwPorts = rps.filter((r) => isGatewayPort(r.lrp));
  const gw =
    gwPorts.length === 1 && !isGatewayRouter(lr)
      ? { lrp: (gwPorts[0] as (typeof rps)[number]).lrp, mac: (gwPorts[0] as (typeof rps)[number]).net.mac }
      : undefined;
  buildRouterNatFlows(lr, routerNats(nb, lr), new Map(rps.flatMap((r) => r.net.ipv4.map((n) => [n.addr, r.lrp._uuid] as const))), add, gw);
}

interface ResolvedRoute {
  readonly route: nb.Logical_Router_Static_Route;
  readonly v6: boolean;
  /** `network/plen`. */
  readonly prefix: string;
  readonly plen: number;
  readonly nexthop: string;
  readonly port: { lrp: nb.Logical_Router_Port; net: RouterPortNetworks };
  readonly src: string;
}

function resolveRoute(r: nb.Logical_Router_Static_Route, rps: ReturnType<typeof routerPorts>): ResolvedRoute | undefined {
  const named = (p: { lrp: nb.Logical_Router_Port }): boolean => p.lrp.name === r.output_port;
  if (r.ip_prefix.includes(':')) {
    const prefix = ipv6Net(r.ip_prefix);
    const nh = r.nexthop.includes(':') ? ipv6Net(r.nexthop) : undefined;
    if (prefix === undefined || nh === undefined) return undefined;
    const port = r.output_port !== null ? rps.find(named) : rps.find((p) => p.net.ipv6.some((n) => ipv6InNet(nh.addr, n)));
    const src = port?.net.ipv6.find((n) => ipv6InNet(nh.addr, n))?.addr ?? port?.net.ipv6[0]?.addr;
    if (port === undefined || src === undefined) return undefined;
    return { route: r, v6: true, prefix: `${prefix.network}/${prefix.plen}`, plen: prefix.plen, nexthop: nh.addr, port, src };
  }
  const prefix = ipv4Net(r.ip_prefix);
  const nh = r.nexthop.includes(':') ? undefined : ipv4Net(r.nexthop);
  if (prefix === undefined || nh === undefined) return undefined;
  // The port: the one named, else the one whose network holds the next hop.
  const port = r.output_port !== null ? rps.find(named) : rps.find((p) => p.net.ipv4.some((n) => ipv4InNet(nh.addr, n)));
  const src = port?.net.ipv4.find((n) => ipv4InNet(nh.addr, n))?.addr ?? port?.net.ipv4[0]?.addr;
  if (port === undefined || src === undefined) return undefined;
  return { route: r, v6: false, prefix: `${prefix.network}/${prefix.plen}`, plen: prefix.plen, nexthop: nh.addr, port, src };
}

/**
 * Router policies (ovn-nb(5) Logical_Router_Policy) in lr_in_policy: allow, drop,
 * and reroute to one IPv4 next hop. Read when the view offers them (NbSnapshot).
 * Not built: reroute to several next hops (lr_in_policy_ecmp), IPv6 next hops,
 * pkt_mark.
 */
function buildPolicies(nbv: NbView, lr: nb.Logical_Router, rps: ReturnType<typeof routerPorts>, add: AddFlow): void {
  const policies = nbv.indexes?.routerPolicies;
  if (policies === undefined) return;
  for (const u of lr.policies) {
    const p = policies.get(u);
    if (p === undefined) continue;
    if (p.action === 'drop') add(stage('lr_in_policy'), p.priority, p.match, 'drop;', p._uuid);
    else if (p.action === 'allow') add(stage('lr_in_policy'), p.priority, p.match, 'reg8[0..15] = 0; next;', p._uuid);
    else {
      const hops = p.nexthops.length > 0 ? p.nexthops : p.nexthop !== null ? [p.nexthop] : [];
      const nh = hops.length === 1 && !(hops[0] as string).includes(':') ? ipv4Net(hops[0] as string) : undefined;
      const port = nh === undefined ? undefined : rps.find((r) => r.net.ipv4.some((n) => ipv4InNet(nh.addr, n)));
      const src = port?.net.ipv4.find((n) => nh !== undefined && ipv4InNet(nh.addr, n));
      if (nh === undefined || port === undefined || src === undefined) continue;
      add(
        stage('lr_in_policy'),
        p.priority,
        p.match,
        `reg0 = ${nh.addr}; reg1 = ${src.addr}; eth.src = ${port.net.mac}; outport = "${port.lrp.name}"; flags.loopback = 1; reg8[0..15] = 0; next;`,
        p._uuid,
      );
    }
  }
}

/** The Ethernet multicast address of an IPv6 multicast address (RFC 2464 7). */
function ipv6MulticastMac(addr: string): string {
  const v = parseIpv6(addr) ?? 0n;
  const b = [24n, 16n, 8n, 0n].map((sh) => ((v >> sh) & 0xffn).toString(16).padStart(2, '0'));
  return `33:33:${b.join(':')}`;
}

/**
 * Static routes of the main route table, destination-based (ovn-northd(8) "IP
 * Routing"): longest prefix first (priority = 3 × prefix length + 1; connected
 * networks get + 2). Routes sharing a prefix form an ECMP group: the routing stage
 * picks a member with `select()` and lr_in_ip_routing_ecmp sets its next hop.
 * IPv6 next hops are solicited directly (lr_in_arp_request).
 */
function buildStaticRoutes(nb: NbView, lr: nb.Logical_Router, rps: ReturnType<typeof routerPorts>, add: AddFlow): void {
  const groups = new Map<string, ResolvedRoute[]>();
  // The NB holds routes as a set; OVN walks it in UUID order, which fixes ECMP member ids.
  for (const u of [...lr.static_routes].sort()) {
    const r = nb.staticRoutes.get(u);
    if (r === undefined || (r.policy ?? 'dst-ip') !== 'dst-ip' || r.route_table !== '') continue;
    const rr = resolveRoute(r, rps);
    if (rr === undefined) continue;
    const g = groups.get(rr.prefix) ?? [];
    groups.set(rr.prefix, g);
    if (!g.some((x) => x.nexthop === rr.nexthop && x.port.lrp.name === rr.port.lrp.name)) g.push(rr);
  }
  let ecmpId = 0;
  const solicited = new Set<string>();
  for (const g of groups.values()) {
    const first = g[0] as ResolvedRoute;
    const [ip, r0, r1] = first.v6 ? ['ip6', 'xxreg0', 'xxreg1'] : ['ip4', 'reg0', 'reg1'];
    // reg7 holds the route table id (0: the main table), set in lr_in_ip_routing_pre.
    const match = `reg7 == 0 && ${ip}.dst == ${first.prefix}`;
    const priority = first.plen * 3 + 1;
    for (const m of g) {
      if (!m.v6 || solicited.has(m.nexthop)) continue;
      solicited.add(m.nexthop);
      const sn = solicitedNode(m.nexthop);
      add(
        stage('lr_in_arp_request'),
        200,
        `eth.dst == 00:00:00:00:00:00 && ip6 && xxreg0 == ${m.nexthop}`,
        `nd_ns { eth.dst = ${ipv6MulticastMac(sn)}; ip6.dst = ${sn}; nd.target = ${m.nexthop}; output; };`,
        m.route._uuid,
      );
    }
    if (g.length === 1) {
      add(
        stage('lr_in_ip_routing'),
        priority,
        match,
        `ip.ttl--; reg8[0..15] = 0; ${r0} = ${first.nexthop}; ${r1} = ${first.src}; eth.src = ${first.port.net.mac}; outport = "${first.port.lrp.name}"; flags.loopback = 1; next;`,
        first.route._uuid,
      );
      continue;
    }
    ecmpId++;
    add(
      stage('lr_in_ip_routing'),
      priority,
      match,
      `ip.ttl--; flags.loopback = 1; reg8[0..15] = ${ecmpId}; reg8[16..31] = select(${g.map((_, i) => i + 1).join(', ')});`,
    );
    g.forEach((m, i) => {
      add(
        stage('lr_in_ip_routing_ecmp'),
        100,
        `reg8[0..15] == ${ecmpId} && reg8[16..31] == ${i + 1}`,
        `${r0} = ${m.nexthop}; ${r1} = ${m.src}; eth.src = ${m.port.net.mac}; outport = "${m.port.lrp.name}"; next;`,
        m.route._uuid,
      );
    });
  }
}

/** A distributed gateway port (ovn-nb(5) Logical_Router_Port gateway_chassis, ha_chassis_group, options:redirect-chassis). */
export function isGatewayPort(lrp: nb.Logical_Router_Port): boolean {
  return lrp.gateway_chassis.length > 0 || lrp.ha_chassis_group !== null || (lrp.options.get('redirect-chassis') ?? '') !== '';
}

/** Flows owned by one router port. */
export function buildRouterPortFlows(nb: NbView, lr: nb.Logical_Router, lrp: nb.Logical_Router_Port, add: AddFlow): void {
  if (lrp.enabled === false) return;
  const net = routerPortNetworks(lrp);
  if (net === undefined) return;
  const h = lrp._uuid;
  const p = lrp.name;
  const mac = net.mac;
  // A distributed gateway port lives on one chassis: its unicast traffic is handled
  // where its chassisredirect port "cr-<name>" is resident (ovn-northd(8) "Gateway Redirect").
  const gwPort = isGatewayPort(lrp);
  const resident = gwPort ? ` && is_chassis_resident("cr-${p}")` : '';
  add(stage('lr_in_admission'), 50, `eth.dst == ${mac} && inport == "${p}"${resident}`, `xreg0[0..47] = ${mac}; next;`, h);
  if (gwPort) add(stage('lr_in_gw_redirect'), 50, `outport == "${p}"`, `outport = "cr-${p}"; next;`, h);
  add(stage('lr_in_admission'), 50, `eth.mcast && inport == "${p}"`, `xreg0[0..47] = ${mac}; next;`, h);
  const ip = stage('lr_in_ip_input');
  // Echo replies from, and other traffic to, the port's own addresses.
  const v4 = net.ipv4.map((n) => n.addr);
  // Port unreachable replies only on distributed routers without gateway ports.
  const gateway =
    isGatewayRouter(lr) ||
    lr.ports.some((u) => {
      const x = nb.routerPorts.get(u);
      return x !== undefined && isGatewayPort(x);
    });
  // On a gateway router, traffic to an address it SNATs to is un-SNATed, not dropped.
  const snatIps = new Set(
    gateway
      ? routerNats(nb, lr)
          .filter((n) => n.type !== 'dnat')
          .map((n) => n.external)
      : [],
  );
  if (v4.length > 0) {
    add(
      ip,
      90,
      `ip4.dst == ${set(v4)} && icmp4.type == 8 && icmp4.code == 0`,
      'ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 0; flags.loopback = 1; next; ',
      h,
    );
    const dropped = v4.filter((a) => !snatIps.has(a));
    if (dropped.length > 0) add(ip, 60, `ip4.dst == {${dropped.join(', ')}}`, 'drop;', h);
  }
  const v6 = routerPortIpv6(net);
  add(
    ip,
    90,
    `ip6.dst == ${set(v6)} && icmp6.type == 128 && icmp6.code == 0`,
    'ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 129; flags.loopback = 1; next; ',
    h,
  );
  add(ip, 60, `ip6.dst == {${v6.join(', ')}}`, 'drop;', h);
  for (const n of net.ipv6) {
    add(
      ip,
      31,
      `inport == "${p}" && ip6 && ip6.src == ${n.network}/${n.plen} && ip.ttl == {0, 1} && !ip.later_frag`,
      `icmp6 {eth.dst <-> eth.src; ip6.dst = ip6.src; ip6.src = ${n.addr} ; ip.ttl = 254; icmp6.type = 3; /* Time exceeded */ icmp6.code = 0; /* TTL exceeded in transit */ outport = "${p}"; flags.loopback = 1; output; };`,
      h,
    );
    add(
      stage('lr_in_ip_routing'),
      n.plen * 3 + 2,
      `ip6.dst == ${n.network}/${n.plen}`,
      `ip.ttl--; reg8[0..15] = 0; xxreg0 = ip6.dst; xxreg1 = ${n.addr}; eth.src = ${mac}; outport = "${p}"; flags.loopback = 1; next;`,
      h,
    );
  }
  for (const n of net.ipv4) {
    add(
      stage('lr_in_lookup_neighbor'),
      100,
      `inport == "${p}" && arp.spa == ${n.network}/${n.plen} && arp.op == 1${resident}`,
      'reg9[2] = lookup_arp(inport, arp.spa, arp.sha); next;',
      h,
    );
    add(
      ip,
      90,
      `inport == "${p}" && arp.op == 1 && arp.tpa == ${n.addr} && arp.spa == ${n.network}/${n.plen}`,
      'eth.dst = eth.src; eth.src = xreg0[0..47]; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = xreg0[0..47]; arp.tpa <-> arp.spa; outport = inport; flags.loopback = 1; output;',
      h,
    );
    add(
      ip,
      31,
      `inport == "${p}" && ip4 && ip.ttl == {0, 1} && !ip.later_frag`,
      `icmp4 {eth.dst <-> eth.src; icmp4.type = 11; /* Time exceeded */ icmp4.code = 0; /* TTL exceeded in transit */ ${gwPort ? 'ip4.dst <-> ip4.src' : `ip4.dst = ip4.src; ip4.src = ${n.addr}`} ; ip.ttl = 254; outport = "${p}"; flags.loopback = 1; output; };`,
      h,
    );
    add(
      stage('lr_in_ip_routing'),
      n.plen * 3 + 2,
      `ip4.dst == ${n.network}/${n.plen}`,
      `ip.ttl--; reg8[0..15] = 0; reg0 = ip4.dst; reg1 = ${n.addr}; eth.src = ${mac}; outport = "${p}"; flags.loopback = 1; next;`,
      h,
    );
  }
  if (net.ipv4.length > 0)
    add(ip, 100, `ip4.src == {${net.ipv4.flatMap((n) => [n.addr, n.bcast]).join(', ')}} && reg9[0] == 0`, 'drop;', h);
  // Port unreachable replies: distributed routers only (a gateway router's addresses may be NAT targets).
  for (const a of gateway ? [] : v4) {
    const m = `ip4 && ip4.dst == ${a} && !ip.later_frag`;
    add(ip, 80, `${m} && sctp`, 'sctp_abort {eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };', h);
    add(ip, 80, `${m} && tcp`, 'tcp_reset {eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };', h);
    add(
      ip,
      80,
      `${m} && udp`,
      'icmp4 {eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 3; icmp4.code = 3; next; };',
      h,
    );
    add(ip, 70, m, 'icmp4 {eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 3; icmp4.code = 2; next; };', h);
  }
  for (const a of gateway ? [] : v6) {
    const m = `ip6 && ip6.dst == ${a} && !ip.later_frag`;
    add(ip, 80, `${m} && sctp`, 'sctp_abort {eth.dst <-> eth.src; ip6.dst <-> ip6.src; next; };', h);
    add(ip, 80, `${m} && tcp`, 'tcp_reset {eth.dst <-> eth.src; ip6.dst <-> ip6.src; next; };', h);
    add(
      ip,
      80,
      `${m} && udp`,
      'icmp6 {eth.dst <-> eth.src; ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 1; icmp6.code = 4; next; };',
      h,
    );
    add(ip, 70, m, 'icmp6 {eth.dst <-> eth.src; ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 1; icmp6.code = 3; next; };', h);
  }

  for (const a of v6) {
    add(ip, 100, `ip6.dst == ${a} && udp.src == 547 && udp.dst == 546`, 'reg0 = 0; handle_dhcpv6_reply;');
    add(
      ip,
      90,
      `inport == "${p}" && ip6.dst == {${a}, ${solicitedNode(a)}} && nd_ns && nd.target == ${a}${resident}`,
      'nd_na_router { eth.src = xreg0[0..47]; ip6.src = nd.target; nd.tll = xreg0[0..47]; outport = inport; flags.loopback = 1; output; };',
      h,
    );
  }
  add(
    stage('lr_in_ip_routing'),
    194,
    `inport == "${p}" && ip6.dst == fe80::/64`,
    `ip.ttl--; reg8[0..15] = 0; xxreg0 = ip6.dst; xxreg1 = ${net.lla}; eth.src = ${mac}; outport = "${p}"; flags.loopback = 1; next;`,
    h,
  );
  add(stage('lr_out_delivery'), 100, `outport == "${p}"`, 'output;');
  buildArpResolve(nb, lrp, net, add);
}

/** Static ARP entries for the addresses of the ports on the switch behind `lrp`. */
function buildArpResolve(nb: NbView, lrp: nb.Logical_Router_Port, net: RouterPortNetworks, add: AddFlow): void {
  let peer: nb.Logical_Switch_Port | undefined;
  const idx = nb.indexes;
  for (const sp of idx !== undefined ? idx.routerTypePortsFor(lrp.name) : nb.switchPorts.values()) {
    if (sp.type === 'router' && sp.options.get('router-port') === lrp.name && nb.switchOfPort(sp._uuid) !== undefined) {
      peer = sp;
      break;
    }
  }
  const ls = peer === undefined ? undefined : nb.switchOfPort(peer._uuid);
  if (peer === undefined || ls === undefined) return;
  const self = peer;
  const resolve = (owner: string, mac: string, ipv4: readonly string[], ipv6: readonly string[], lla?: string): void => {
    // Only addresses on one of the router port's networks are reachable through it.
    for (const ip of ipv4) {
      if (net.ipv4.some((n) => ipv4InNet(ip, n)))
        add(stage('lr_in_arp_resolve'), 100, `outport == "${lrp.name}" && reg0 == ${ip}`, `eth.dst = ${mac}; next;`, owner);
    }
    for (const ip of ipv6) {
      if (net.ipv6.some((n) => ipv6InNet(ip, n)))
        add(stage('lr_in_arp_resolve'), 100, `outport == "${lrp.name}" && xxreg0 == ${ip}`, `eth.dst = ${mac}; next;`, owner);
    }
    if (lla !== undefined)
      add(stage('lr_in_arp_resolve'), 100, `outport == "${lrp.name}" && xxreg0 == ${lla}`, `eth.dst = ${mac}; next;`, owner);
  };
  for (const u of ls.ports) {
    const sp = nb.switchPorts.get(u);
    // A disabled port cannot receive, so the router does not resolve to it.
    if (sp === undefined || sp.enabled === false || sp === peer) continue;
    if (sp.type === 'router') {
      // Another router on the same switch.
      const other = nb.routerPortByName(sp.options.get('router-port') ?? '');
      const on = other === undefined || other.enabled === false ? undefined : routerPortNetworks(other);
      // OVN files these under this router's own peer port.
      if (on !== undefined)
        resolve(
          self._uuid,
          on.mac,
          on.ipv4.map((n) => n.addr),
          on.ipv6.map((n) => n.addr),
          on.lla,
        );
      continue;
    }
    for (const a of lspAddresses(sp)) resolve(sp._uuid, a.mac, a.ipv4, a.ipv6);
  }
}
