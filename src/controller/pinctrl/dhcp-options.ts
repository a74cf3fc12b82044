/**
 * The DHCPv4 options `put_dhcp_opts` accepts, with their DHCP option codes
 * and OVN value types, as OVN 23.03's northd publishes them in the SB
 * DHCP_Options table (ovn-sb(5) "DHCP_Options TABLE"; codes from RFC 2132,
 * RFC 3442, RFC 3397, RFC 5859). `offerip` (code 0) is not a DHCP option: it
 * is the address offered in yiaddr. A compat test checks this table against
 * the rows the real ovn-northd writes.
 */

/** ovn-sb(5) DHCP_Options `type`. */
export type DhcpOptionType = 'bool' | 'uint8' | 'uint16' | 'uint32' | 'ipv4' | 'static_routes' | 'str' | 'host_id' | 'domains';

export interface DhcpOptionDef {
  readonly name: string;
  readonly code: number;
  readonly type: DhcpOptionType;
}

const DEFS: readonly (readonly [string, number, DhcpOptionType])[] = [
  ['offerip', 0, 'ipv4'],
  ['netmask', 1, 'ipv4'],
  ['router', 3, 'ipv4'],
  ['dns_server', 6, 'ipv4'],
  ['log_server', 7, 'ipv4'],
  ['lpr_server', 9, 'ipv4'],
  ['hostname', 12, 'str'],
  ['domain_name', 15, 'str'],
  ['swap_server', 16, 'ipv4'],
  ['ip_forward_enable', 19, 'bool'],
  ['policy_filter', 21, 'ipv4'],
  ['default_ttl', 23, 'uint8'],
  ['mtu', 26, 'uint16'],
  ['broadcast_address', 28, 'ipv4'],
  ['router_discovery', 31, 'bool'],
  ['router_solicitation', 32, 'ipv4'],
  ['arp_cache_timeout', 35, 'uint32'],
  ['ethernet_encap', 36, 'bool'],
  ['tcp_ttl', 37, 'uint8'],
  ['tcp_keepalive_interval', 38, 'uint32'],
  ['nis_server', 41, 'ipv4'],
  ['ntp_server', 42, 'ipv4'],
  ['netbios_name_server', 44, 'ipv4'],
  ['netbios_node_type', 46, 'uint8'],
  ['lease_time', 51, 'uint32'],
  ['server_id', 54, 'ipv4'],
  ['T1', 58, 'uint32'],
  ['T2', 59, 'uint32'],
  ['tftp_server', 66, 'host_id'],
  ['bootfile_name', 67, 'str'],
  ['domain_search_list', 119, 'domains'],
  ['classless_static_route', 121, 'static_routes'],
  ['tftp_server_address', 150, 'ipv4'],
  ['path_prefix', 210, 'str'],
  ['ms_classless_static_route', 249, 'static_routes'],
  ['wpad', 252, 'str'],
  ['next_server', 253, 'ipv4'],
  ['bootfile_name_alt', 254, 'str'],
];

/** By option name (OVN's spelling). */
export const DHCPV4_OPTIONS: ReadonlyMap<string, DhcpOptionDef> = new Map(DEFS.map(([name, code, type]) => [name, { name, code, type }]));

/** DHCP option codes pinctrl itself emits or reads (RFC 2132). */
export const DHCP_OPT = {
  PAD: 0,
  NETMASK: 1,
  ROUTER: 3,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAM_REQUEST_LIST: 55,
  T1: 58,
  T2: 59,
  CLIENT_ID: 61,
  AGENT_INFO: 82,
  END: 255,
} as const;
