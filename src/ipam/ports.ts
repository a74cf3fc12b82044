/**
 * Ports: the Logical_Switch_Port named by the port id, written as ML2/OVN
 * writes it (addresses, port_security, enabled, parent_name + tag_request
 * from binding:profile, dhcpv4/v6_options, `neutron:*` external_ids). The
 * status is the LSP's `up` column: ACTIVE when OVN says the port is up.
 *
 * Allocation (addresses, MAC) reads the network's ports from the replica and
 * commits guarded by a `wait` on the switch's `external_ids` (which every
 * allocating write rewrites), so concurrent allocations on one
 * network — from this process or another — never hand out one address twice.
 */
import { randomUUID } from 'node:crypto';
import type { Txn } from '../ovsdb/client.js';
import { cidrContains, formatIp, parseCidr, parseIp, randomFreeAddress, randomMac } from './addresses.js';
import type { RequestContext } from './context.js';
import { NeutronError, badRequest, conflict, invalidInput, notFound } from './errors.js';
import { pyStr } from './py-format.js';
import {
  KEY,
  LRP_PREFIX,
  trunkOf,
  type AddressPair,
  type FixedIp,
  type Network,
  type NbView,
  type Port,
  type PortDoc,
  type Subnet,
} from './model.js';
import { visibleNetwork, withIds } from './networks.js';
import { canSee, checkBindingProfile, ownerFor } from './policy.js';
import { poolRanges, subnetCidr } from './subnets.js';
import { ovsMap, ovsSet, timestamp } from './store.js';

export const ROUTER_INTERFACE = 'network:router_interface';
export const TRUNK_SUBPORT = 'trunk:subport';

export function portView(view: NbView, p: Port): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: p.id,
    name: p.name,
    network_id: p.network_id,
    tenant_id: p.project_id,
    mac_address: p.mac_address,
    admin_state_up: p.admin_state_up,
    status: p.up ? 'ACTIVE' : 'DOWN',
    device_id: p.device_id,
    device_owner: p.device_owner,
    fixed_ips: p.fixed_ips,
    allowed_address_pairs: p.allowed_address_pairs,
    extra_dhcp_opts: [],
    security_groups: [],
    description: p.description,
    'binding:vnic_type': p.vnic_type,
    'binding:profile': p.binding_profile,
    'binding:host_id': p.binding_host_id,
    'binding:vif_type': p.device_owner === TRUNK_SUBPORT ? 'ovs' : 'unbound',
    'binding:vif_details': {},
    port_security_enabled: p.port_security_enabled,
    tags: [],
    created_at: p.created_at,
    updated_at: p.updated_at,
    revision_number: p.revision_number,
    project_id: p.project_id,
  };
  const t = trunkOf(p);
  if (t !== undefined) {
    out['trunk_details'] = {
      trunk_id: t.id,
      sub_ports: view
        .childrenOf(p.id)
        .filter((c) => c.trunk_id === t.id)
        .map((c) => ({ segmentation_id: c.tag_request, segmentation_type: 'vlan', port_id: c.id, mac_address: c.mac_address })),
    };
  }
  return out;
}

export function visiblePort(view: NbView, ctx: RequestContext, id: string): Port {
  const p = view.port(id);
  if (p === undefined || !canSee(ctx, p.project_id)) throw notFound('port', id);
  return p;
}

/** The modified EUI-64 address of `mac` in an IPv6 /64 (SLAAC). */
function eui64(s: Subnet, mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const iid = [(b[0] as number) ^ 2, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]] as number[];
  let v = 0n;
  for (const x of iid) v = (v << 8n) | BigInt(x);
  return formatIp(6, subnetCidr(s).network | v);
}

function isAutoAddress(s: Subnet): boolean {
  return s.ip_version === 6 && (s.ipv6_address_mode === 'slaac' || s.ipv6_address_mode === 'dhcpv6-stateless');
}

interface Used {
  readonly ips: Map<string, Set<bigint>>;
  readonly macs: Set<string>;
}

function usedOn(view: NbView, net: Network, except?: string): Used {
  const ips = new Map<string, Set<bigint>>();
  const macs = new Set<string>();
  for (const p of view.portsOf(net)) {
    if (p.id === except) continue;
    macs.add(p.mac_address);
    p.fixed_ips.forEach((f, i) => {
      const set = ips.get(f.subnet_id) ?? new Set<bigint>();
      const v = p.ip_values[i];
      if (v !== undefined) set.add(v);
      ips.set(f.subnet_id, set);
    });
  }
  return { ips, macs };
}

function taken(used: Used, s: Subnet): Set<bigint> {
  const set = used.ips.get(s.id) ?? new Set<bigint>();
  used.ips.set(s.id, set);
  return set;
}

/** One address from the subnet's pools, not in use; undefined when it is full. */
function allocateIn(used: Used, s: Subnet): string | undefined {
  const set = taken(used, s);
  const v = randomFreeAddress(poolRanges(s), set);
  if (v === undefined) return undefined;
  set.add(v);
  return formatIp(s.ip_version, v);
}

/**
 * The port's fixed IPs from the request (Neutron's `_validate_fixed_ips` and
 * IPAM): absent → one IPv4 and one stateful IPv6 address plus SLAAC
 * addresses; given → each entry checked and allocated.
 */
function allocateFixedIps(net: Network, used: Used, requested: unknown, mac: string, keep: readonly FixedIp[] = []): FixedIp[] {
  const out: FixedIp[] = [];
  if (requested === undefined) {
    const v4 = net.subnets.filter((s) => s.ip_version === 4);
    const v6 = net.subnets.filter((s) => s.ip_version === 6);
    let got4 = v4.length === 0;
    for (const s of v4) {
      const a = allocateIn(used, s);
      if (a !== undefined) {
        out.push({ subnet_id: s.id, ip_address: a });
        got4 = true;
        break;
      }
    }
    let got6 = v6.filter((s) => !isAutoAddress(s)).length === 0;
    for (const s of v6) {
      if (isAutoAddress(s)) {
        out.push({ subnet_id: s.id, ip_address: eui64(s, mac) });
        continue;
      }
      if (got6) continue;
      const a = allocateIn(used, s);
      if (a !== undefined) {
        out.push({ subnet_id: s.id, ip_address: a });
        got6 = true;
      }
    }
    if (!got4 || !got6) throw conflict('IpAddressGenerationFailure', `No more IP addresses available on network ${net.id}.`);
    return out;
  }
  for (const f of requested as Array<Record<string, unknown>>) {
    const ipText = f['ip_address'] as string | undefined;
    const subnetId = f['subnet_id'] as string | undefined;
    let subnet: Subnet | undefined;
    if (subnetId !== undefined) {
      subnet = net.subnets.find((s) => s.id === subnetId);
      if (subnet === undefined)
        throw invalidInput(`Failed to create port on network ${net.id}, because fixed_ips included invalid subnet ${subnetId}`);
    }
    if (ipText === undefined) {
      if (subnet === undefined)
        throw badRequest(`Invalid input for fixed_ips. Reason: ${pyStr(f)} is neither a subnet_id nor an ip_address.`);
      const again = keep.find((k) => k.subnet_id === subnet?.id && !out.includes(k));
      if (again !== undefined) {
        out.push(again);
        continue;
      }
      if (isAutoAddress(subnet)) {
        out.push({ subnet_id: subnet.id, ip_address: eui64(subnet, mac) });
        continue;
      }
      const a = allocateIn(used, subnet);
      if (a === undefined) throw conflict('IpAddressGenerationFailure', `No more IP addresses available on network ${net.id}.`);
      out.push({ subnet_id: subnet.id, ip_address: a });
      continue;
    }
    const ip = parseIp(ipText) as { version: 4 | 6; value: bigint };
    const ipCanon = formatIp(ip.version, ip.value);
    if (subnet === undefined) {
      subnet = net.subnets.find((s) => cidrContains(subnetCidr(s), ip.version, ip.value));
      if (subnet === undefined)
        throw new NeutronError(
          400,
          'InvalidIpForNetwork',
          `IP address ${ipCanon} is not a valid IP for any of the subnets on the specified network.`,
        );
    } else if (!cidrContains(subnetCidr(subnet), ip.version, ip.value)) {
      throw new NeutronError(400, 'InvalidIpForSubnet', `IP address ${ipCanon} is not a valid IP for the specified subnet.`);
    }
    if (keep.some((k) => k.subnet_id === subnet?.id && k.ip_address === ipCanon)) {
      out.push({ subnet_id: subnet.id, ip_address: ipCanon });
      continue;
    }
    const set = taken(used, subnet);
    if (set.has(ip.value)) throw conflict('IpAddressAlreadyAllocated', `IP address ${ipCanon} already allocated in subnet ${subnet.id}`);
    set.add(ip.value);
    out.push({ subnet_id: subnet.id, ip_address: ipCanon });
  }
  return out;
}

/** binding:profile checked as ML2/OVN's `validate_and_get_data_from_binding_profile`; returns {parent, tag} or null. */
export function parentFromProfile(view: NbView, profile: unknown): { parent: string; tag: number } | null {
  if (profile === undefined || profile === null || typeof profile !== 'object') return null;
  const p = profile as Record<string, unknown>;
  if (!('parent_name' in p) && !('tag' in p)) return null;
  if (!('parent_name' in p) || !('tag' in p))
    throw invalidInput("Invalid binding:profile. dict_keys(['parent_name', 'tag']) are all required.");
  if (typeof p['parent_name'] !== 'string')
    throw invalidInput(`Invalid binding:profile. parent_name ${pyStr(p['parent_name'])} value invalid type`);
  const tag = p['tag'];
  if (!((typeof tag === 'number' && Number.isInteger(tag)) || typeof tag === 'boolean'))
    throw invalidInput(`Invalid binding:profile. tag ${pyStr(tag)} value invalid type`);
  if (view.port(p['parent_name']) === undefined) throw notFound('port', p['parent_name']);
  const n = Number(tag);
  if (n < 0 || n > 4095) throw invalidInput(`Invalid binding:profile. tag "${n}" must be an integer between 0 and 4095, inclusive`);
  return { parent: p['parent_name'], tag: n };
}

/** Beyond Neutron: a VLAN tag is one container's on its parent, or two containers would share a segment. */
export function checkTagFree(view: NbView, parent: string, tag: number, self: string | undefined): void {
  if (tag === 0) return;
  const holder = view
    .childrenOf(parent)
    .find((c) => c.id !== self && (c.tag_request === tag || (c.row.optional('tag') === tag && c.tag_request === 0)));
  if (holder !== undefined) {
    throw conflict('VlanTagInUse', `VLAN tag ${tag} on parent port ${parent} is already in use by port ${holder.id}.`);
  }
}

function addressPairs(pairs: unknown, mac: string): AddressPair[] {
  if (!Array.isArray(pairs)) return [];
  return pairs.map((x: Record<string, unknown>) => ({
    ip_address: x['ip_address'] as string,
    mac_address: typeof x['mac_address'] === 'string' ? x['mac_address'].toLowerCase() : mac,
  }));
}

/** The LSP columns ML2/OVN derives from a port (`ovn_client._get_port_options`). */
function lspColumns(view: NbView, net: Network, p: PortFields): Record<string, unknown> {
  const ips = p.doc.fixed_ips.map((f) => f.ip_address);
  const router = p.device_owner === ROUTER_INTERFACE;
  // ML2/OVN also lists each allowed-address-pair MAC that is not the port's own, alone.
  const pairMacs = [...new Set(p.doc.allowed_address_pairs.map((a) => a.mac_address))].filter((m) => m !== p.doc.mac_address);
  const addresses = router
    ? ['router']
    : [[p.doc.mac_address, ...ips].join(' '), ...pairMacs, ...(p.doc.port_security_enabled ? [] : ['unknown'])];
  const security =
    router || !p.doc.port_security_enabled
      ? []
      : [[p.doc.mac_address, ...ips].join(' '), ...p.doc.allowed_address_pairs.map((a) => `${a.mac_address} ${a.ip_address}`)];
  const cidrs = p.doc.fixed_ips.map((f) => {
    const s = net.subnets.find((x) => x.id === f.subnet_id);
    return s === undefined ? f.ip_address : `${f.ip_address}/${parseCidr(s.cidr)?.cidr.prefix ?? ''}`;
  });
  const dhcp = (version: 4 | 6): unknown => {
    if (router) return ovsSet([]);
    for (const f of p.doc.fixed_ips) {
      const s = net.subnets.find((x) => x.id === f.subnet_id);
      if (s === undefined || s.ip_version !== version) continue;
      const row = view.dhcpOptions(s.id);
      if (row !== undefined) return ovsSet([['uuid', row.uuid]]);
    }
    return ovsSet([]);
  };
  const ids: Record<string, string> = {
    'neutron:cidrs': cidrs.join(' '),
    'neutron:device_id': p.device_id,
    'neutron:device_owner': p.device_owner,
    'neutron:network_name': `neutron-${net.id}`,
    'neutron:port_name': p.name,
    'neutron:project_id': p.doc.project_id,
    'neutron:revision_number': String(p.revision_number),
    'neutron:security_group_ids': '',
    [KEY.port]: JSON.stringify(p.doc),
    ...p.extraIds,
  };
  const parent = parentFromStored(p.doc.binding_profile);
  return {
    addresses: ovsSet(addresses),
    port_security: ovsSet(security),
    enabled: p.admin_state_up,
    type: router ? 'router' : '',
    options: ovsMap(
      router ? { 'router-port': `${LRP_PREFIX}${p.id}` } : { mcast_flood_reports: 'true', 'requested-chassis': p.doc.binding_host_id },
    ),
    external_ids: ovsMap(ids),
    parent_name: ovsSet(parent === null ? [] : [parent.parent]),
    tag_request: ovsSet(parent === null ? [] : [parent.tag]),
    // northd derives `tag` for a child; a port that stops being one must not keep it (Zed clears it too).
    ...(parent === null ? { tag: ovsSet([]) } : {}),
    dhcpv4_options: dhcp(4),
    dhcpv6_options: dhcp(6),
  };
}

function parentFromStored(profile: Record<string, unknown>): { parent: string; tag: number } | null {
  return typeof profile['parent_name'] === 'string' && typeof profile['tag'] === 'number'
    ? { parent: profile['parent_name'], tag: profile['tag'] }
    : null;
}

interface PortFields {
  id: string;
  name: string;
  device_id: string;
  device_owner: string;
  admin_state_up: boolean;
  revision_number: number;
  doc: PortDoc;
  /** external_ids of our own to keep (trunk, trunk_id). */
  extraIds: Record<string, string>;
}

/** Marks the network's allocation state as changed, so concurrent allocating writes conflict. */
export function claimNetwork(txn: Txn, net: Network): void {
  // external_ids alone: every write that allocates or frees rewrites it (ports would grow the wait with the network).
  txn.verify('Logical_Switch', net.row.uuid, ['external_ids']);
  txn.update('Logical_Switch', net.row.uuid, { external_ids: withIds(net, { [KEY.alloc]: randomUUID() }) });
}

/** Writes a new port's LSP; the caller's transaction (port create, router interface). */
export function insertPort(view: NbView, txn: Txn, net: Network, fields: PortFields): void {
  const ref = txn.insert('Logical_Switch_Port', { name: fields.id, ...lspColumns(view, net, fields) });
  txn.mutate('Logical_Switch', net.row.uuid, [['ports', 'insert', ovsSet([ref])]]);
}

export interface NewPort {
  network_id: string;
  project_id: string;
  name: string;
  admin_state_up: boolean;
  device_id: string;
  device_owner: string;
  description: string;
  mac_address?: unknown;
  fixed_ips?: unknown;
  port_security_enabled?: unknown;
  allowed_address_pairs?: unknown;
  binding_host_id?: unknown;
  binding_profile?: unknown;
  vnic_type?: unknown;
}

/** Builds (in `txn`) a new port on `net`; returns what it allocated. Throws the NeutronError of a refused request. */
export function buildPort(
  view: NbView,
  txn: Txn,
  net: Network,
  req: NewPort,
  id: string = randomUUID(),
): { mac: string; fixed: FixedIp[] } {
  const used = usedOn(view, net);
  let mac: string;
  if (typeof req.mac_address === 'string') {
    mac = req.mac_address;
    if (used.macs.has(mac))
      throw conflict('MacAddressInUse', `Unable to complete operation for network ${net.id}. The mac address ${mac} is in use.`);
  } else {
    do mac = randomMac();
    while (used.macs.has(mac));
  }
  const fixed = allocateFixedIps(net, used, req.fixed_ips, mac);
  const psec = typeof req.port_security_enabled === 'boolean' ? req.port_security_enabled : net.port_security_enabled;
  const pairs = addressPairs(req.allowed_address_pairs, mac);
  if (!psec && pairs.length > 0)
    throw conflict('AddressPairAndPortSecurityRequired', 'Port Security must be enabled in order to have allowed address pairs on a port.');
  const parent = parentFromProfile(view, req.binding_profile);
  if (parent !== null) checkTagFree(view, parent.parent, parent.tag, undefined);
  const now = timestamp();
  const doc: PortDoc = {
    project_id: req.project_id,
    description: req.description,
    created_at: now,
    updated_at: now,
    mac_address: mac,
    fixed_ips: fixed,
    port_security_enabled: psec,
    allowed_address_pairs: pairs,
    binding_host_id: typeof req.binding_host_id === 'string' ? req.binding_host_id : '',
    binding_profile:
      req.binding_profile !== null && typeof req.binding_profile === 'object' ? (req.binding_profile as Record<string, unknown>) : {},
    vnic_type: typeof req.vnic_type === 'string' ? req.vnic_type : 'normal',
  };
  claimNetwork(txn, net);
  insertPort(view, txn, net, {
    id,
    name: req.name,
    device_id: req.device_id,
    device_owner: req.device_owner,
    admin_state_up: req.admin_state_up,
    revision_number: 1,
    doc,
    extraIds: {},
  });
  return { mac, fixed };
}

export async function createPort(view: NbView, ctx: RequestContext, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  checkBindingProfile(ctx, 'create_port', body);
  const project = ownerFor(ctx, body);
  const netId = body['network_id'] as string;
  const id = randomUUID();
  await view.store.write((txn) => {
    const net = visibleNetwork(view, ctx, netId);
    buildPort(
      view,
      txn,
      net,
      {
        network_id: netId,
        project_id: project,
        name: body['name'] as string,
        admin_state_up: body['admin_state_up'] as boolean,
        device_id: body['device_id'] as string,
        device_owner: body['device_owner'] as string,
        description: body['description'] as string,
        mac_address: body['mac_address'],
        fixed_ips: body['fixed_ips'],
        port_security_enabled: body['port_security_enabled'],
        allowed_address_pairs: body['allowed_address_pairs'],
        binding_host_id: body['binding:host_id'],
        binding_profile: body['binding:profile'],
        vnic_type: body['binding:vnic_type'],
      },
      id,
    );
    return { result: undefined, synced: () => view.port(id) !== undefined };
  });
  return portView(view, visiblePort(view, ctx, id));
}

/** Rewrites an existing port's LSP from its (changed) fields. */
export function rewritePort(view: NbView, txn: Txn, net: Network, p: Port, fields: PortFields): void {
  txn.verify('Logical_Switch_Port', p.row.uuid, ['external_ids']);
  txn.update('Logical_Switch_Port', p.row.uuid, lspColumns(view, net, fields));
}

/** The fields of a stored port, for {@link rewritePort}. */
export function fieldsOf(p: Port): PortFields {
  const { id, name, device_id, device_owner, admin_state_up, revision_number } = p;
  const doc: PortDoc = {
    project_id: p.project_id,
    description: p.description,
    created_at: p.created_at,
    updated_at: p.updated_at,
    mac_address: p.mac_address,
    fixed_ips: p.fixed_ips,
    port_security_enabled: p.port_security_enabled,
    allowed_address_pairs: p.allowed_address_pairs,
    binding_host_id: p.binding_host_id,
    binding_profile: p.binding_profile,
    vnic_type: p.vnic_type,
  };
  const extraIds: Record<string, string> = {};
  const ids = p.row.map('external_ids');
  for (const k of [KEY.trunk, KEY.trunkId]) {
    const v = ids.get(k);
    if (typeof v === 'string') extraIds[k] = v;
  }
  return {
    id,
    name,
    device_id,
    device_owner,
    admin_state_up,
    revision_number: revision_number + 1,
    doc: { ...doc, updated_at: timestamp() },
    extraIds,
  };
}

export async function updatePort(
  view: NbView,
  ctx: RequestContext,
  id: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  checkBindingProfile(ctx, 'update_port', body);
  let rev = 0;
  await view.store.write((txn) => {
    const p = visiblePort(view, ctx, id);
    if (Object.keys(body).length === 0) return { result: undefined };
    const net = view.network(p.network_id) as Network;
    const f = fieldsOf(p);
    if (typeof body['name'] === 'string') f.name = body['name'];
    if (typeof body['device_id'] === 'string') f.device_id = body['device_id'];
    if (typeof body['device_owner'] === 'string') f.device_owner = body['device_owner'];
    if (typeof body['admin_state_up'] === 'boolean') f.admin_state_up = body['admin_state_up'];
    if (typeof body['description'] === 'string') f.doc.description = body['description'];
    if (typeof body['binding:host_id'] === 'string') f.doc.binding_host_id = body['binding:host_id'];
    if (typeof body['binding:vnic_type'] === 'string') f.doc.vnic_type = body['binding:vnic_type'];
    const allocating = 'mac_address' in body || 'fixed_ips' in body;
    if (allocating) {
      const used = usedOn(view, net, p.id);
      if (typeof body['mac_address'] === 'string' && body['mac_address'] !== p.mac_address) {
        if (used.macs.has(body['mac_address']))
          throw conflict(
            'MacAddressInUse',
            `Unable to complete operation for network ${net.id}. The mac address ${body['mac_address']} is in use.`,
          );
        f.doc.mac_address = body['mac_address'];
      }
      if ('fixed_ips' in body) f.doc.fixed_ips = allocateFixedIps(net, used, body['fixed_ips'], f.doc.mac_address, p.fixed_ips);
      claimNetwork(txn, net);
    }
    if ('port_security_enabled' in body) f.doc.port_security_enabled = body['port_security_enabled'] as boolean;
    if ('allowed_address_pairs' in body) f.doc.allowed_address_pairs = addressPairs(body['allowed_address_pairs'], f.doc.mac_address);
    if (!f.doc.port_security_enabled && f.doc.allowed_address_pairs.length > 0) {
      throw conflict(
        'AddressPairAndPortSecurityRequired',
        'Port Security must be enabled in order to have allowed address pairs on a port.',
      );
    }
    if ('binding:profile' in body) {
      const profile = body['binding:profile'];
      const parent = parentFromProfile(view, profile);
      if (parent !== null) checkTagFree(view, parent.parent, parent.tag, p.id);
      f.doc.binding_profile = profile !== null && typeof profile === 'object' ? (profile as Record<string, unknown>) : {};
    }
    rewritePort(view, txn, net, p, f);
    rev = f.revision_number;
    return { result: undefined, synced: () => (view.port(id)?.revision_number ?? -1) >= rev };
  });
  return portView(view, visiblePort(view, ctx, id));
}

export async function deletePort(view: NbView, ctx: RequestContext, id: string): Promise<void> {
  await view.store.write((txn) => {
    const p = visiblePort(view, ctx, id);
    const t = trunkOf(p);
    if (t !== undefined) throw conflict('PortInUseAsTrunkParent', `Port ${id} is currently a parent port for trunk ${t.id}.`);
    if (p.trunk_id !== null) throw conflict('PortInUseAsSubPort', `Port ${id} is currently a subport for trunk ${p.trunk_id}.`);
    if (p.device_owner === ROUTER_INTERFACE) {
      throw conflict('ServicePortInUse', `Port ${id} cannot be deleted directly via the port API: has device owner ${ROUTER_INTERFACE}.`);
    }
    const net = view.network(p.network_id);
    if (net !== undefined) {
      claimNetwork(txn, net);
      txn.mutate('Logical_Switch', net.row.uuid, [['ports', 'delete', ovsSet([['uuid', p.row.uuid]])]]);
    }
    txn.delete('Logical_Switch_Port', p.row.uuid);
    return { result: undefined, synced: () => view.port(id) === undefined };
  });
}
