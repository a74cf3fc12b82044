/**
 * The libnetwork IpamDriver on the ovnts IPAM (RECIPES.md §3).
 *
 * Pools: RequestPool makes a Neutron network `docker-pool-CIDR` with the
 * pool's subnet (IPv4, or IPv6 with the address modes given as `--ipam-opt
 * ipv6_address_mode=…`/`ipv6_ra_mode=…`); its subnet id is the PoolID.
 * Docker asks for each family's pool apart, before it names the network;
 * CreateNetwork then claims the IPv4 pool's network and moves the IPv6
 * pools' subnets into it (one logical switch for both families), each moved
 * subnet recording its PoolID in its description, where later requests find it.
 *
 * Addresses: an endpoint is one Neutron port. RequestAddress for IPv4 makes
 * it (with Docker's MAC, as RequiresMACAddress asks); for IPv6 it adds the
 * address to the port of that MAC (SLAAC subnets give it the MAC's EUI-64
 * address, others one from the pool or the one asked for).
 */
import type { NeutronClient, NeutronPort, NeutronSubnet } from '../host/neutron.js';
import { NeutronError } from '../host/neutron.js';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../lib/address-text.js';
import { DEVICE_OWNER, ipamCall } from './ipam.js';
import {
  createEndpointPort,
  deleteEndpointPort,
  DriverError,
  isV6,
  NET_PREFIX,
  portByAddress,
  prefixLen,
  type EndpointPorts,
} from './docker-ports.js';

type Json = Record<string, unknown>;

const GATEWAY_TYPE = 'com.docker.network.gateway';
const MAC_OPTION = 'com.docker.network.endpoint.macaddress';
/** The Neutron network (and subnet) of a pool not yet claimed by a Docker network. */
export const POOL_PREFIX = 'docker-pool-';
/** The description of an IPv6 pool's subnet once moved into its Docker network: this, then its PoolID. */
const MOVED_POOL = 'docker-pool-id:';
const IPV6_OPTIONS = { ipv6_address_mode: 'ipv6AddressMode', ipv6_ra_mode: 'ipv6RaMode' } as const;

function isNotFound(e: unknown): boolean {
  return e instanceof NeutronError && e.status === 404;
}

/** The subnet of a PoolID: the pool's own, or (IPv6) the one it was moved to; undefined when gone. */
async function findPool(c: NeutronClient, poolId: string): Promise<NeutronSubnet | undefined> {
  try {
    return await c.getSubnet(poolId);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  return (await ipamCall(() => c.listSubnets({ description: `${MOVED_POOL}${poolId}` })))[0];
}

async function poolSubnet(c: NeutronClient, poolId: string): Promise<NeutronSubnet> {
  const s = await ipamCall(() => findPool(c, poolId));
  if (s === undefined) throw new DriverError(`pool ${poolId} is not known to the ovnts IPAM`);
  return s;
}

/** `--ipam-opt ipv6_address_mode=… ipv6_ra_mode=…`, as Neutron spells them (Neutron checks the values). */
function ipv6Modes(opts: Json): { ipv6AddressMode?: string; ipv6RaMode?: string } {
  const out: { ipv6AddressMode?: string; ipv6RaMode?: string } = {};
  for (const [opt, key] of Object.entries(IPV6_OPTIONS)) {
    const v = opts[opt];
    if (typeof v === 'string' && v !== '') out[key] = v;
  }
  return out;
}

type Range = { readonly start: string; readonly end: string };

/** The allocation pools with `ip` taken out: it becomes the gateway, which Neutron keeps out of the pools. */
function poolsWithout(pools: readonly Range[], ip: string): Range[] {
  const [parse, format] = isV6(ip) ? [parseIpv6, formatIpv6] : [parseIpv4, formatIpv4];
  const x = parse(ip);
  const out: Range[] = [];
  for (const p of pools) {
    const [a, b] = [parse(p.start), parse(p.end)];
    if (x === undefined || a === undefined || b === undefined || x < a || x > b) {
      out.push(p);
      continue;
    }
    if (a < x) out.push({ start: p.start, end: format(x - 1n) });
    if (x < b) out.push({ start: format(x + 1n), end: p.end });
  }
  return out;
}

/**
 * Moves the IPv6 pool of `cidr` into network `netId` (CreateNetwork with our
 * IPAM): the same subnet there, remembering its PoolID, then the pool's own
 * network goes. Without such a pool (another IPAM chose it) the subnet is made.
 */
export async function adoptPool(c: NeutronClient, netId: string, cidr: string, gateway: string): Promise<void> {
  const [pool] = await ipamCall(() => c.listNetworks({ name: `${POOL_PREFIX}${cidr}` }));
  const old = pool?.subnets[0] === undefined ? undefined : await ipamCall(() => c.getSubnet(pool.subnets[0]!));
  if (pool === undefined || old === undefined) {
    await ipamCall(() => c.createSubnet(netId, `${NET_PREFIX}${cidr}`, cidr, { ipVersion: 6, ...(gateway === '' ? {} : { gateway }) }));
    return;
  }
  await ipamCall(() =>
    c.createSubnet(netId, old.name, old.cidr, {
      ipVersion: 6,
      ...(old.gateway_ip === null ? {} : { gateway: old.gateway_ip }),
      ...(old.ipv6_address_mode == null ? {} : { ipv6AddressMode: old.ipv6_address_mode }),
      ...(old.ipv6_ra_mode == null ? {} : { ipv6RaMode: old.ipv6_ra_mode }),
      description: `${MOVED_POOL}${old.id}`,
    }),
  );
  await ipamCall(() => c.deleteNetwork(pool.id));
}

/**
 * An IPv6 address for the endpoint whose port already holds its IPv4 one
 * (the port of Docker's MAC on that network): kept when the port has one
 * there already (SLAAC), else added to the port's fixed IPs.
 */
async function addAddress(c: NeutronClient, port: NeutronPort, subnet: NeutronSubnet, want: string): Promise<string> {
  const have = port.fixed_ips.find((f) => f.subnet_id === subnet.id);
  if (have !== undefined && (want === '' || have.ip_address === want)) return have.ip_address;
  const fixed = [
    ...port.fixed_ips.filter((f) => f.subnet_id !== subnet.id).map((f) => ({ subnet_id: f.subnet_id, ip_address: f.ip_address })),
    { subnet_id: subnet.id, ...(want === '' ? {} : { ip_address: want }) },
  ];
  const updated = await ipamCall(() => c.updatePort(port.id, { fixed_ips: fixed }));
  const got = updated.fixed_ips.find((f) => f.subnet_id === subnet.id);
  if (got === undefined) throw new DriverError(`the IPAM gave port ${port.id} no address on ${subnet.cidr}`);
  return got.ip_address;
}

export function ipamHandlers(p: EndpointPorts): Record<string, (b: Json) => Promise<Json>> {
  const c = p.c;
  return {
    'IpamDriver.GetCapabilities': async () => ({ RequiresMACAddress: true, RequiresRequestReplay: false }),
    'IpamDriver.GetDefaultAddressSpaces': async () => ({
      LocalDefaultAddressSpace: 'ovnts-local',
      GlobalDefaultAddressSpace: 'ovnts-global',
    }),
    'IpamDriver.RequestPool': async (b) => {
      const pool = String(b['Pool'] ?? '');
      const v6 = b['V6'] === true;
      if (pool === '') throw new DriverError(`ovnts: give the network an ${v6 ? 'IPv6' : 'IPv4'} --subnet`);
      const opts = (b['Options'] ?? {}) as Json;
      const net = await ipamCall(() => c.createNetwork(`${POOL_PREFIX}${pool}`));
      try {
        const subnet = await ipamCall(() =>
          c.createSubnet(net.id, `${POOL_PREFIX}${pool}`, pool, v6 ? { ipVersion: 6, ...ipv6Modes(opts) } : {}),
        );
        return { PoolID: subnet.id, Pool: subnet.cidr, Data: {} };
      } catch (e) {
        await c.deleteNetwork(net.id).catch(() => undefined);
        throw e;
      }
    },
    'IpamDriver.RequestAddress': async (b) => {
      const subnet = await poolSubnet(c, String(b['PoolID']));
      const opts = (b['Options'] ?? {}) as Json;
      const want = String(b['Address'] ?? '');
      const len = prefixLen(subnet.cidr);
      if (opts['RequestAddressType'] === GATEWAY_TYPE) {
        // `--gateway`: the subnet's gateway becomes it (Join answers with the subnet's).
        if (want !== '' && want !== subnet.gateway_ip) {
          const update = { gateway_ip: want, allocation_pools: poolsWithout(subnet.allocation_pools ?? [], want) };
          await ipamCall(() => c.updateSubnet(subnet.id, update));
        }
        const gw = want !== '' ? want : subnet.gateway_ip;
        if (gw === null || gw === '') throw new DriverError(`subnet ${subnet.cidr} has no gateway`);
        return { Address: `${gw}/${len}`, Data: {} };
      }
      const mac = typeof opts[MAC_OPTION] === 'string' && opts[MAC_OPTION] !== '' ? String(opts[MAC_OPTION]) : undefined;
      // Docker asks for the IPv4 address first: an IPv6 one goes on the port that holds it.
      if (isV6(subnet.cidr) && mac !== undefined) {
        const q = { network_id: subnet.network_id, mac_address: mac, device_owner: DEVICE_OWNER };
        const [held] = await ipamCall(() => c.listPorts(q));
        if (held !== undefined) return { Address: `${await addAddress(c, held, subnet, want)}/${len}`, Data: {} };
      }
      const port = await createEndpointPort(p, {
        network_id: subnet.network_id,
        name: 'docker',
        fixed_ips: [{ subnet_id: subnet.id, ...(want === '' ? {} : { ip_address: want }) }],
        ...(mac === undefined ? {} : { mac_address: mac }),
      });
      const got = port.fixed_ips.find((f) => f.subnet_id === subnet.id) ?? port.fixed_ips[0]!;
      return { Address: `${got.ip_address}/${len}`, Data: {} };
    },
    'IpamDriver.ReleaseAddress': async (b) => {
      const subnet = await ipamCall(() => findPool(c, String(b['PoolID'])));
      const ip = String(b['Address'] ?? '');
      if (subnet === undefined || ip === subnet.gateway_ip) return {};
      // Docker releases an endpoint's addresses only when the endpoint goes: the port goes with the first.
      const port = await portByAddress(c, subnet.network_id, ip);
      if (port !== undefined) await deleteEndpointPort(p, port);
      return {};
    },
    'IpamDriver.ReleasePool': async (b) => {
      const subnet = await ipamCall(() => findPool(c, String(b['PoolID'])));
      if (subnet === undefined) return {};
      await ipamCall(() => c.deleteNetwork(subnet.network_id)).catch((e: unknown) => {
        if (!(e instanceof Error && /could not be found/.test(e.message))) throw e;
      });
      return {};
    },
  };
}
