/**
 * The one table of DHCP options OVN's logical flows can carry: each option's
 * name (OVN's spelling), its code and its value type, as OVN 23.03's northd
 * publishes them in the SB DHCP_Options and DHCPv6_Options tables for
 * ovn-controller (ovn-sb(5) "DHCP_Options TABLE", "DHCPv6_Options TABLE";
 * codes from RFC 2132, RFC 3442, RFC 3397, RFC 5859 and RFC 8415).
 * northd writes those rows from it, the controller's pinctrl encodes
 * put_dhcp_opts with it, and the logical-flow parser checks option names and
 * value kinds against it. `offerip` (code 0) is not a DHCP option: it is the
 * address offered in yiaddr. A compat test checks the DHCPv4 table against
 * the rows the real ovn-northd writes.
 */

/** ovn-sb(5) DHCP_Options `type`. */
export type Dhcpv4OptionType = 'bool' | 'uint8' | 'uint16' | 'uint32' | 'ipv4' | 'static_routes' | 'str' | 'host_id' | 'domains';
/** ovn-sb(5) DHCP_Options or DHCPv6_Options `type`. */
export type DhcpOptionType = Dhcpv4OptionType | 'mac' | 'ipv6';

export interface DhcpOptionDef<T extends DhcpOptionType = DhcpOptionType> {
  readonly name: string;
  readonly code: number;
  readonly type: T;
}

const def = <T extends DhcpOptionType>([name, code, type]: readonly [string, number, T]): DhcpOptionDef<T> => ({ name, code, type });

/** The DHCPv4 options `put_dhcp_opts` accepts, in code order. */
export const DHCPV4_OPTION_DEFS: readonly DhcpOptionDef<Dhcpv4OptionType>[] = (
  [
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
  ] as const
).map(def);

/** The DHCPv6 options `put_dhcpv6_opts` accepts. */
export const DHCPV6_OPTION_DEFS: readonly DhcpOptionDef[] = (
  [
    ['server_id', 2, 'mac'],
    ['ia_addr', 5, 'ipv6'],
    ['dns_server', 23, 'ipv6'],
    ['domain_search', 24, 'str'],
  ] as const
).map(def);

/** DHCPv4 options by name. */
export const DHCPV4_OPTIONS: ReadonlyMap<string, DhcpOptionDef<Dhcpv4OptionType>> = new Map(DHCPV4_OPTION_DEFS.map((d) => [d.name, d]));

/**
 * What a logical flow may give as the option's value (ovn-sb(5) "put_dhcp_opts"):
 * a string for text and domain lists, a string or an address for `tftp_server`,
 * otherwise a numeric constant (integers, addresses, address sets).
 */
export function optionValueKind(type: DhcpOptionType): 'numeric' | 'string' | 'any' {
  return type === 'str' || type === 'domains' ? 'string' : type === 'host_id' ? 'any' : 'numeric';
}
