/**
 * Subnets: kept as JSON on their network's switch (`ovnts:subnet:<id>`);
 * a DHCP-enabled one also becomes the DHCP_Options row ML2/OVN writes for it
 * (IPv4: router, server_id, server_mac, lease_time, dns_server, mtu,
 * classless_static_route; IPv6: server_id), which its ports point at.
 */
import { randomUUID } from 'node:crypto';
import {
  cidrContains,
  cidrsOverlap,
  defaultPools,
  formatCidr,
  formatIp,
  lastAddress,
  parseCidr,
  parseIp,
  type Cidr,
  type IpRange,
} from './addresses.js';
import type { RequestContext } from './context.js';
import { NeutronError, badRequest, conflict, invalidInput, notFound } from './errors.js';
import { KEY, type Network, type NbView, type Pool, type Subnet, type SubnetDoc } from './model.js';
import { AUTO_DELETE_OWNERS, touchNetwork, visibleNetwork } from './networks.js';
import { canSee, ownerFor } from './policy.js';
import { timestamp } from './store.js';
import { pyRepr } from './py-format.js';
import { syncDhcpRow } from './dhcp-options.js';
import { subnetCidr } from './addresses.js';

export { subnetCidr };

export function subnetView(s: Subnet): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    tenant_id: s.project_id,
    network_id: s.network_id,
    ip_version: s.ip_version,
    subnetpool_id: null,
    enable_dhcp: s.enable_dhcp,
    ipv6_ra_mode: s.ipv6_ra_mode,
    ipv6_address_mode: s.ipv6_address_mode,
    gateway_ip: s.gateway_ip,
    cidr: s.cidr,
    allocation_pools: s.allocation_pools,
    host_routes: s.host_routes,
    dns_nameservers: s.dns_nameservers,
    description: s.description,
    service_types: [],
    tags: [],
    created_at: s.created_at,
    updated_at: s.updated_at,
    revision_number: s.revision_number,
    project_id: s.project_id,
  };
}

export function visibleSubnet(view: NbView, ctx: RequestContext, id: string): Subnet {
  const s = view.subnet(id);
  const n = s === undefined ? undefined : view.network(s.network_id);
  if (s === undefined || n === undefined || !canSee(ctx, s.project_id, n.shared)) throw notFound('subnet', id);
  return s;
}

/** The subnet's allocation pools as numeric ranges. */
export function poolRanges(s: Pick<SubnetDoc, 'allocation_pools'>): IpRange[] {
  return s.allocation_pools.map((p) => ({
    first: (parseIp(p.start) as { value: bigint }).value,
    last: (parseIp(p.end) as { value: bigint }).value,
  }));
}

function poolText(p: Pool): string {
  return `${p.start}-${p.end}`;
}

/** Checks pools as Neutron's `validate_allocation_pools` does; returns them canonical. */
function checkPools(pools: readonly Pool[], cidr: Cidr, gateway: string | null): Pool[] {
  const ranges: Array<{ pool: Pool; r: IpRange }> = [];
  // IPv4 pools may not hold the network or broadcast address (below /31).
  const hosts = cidr.version === 4 && cidr.prefix < 31;
  const firstHost = hosts ? cidr.network + 1n : cidr.network;
  const lastHost = hosts ? lastAddress(cidr) - 1n : lastAddress(cidr);
  for (const pool of pools) {
    const s = parseIp(pool.start);
    const e = parseIp(pool.end);
    if (s === undefined || e === undefined || s.version !== cidr.version || e.version !== cidr.version) {
      throw badRequest(`The allocation pool ${poolText(pool)} is not valid.`);
    }
    if (s.value > e.value) throw new NeutronError(400, 'InvalidAllocationPool', `The allocation pool ${pyRepr(pool)} is not valid.`);
    if (s.value < firstHost || e.value > lastHost) {
      throw new NeutronError(
        400,
        'OutOfBoundsAllocationPool',
        `The allocation pool ${poolText(pool)} spans beyond the subnet cidr ${formatCidr(cidr)}.`,
      );
    }
    ranges.push({ pool, r: { first: s.value, last: e.value } });
  }
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const a = ranges[i] as { pool: Pool; r: IpRange };
      const b = ranges[j] as { pool: Pool; r: IpRange };
      if (a.r.first <= b.r.last && b.r.first <= a.r.last) {
        throw conflict(
          'OverlappingAllocationPools',
          `Found overlapping allocation pools: ${poolText(a.pool)} ${poolText(b.pool)} for subnet ${formatCidr(cidr)}.`,
        );
      }
    }
  }
  if (gateway !== null) {
    const g = parseIp(gateway);
    const hit = g === undefined ? undefined : ranges.find((x) => g.value >= x.r.first && g.value <= x.r.last);
    if (hit !== undefined)
      throw conflict('GatewayConflictWithAllocationPools', `Gateway ip ${gateway} conflicts with allocation pool ${poolText(hit.pool)}.`);
  }
  return ranges.map((x) => ({ start: formatIp(cidr.version, x.r.first), end: formatIp(cidr.version, x.r.last) }));
}

function rangesToPools(version: 4 | 6, ranges: readonly IpRange[]): Pool[] {
  return ranges.map((r) => ({ start: formatIp(version, r.first), end: formatIp(version, r.last) }));
}

/** The host's resolvers, which ML2/OVN hands out when a subnet names none (`dns_servers` default). */
export async function createSubnet(view: NbView, ctx: RequestContext, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const id = randomUUID();
  const project = ownerFor(ctx, body);
  const version = body['ip_version'] as 4 | 6;
  if (body['cidr'] === undefined || body['cidr'] === null) {
    throw new NeutronError(400, 'BadRequest', 'Bad subnets request: a subnetpool must be specified in the absence of a cidr.');
  }
  const parsed = parseCidr(body['cidr'] as string);
  if (parsed === undefined) throw badRequest(`Invalid input for cidr. Reason: '${String(body['cidr'])}' is not a valid IP subnet.`);
  const cidr = parsed.cidr;
  const cidrText = formatCidr(cidr);
  if (cidr.version !== version) throw invalidInput(`cidr '${cidrText}' does not match the ip_version '${version}'`);
  if ((cidr.version === 4 && cidr.prefix > 30 && cidr.prefix !== 32 && cidr.prefix !== 31) || cidr.prefix === 0) {
    throw invalidInput(`Invalid CIDR ${cidrText} for IP version ${version}`);
  }
  for (const k of ['ipv6_ra_mode', 'ipv6_address_mode']) {
    if (version === 4 && body[k] !== undefined && body[k] !== null) {
      throw invalidInput(`${k} is not valid when ip_version is 4`);
    }
  }
  let gateway: string | null;
  if (body['gateway_ip'] === undefined) gateway = formatIp(version, version === 6 ? cidr.network : cidr.network + 1n);
  else if (body['gateway_ip'] === null) gateway = null;
  else {
    const g = parseIp(body['gateway_ip'] as string);
    if (g === undefined || g.version !== version) throw invalidInput(`Gateway IP version inconsistent with allocation pool version`);
    gateway = formatIp(version, g.value);
    if (cidr.version === 4 && cidr.prefix < 31 && (g.value === cidr.network || g.value === lastAddress(cidr))) {
      throw invalidInput(`Gateway is not valid on subnet`);
    }
  }
  const gwValue = gateway === null ? undefined : parseIp(gateway)?.value;
  const pools =
    body['allocation_pools'] === undefined || body['allocation_pools'] === null
      ? rangesToPools(version, defaultPools(cidr, gwValue !== undefined && cidrContains(cidr, version, gwValue) ? gwValue : undefined))
      : checkPools(body['allocation_pools'] as Pool[], cidr, gateway);
  const now = timestamp();
  const doc: SubnetDoc = {
    name: body['name'] as string,
    cidr: cidrText,
    ip_version: version,
    gateway_ip: gateway,
    allocation_pools: pools,
    enable_dhcp: body['enable_dhcp'] as boolean,
    dns_nameservers: ((body['dns_nameservers'] as string[] | undefined) ?? []).map((d) => d),
    host_routes: (body['host_routes'] as SubnetDoc['host_routes'] | undefined) ?? [],
    ipv6_ra_mode: (body['ipv6_ra_mode'] as string | null | undefined) ?? null,
    ipv6_address_mode: (body['ipv6_address_mode'] as string | null | undefined) ?? null,
    description: body['description'] as string,
    project_id: project,
    created_at: now,
    updated_at: now,
    revision_number: 0,
  };
  const netId = body['network_id'] as string;
  await view.store.write((txn) => {
    const net = visibleNetwork(view, ctx, netId);
    if (!ctx.isAdmin && net.project_id !== ctx.projectId) throw notFound('network', netId);
    for (const other of net.subnets) {
      if (cidrsOverlap(subnetCidr(other), cidr)) {
        throw invalidInput(`Requested subnet with cidr: ${cidrText} for network: ${netId} overlaps with another subnet`);
      }
    }
    touchNetwork(txn, net, { [KEY.subnetPrefix + id]: JSON.stringify(doc) }, now);
    syncDhcpRow(view, txn, net, id, doc);
    return { result: undefined, synced: () => view.subnet(id) !== undefined };
  });
  return subnetView(visibleSubnet(view, ctx, id));
}

export async function updateSubnet(
  view: NbView,
  ctx: RequestContext,
  id: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  let rev = 0;
  await view.store.write((txn) => {
    const s = visibleSubnet(view, ctx, id);
    const net = view.network(s.network_id) as Network;
    if (Object.keys(body).length === 0) return { result: undefined };
    const cidr = subnetCidr(s);
    const doc: SubnetDoc = { ...stripIds(s), updated_at: timestamp(), revision_number: s.revision_number + 1 };
    if (typeof body['name'] === 'string') doc.name = body['name'];
    if (typeof body['description'] === 'string') doc.description = body['description'];
    if (typeof body['enable_dhcp'] === 'boolean') doc.enable_dhcp = body['enable_dhcp'];
    if (Array.isArray(body['dns_nameservers'])) doc.dns_nameservers = body['dns_nameservers'] as string[];
    if (Array.isArray(body['host_routes'])) doc.host_routes = body['host_routes'] as SubnetDoc['host_routes'];
    if ('gateway_ip' in body) {
      const g = body['gateway_ip'] === null ? undefined : parseIp(body['gateway_ip'] as string);
      if (body['gateway_ip'] !== null && (g === undefined || g.version !== cidr.version))
        throw invalidInput('Gateway IP version inconsistent with allocation pool version');
      doc.gateway_ip = g === undefined ? null : formatIp(cidr.version, g.value);
      if (g !== undefined) {
        const holder = view
          .portsOf(net)
          .find(
            (p) =>
              p.fixed_ips.some((f) => f.subnet_id === id && f.ip_address === doc.gateway_ip) &&
              !p.device_owner.startsWith('network:router'),
          );
        if (holder !== undefined)
          throw conflict(
            'GatewayIpInUse',
            `Current gateway ip ${doc.gateway_ip as string} already in use by port ${holder.id}. Unable to update.`,
          );
      }
    }
    if (Array.isArray(body['allocation_pools']))
      doc.allocation_pools = checkPools(body['allocation_pools'] as Pool[], cidr, doc.gateway_ip);
    else if ('gateway_ip' in body) checkPools(doc.allocation_pools, cidr, doc.gateway_ip);
    touchNetwork(txn, net, { [KEY.subnetPrefix + id]: JSON.stringify(doc) });
    syncDhcpRow(view, txn, net, id, doc);
    rev = doc.revision_number;
    return { result: undefined, synced: () => (view.subnet(id)?.revision_number ?? -1) >= rev };
  });
  return subnetView(visibleSubnet(view, ctx, id));
}

function stripIds(s: Subnet): SubnetDoc {
  const { id: _id, network_id: _net, ...doc } = s;
  return doc;
}

export async function deleteSubnet(view: NbView, ctx: RequestContext, id: string): Promise<void> {
  await view.store.write((txn) => {
    const s = visibleSubnet(view, ctx, id);
    const net = view.network(s.network_id) as Network;
    const users = view
      .portsOf(net)
      .filter((p) => !AUTO_DELETE_OWNERS.includes(p.device_owner) && p.fixed_ips.some((f) => f.subnet_id === id));
    if (users.length > 0) {
      throw conflict(
        'SubnetInUse',
        `Unable to complete operation on subnet ${id}: One or more ports have an IP allocation from this subnet.`,
      );
    }
    const dhcp = view.dhcpOptions(id);
    if (dhcp !== undefined) txn.delete('DHCP_Options', dhcp.uuid);
    touchNetwork(txn, net, { [KEY.subnetPrefix + id]: undefined });
    return { result: undefined, synced: () => view.subnet(id) === undefined };
  });
}
