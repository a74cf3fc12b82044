/**
 * The IPAM side of the Docker plugin's endpoints, shared by its
 * IpamDriver (which makes the port when Docker asks for an address) and its
 * NetworkDriver (which makes it when another IPAM chose the address): the
 * Docker network's Neutron network and subnets, and one Neutron port per
 * endpoint holding all its addresses (IPv4 and IPv6). In nested mode the
 * port is a child of the VM's port, `binding:profile {parent_name, tag}`,
 * its VLAN reserved from the VM bridge's pool first (src/cni/nested.ts, as
 * the CNI plugin does) and given back when the port goes.
 */
import type { NeutronClient, NeutronPort, NeutronSubnet } from '../host/neutron.js';
import type { OvsDb } from '../host/ovs-db.js';
import { deletePort as deleteNeutronPort, DEVICE_OWNER, ipamCall } from './ipam.js';
import { releaseTag, reserveTag, tagOf } from './nested.js';

/** The Neutron network of Docker network ID is named `docker-ID`. */
export const NET_PREFIX = 'docker-';

/** A driver error: answered as `{"Err": message}`. */
export class DriverError extends Error {}

/** Nested mode: the VM's port (the parent) and its bridge, whose external_ids hold the VLAN pool. */
export interface NestedVm {
  readonly vifId: string;
  readonly bridge: string;
  readonly ovs: () => Promise<OvsDb>;
}

export interface EndpointPorts {
  readonly c: NeutronClient;
  /** Set in nested mode. */
  readonly vm: NestedVm | undefined;
}

export function isV6(cidrOrIp: string): boolean {
  return cidrOrIp.includes(':');
}

export function prefixLen(cidr: string): string {
  return cidr.split('/')[1] ?? (isV6(cidr) ? '128' : '32');
}

export interface DockerNetwork {
  readonly id: string;
  readonly subnets: readonly NeutronSubnet[];
}

/** The Neutron network (and its subnets) of a Docker network. */
export async function networkOf(c: NeutronClient, networkId: string): Promise<DockerNetwork> {
  const [net] = await ipamCall(() => c.listNetworks({ name: `${NET_PREFIX}${networkId}` }));
  if (net === undefined) throw new DriverError(`network ${networkId} is not known to the ovnts IPAM`);
  if (net.subnets.length === 0) throw new DriverError(`network ${networkId} has no subnet`);
  return { id: net.id, subnets: await ipamCall(() => c.listSubnets({ network_id: net.id })) };
}

/** The gateways of the subnets the port has an address on (the Join answer's Gateway and GatewayIPv6). */
export function gatewaysOf(port: NeutronPort, subnets: readonly NeutronSubnet[]): { gateway: string; gateway6: string } {
  const gw = { gateway: '', gateway6: '' };
  for (const f of port.fixed_ips) {
    const s = subnets.find((x) => x.id === f.subnet_id);
    if (s === undefined || s.gateway_ip === null || s.gateway_ip === '') continue;
    if (isV6(s.cidr)) gw.gateway6 ||= s.gateway_ip;
    else gw.gateway ||= s.gateway_ip;
  }
  return gw;
}

export async function portByAddress(c: NeutronClient, networkId: string, ip: string): Promise<NeutronPort | undefined> {
  return (await ipamCall(() => c.listPorts({ network_id: networkId, fixed_ips: `ip_address=${ip}` })))[0];
}

/**
 * Creates an endpoint's port (device_owner `compute:container`); nested,
 * under the VM's port on a VLAN of its own. A failure gives the VLAN back.
 */
export async function createEndpointPort(
  p: EndpointPorts,
  body: { network_id: string; name: string; fixed_ips: ReadonlyArray<Record<string, string>>; device_id?: string; mac_address?: string },
): Promise<NeutronPort> {
  const port = { ...body, device_owner: DEVICE_OWNER };
  if (p.vm === undefined) return ipamCall(() => p.c.createPort(port));
  const vm = p.vm;
  const db = await vm.ovs();
  const tag = await reserveTag(db, vm.bridge);
  const child = { ...port, 'binding:profile': { parent_name: vm.vifId, tag } };
  try {
    return await ipamCall(() => p.c.createPort(child));
  } catch (e) {
    await releaseTag(db, vm.bridge, tag).catch(() => undefined);
    throw e;
  }
}

/** Deletes an endpoint's port (already gone: nothing to do), then gives its VLAN back. */
export async function deleteEndpointPort(p: EndpointPorts, port: Pick<NeutronPort, 'id' | 'binding:profile'>): Promise<void> {
  await deleteNeutronPort(p.c, port.id);
  const tag = tagOf(port['binding:profile']);
  if (p.vm !== undefined && tag !== undefined) await releaseTag(await p.vm.ovs(), p.vm.bridge, tag);
}
