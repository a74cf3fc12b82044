/**
 * The logical-flow builders (ovn-northd(8) "Logical Switch Datapaths", "Logical
 * Router Datapaths", OVN 23.03). Pure: NB in, `add()` calls out; the flows equal
 * what the real ovn-northd writes for the NBs in test/compat/northd-flows-golden.
 *
 * What each builder reads, for incremental processing (nb-view.ts sets the rules;
 * where a builder reads more, it is listed here so the caller can rebuild it):
 * - `buildSwitchFlows(nb, ls, add, refuse?)`: the switch row, its ACLs and those of
 *   port groups holding any of its ports, address sets and port groups named in
 *   ACL matches, its load balancers, and its ports only as `switchPortSummary`
 *   describes them (unknown addresses, non-router ports, router ports with their
 *   peer's MAC and networks, localnet ports). `refuse` hears about ACLs whose
 *   match does not parse (`validateAcl`); those get no flows.
 * - `buildSwitchPortFlows(nb, ls, lsp, add)`: the LSP, its DHCP_Options, for a
 *   router-type port its peer LRP; and `aclsStateful(nb, ls)` (stateful ACLs or a
 *   load balancer on the switch), which decides the DHCP reply's ACL bypass:
 *   rebuild the switch's ports when that changes.
 * - `buildRouterFlows(nb, lr, add)`: the router, its ports, static routes, NAT, and
 *   its Logical_Router_Policy rows when the view is an NbSnapshot (NbView has no
 *   policies; other views get no policy flows).
 * - `buildRouterPortFlows(nb, lr, lrp, add)`: the LRP, and (for ARP resolution) the
 *   switch its router-type peer is on: that switch's ports' addresses and the
 *   networks of other routers' ports on it. Rebuild a router's ports when the
 *   ports of a switch it is connected to change.
 *
 * Left out (no flows): plain dnat and distributed dnat_and_snat (external_mac)
 * through gateway ports, NAT with several gateway ports, IPv6 NAT, router load
 * balancers, load balancer groups, IPv6 VIPs, multi-hop reroute policies, learnt
 * multicast groups and relay, BFD, QoS, DNS records, DHCPv6 options, IPv6 RA,
 * port mirroring, virtual/external ports, src-ip routes and route tables other
 * than the main one. test/compat/northd-flows-golden lists what differs for one.
 */
export {
  buildSwitchFlows,
  buildSwitchPortFlows,
  switchPortSummary,
  isStateful,
  aclsStateful,
  switchAcls,
  validateAcl,
  aclLookups,
} from './switch.js';
export { buildRouterFlows, buildRouterPortFlows, routerPortNetworks } from './router.js';
export { buildSwitchLbFlows, switchVips } from './load-balancer.js';
