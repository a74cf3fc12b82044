/**
 * The DHCP_Options row of a subnet, as ML2/OVN writes it: the options ovnts's
 * native DHCP answers with, and the ports on the subnet pointing at the row.
 * Its own module because both subnets and networks (an MTU change) rewrite it.
 */
import { readFileSync } from 'node:fs';
import type { Txn } from '../ovsdb/client.js';
import { formatIp, parseIp, randomMac, subnetCidr } from './addresses.js';
import type { Network, NbView, SubnetDoc } from './model.js';
import { ovsMap } from './store.js';

function hostResolvers(): string[] {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8')
      .split('\n')
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((x): x is string => x !== undefined && parseIp(x)?.version === 4);
  } catch {
    return [];
  }
}

/** The DHCP_Options `options` ML2/OVN writes for a subnet (`_get_ovn_dhcpv4_opts` / `_get_ovn_dhcpv6_opts`). */
export function dhcpOptionsFor(s: SubnetDoc, mtu: number, serverMac: string): Record<string, string> {
  if (s.ip_version === 6) return { server_id: serverMac };
  const cidr = subnetCidr(s);
  const server = s.gateway_ip ?? formatIp(4, cidr.network + 1n);
  const opts: Record<string, string> = { lease_time: '43200', mtu: String(mtu), server_id: server, server_mac: serverMac };
  const dns = s.dns_nameservers.length > 0 ? s.dns_nameservers : hostResolvers();
  if (dns.length > 0) opts['dns_server'] = `{${dns.join(', ')}}`;
  if (s.gateway_ip !== null) opts['router'] = s.gateway_ip;
  if (s.host_routes.length > 0) {
    const routes = s.host_routes.map((r) => `${r.destination},${r.nexthop}`);
    if (s.gateway_ip !== null) routes.push(`0.0.0.0/0,${s.gateway_ip}`);
    opts['classless_static_route'] = `{${routes.join(', ')}}`;
  }
  return opts;
}

/** Whether ML2/OVN keeps a DHCP_Options row for the subnet (not for SLAAC-only IPv6). */
function wantsDhcpRow(s: SubnetDoc): boolean {
  return s.enable_dhcp && !(s.ip_version === 6 && s.ipv6_address_mode === 'slaac');
}

/**
 * Writes (or removes) the subnet's DHCP_Options row and points the ports on
 * the subnet at it; returns the row's reference or null.
 */
export function syncDhcpRow(view: NbView, txn: Txn, net: Network, id: string, s: SubnetDoc): unknown {
  const existing = view.dhcpOptions(id);
  if (!wantsDhcpRow(s)) {
    if (existing !== undefined) txn.delete('DHCP_Options', existing.uuid);
    return null;
  }
  const mac =
    existing === undefined
      ? randomMac()
      : ((existing.map('options').get('server_mac') as string | undefined) ??
        (existing.map('options').get('server_id') as string | undefined) ??
        randomMac());
  const row = {
    cidr: s.cidr,
    options: ovsMap(dhcpOptionsFor(s, net.mtu, mac)),
    external_ids: ovsMap({ 'neutron:revision_number': String(s.revision_number), subnet_id: id }),
  };
  if (existing !== undefined) {
    txn.update('DHCP_Options', existing.uuid, row);
    return ['uuid', existing.uuid];
  }
  const ref = txn.insert('DHCP_Options', row);
  const col = s.ip_version === 4 ? 'dhcpv4_options' : 'dhcpv6_options';
  for (const p of view.portsOf(net)) {
    if (p.device_owner.startsWith('network:router')) continue;
    if (p.fixed_ips.some((f) => f.subnet_id === id) && (p.row.set(col) as string[]).length === 0)
      txn.update('Logical_Switch_Port', p.row.uuid, { [col]: ['set', [ref]] });
  }
  return ref;
}
