/**
 * Logical switch flows (ovn-northd(8) "Logical Switch Datapaths"), as OVN 23.03
 * writes them: port security through `check_in_port_sec()`/`check_out_port_sec()`
 * (the controller enforces Port_Binding.port_security), ACLs with conntrack when
 * the switch has stateful ACLs, the ARP responder, native DHCPv4, L2 lookup.
 */
import type * as nb from '../../ovsdb/models/ovn-nb.js';
import type { AddFlow, NbView } from '../nb-view.js';
import { stage } from '../stages.js';
import { LflowError, parseMatch, type MatchLookups } from '../../lib/lflow/index.js';
import { ipv4InNet, ipv4Net, lspAddresses, normalizeMac, solicitedNode, type LspAddresses } from './addresses.js';
import { routerPortIpv6, routerPortNetworks } from './router.js';
import { buildSwitchLbFlows, switchVips } from './load-balancer.js';
import { natArpTargets, routerNats } from './nat.js';

const ACL_PRI_OFFSET = 1000;
const ND_MLD = 'nd || nd_rs || nd_ra || mldv1 || mldv2';
const ND_ACL = 'nd || nd_ra || nd_rs || mldv1 || mldv2';

/** The ACLs that apply to `ls`: its own and those of port groups holding any of its ports. */
export function switchAcls(nb: NbView, ls: nb.Logical_Switch): nb.ACL[] {
  const out: nb.ACL[] = [];
  const seen = new Set<string>();
  const add = (u: string): void => {
    const a = nb.acls.get(u);
    if (a !== undefined && !seen.has(u)) {
      seen.add(u);
      out.push(a);
    }
  };
  for (const u of ls.acls) add(u);
  const idx = nb.indexes;
  if (idx !== undefined) {
    for (const p of ls.ports) for (const pg of idx.portGroupsOfPort(p)) for (const u of pg.acls) add(u);
  } else {
    const mine = new Set(ls.ports);
    for (const pg of nb.portGroups.values()) if (pg.ports.some((p) => mine.has(p))) for (const u of pg.acls) add(u);
  }
  return out;
}

/**
 * A switch is stateful when any ACL that applies to it is allow-related: then every
 * IP packet goes through conntrack for the ACLs. (Load balancers use conntrack
 * through the pre-LB stage instead, which ovnts does not build yet.)
 */
export function isStateful(nb: NbView, ls: nb.Logical_Switch): boolean {
  return switchAcls(nb, ls).some((a) => a.action === 'allow-related');
}

/**
 * Whether the ACL stages track connections: with stateful ACLs, and also with
 * load balancers, whose connections the ACL stages must let through.
 */
export function aclsStateful(nb: NbView, ls: nb.Logical_Switch): boolean {
  return ls.load_balancer.length > 0 || ls.load_balancer_group.length > 0 || isStateful(nb, ls);
}

function ports(nb: NbView, ls: nb.Logical_Switch): nb.Logical_Switch_Port[] {
  const out: nb.Logical_Switch_Port[] = [];
  for (const u of ls.ports) {
    const p = nb.switchPorts.get(u);
    if (p !== undefined) out.push(p);
  }
  return out;
}

/** Facts about a switch's ports that its datapath-level flows depend on. */
export function switchPortSummary(nb: NbView, ls: nb.Logical_Switch): string {
  const ps = ports(nb, ls);
  const unknown = ps.some((p) => p.addresses.includes('unknown'));
  const others = ps.some((p) => p.type !== 'router');
  const routers = ps
    .filter((p) => p.type === 'router')
    .map((p) => `${p.name}=${routerPeerFacts(nb, p)}`)
    .sort();
  const localnets = ps
    .filter((p) => p.type === 'localnet')
    .map((p) => p.name)
    .sort();
  return `${unknown ? 'U' : ''}${others ? 'V' : ''}|${routers.join(',')}|${localnets.join(',')}`;
}

/** What the switch's flows use of a router-type port's peer: its MAC and networks. */
function routerPeerFacts(nb: NbView, lsp: nb.Logical_Switch_Port): string {
  const peer = nb.routerPortByName(lsp.options.get('router-port') ?? '');
  const lr = peer === undefined ? undefined : nb.routerOfPort(peer._uuid);
  const nat = lr === undefined ? [] : natArpTargets(routerNats(nb, lr));
  return peer === undefined ? '' : `${peer.mac} ${peer.networks.join(' ')} nat ${nat.join(' ')}`;
}

/** Flows of switch `ls` not owned by one port. */
export function buildSwitchFlows(nb: NbView, ls: nb.Logical_Switch, add: AddFlow, refuse: (msg: string) => void = () => {}): void {
  const stateful = isStateful(nb, ls);
  const ps = ports(nb, ls);
  // Router and localnet ports lead out of the switch: traffic through them skips the switch's load balancing.
  const edgePorts = ps.filter((p) => p.type === 'router' || p.type === 'localnet');
  const hasUnknown = ps.some((p) => p.addresses.includes('unknown'));

  add(stage('ls_in_check_port_sec'), 100, 'eth.src[40]', 'drop;');
  add(stage('ls_in_check_port_sec'), 100, 'vlan.present', 'drop;');
  add(stage('ls_in_check_port_sec'), 50, '1', 'reg0[15] = check_in_port_sec(); next;');
  add(stage('ls_in_apply_port_sec'), 50, 'reg0[15] == 1', 'drop;');
  add(stage('ls_in_apply_port_sec'), 0, '1', 'next;');
  add(stage('ls_in_lookup_fdb'), 0, '1', 'next;');
  add(stage('ls_in_put_fdb'), 0, '1', 'next;');

  // Pre-ACL: which packets go through conntrack (reg0[0]) — only on stateful switches.
  add(stage('ls_in_pre_acl'), 110, 'eth.dst == $svc_monitor_mac', 'next;');
  add(stage('ls_out_pre_acl'), 110, 'eth.src == $svc_monitor_mac', 'next;');
  if (stateful) {
    for (const [st, dir] of [
      ['ls_in_pre_acl', 'inport'],
      ['ls_out_pre_acl', 'outport'],
    ] as const) {
      add(stage(st), 110, 'eth.mcast', 'next;');
      for (const rp of edgePorts) add(stage(st), 110, `ip && ${dir} == "${rp.name}"`, 'next;', rp._uuid);
      add(stage(st), 110, `${ND_MLD} || (udp && udp.src == 546 && udp.dst == 547)`, 'next;');
      add(stage(st), 100, 'ip', 'reg0[0] = 1; next;');
    }
  }
  add(stage('ls_in_pre_acl'), 0, '1', 'next;');
  add(stage('ls_out_pre_acl'), 0, '1', 'next;');

  add(stage('ls_in_pre_lb'), 110, 'eth.dst == $svc_monitor_mac', 'next;');
  add(stage('ls_out_pre_lb'), 110, 'eth.src == $svc_monitor_mac', 'next;');
  for (const [st, dir] of [
    ['ls_in_pre_lb', 'inport'],
    ['ls_out_pre_lb', 'outport'],
  ] as const) {
    add(stage(st), 110, 'eth.mcast', 'next;');
    for (const rp of edgePorts) {
      // Traffic from the router was already load balanced there; towards it the
      // switch's conntrack state must not leak into the router's zone.
      const actions = dir === 'outport' && !stateful ? 'ct_clear; next;' : 'next;';
      add(stage(st), 110, `ip && ${dir} == "${rp.name}"`, actions, rp._uuid);
    }
    add(stage(st), 110, ND_MLD, 'next;');
    add(stage(st), 110, 'reg0[16] == 1', 'next;');
    add(stage(st), 0, '1', 'next;');
  }
  for (const st of ['ls_in_pre_stateful', 'ls_out_pre_stateful'] as const) {
    add(stage(st), 110, 'reg0[2] == 1', 'ct_lb_mark;');
    add(stage(st), 100, 'reg0[0] == 1', 'ct_next;');
    add(stage(st), 0, '1', 'next;');
  }

  const aclStateful = aclsStateful(nb, ls);
  buildAclFlows(nb, ls, aclStateful, add, refuse);
  buildSwitchLbFlows(ls, switchVips(nb, ls), add);

  for (const st of [
    'ls_in_qos_mark',
    'ls_in_qos_meter',
    'ls_in_lb_aff_check',
    'ls_in_lb',
    'ls_in_lb_aff_learn',
    'ls_in_pre_hairpin',
    'ls_in_nat_hairpin',
    'ls_in_hairpin',
    'ls_out_qos_mark',
    'ls_out_qos_meter',
    'ls_in_arp_rsp',
    'ls_in_dhcp_options',
    'ls_in_dhcp_response',
    'ls_in_dns_lookup',
    'ls_in_dns_response',
    'ls_in_external_port',
  ] as const) {
    add(stage(st), 0, '1', 'next;');
  }
  if (aclStateful) add(stage('ls_in_acl_after_lb'), 65532, 'reg0[17] == 1', 'next;');
  add(stage('ls_in_acl_after_lb'), 65532, ND_ACL, 'next;');
  add(stage('ls_in_acl_after_lb'), 0, '1', 'next;');
  for (const st of ['ls_in_stateful', 'ls_out_stateful'] as const) {
    add(stage(st), 100, 'reg0[1] == 1 && reg0[13] == 0', 'ct_commit { ct_mark.blocked = 0; }; next;');
    add(stage(st), 100, 'reg0[1] == 1 && reg0[13] == 1', 'ct_commit { ct_mark.blocked = 0; ct_label.label = reg3; }; next;');
    add(stage(st), 0, '1', 'next;');
  }

  add(stage('ls_in_l2_lkup'), 110, 'eth.dst == $svc_monitor_mac && (tcp || icmp || icmp6)', 'handle_svc_check(inport);');
  add(stage('ls_in_l2_lkup'), 70, 'eth.mcast', 'outport = "_MC_flood"; output;');
  if (ls.other_config.get('mcast_snoop') === 'true') buildMcastSnoop(ls, add);
  buildRouterArpFlooding(nb, ps, add);
  add(stage('ls_in_l2_lkup'), 0, '1', 'outport = get_fdb(eth.dst); next;');
  add(stage('ls_in_l2_unknown'), 50, 'outport == "none"', hasUnknown ? 'outport = "_MC_unknown"; output;' : 'drop;');
  add(stage('ls_in_l2_unknown'), 0, '1', 'output;');

  add(stage('ls_out_check_port_sec'), 100, 'eth.mcast', 'reg0[15] = 0; next;');
  add(stage('ls_out_check_port_sec'), 0, '1', 'reg0[15] = check_out_port_sec(); next;');
  add(stage('ls_out_apply_port_sec'), 50, 'reg0[15] == 1', 'drop;');
  add(stage('ls_out_apply_port_sec'), 0, '1', 'output;');
}

/**
 * ARP requests and NS for a router port's addresses go to the router, and (when the
 * switch has other ports that may own such an address too) a copy floods the L2
 * domain; requests the routers send themselves flood without going back to them.
 */
function buildRouterArpFlooding(nb: NbView, ps: readonly nb.Logical_Switch_Port[], add: AddFlow): void {
  const others = ps.some((p) => p.type !== 'router');
  for (const lsp of ps) {
    if (lsp.type !== 'router') continue;
    const peer = nb.routerPortByName(lsp.options.get('router-port') ?? '');
    const rp = peer === undefined ? undefined : routerPortNetworks(peer);
    if (rp === undefined) continue;
    const to = others ? `clone {outport = "${lsp.name}"; output; }; outport = "_MC_flood_l2"; output;` : `outport = "${lsp.name}"; output;`;
    for (const n of rp.ipv4) add(stage('ls_in_l2_lkup'), 80, `flags[1] == 0 && arp.op == 1 && arp.tpa == ${n.addr}`, to, lsp._uuid);
    // So are requests for the router's NAT external IPs.
    const lr = peer === undefined ? undefined : nb.routerOfPort(peer._uuid);
    for (const ip of lr === undefined ? [] : natArpTargets(routerNats(nb, lr)))
      add(stage('ls_in_l2_lkup'), 80, `flags[1] == 0 && arp.op == 1 && arp.tpa == ${ip}`, to, lsp._uuid);
    for (const a of routerPortIpv6(rp)) add(stage('ls_in_l2_lkup'), 80, `flags[1] == 0 && nd_ns && nd.target == ${a}`, to, lsp._uuid);
    if (others)
      add(
        stage('ls_in_l2_lkup'),
        75,
        `eth.src == {${rp.mac}} && (arp.op == 1 || rarp.op == 3 || nd_ns)`,
        'outport = "_MC_flood_l2"; output;',
      );
  }
}

/**
 * IGMP/MLD snooping (ovn-nb(5) Logical_Switch other_config:mcast_snoop): reports
 * and queries go to the controller, link-local groups still flood, and other
 * multicast goes only to the groups the controller learnt (ovn-controller writes
 * them to the SB IGMP_Group table), else is dropped unless mcast_flood_unregistered.
 * Not built: learnt groups, mrouter ports, relay through routers.
 */
function buildMcastSnoop(ls: nb.Logical_Switch, add: AddFlow): void {
  const l2 = stage('ls_in_l2_lkup');
  add(l2, 100, 'igmp', 'igmp;');
  add(l2, 100, 'mldv1 || mldv2', 'igmp;');
  add(l2, 85, 'ip4.mcast && ip4.dst == 224.0.0.0/24', 'outport = "_MC_flood_l2"; output;');
  add(l2, 85, 'ip6.mcast_flood', 'outport = "_MC_flood"; output;');
  if (ls.other_config.get('mcast_flood_unregistered') !== 'true') add(l2, 80, 'ip4.mcast || ip6.mcast', 'drop;');
}

/**
 * What `$name` and `@name` in ACL matches stand for: the NB's address sets, port
 * groups, and the address sets `<group>_ip4`/`<group>_ip6` every port group
 * defines (ovn-nb(5) Port_Group). Resolved on first use, so validating many ACLs
 * costs only the names they mention.
 */
export function aclLookups(nbv: NbView): MatchLookups {
  let sets: Map<string, nb.Address_Set> | undefined;
  let groups: Map<string, nb.Port_Group> | undefined;
  const groupNamed = (n: string): nb.Port_Group | undefined => {
    if (groups === undefined) {
      groups = new Map();
      for (const pg of nbv.portGroups.values()) if (!groups.has(pg.name)) groups.set(pg.name, pg);
    }
    return groups.get(n);
  };
  const members = (pg: nb.Port_Group): nb.Logical_Switch_Port[] =>
    pg.ports.map((u) => nbv.switchPorts.get(u)).filter((p): p is nb.Logical_Switch_Port => p !== undefined);
  const derived = new Map<string, string[] | undefined>();
  return {
    addressSet: (n) => {
      if (sets === undefined) {
        sets = new Map();
        for (const a of nbv.addressSets.values()) if (!sets.has(a.name)) sets.set(a.name, a);
      }
      const a = sets.get(n);
      if (a !== undefined) return a.addresses;
      if (!derived.has(n)) {
        const m = /^(.*)_ip([46])$/.exec(n);
        const pg = m === null ? undefined : groupNamed(m[1] as string);
        const idx = nbv.indexes;
        const addrs = pg === undefined ? undefined : idx !== undefined ? idx.portGroupAddresses(pg) : members(pg).flatMap(lspAddresses);
        derived.set(n, addrs === undefined ? undefined : addrs.flatMap((x) => (m?.[2] === '4' ? x.ipv4 : x.ipv6)));
      }
      return derived.get(n);
    },
    portGroup: (n) => {
      const pg = groupNamed(n);
      return pg === undefined ? undefined : members(pg).map((p) => p.name);
    },
  };
}

/**
 * The error in an ACL's match, in the words of OVN's expression parser, or
 * undefined when it is valid. ACL matches are written by users: northd refuses a
 * bad one (no flows for that ACL) and keeps everything else.
 */
export function validateAcl(nb: NbView, acl: nb.ACL, lookups: MatchLookups = aclLookups(nb)): string | undefined {
  try {
    parseMatch(acl.match, lookups);
    return undefined;
  } catch (e) {
    return e instanceof LflowError ? e.message : String(e);
  }
}

function buildAclFlows(nb: NbView, ls: nb.Logical_Switch, stateful: boolean, add: AddFlow, refuse: (msg: string) => void): void {
  const acls = switchAcls(nb, ls);
  if (!stateful && acls.length === 0) {
    add(stage('ls_in_acl_hint'), 65535, '1', 'next;');
    add(stage('ls_out_acl_hint'), 65535, '1', 'next;');
    add(stage('ls_in_acl'), 65535, '1', 'next;');
    add(stage('ls_out_acl'), 65535, '1', 'next;');
  } else if (!stateful) {
    add(stage('ls_in_acl_hint'), 0, '1', 'next;');
    add(stage('ls_out_acl_hint'), 0, '1', 'next;');
    add(stage('ls_in_acl'), 0, '1', 'next;');
    add(stage('ls_out_acl'), 0, '1', 'next;');
    add(stage('ls_in_acl'), 34000, 'eth.dst == $svc_monitor_mac', 'next;');
    add(stage('ls_out_acl'), 34000, 'eth.src == $svc_monitor_mac', 'next;');
  } else {
    for (const st of ['ls_in_acl_hint', 'ls_out_acl_hint'] as const) {
      add(stage(st), 7, 'ct.new && !ct.est', 'reg0[7] = 1; reg0[9] = 1; next;');
      add(stage(st), 6, '!ct.new && ct.est && !ct.rpl && ct_mark.blocked == 1', 'reg0[7] = 1; reg0[9] = 1; next;');
      add(stage(st), 5, '!ct.trk', 'reg0[8] = 1; reg0[9] = 1; next;');
      add(stage(st), 4, '!ct.new && ct.est && !ct.rpl && ct_mark.blocked == 0', 'reg0[8] = 1; reg0[10] = 1; next;');
      add(stage(st), 3, '!ct.est', 'reg0[9] = 1; next;');
      add(stage(st), 2, 'ct.est && ct_mark.blocked == 1', 'reg0[9] = 1; next;');
      add(stage(st), 1, 'ct.est && ct_mark.blocked == 0', 'reg0[10] = 1; next;');
      add(stage(st), 0, '1', 'next;');
    }
    add(stage('ls_in_acl'), 65532, '!ct.est && ct.rel && !ct.new && !ct.inv && ct_mark.blocked == 0', 'reg0[17] = 1; ct_commit_nat;');
    add(
      stage('ls_in_acl'),
      65532,
      'ct.est && !ct.rel && !ct.new && !ct.inv && ct.rpl && ct_mark.blocked == 0',
      'reg0[9] = 0; reg0[10] = 0; reg0[17] = 1; next;',
    );
    add(stage('ls_out_acl'), 65532, '!ct.est && ct.rel && !ct.new && !ct.inv && ct_mark.blocked == 0', 'ct_commit_nat;');
    add(stage('ls_out_acl'), 65532, 'ct.est && !ct.rel && !ct.new && !ct.inv && ct.rpl && ct_mark.blocked == 0', 'next;');
    for (const st of ['ls_in_acl', 'ls_out_acl'] as const) {
      add(stage(st), 65532, 'ct.inv || (ct.est && ct.rpl && ct_mark.blocked == 1)', 'drop;');
      add(stage(st), 1, 'ip && !ct.est', 'reg0[1] = 1; next;');
      add(stage(st), 1, 'ip && ct.est && ct_mark.blocked == 1', 'reg0[1] = 1; next;');
      add(stage(st), 0, '1', 'next;');
    }
    add(stage('ls_in_acl'), 34000, 'eth.dst == $svc_monitor_mac', 'next;');
    add(stage('ls_out_acl'), 34000, 'eth.src == $svc_monitor_mac', 'next;');
  }
  add(stage('ls_in_acl'), 65532, ND_ACL, 'next;');
  add(stage('ls_out_acl'), 65532, ND_ACL, 'next;');

  const lookups = aclLookups(nb);
  for (const acl of acls) {
    const error = validateAcl(nb, acl, lookups);
    if (error !== undefined) {
      refuse(`ACL ${acl._uuid} (${acl.direction} priority ${acl.priority} "${acl.match}"): ${error}; its flows are left out`);
      continue;
    }
    const ingress = acl.direction === 'from-lport';
    // options:apply-after-lb moves a from-lport ACL after load balancing (ovn-nb(5) ACL).
    const afterLb = ingress && acl.options.get('apply-after-lb') === 'true';
    const st = stage(afterLb ? 'ls_in_acl_after_lb' : ingress ? 'ls_in_acl' : 'ls_out_acl');
    const prio = acl.priority + ACL_PRI_OFFSET;
    const m = acl.match;
    const allow = acl.action === 'allow' || acl.action === 'allow-related';
    const log = aclLog(acl);
    // A rejected packet turns around: from-lport continues in the egress pipeline after
    // its ACLs, to-lport goes back to the ingress L2 lookup (ovn-northd(8) "ACLs").
    const reject = ingress
      ? `reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ outport <-> inport; next(pipeline=egress,table=${stage('ls_out_qos_mark').table}); };`
      : `reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ outport <-> inport; next(pipeline=ingress,table=${stage('ls_in_l2_lkup').table}); };`;
    if (acl.action === 'allow-stateless') {
      add(st, prio, m, `${log}next;`, acl._uuid);
      if (stateful) add(stage(ingress ? 'ls_in_pre_acl' : 'ls_out_pre_acl'), prio, m, 'reg0[16] = 1; next;', acl._uuid);
    } else if (!stateful) {
      add(st, prio, m, log + (allow ? 'next;' : acl.action === 'reject' ? reject : '/* drop */'), acl._uuid);
    } else if (allow) {
      add(st, prio, `reg0[7] == 1 && (${m})`, `reg0[1] = 1; ${log}next;`, acl._uuid);
      add(st, prio, `reg0[8] == 1 && (${m})`, `${log}next;`, acl._uuid);
    } else if (acl.action === 'reject') {
      add(st, prio, `(reg0[10] == 1) && ${m}`, `${log}ct_commit { ct_mark.blocked = 1; };  ${reject}`, acl._uuid);
      add(st, prio, `(reg0[9] == 1) && ${m}`, `${log}${reject}`, acl._uuid);
    } else {
      // drop: a committed connection is marked blocked so its replies stop too.
      add(st, prio, `reg0[10] == 1 && (${m})`, `ct_commit { ct_mark.blocked = 1; }; ${log}/* drop */`, acl._uuid);
      add(st, prio, `reg0[9] == 1 && (${m})`, `${log}/* drop */`, acl._uuid);
    }
  }
}

/** The `log(...)` action of an ACL with `log` set (ovn-nb(5) ACL name/severity/meter), with its trailing space; '' otherwise. */
function aclLog(acl: nb.ACL): string {
  if (!acl.log) return '';
  const verdict = acl.action === 'drop' || acl.action === 'reject' ? acl.action : 'allow';
  const args = [
    ...(acl.name !== null && acl.name !== '' ? [`name="${acl.name.replace(/["\\]/g, (c) => `\\${c}`)}"`] : []),
    `severity=${acl.severity ?? 'info'}`,
    `verdict=${verdict}`,
    ...(acl.meter !== null && acl.meter !== '' ? [`meter="${acl.meter}"`] : []),
  ];
  return `log(${args.join(', ')}); `;
}

/** The DHCPv4 options of a port for one of its addresses, or undefined when OVN would not answer. */
function dhcpv4For(
  nb: NbView,
  lsp: nb.Logical_Switch_Port,
  ip: string,
): { opts: nb.DHCP_Options; net: ReturnType<typeof ipv4Net> } | undefined {
  if (lsp.dhcpv4_options === null) return undefined;
  const opts = nb.dhcpOptions.get(lsp.dhcpv4_options);
  if (opts === undefined) return undefined;
  const net = ipv4Net(opts.cidr);
  if (net === undefined || !ipv4InNet(ip, net)) return undefined;
  for (const k of ['server_id', 'server_mac', 'lease_time']) if (!opts.options.has(k)) return undefined;
  return { opts, net };
}

/** Flows owned by one switch port. */
export function buildSwitchPortFlows(nb: NbView, ls: nb.Logical_Switch, lsp: nb.Logical_Switch_Port, add: AddFlow): void {
  const h = lsp._uuid;
  const name = lsp.name;
  if (lsp.type === 'router') {
    buildRouterTypePortFlows(nb, lsp, add);
    return;
  }
  if (lsp.type === 'localnet') {
    // ARP from the physical network is answered there, not by OVN's responder.
    add(stage('ls_in_arp_rsp'), 100, `inport == "${name}"`, 'next;', h);
  }
  const unknown = lsp.addresses.includes('unknown');
  const enabled = lsp.enabled !== false;
  if (!enabled) {
    // A disabled port neither sends nor receives (ovn-nb(5) Logical_Switch_Port enabled).
    add(stage('ls_in_check_port_sec'), 100, `inport == "${name}"`, 'reg0[15] = 1; next;', h);
    add(stage('ls_in_l2_unknown'), 50, `outport == "${name}"`, 'drop;', h);
  }
  if (unknown && lsp.type === '') {
    // MAC learning (ovn-northd(8) "Lookup and Learn FDB"): a port with unknown addresses may send from any MAC.
    add(stage('ls_in_lookup_fdb'), 100, `inport == "${name}"`, 'reg0[11] = lookup_fdb(inport, eth.src); next;', h);
    add(stage('ls_in_put_fdb'), 100, `inport == "${name}" && reg0[11] == 0`, 'put_fdb(inport, eth.src); next;', h);
  }
  const stateful = aclsStateful(nb, ls);
  for (const a of lspAddresses(lsp)) {
    add(stage('ls_in_l2_lkup'), 50, `eth.dst == ${a.mac}`, enabled ? `outport = "${name}"; output;` : 'drop;', h);
    if (lsp.type !== '' && lsp.type !== 'localport') continue;
    // A port that may use any address could be elsewhere too: let its owner answer.
    if (!unknown) buildArpResponder(a, name, h, add);
    for (const ip of a.ipv4) {
      const d = dhcpv4For(nb, lsp, ip);
      if (d === undefined) continue;
      buildDhcpv4(d.opts, d.net as NonNullable<typeof d.net>, a, ip, name, d.opts._uuid, stateful, add);
    }
  }
}

function buildArpResponder(a: LspAddresses, port: string, h: string, add: AddFlow): void {
  for (const ip of a.ipv4) {
    // The port's own ARP requests for its address go on to the network (duplicate address detection).
    add(stage('ls_in_arp_rsp'), 100, `arp.tpa == ${ip} && arp.op == 1 && inport == "${port}"`, 'next;', h);
    add(
      stage('ls_in_arp_rsp'),
      50,
      `arp.tpa == ${ip} && arp.op == 1`,
      `eth.dst = eth.src; eth.src = ${a.mac}; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = ${a.mac}; arp.tpa = arp.spa; arp.spa = ${ip}; outport = inport; flags.loopback = 1; output;`,
      h,
    );
  }
  for (const ip of a.ipv6) {
    const ns = `nd_ns && ip6.dst == {${ip}, ${solicitedNode(ip)}} && nd.target == ${ip}`;
    add(stage('ls_in_arp_rsp'), 100, `${ns} && inport == "${port}"`, 'next;', h);
    add(
      stage('ls_in_arp_rsp'),
      50,
      ns,
      `nd_na { eth.src = ${a.mac}; ip6.src = ${ip}; nd.target = ${ip}; nd.tll = ${a.mac}; outport = inport; flags.loopback = 1; output; };`,
      h,
    );
  }
}

function buildDhcpv4(
  opts: nb.DHCP_Options,
  net: NonNullable<ReturnType<typeof ipv4Net>>,
  a: LspAddresses,
  ip: string,
  port: string,
  h: string,
  stateful: boolean,
  add: AddFlow,
): void {
  const o = opts.options;
  const serverId = o.get('server_id') as string;
  const serverMac = normalizeMac(o.get('server_mac') as string) ?? o.get('server_mac');
  const args = new Map<string, string>(o);
  args.delete('server_mac');
  if (!args.has('netmask')) args.set('netmask', net.mask);
  const sorted = [...args].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  const put = [`offerip = ${ip}`, ...sorted.map(([k, v]) => `${k} = ${v}`)].join(', ');
  const action = `reg0[3] = put_dhcp_opts(${put}); next;`;
  const from = `inport == "${port}" && eth.src == ${a.mac}`;
  add(
    stage('ls_in_dhcp_options'),
    100,
    `${from} && ip4.src == 0.0.0.0 && ip4.dst == 255.255.255.255 && udp.src == 68 && udp.dst == 67`,
    action,
    h,
  );
  add(
    stage('ls_in_dhcp_options'),
    100,
    `${from} && ip4.src == ${ip} && ip4.dst == {${serverId}, 255.255.255.255} && udp.src == 68 && udp.dst == 67`,
    action,
    h,
  );
  add(
    stage('ls_in_dhcp_response'),
    100,
    `${from} && ip4 && udp.src == 68 && udp.dst == 67 && reg0[3]`,
    `eth.dst = eth.src; eth.src = ${serverMac}; ip4.src = ${serverId}; udp.src = 67; udp.dst = 68; outport = inport; flags.loopback = 1; output;`,
    h,
  );
  add(
    stage('ls_out_acl'),
    34000,
    `outport == "${port}" && eth.src == ${serverMac} && ip4.src == ${serverId} && udp && udp.src == 67 && udp.dst == 68`,
    stateful ? 'ct_commit; next;' : 'next;',
    h,
  );
}

/** A switch port of type router: ARP/ND for the router's addresses is flooded and also sent to the router. */
function buildRouterTypePortFlows(nb: NbView, lsp: nb.Logical_Switch_Port, add: AddFlow): void {
  const h = lsp._uuid;
  const peer = nb.routerPortByName(lsp.options.get('router-port') ?? '');
  if (peer === undefined) return;
  const rp = routerPortNetworks(peer);
  if (rp === undefined) return;
  add(stage('ls_in_l2_lkup'), 50, `eth.dst == ${rp.mac}`, `outport = "${lsp.name}"; output;`, h);
  // The switch answers ARP/NS for the router's addresses itself (ovn-northd(8) "ARP/ND responder").
  buildArpResponder({ mac: rp.mac, ipv4: rp.ipv4.map((n) => n.addr), ipv6: [] }, lsp.name, h, add);
  for (const a of routerPortIpv6(rp)) {
    const nd = `nd_ns && ip6.dst == {${a}, ${solicitedNode(a)}} && nd.target == ${a}`;
    add(stage('ls_in_arp_rsp'), 100, `${nd} && inport == "${lsp.name}"`, 'next;', h);
    add(
      stage('ls_in_arp_rsp'),
      50,
      nd,
      `nd_na_router { eth.src = ${rp.mac}; ip6.src = ${a}; nd.target = ${a}; nd.tll = ${rp.mac}; outport = inport; flags.loopback = 1; output; };`,
      h,
    );
  }
}
