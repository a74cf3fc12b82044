/**
 * The plugin's side of the ovnts IPAM (the Neutron v2.0 API): one Neutron
 * port per attachment — device_id the container id, device_owner
 * `compute:container`, named `cni:HOST:NETWORK:IFNAME` so GC can find this
 * host's attachments of this network — with the address and MAC the runtime
 * asked for, if any. Unreachable IPAM is "try again later" (code 11);
 * a refusal (e.g. the address is taken) is an IPAM failure in its words.
 */
import { hostname } from 'node:os';
import { NeutronClient, NeutronError, type NeutronNetwork, type NeutronPort, type NeutronSubnet } from '../host/neutron.js';
import type { NetConf } from './config.js';
import { CNI_CODE, CniError } from './errors.js';

export const DEVICE_OWNER = 'compute:container';

export async function connectIpam(conf: NetConf): Promise<NeutronClient> {
  if (conf.auth === undefined) return NeutronClient.noauth(conf.endpoint);
  const a = conf.auth;
  return ipamCall(() =>
    NeutronClient.keystone(
      {
        authUrl: a.auth_url,
        username: a.username,
        password: a.password,
        tenantId: a.project_id,
        ...(a.user_domain === undefined ? {} : { userDomain: a.user_domain }),
      },
      conf.endpoint,
    ),
  );
}

/** Runs an IPAM request, turning its failures into CNI errors. */
export async function ipamCall<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw ipamError(e);
  }
}

export function ipamError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (e instanceof NeutronError) {
    if (e.status >= 500) return new CniError(CNI_CODE.TRY_AGAIN_LATER, `IPAM: ${e.message}`, e.type);
    return new CniError(CNI_CODE.IPAM_FAILURE, `IPAM: ${e.message}`, e.type);
  }
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return new CniError(CNI_CODE.TRY_AGAIN_LATER, `IPAM unreachable: ${cause?.message ?? (e as Error).message}`);
}

/** The attachment's port name: its host, CNI network and interface. */
export function portName(conf: NetConf, ifname: string): string {
  return `${portPrefix(conf)}${ifname}`;
}

export function portPrefix(conf: NetConf): string {
  return `cni:${conf.host ?? hostname()}:${conf.name}:`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The network and the attachment's port. A network given by id needs no
 * lookup first: the port is created while the network (its MTU) and its
 * subnets are read, so ADD waits for one IPAM round trip, not three.
 */
export async function allocateOn(
  c: NeutronClient,
  conf: NetConf,
  containerId: string,
  ifname: string,
  want: Parameters<typeof allocate>[5],
): Promise<Allocation & { net: NeutronNetwork }> {
  if (UUID.test(conf.network)) {
    const subnets = c.listSubnets({ network_id: conf.network });
    subnets.catch(() => undefined);
    const [net, a] = await Promise.allSettled([
      c.getNetwork(conf.network),
      allocate(c, conf, conf.network, containerId, ifname, want, subnets),
    ]);
    if (net.status === 'fulfilled' && a.status === 'fulfilled') return { ...a.value, net: net.value };
    if (a.status === 'fulfilled') await c.deletePort(a.value.port.id).catch(() => undefined);
    if (net.status === 'fulfilled') throw (a as PromiseRejectedResult).reason;
  }
  const net = await resolveNetwork(c, conf.network);
  return { ...(await allocate(c, conf, net.id, containerId, ifname, want)), net };
}

/** The network by id, else by name (exactly one). */
export async function resolveNetwork(c: NeutronClient, ref: string): Promise<NeutronNetwork> {
  try {
    return await c.getNetwork(ref);
  } catch (e) {
    if (!(e instanceof NeutronError && e.status === 404)) throw ipamError(e);
  }
  const found = await ipamCall(() => c.listNetworks({ name: ref }));
  if (found.length === 1) return found[0]!;
  if (found.length === 0) throw new CniError(CNI_CODE.INVALID_CONFIG, `network "${ref}" not found in the IPAM`);
  throw new CniError(CNI_CODE.INVALID_CONFIG, `more than one network is named "${ref}"; give its id`);
}

export interface Allocation {
  readonly port: NeutronPort;
  readonly subnet: NeutronSubnet;
}

/** Creates the attachment's port (fixed IP and MAC when asked) and finds its subnet. */
export async function allocate(
  c: NeutronClient,
  conf: NetConf,
  networkId: string,
  containerId: string,
  ifname: string,
  want: { ip?: string; mac?: string; profile?: Record<string, unknown> },
  /** The network's subnets, when they are being read already. */
  subnets?: Promise<NeutronSubnet[]>,
): Promise<Allocation> {
  const body = {
    network_id: networkId,
    name: portName(conf, ifname),
    device_id: containerId,
    device_owner: DEVICE_OWNER,
    ...(want.ip === undefined ? {} : { fixed_ips: [{ ip_address: want.ip }] }),
    ...(want.mac === undefined ? {} : { mac_address: want.mac }),
    ...(want.profile === undefined ? {} : { 'binding:profile': want.profile }),
    ...(conf.host === undefined ? {} : { 'binding:host_id': conf.host }),
  };
  const port = await ipamCall(() => c.createPort(body));
  try {
    const fixed = port.fixed_ips.find((f) => !f.ip_address.includes(':')) ?? port.fixed_ips[0];
    if (fixed === undefined)
      throw new CniError(CNI_CODE.IPAM_FAILURE, `IPAM: network ${conf.network} gave the port no address (does it have a subnet?)`);
    const listed = subnets === undefined ? undefined : (await subnets.catch(() => [])).find((s) => s.id === fixed.subnet_id);
    const subnet = listed ?? (await ipamCall(() => c.getSubnet(fixed.subnet_id)));
    return { port, subnet };
  } catch (e) {
    await c.deletePort(port.id).catch(() => undefined);
    throw e;
  }
}

/** The attachment's ports (normally one). */
export async function findPorts(
  c: NeutronClient,
  conf: NetConf,
  networkId: string | undefined,
  containerId: string,
  ifname: string,
): Promise<NeutronPort[]> {
  const q: Record<string, string> = { device_id: containerId, name: portName(conf, ifname) };
  if (networkId !== undefined) q['network_id'] = networkId;
  return ipamCall(() => c.listPorts(q));
}

export async function deletePort(c: NeutronClient, id: string): Promise<void> {
  try {
    await c.deletePort(id);
  } catch (e) {
    if (!(e instanceof NeutronError && e.status === 404)) throw ipamError(e);
  }
}
