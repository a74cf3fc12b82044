/**
 * Neutron resources as they are kept in the NB, and back.
 *
 * What ML2/OVN writes (names, `neutron:*` external_ids, LSP columns) is
 * written the same way; what ML2/OVN keeps only in its SQL database is kept
 * as JSON under `ovnts:*` external_ids of the owning row (README.md lists
 * the keys).
 */
import type { Row } from '../ovsdb/client.js';
import { extIds, jsonKey, type NbStore } from './store.js';
import { parseIp } from './addresses.js';

/** Oldest first, then by id: the order Neutron lists resources in (cheaper than localeCompare on every call). */
export function byCreation(a: { created_at: string; id: string }, b: { created_at: string; id: string }): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export const SWITCH_PREFIX = 'neutron-';
export const LRP_PREFIX = 'lrp-';
export const DEFAULT_MTU = 1442;

export const KEY = {
  network: 'ovnts:network',
  subnetPrefix: 'ovnts:subnet:',
  port: 'ovnts:port',
  trunk: 'ovnts:trunk',
  trunkId: 'ovnts:trunk_id',
  router: 'ovnts:router',
  /** A token rewritten by every write that allocates on the network: concurrent ones conflict. */
  alloc: 'ovnts:alloc',
} as const;

interface Stamped {
  project_id: string;
  description: string;
  created_at: string;
  updated_at: string;
}

export interface NetworkExtra extends Stamped {
  admin_state_up: boolean;
  shared: boolean;
  port_security_enabled: boolean;
  router_external: boolean;
  segmentation_id: number;
}

export interface Network extends NetworkExtra {
  id: string;
  row: Row;
  name: string;
  mtu: number;
  revision_number: number;
  subnets: Subnet[];
}

export interface Pool {
  start: string;
  end: string;
}

export interface HostRoute {
  destination: string;
  nexthop: string;
}

export interface SubnetDoc extends Stamped {
  name: string;
  cidr: string;
  ip_version: 4 | 6;
  gateway_ip: string | null;
  allocation_pools: Pool[];
  enable_dhcp: boolean;
  dns_nameservers: string[];
  host_routes: HostRoute[];
  ipv6_ra_mode: string | null;
  ipv6_address_mode: string | null;
  revision_number: number;
}

export interface Subnet extends SubnetDoc {
  id: string;
  network_id: string;
}

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

export interface AddressPair {
  ip_address: string;
  mac_address: string;
}

export interface PortDoc extends Stamped {
  mac_address: string;
  fixed_ips: FixedIp[];
  port_security_enabled: boolean;
  allowed_address_pairs: AddressPair[];
  binding_host_id: string;
  binding_profile: Record<string, unknown>;
  vnic_type: string;
}

export interface Port extends PortDoc {
  id: string;
  row: Row;
  network_id: string;
  name: string;
  device_id: string;
  device_owner: string;
  admin_state_up: boolean;
  revision_number: number;
  up: boolean;
  parent_name: string | null;
  tag_request: number | null;
  trunk_id: string | null;
  /** The fixed IPs as numbers (parsed once per row version, for allocation). */
  ip_values: ReadonlyArray<bigint | undefined>;
}

export interface TrunkDoc extends Stamped {
  id: string;
  name: string;
  admin_state_up: boolean;
  revision_number: number;
}

export interface RouterDoc extends Stamped {}

export interface Router extends RouterDoc {
  id: string;
  row: Row;
  name: string;
  admin_state_up: boolean;
  revision_number: number;
}

function num(s: string | undefined, dflt: number): number {
  const n = Number(s);
  return s === undefined || !Number.isFinite(n) ? dflt : n;
}

/** A Logical_Switch named `neutron-<uuid>` as a network; undefined for other switches. */
export function decodeNetwork(row: Row): Network | undefined {
  const name = row.optional('name') as string;
  if (!name.startsWith(SWITCH_PREFIX)) return undefined;
  const ids = extIds(row);
  const id = name.slice(SWITCH_PREFIX.length);
  const extra = jsonKey<NetworkExtra>(ids, KEY.network);
  const subnets: Subnet[] = [];
  for (const [k, v] of Object.entries(ids)) {
    if (!k.startsWith(KEY.subnetPrefix)) continue;
    try {
      subnets.push({ ...(JSON.parse(v) as SubnetDoc), id: k.slice(KEY.subnetPrefix.length), network_id: id });
    } catch {
      // A key someone else broke: not one of our subnets.
    }
  }
  subnets.sort(byCreation);
  return {
    project_id: '',
    description: '',
    created_at: '',
    updated_at: '',
    admin_state_up: true,
    shared: false,
    port_security_enabled: true,
    router_external: false,
    segmentation_id: 0,
    ...extra,
    id,
    row,
    name: ids['neutron:network_name'] ?? '',
    mtu: num(ids['neutron:mtu'], DEFAULT_MTU),
    revision_number: num(ids['neutron:revision_number'], 0),
    subnets,
  };
}

/** A Logical_Switch_Port of a network switch as a port. */
export function decodePort(row: Row): Port | undefined {
  const ids = extIds(row);
  const net = ids['neutron:network_name'];
  if (net === undefined || !net.startsWith(SWITCH_PREFIX)) return undefined;
  const doc = jsonKey<PortDoc>(ids, KEY.port);
  const addresses = row.set('addresses') as string[];
  const first = addresses.find((a) => a !== 'unknown' && a !== 'router' && a !== 'dynamic');
  const mac = doc?.mac_address ?? first?.split(' ')[0] ?? '';
  const tag = row.optional('tag_request');
  return {
    project_id: ids['neutron:project_id'] ?? '',
    description: '',
    created_at: '',
    updated_at: '',
    fixed_ips: [],
    port_security_enabled: (row.set('port_security') as string[]).length > 0,
    allowed_address_pairs: [],
    binding_host_id: '',
    binding_profile: {},
    vnic_type: 'normal',
    ...doc,
    mac_address: mac,
    id: row.optional('name') as string,
    row,
    network_id: net.slice(SWITCH_PREFIX.length),
    name: ids['neutron:port_name'] ?? '',
    device_id: ids['neutron:device_id'] ?? '',
    device_owner: ids['neutron:device_owner'] ?? '',
    admin_state_up: row.optional('enabled') !== false,
    revision_number: num(ids['neutron:revision_number'], 0),
    up: row.optional('up') === true,
    parent_name: (row.optional('parent_name') as string | null) ?? null,
    tag_request: typeof tag === 'number' ? tag : null,
    trunk_id: ids[KEY.trunkId] ?? null,
    ip_values: (doc?.fixed_ips ?? []).map((f) => parseIp(f.ip_address)?.value),
  };
}

export function decodeRouter(row: Row): Router | undefined {
  const name = row.optional('name') as string;
  if (!name.startsWith(SWITCH_PREFIX)) return undefined;
  const ids = extIds(row);
  const doc = jsonKey<RouterDoc>(ids, KEY.router);
  return {
    project_id: '',
    description: '',
    created_at: '',
    updated_at: '',
    ...doc,
    id: name.slice(SWITCH_PREFIX.length),
    row,
    name: ids['neutron:router_name'] ?? '',
    admin_state_up: row.optional('enabled') !== false,
    revision_number: num(ids['neutron:revision_number'], 0),
  };
}

export function trunkOf(port: Port): TrunkDoc | undefined {
  return jsonKey<TrunkDoc>(extIds(port.row), KEY.trunk);
}

/** Reads over the store: every lookup the handlers share. */
export class NbView {
  /** Rows are immutable (an update replaces the Row), so a decoded row stays valid as long as its Row. */
  private readonly decodedPorts = new WeakMap<Row, Port | null>();
  private readonly decodedNetworks = new WeakMap<Row, Network | null>();

  constructor(readonly store: NbStore) {}

  private portOf(row: Row): Port | undefined {
    let p = this.decodedPorts.get(row);
    if (p === undefined) {
      p = decodePort(row) ?? null;
      this.decodedPorts.set(row, p);
    }
    return p ?? undefined;
  }

  private networkOf(row: Row): Network | undefined {
    let n = this.decodedNetworks.get(row);
    if (n === undefined) {
      n = decodeNetwork(row) ?? null;
      this.decodedNetworks.set(row, n);
    }
    return n ?? undefined;
  }

  network(id: string): Network | undefined {
    const row = this.store.named('Logical_Switch', SWITCH_PREFIX + id);
    return row === undefined ? undefined : this.networkOf(row);
  }

  networks(): Network[] {
    const out: Network[] = [];
    for (const row of this.store.rows('Logical_Switch').values()) {
      const n = this.networkOf(row);
      if (n !== undefined) out.push(n);
    }
    return out.sort(byCreation);
  }

  subnet(id: string): Subnet | undefined {
    for (const n of this.networks()) {
      const s = n.subnets.find((x) => x.id === id);
      if (s !== undefined) return s;
    }
    return undefined;
  }

  subnets(): Subnet[] {
    return this.networks().flatMap((n) => n.subnets);
  }

  port(id: string): Port | undefined {
    const row = this.store.named('Logical_Switch_Port', id);
    return row === undefined ? undefined : this.portOf(row);
  }

  ports(): Port[] {
    const out: Port[] = [];
    for (const row of this.store.rows('Logical_Switch_Port').values()) {
      const p = this.portOf(row);
      if (p !== undefined) out.push(p);
    }
    return out.sort(byCreation);
  }

  /** The ports of one network (the LSPs of its switch); `sorted`: in creation order. */
  portsOf(net: Network, sorted = false): Port[] {
    const out: Port[] = [];
    for (const u of net.row.set('ports') as string[]) {
      const row = this.store.row('Logical_Switch_Port', u);
      const p = row === undefined ? undefined : this.portOf(row);
      if (p !== undefined) out.push(p);
    }
    return sorted ? out.sort(byCreation) : out;
  }

  childrenOf(portId: string): Port[] {
    return this.store.childrenOf(portId).flatMap((r) => this.portOf(r) ?? []);
  }

  router(id: string): Router | undefined {
    const row = this.store.named('Logical_Router', SWITCH_PREFIX + id);
    return row === undefined ? undefined : decodeRouter(row);
  }

  routers(): Router[] {
    const out: Router[] = [];
    for (const row of this.store.rows('Logical_Router').values()) {
      const r = decodeRouter(row);
      if (r !== undefined) out.push(r);
    }
    return out.sort(byCreation);
  }

  /** The DHCP_Options row of a subnet (external_ids:subnet_id), as ML2/OVN finds it. */
  dhcpOptions(subnetId: string): Row | undefined {
    for (const row of this.store.rows('DHCP_Options').values()) {
      if (extIds(row)['subnet_id'] === subnetId && extIds(row)['port_id'] === undefined) return row;
    }
    return undefined;
  }

  /** Trunks are kept on their parent port's LSP. */
  trunks(): Array<{ trunk: TrunkDoc; parent: Port }> {
    const out: Array<{ trunk: TrunkDoc; parent: Port }> = [];
    for (const p of this.ports()) {
      const t = trunkOf(p);
      if (t !== undefined) out.push({ trunk: t, parent: p });
    }
    return out;
  }

  trunk(id: string): { trunk: TrunkDoc; parent: Port } | undefined {
    return this.trunks().find((t) => t.trunk.id === id);
  }
}
