/**
 * Networks: a network is the Logical_Switch `neutron-<id>` with ML2/OVN's
 * external_ids and other_config; its subnets live on the same row.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Txn } from '../ovsdb/client.js';
import type { RequestContext } from './context.js';
import { conflict, invalidInput, notFound } from './errors.js';
import { DEFAULT_MTU, KEY, SWITCH_PREFIX, type Network, type NetworkExtra, type NbView } from './model.js';
import { canSee, ownerFor } from './policy.js';
import { extIds, ovsMap, timestamp } from './store.js';
import { syncDhcpRow } from './dhcp-options.js';

/** The device owners whose ports go with their network (neutron_lib AUTO_DELETE_PORT_OWNERS). */
export const AUTO_DELETE_OWNERS = ['network:dhcp', 'network:distributed'];

export function networkView(n: Network): Record<string, unknown> {
  return {
    id: n.id,
    name: n.name,
    tenant_id: n.project_id,
    admin_state_up: n.admin_state_up,
    mtu: n.mtu,
    status: 'ACTIVE',
    subnets: n.subnets.map((s) => s.id),
    shared: n.shared,
    availability_zone_hints: [],
    availability_zones: [],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    'router:external': n.router_external,
    description: n.description,
    port_security_enabled: n.port_security_enabled,
    tags: [],
    created_at: n.created_at,
    updated_at: n.updated_at,
    revision_number: n.revision_number,
    project_id: n.project_id,
    'provider:network_type': 'geneve',
    'provider:physical_network': null,
    'provider:segmentation_id': n.segmentation_id,
  };
}

/** The network if the context may see it, else NetworkNotFound. */
export function visibleNetwork(view: NbView, ctx: RequestContext, id: string): Network {
  const n = view.network(id);
  if (n === undefined || !canSee(ctx, n.project_id, n.shared)) throw notFound('network', id);
  return n;
}

function checkMtu(mtu: unknown): number {
  const m = typeof mtu === 'number' ? mtu : DEFAULT_MTU;
  if (m > DEFAULT_MTU) throw invalidInput(`Requested MTU is too big, maximum is ${DEFAULT_MTU}`);
  if (m < 68) throw invalidInput('Requested MTU is too small, minimum is 68');
  return m;
}

function extraOf(n: Network): NetworkExtra {
  return {
    project_id: n.project_id,
    description: n.description,
    created_at: n.created_at,
    updated_at: n.updated_at,
    admin_state_up: n.admin_state_up,
    shared: n.shared,
    port_security_enabled: n.port_security_enabled,
    router_external: n.router_external,
    segmentation_id: n.segmentation_id,
  };
}

/** The switch's external_ids with `changes` applied (undefined values remove keys). */
export function withIds(n: { row: import('../ovsdb/client.js').Row }, changes: Record<string, string | undefined>): unknown {
  const ids: Record<string, string> = extIds(n.row);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete ids[k];
    else ids[k] = v;
  }
  return ovsMap(ids);
}

/** Rewrites a network's switch external_ids: `changes` plus a bumped revision and updated_at. */
export function touchNetwork(txn: Txn, n: Network, changes: Record<string, string | undefined>, now = timestamp()): void {
  txn.verify('Logical_Switch', n.row.uuid, ['external_ids']);
  const extra = { ...extraOf(n), updated_at: now };
  txn.update('Logical_Switch', n.row.uuid, {
    external_ids: withIds(n, {
      ...changes,
      'neutron:revision_number': String(n.revision_number + 1),
      [KEY.network]: JSON.stringify(extra),
    }),
  });
}

export async function createNetwork(view: NbView, ctx: RequestContext, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const id = randomUUID();
  const project = ownerFor(ctx, body);
  const mtu = checkMtu(body['mtu']);
  const now = timestamp();
  const extra: NetworkExtra = {
    project_id: project,
    description: body['description'] as string,
    created_at: now,
    updated_at: now,
    admin_state_up: body['admin_state_up'] as boolean,
    shared: body['shared'] as boolean,
    port_security_enabled: body['port_security_enabled'] as boolean,
    router_external: body['router:external'] as boolean,
    segmentation_id: randomInt(1, 65537),
  };
  const name = SWITCH_PREFIX + id;
  await view.store.write((txn) => {
    txn.insert('Logical_Switch', {
      name,
      external_ids: ovsMap({
        'neutron:availability_zone_hints': '',
        'neutron:mtu': String(mtu),
        'neutron:network_name': body['name'] as string,
        'neutron:revision_number': '1',
        [KEY.network]: JSON.stringify(extra),
      }),
      other_config: ovsMap({ mcast_flood_unregistered: 'false', mcast_snoop: 'false', 'vlan-passthru': 'false' }),
    });
    return { result: undefined, synced: () => view.network(id) !== undefined };
  });
  // The create response alone carries is_default (auto-allocated-topology adds it there).
  return { ...networkView(visibleNetwork(view, ctx, id)), is_default: false };
}

export async function updateNetwork(
  view: NbView,
  ctx: RequestContext,
  id: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  visibleNetwork(view, ctx, id);
  if ('mtu' in body) checkMtu(body['mtu']);
  let rev = 0;
  await view.store.write((txn) => {
    const n = visibleNetwork(view, ctx, id);
    if (Object.keys(body).length === 0) return { result: undefined };
    const merged: Network = {
      ...n,
      ...(typeof body['admin_state_up'] === 'boolean' ? { admin_state_up: body['admin_state_up'] } : {}),
      ...(typeof body['shared'] === 'boolean' ? { shared: body['shared'] } : {}),
      ...(typeof body['port_security_enabled'] === 'boolean' ? { port_security_enabled: body['port_security_enabled'] } : {}),
      ...(typeof body['router:external'] === 'boolean' ? { router_external: body['router:external'] } : {}),
      ...(typeof body['description'] === 'string' ? { description: body['description'] } : {}),
    };
    const changes: Record<string, string> = {};
    if (typeof body['name'] === 'string') changes['neutron:network_name'] = body['name'];
    if (typeof body['mtu'] === 'number') changes['neutron:mtu'] = String(body['mtu']);
    touchNetwork(txn, merged, changes);
    // The DHCP_Options rows carry the MTU the ports learn by DHCP.
    if (typeof body['mtu'] === 'number' && body['mtu'] !== n.mtu) {
      const withMtu = { ...merged, mtu: body['mtu'] };
      for (const s of n.subnets) syncDhcpRow(view, txn, withMtu, s.id, s);
    }
    rev = n.revision_number + 1;
    return { result: undefined, synced: () => (view.network(id)?.revision_number ?? -1) >= rev };
  });
  return networkView(visibleNetwork(view, ctx, id));
}

export async function deleteNetwork(view: NbView, ctx: RequestContext, id: string): Promise<void> {
  await view.store.write((txn) => {
    const n = visibleNetwork(view, ctx, id);
    const ports = view.portsOf(n, true);
    const inUse = ports.filter((p) => !AUTO_DELETE_OWNERS.includes(p.device_owner));
    if (inUse.length > 0) {
      throw conflict(
        'NetworkInUse',
        `Unable to complete operation on network ${id}. There are one or more ports still in use on the network, id for these ports is: ${inUse.map((p) => p.id).join(',')}.`,
      );
    }
    txn.verify('Logical_Switch', n.row.uuid, ['ports', 'external_ids']);
    for (const s of n.subnets) {
      const dhcp = view.dhcpOptions(s.id);
      if (dhcp !== undefined) txn.delete('DHCP_Options', dhcp.uuid);
    }
    // The switch's ports (only auto-deleted owners remain) go with it: LSPs are not root rows.
    txn.delete('Logical_Switch', n.row.uuid);
    return { result: undefined, synced: () => view.network(id) === undefined };
  });
}
