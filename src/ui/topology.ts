/**
 * The topology the page draws, built from replicas of the NB and SB
 * (ovn-nb(5), ovn-sb(5)): logical switches with their subnets and ports,
 * container ports nested under their parent VM port with their VLAN tag
 * (Logical_Switch_Port `parent_name`/`tag`), routers with their ports and the
 * switch ports that link to them (`options:router-port`), chassis with the
 * ports bound on each (SB Port_Binding `chassis`), and each port's state:
 * NB `up` (northd's copy of the binding state) and SB Port_Binding `up`
 * (set by the chassis' controller once the port's flows are installed, when
 * it also sets `ovn-installed` on the OVS interface). Pure.
 */
import ipaddr from 'ipaddr.js';
import type * as nb from '../ovsdb/models/ovn-nb.js';
import type * as sb from '../ovsdb/models/ovn-sb.js';

export interface PortView {
  readonly name: string;
  /** Logical_Switch_Port `type` ('' for a VM or container port, `router`, `localnet`…). */
  readonly type: string;
  readonly macs: readonly string[];
  readonly ips: readonly string[];
  /** The VLAN tag of a container port (`tag`, allocated by northd from `tag_request`). */
  readonly tag: number | undefined;
  readonly parent: string | undefined;
  /** For a `router` port: the Logical_Router_Port it links to. */
  readonly routerPort: string | undefined;
  /** The name of the chassis the port is bound on. */
  readonly chassis: string | undefined;
  /** NB `up` (northd sets it from the binding; not yet set counts as down, so setting it to false redraws nothing). */
  readonly up: boolean;
  /** SB Port_Binding `up`: the controller installed the port's flows (`ovn-installed`). */
  readonly installed: boolean;
  readonly enabled: boolean;
  /** Container ports whose `parent_name` is this port. */
  readonly children: readonly PortView[];
}

export interface SwitchView {
  readonly name: string;
  readonly subnets: readonly string[];
  /** Ports without a parent; container ports are under their parent's `children`. */
  readonly ports: readonly PortView[];
}

export interface RouterPortView {
  readonly name: string;
  readonly mac: string;
  readonly networks: readonly string[];
  readonly peer: string | undefined;
}

export interface RouterView {
  readonly name: string;
  readonly ports: readonly RouterPortView[];
}

/** A switch's router port and the router port it links to. */
export interface LinkView {
  readonly switchName: string;
  readonly switchPort: string;
  readonly routerName: string;
  readonly routerPort: string;
}

export interface ChassisView {
  readonly name: string;
  readonly hostname: string;
  /** Logical ports bound on it, sorted. */
  readonly ports: readonly string[];
}

export interface Topology {
  readonly switches: readonly SwitchView[];
  readonly routers: readonly RouterView[];
  readonly links: readonly LinkView[];
  readonly chassis: readonly ChassisView[];
}

/** The NB rows the topology reads (only the columns {@link TOPOLOGY_NB_TABLES} names are set). */
export interface NbRows {
  readonly switches: readonly nb.Logical_Switch[];
  readonly switchPorts: readonly nb.Logical_Switch_Port[];
  readonly routers: readonly nb.Logical_Router[];
  readonly routerPorts: readonly nb.Logical_Router_Port[];
  readonly dhcpOptions: readonly nb.DHCP_Options[];
}

export interface SbRows {
  readonly chassis: readonly sb.Chassis[];
  readonly bindings: readonly sb.Port_Binding[];
}

/** The NB columns the topology reads. */
export const TOPOLOGY_NB_TABLES = {
  Logical_Switch: ['name', 'ports', 'other_config'],
  Logical_Switch_Port: [
    'name',
    'type',
    'addresses',
    'dynamic_addresses',
    'parent_name',
    'tag',
    'tag_request',
    'options',
    'up',
    'enabled',
    'dhcpv4_options',
  ],
  Logical_Router: ['name', 'ports'],
  Logical_Router_Port: ['name', 'mac', 'networks', 'peer'],
  DHCP_Options: ['cidr'],
} as const;

/** The SB columns the topology reads (the page's trace reads more; the monitor takes the union). */
export const TOPOLOGY_SB_TABLES = {
  Chassis: ['name', 'hostname'],
  Port_Binding: ['logical_port', 'chassis', 'up'],
} as const;

const byName = <T extends { readonly name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** `10.0.0.1/24` → `10.0.0.0/24`; text that is not a CIDR stays as it is. */
function networkOf(cidr: string): string {
  try {
    const [addr, len] = ipaddr.parseCIDR(cidr);
    if (addr.kind() === 'ipv4') return `${ipaddr.IPv4.networkAddressFromCIDR(cidr).toString()}/${len}`;
    return `${ipaddr.IPv6.networkAddressFromCIDR(cidr).toString()}/${len}`;
  } catch {
    return cidr;
  }
}

/** MACs and IPs of a port's `addresses` (and `dynamic_addresses`): "MAC IP…", "router", "unknown", "dynamic". */
function addressesOf(p: nb.Logical_Switch_Port): { macs: string[]; ips: string[] } {
  const macs: string[] = [];
  const ips: string[] = [];
  const entries = [...(p.addresses ?? [])];
  if (p.dynamic_addresses !== null && p.dynamic_addresses !== undefined) entries.push(p.dynamic_addresses);
  for (const entry of entries) {
    for (const word of entry.split(/\s+/)) {
      if (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(word)) {
        if (!macs.includes(word)) macs.push(word);
      } else if (ipaddr.isValid(word.split('/')[0] ?? '')) {
        if (!ips.includes(word)) ips.push(word);
      }
    }
  }
  return { macs, ips };
}

/** Builds the topology from the NB and SB rows. */
export function buildTopology(n: NbRows, s: SbRows): Topology {
  const chassisByUuid = new Map(s.chassis.map((c) => [c._uuid, c]));
  const bindingByPort = new Map(s.bindings.map((b) => [b.logical_port, b]));
  const lspByUuid = new Map(n.switchPorts.map((p) => [p._uuid, p]));
  const lrpByUuid = new Map(n.routerPorts.map((p) => [p._uuid, p]));
  const dhcpByUuid = new Map(n.dhcpOptions.map((d) => [d._uuid, d]));
  const routerOfPort = new Map<string, string>();
  const routers: RouterView[] = n.routers
    .map((r) => {
      const ports = (r.ports ?? [])
        .flatMap((u) => lrpByUuid.get(u) ?? [])
        .map((p) => ({ name: p.name, mac: p.mac, networks: [...(p.networks ?? [])], peer: p.peer ?? undefined }))
        .sort(byName);
      for (const p of ports) routerOfPort.set(p.name, r.name);
      return { name: r.name, ports };
    })
    .sort(byName);
  const lrpByName = new Map(n.routerPorts.map((p) => [p.name, p]));

  const links: LinkView[] = [];
  const switches: SwitchView[] = n.switches
    .map((ls) => {
      const lsps = (ls.ports ?? []).flatMap((u) => lspByUuid.get(u) ?? []);
      const subnets = new Set<string>();
      for (const key of ['subnet', 'ipv6_prefix']) {
        const v = ls.other_config?.get(key);
        if (v !== undefined) subnets.add(key === 'ipv6_prefix' && !v.includes('/') ? `${v}/64` : networkOf(v));
      }
      const views = new Map<string, PortView & { children: PortView[] }>();
      for (const p of lsps) {
        const { macs, ips } = addressesOf(p);
        const routerPort = p.type === 'router' ? p.options?.get('router-port') : undefined;
        const binding = bindingByPort.get(p.name);
        const chassisUuid = binding?.chassis ?? null;
        const dhcp = p.dhcpv4_options === null || p.dhcpv4_options === undefined ? undefined : dhcpByUuid.get(p.dhcpv4_options);
        if (dhcp !== undefined) subnets.add(networkOf(dhcp.cidr));
        if (routerPort !== undefined) {
          for (const net of lrpByName.get(routerPort)?.networks ?? []) subnets.add(networkOf(net));
          const routerName = routerOfPort.get(routerPort);
          if (routerName !== undefined) links.push({ switchName: ls.name, switchPort: p.name, routerName, routerPort });
        }
        views.set(p.name, {
          name: p.name,
          type: p.type,
          macs,
          ips,
          tag: p.tag === null || p.tag === undefined ? undefined : Number(p.tag),
          parent: p.parent_name ?? undefined,
          routerPort,
          chassis: chassisUuid === null ? undefined : (chassisByUuid.get(chassisUuid)?.name ?? chassisUuid),
          up: p.up === true,
          installed: binding?.up === true,
          enabled: p.enabled !== false,
          children: [],
        });
      }
      const top: PortView[] = [];
      for (const v of views.values()) {
        const parent = v.parent === undefined ? undefined : views.get(v.parent);
        // A parent on another switch (or none) leaves the container port at the top, still naming its parent.
        if (parent !== undefined && parent !== v) parent.children.push(v);
        else top.push(v);
      }
      for (const v of views.values()) v.children.sort(byName);
      return { name: ls.name, subnets: [...subnets].sort(), ports: top.sort(byName) };
    })
    .sort(byName);

  const bound = new Map<string, string[]>();
  for (const b of s.bindings) {
    if (b.chassis === null || b.chassis === undefined) continue;
    const list = bound.get(b.chassis) ?? [];
    list.push(b.logical_port);
    bound.set(b.chassis, list);
  }
  const chassis = s.chassis.map((c) => ({ name: c.name, hostname: c.hostname, ports: (bound.get(c._uuid) ?? []).sort() })).sort(byName);
  links.sort((a, b) => byName({ name: a.switchPort }, { name: b.switchPort }));
  return { switches, routers, links, chassis };
}
