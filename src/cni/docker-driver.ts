/**
 * The libnetwork remote drivers (CONTAINERS.md §3, RECIPES.md §3): a
 * NetworkDriver and an IpamDriver, local scope, backed by the ovnts IPAM
 * and this host's OVS — the same IPAM client and the same veth/OVS code as
 * the CNI plugin.
 *
 * Pools: RequestPool makes a Neutron network and subnet for the pool (its
 * id is the PoolID); CreateNetwork claims it by naming the network
 * `docker-<NetworkID>` (with another IPAM driver it makes them itself).
 * Addresses: RequestAddress creates the Neutron port (with Docker's MAC, as
 * RequiresMACAddress asks); CreateEndpoint finds it by address (or creates
 * it); Join makes the veth (Docker moves the SrcName end into the
 * container), plugs the other end into br-int with iface-id = the port, and
 * answers once the controller has installed it. Endpoints are held in
 * memory and found again in the IPAM after a restart of the daemon (the
 * ports CreateEndpoint makes carry the endpoint id), so none leaks.
 */
import type { NeutronClient, NeutronPort, NeutronSubnet } from '../host/neutron.js';
import type { OvsDb } from '../host/ovs-db.js';
import { NeutronError } from '../host/neutron.js';
import { command } from '../host/command.js';
import { netnsTarget, removeHostLink } from '../host/netns-veth.js';
import { deletePort as deleteNeutronPort, DEVICE_OWNER, ipamCall } from './ipam.js';
import { addPort, deletePort, waitInstalled } from './ovs-port.js';
import { Resources } from './resources.js';

export const PLUGIN_CONTENT_TYPE = 'application/vnd.docker.plugins.v1.2+json';
const GATEWAY_TYPE = 'com.docker.network.gateway';
const MAC_OPTION = 'com.docker.network.endpoint.macaddress';
const POOL_PREFIX = 'docker-pool-';
const NET_PREFIX = 'docker-';

export interface DockerDriverOptions {
  readonly neutron: NeutronClient;
  readonly ovsDb: string;
  readonly bridge: string;
  /** Where ovs-vswitchd runs (the host ends go there); default: here. */
  readonly ovsNetns?: string;
  readonly installTimeoutMs: number;
  readonly log: (msg: string) => void;
}

type Json = Record<string, unknown>;

/** A driver error: answered as `{"Err": message}`. */
export class DriverError extends Error {}

interface Endpoint {
  readonly portId: string;
  readonly mac: string;
  readonly gateway: string;
  /** Made by CreateEndpoint (another IPAM chose the address): DeleteEndpoint deletes it. */
  readonly ownPort: boolean;
}

export interface DockerDriver {
  /** Handles `POST /METHOD` with its JSON body; resolves to the reply. Unknown methods: undefined (404). */
  handle(method: string, body: Json): Promise<Json | undefined>;
  /** Closes its connection to the OVS database. */
  close(): Promise<void>;
}

function hostEnd(endpointId: string): string {
  return `ovd${endpointId.slice(0, 12)}`;
}

function sandboxEnd(endpointId: string): string {
  return `ovc${endpointId.slice(0, 12)}`;
}

function prefixLen(cidr: string): string {
  return cidr.split('/')[1] ?? '32';
}

export function createDockerDriver(o: DockerDriverOptions): DockerDriver {
  const c = o.neutron;
  const endpoints = new Map<string, Endpoint>();
  // One OVSDB connection for the daemon's life, opened on first use.
  const res = new Resources();
  const ovs = (): Promise<OvsDb> => res.ovs(o.ovsDb);

  const networkOf = async (networkId: string): Promise<{ id: string; subnet: NeutronSubnet }> => {
    const [net] = await ipamCall(() => c.listNetworks({ name: `${NET_PREFIX}${networkId}` }));
    if (net === undefined) throw new DriverError(`network ${networkId} is not known to the ovnts IPAM`);
    const subnetId = net.subnets[0];
    if (subnetId === undefined) throw new DriverError(`network ${networkId} has no subnet`);
    return { id: net.id, subnet: await ipamCall(() => c.getSubnet(subnetId)) };
  };

  /**
   * An endpoint this daemon does not hold (it was restarted since
   * CreateEndpoint): a port CreateEndpoint made itself carries the endpoint
   * id as its name and device_id in the IPAM, so it is found again there.
   */
  const recover = async (eid: string, networkId: string): Promise<Endpoint | undefined> => {
    const own = (await ipamCall(() => c.listPorts({ device_id: eid, name: eid })))[0];
    if (own === undefined) return undefined;
    const net = await networkOf(networkId).catch(() => undefined);
    const ep = { portId: own.id, mac: own.mac_address, gateway: net?.subnet.gateway_ip ?? '', ownPort: true };
    endpoints.set(eid, ep);
    return ep;
  };

  const portByAddress = async (networkId: string, ip: string): Promise<NeutronPort | undefined> =>
    (await ipamCall(() => c.listPorts({ network_id: networkId, fixed_ips: `ip_address=${ip}` })))[0];

  const handlers: Record<string, (b: Json) => Promise<Json>> = {
    'Plugin.Activate': async () => ({ Implements: ['NetworkDriver', 'IpamDriver'] }),
    'NetworkDriver.GetCapabilities': async () => ({ Scope: 'local', ConnectivityScope: 'local' }),
    'IpamDriver.GetCapabilities': async () => ({ RequiresMACAddress: true, RequiresRequestReplay: false }),
    'IpamDriver.GetDefaultAddressSpaces': async () => ({
      LocalDefaultAddressSpace: 'ovnts-local',
      GlobalDefaultAddressSpace: 'ovnts-global',
    }),
    'IpamDriver.RequestPool': async (b) => {
      const pool = String(b['Pool'] ?? '');
      if (b['V6'] === true) throw new DriverError('ovnts: IPv6 pools are not supported');
      if (pool === '') throw new DriverError('ovnts: give the network a --subnet');
      const net = await ipamCall(() => c.createNetwork(`${POOL_PREFIX}${pool}`));
      try {
        const subnet = await ipamCall(() => c.createSubnet(net.id, `${POOL_PREFIX}${pool}`, pool));
        return { PoolID: subnet.id, Pool: subnet.cidr, Data: {} };
      } catch (e) {
        await c.deleteNetwork(net.id).catch(() => undefined);
        throw e;
      }
    },
    'IpamDriver.RequestAddress': async (b) => {
      const subnet = await ipamCall(() => c.getSubnet(String(b['PoolID'])));
      const opts = (b['Options'] ?? {}) as Json;
      const want = String(b['Address'] ?? '');
      const len = prefixLen(subnet.cidr);
      if (opts['RequestAddressType'] === GATEWAY_TYPE) {
        const gw = want !== '' ? want : subnet.gateway_ip;
        if (gw === null || gw === '') throw new DriverError(`subnet ${subnet.cidr} has no gateway`);
        return { Address: `${gw}/${len}`, Data: {} };
      }
      const mac = typeof opts[MAC_OPTION] === 'string' && opts[MAC_OPTION] !== '' ? String(opts[MAC_OPTION]) : undefined;
      const body = {
        network_id: subnet.network_id,
        name: 'docker',
        device_owner: DEVICE_OWNER,
        fixed_ips: [{ subnet_id: subnet.id, ...(want === '' ? {} : { ip_address: want }) }],
        ...(mac === undefined ? {} : { mac_address: mac }),
      };
      const port = await ipamCall(() => c.createPort(body));
      return { Address: `${port.fixed_ips[0]!.ip_address}/${len}`, Data: {} };
    },
    'IpamDriver.ReleaseAddress': async (b) => {
      const subnet = await ipamCall(() => c.getSubnet(String(b['PoolID'])));
      const ip = String(b['Address'] ?? '');
      if (ip === subnet.gateway_ip) return {};
      const port = await portByAddress(subnet.network_id, ip);
      if (port !== undefined) await deleteNeutronPort(c, port.id);
      return {};
    },
    'IpamDriver.ReleasePool': async (b) => {
      let subnet: NeutronSubnet;
      try {
        subnet = await c.getSubnet(String(b['PoolID']));
      } catch (e) {
        if (e instanceof NeutronError && e.status === 404) return {};
        throw e;
      }
      await ipamCall(() => c.deleteNetwork(subnet.network_id)).catch((e: unknown) => {
        if (!(e instanceof Error && /could not be found/.test(e.message))) throw e;
      });
      return {};
    },
    'NetworkDriver.CreateNetwork': async (b) => {
      const id = String(b['NetworkID']);
      const v4 = ((b['IPv4Data'] ?? []) as Json[])[0];
      if (v4 === undefined) throw new DriverError('ovnts: the network needs an IPv4 subnet');
      const pool = String(v4['Pool']);
      const gateway = String(v4['Gateway'] ?? '').split('/')[0] ?? '';
      const claimed = (await ipamCall(() => c.listNetworks({ name: `${POOL_PREFIX}${pool}` })))[0];
      if (claimed !== undefined) {
        await ipamCall(() => c.renameNetwork(claimed.id, `${NET_PREFIX}${id}`));
        return {};
      }
      // Another IPAM driver chose the pool: the network and subnet are ours to make.
      const net = await ipamCall(() => c.createNetwork(`${NET_PREFIX}${id}`));
      await ipamCall(() => c.createSubnet(net.id, `${NET_PREFIX}${id}`, pool, gateway === '' ? undefined : gateway));
      return {};
    },
    'NetworkDriver.DeleteNetwork': async (b) => {
      const [net] = await ipamCall(() => c.listNetworks({ name: `${NET_PREFIX}${String(b['NetworkID'])}` }));
      if (net === undefined) return {};
      // Our IPAM's pool: ReleasePool deletes it; otherwise it is ours to delete.
      const subnetId = net.subnets[0];
      const subnet = subnetId === undefined ? undefined : await ipamCall(() => c.getSubnet(subnetId));
      if (subnet === undefined || subnet.name !== `${POOL_PREFIX}${subnet.cidr}`) await ipamCall(() => c.deleteNetwork(net.id));
      return {};
    },
    'NetworkDriver.CreateEndpoint': async (b) => {
      const eid = String(b['EndpointID']);
      const iface = (b['Interface'] ?? {}) as Json;
      const address = String(iface['Address'] ?? '');
      if (address === '') throw new DriverError('ovnts: the endpoint has no IPv4 address');
      const ip = address.split('/')[0]!;
      const mac = String(iface['MacAddress'] ?? '');
      const net = await networkOf(String(b['NetworkID']));
      let port = await portByAddress(net.id, ip);
      const ownPort = port === undefined;
      if (port === undefined) {
        const body = {
          network_id: net.id,
          name: eid,
          device_id: eid,
          device_owner: DEVICE_OWNER,
          fixed_ips: [{ subnet_id: net.subnet.id, ip_address: ip }],
          ...(mac === '' ? {} : { mac_address: mac }),
        };
        port = await ipamCall(() => c.createPort(body));
      }
      endpoints.set(eid, { portId: port.id, mac: port.mac_address, gateway: net.subnet.gateway_ip ?? '', ownPort });
      return { Interface: mac === '' ? { MacAddress: port.mac_address } : {} };
    },
    'NetworkDriver.Join': async (b) => {
      const eid = String(b['EndpointID']);
      const ep = endpoints.get(eid) ?? (await recover(eid, String(b['NetworkID'])));
      if (ep === undefined) throw new DriverError(`endpoint ${eid} was not created by this plugin`);
      const host = hostEnd(eid);
      const src = sandboxEnd(eid);
      await command('ip', [
        'link',
        'add',
        'name',
        src,
        'address',
        ep.mac,
        'type',
        'veth',
        'peer',
        'name',
        host,
        'netns',
        netnsTarget(o.ovsNetns),
      ]);
      const db = await ovs();
      try {
        const inOvs = o.ovsNetns === undefined ? [] : ['nsenter', `--net=${o.ovsNetns}`];
        // The name (from Docker's EndpointID) as the shell's positional parameter, never inside its script.
        const up = [...inOvs, 'sh', '-c', 'ethtool -K "$1" tx off >/dev/null && exec ip link set "$1" up', 'sh', host];
        await Promise.all([
          command('ethtool', ['-K', src, 'tx', 'off']),
          command(up[0]!, up.slice(1)),
          addPort(db, {
            bridge: o.bridge,
            name: host,
            network: `docker-${String(b['NetworkID'])}`,
            containerId: eid,
            ifname: 'eth',
            mac: ep.mac,
            ifaceId: ep.portId,
          }),
        ]);
        await waitInstalled(db, host, o.installTimeoutMs);
      } catch (e) {
        await deletePort(db, o.bridge, host).catch(() => undefined);
        await removeHostLink(o.ovsNetns, host);
        throw e;
      }
      return { InterfaceName: { SrcName: src, DstPrefix: 'eth' }, ...(ep.gateway === '' ? {} : { Gateway: ep.gateway }) };
    },
    'NetworkDriver.Leave': async (b) => {
      const host = hostEnd(String(b['EndpointID']));
      await deletePort(await ovs(), o.bridge, host);
      await removeHostLink(o.ovsNetns, host);
      return {};
    },
    'NetworkDriver.DeleteEndpoint': async (b) => {
      const eid = String(b['EndpointID']);
      const ep = endpoints.get(eid) ?? (await recover(eid, String(b['NetworkID'])));
      endpoints.delete(eid);
      // A port the IPAM driver gave (RequestAddress) is ReleaseAddress's to delete.
      if (ep?.ownPort === true) await deleteNeutronPort(c, ep.portId);
      return {};
    },
    'NetworkDriver.EndpointOperInfo': async () => ({ Value: {} }),
    'NetworkDriver.DiscoverNew': async () => ({}),
    'NetworkDriver.DiscoverDelete': async () => ({}),
    'NetworkDriver.ProgramExternalConnectivity': async () => ({}),
    'NetworkDriver.RevokeExternalConnectivity': async () => ({}),
  };

  return {
    handle: async (method, body) => {
      // Own methods only: `/toString` must not reach Object.prototype.toString.
      const h = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
      if (h === undefined) return undefined;
      try {
        return await h(body);
      } catch (e) {
        o.log(`${method}: ${(e as Error).message}`);
        return { Err: (e as Error).message };
      }
    },
    close: () => res.close(),
  };
}
