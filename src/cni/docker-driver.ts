/**
 * The libnetwork remote drivers (CONTAINERS.md §3, RECIPES.md §3): a
 * NetworkDriver and an IpamDriver (src/cni/docker-ipam.ts), local scope,
 * backed by the ovnts IPAM and this host's OVS — the same IPAM client and
 * the same veth/OVS code as the CNI plugin.
 *
 * CreateNetwork claims the pools our IpamDriver made (or, with another IPAM
 * driver, makes the Neutron network and subnets itself). CreateEndpoint
 * finds the endpoint's port by its address (our IPAM made it) and marks it
 * with the endpoint id, or creates it; Join makes the veth (Docker moves the
 * SrcName end into the container) and plugs the other end into the bridge:
 * host mode, br-int with iface-id = the port, answering once the controller
 * has installed it; nested mode (the plugin in a VM, CONTAINERS.md §4), the
 * VM's bridge as an access port of the port's VLAN, answering once the IPAM
 * reports the port ACTIVE. Endpoints are held in memory and found again in
 * the IPAM after a restart of the daemon (their ports carry the endpoint id
 * as device_id), so a restart between CreateEndpoint and Join, or before
 * DeleteEndpoint, loses none and leaks none.
 */
import type { NeutronClient, NeutronPort } from '../host/neutron.js';
import type { OvsDb } from '../host/ovs-db.js';
import { command } from '../host/command.js';
import { netnsTarget, removeHostLink } from '../host/netns-veth.js';
import { ipamCall } from './ipam.js';
import { tagOf, waitActive } from './nested.js';
import { addPort, deletePort, waitInstalled } from './ovs-port.js';
import { Resources } from './resources.js';
import { adoptPool, ipamHandlers, POOL_PREFIX } from './docker-ipam.js';
import {
  createEndpointPort,
  deleteEndpointPort,
  DriverError,
  gatewaysOf,
  NET_PREFIX,
  networkOf,
  portByAddress,
  type EndpointPorts,
} from './docker-ports.js';

export { DriverError } from './docker-ports.js';

export const PLUGIN_CONTENT_TYPE = 'application/vnd.docker.plugins.v1.2+json';

export interface DockerDriverOptions {
  readonly neutron: NeutronClient;
  /** This host's OVS database; nested, the VM's. */
  readonly ovsDb: string;
  /** br-int (host mode); the VM's bridge (nested). */
  readonly bridge: string;
  /** Where ovs-vswitchd runs (the host ends go there); default: here. */
  readonly ovsNetns?: string;
  /** Nested mode (the plugin runs in a VM): the VM's own Neutron port, parent of the endpoints' ports. */
  readonly vifId?: string;
  /** How long Join waits for the port to be installed (host) or ACTIVE (nested). */
  readonly installTimeoutMs: number;
  readonly log: (msg: string) => void;
}

type Json = Record<string, unknown>;

interface Endpoint {
  readonly port: NeutronPort;
  readonly gateway: string;
  readonly gateway6: string;
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

export function createDockerDriver(o: DockerDriverOptions): DockerDriver {
  const c = o.neutron;
  const endpoints = new Map<string, Endpoint>();
  // One OVSDB connection for the daemon's life, opened on first use.
  const res = new Resources();
  const ovs = (): Promise<OvsDb> => res.ovs(o.ovsDb);
  const ports: EndpointPorts = { c, vm: o.vifId === undefined ? undefined : { vifId: o.vifId, bridge: o.bridge, ovs } };

  /**
   * An endpoint this daemon does not hold (it was restarted since
   * CreateEndpoint): CreateEndpoint gave its port the endpoint id as
   * device_id, so it is found again in the IPAM. A port named after the
   * endpoint is one CreateEndpoint made itself.
   */
  const recover = async (eid: string, networkId: string): Promise<Endpoint | undefined> => {
    const port = (await ipamCall(() => c.listPorts({ device_id: eid })))[0];
    if (port === undefined) return undefined;
    const net = await networkOf(c, networkId).catch(() => undefined);
    const ep = { port, ...gatewaysOf(port, net?.subnets ?? []), ownPort: port.name === eid };
    endpoints.set(eid, ep);
    return ep;
  };

  /** Plugs the host end into the bridge and waits until the endpoint can send. */
  const plug = async (db: OvsDb, eid: string, networkId: string, ep: Endpoint, host: string): Promise<void> => {
    const tag = tagOf(ep.port['binding:profile']);
    if (ports.vm !== undefined && tag === undefined) throw new DriverError(`port ${ep.port.id} has no VLAN tag (nested mode)`);
    await addPort(db, {
      bridge: o.bridge,
      name: host,
      network: `${NET_PREFIX}${networkId}`,
      containerId: eid,
      ifname: 'eth',
      mac: ep.port.mac_address,
      ...(ports.vm === undefined ? { ifaceId: ep.port.id } : { tag: tag! }),
    });
  };

  const waitReady = async (db: OvsDb, ep: Endpoint, host: string): Promise<void> => {
    if (ports.vm === undefined) await waitInstalled(db, host, o.installTimeoutMs);
    else await waitActive(c, ep.port.id, o.installTimeoutMs);
  };

  const handlers: Record<string, (b: Json) => Promise<Json>> = {
    'Plugin.Activate': async () => ({ Implements: ['NetworkDriver', 'IpamDriver'] }),
    'NetworkDriver.GetCapabilities': async () => ({ Scope: 'local', ConnectivityScope: 'local' }),
    ...ipamHandlers(ports),
    'NetworkDriver.CreateNetwork': async (b) => {
      const id = String(b['NetworkID']);
      const v4 = ((b['IPv4Data'] ?? []) as Json[])[0];
      const v6s = (b['IPv6Data'] ?? []) as Json[];
      if (v4 === undefined) throw new DriverError('ovnts: the network needs an IPv4 subnet');
      const pool = String(v4['Pool']);
      const gw = (d: Json): string => String(d['Gateway'] ?? '').split('/')[0] ?? '';
      const claimed = (await ipamCall(() => c.listNetworks({ name: `${POOL_PREFIX}${pool}` })))[0];
      if (claimed !== undefined) {
        await ipamCall(() => c.renameNetwork(claimed.id, `${NET_PREFIX}${id}`));
        for (const d of v6s) await adoptPool(c, claimed.id, String(d['Pool']), gw(d));
        return {};
      }
      // Another IPAM driver chose the pools: the network and subnets are ours to make.
      const net = await ipamCall(() => c.createNetwork(`${NET_PREFIX}${id}`));
      const gateway = gw(v4);
      await ipamCall(() => c.createSubnet(net.id, `${NET_PREFIX}${id}`, pool, gateway === '' ? {} : { gateway }));
      for (const d of v6s) await adoptPool(c, net.id, String(d['Pool']), gw(d));
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
      const addresses = [iface['Address'], iface['AddressIPv6']].map((a) => String(a ?? '').split('/')[0]!).filter((a) => a !== '');
      if (addresses[0] === undefined) throw new DriverError('ovnts: the endpoint has no address');
      const mac = String(iface['MacAddress'] ?? '');
      const net = await networkOf(c, String(b['NetworkID']));
      const found = await portByAddress(c, net.id, addresses[0]);
      // Our IPAM's port: marked with the endpoint, so that Join finds it again after a restart.
      const port =
        found === undefined
          ? await createEndpointPort(ports, {
              network_id: net.id,
              name: eid,
              device_id: eid,
              fixed_ips: addresses.map((ip) => ({ ip_address: ip })),
              ...(mac === '' ? {} : { mac_address: mac }),
            })
          : await ipamCall(() => c.updatePort(found.id, { device_id: eid }));
      endpoints.set(eid, { port, ...gatewaysOf(port, net.subnets), ownPort: found === undefined });
      return { Interface: mac === '' ? { MacAddress: port.mac_address } : {} };
    },
    'NetworkDriver.Join': async (b) => {
      const eid = String(b['EndpointID']);
      const networkId = String(b['NetworkID']);
      const ep = endpoints.get(eid) ?? (await recover(eid, networkId));
      if (ep === undefined) throw new DriverError(`endpoint ${eid} was not created by this plugin`);
      const host = hostEnd(eid);
      const src = sandboxEnd(eid);
      await command('ip', [
        'link',
        'add',
        'name',
        src,
        'address',
        ep.port.mac_address,
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
        // Up before it is a port: ovs-vswitchd sets IFF_PROMISC by writing back the flags it read when it
        // opened the device, so an `ip link set up` landing in between would leave the port down for good.
        await Promise.all([
          command('ethtool', ['-K', src, 'tx', 'off']),
          command(up[0]!, up.slice(1)).then(() => plug(db, eid, networkId, ep, host)),
        ]);
        await waitReady(db, ep, host);
      } catch (e) {
        await deletePort(db, o.bridge, host).catch(() => undefined);
        await removeHostLink(o.ovsNetns, host);
        throw e;
      }
      return {
        InterfaceName: { SrcName: src, DstPrefix: 'eth' },
        ...(ep.gateway === '' ? {} : { Gateway: ep.gateway }),
        ...(ep.gateway6 === '' ? {} : { GatewayIPv6: ep.gateway6 }),
      };
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
      if (ep?.ownPort === true) await deleteEndpointPort(ports, ep.port);
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
