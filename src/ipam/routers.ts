/**
 * Routers (the `router` extension, without external gateways): the
 * Logical_Router `neutron-<id>`; an interface is a port with device_owner
 * `network:router_interface` whose LSP is `type=router` pointing at the
 * Logical_Router_Port `lrp-<port id>`, as ML2/OVN writes them.
 */
import { randomUUID } from 'node:crypto';
import type { Txn } from '../ovsdb/client.js';
import { cidrsOverlap, parseCidr } from './addresses.js';
import type { RequestContext } from './context.js';
import { NeutronError, conflict, notFound } from './errors.js';
import { KEY, LRP_PREFIX, SWITCH_PREFIX, type NbView, type Network, type Port, type Router, type RouterDoc } from './model.js';
import { canSee, ownerFor } from './policy.js';
import { ROUTER_INTERFACE, buildPort, fieldsOf, rewritePort, visiblePort } from './ports.js';
import { subnetCidr, visibleSubnet } from './subnets.js';
import { extIds, ovsMap, ovsSet, timestamp } from './store.js';
import { isUuidLike } from './attributes.js';
import { pyStr } from './py-format.js';

export function routerView(r: Router): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    tenant_id: r.project_id,
    admin_state_up: r.admin_state_up,
    status: 'ACTIVE',
    external_gateway_info: null,
    description: r.description,
    availability_zones: [],
    availability_zone_hints: [],
    routes: [],
    tags: [],
    created_at: r.created_at,
    updated_at: r.updated_at,
    revision_number: r.revision_number,
    project_id: r.project_id,
  };
}

export function visibleRouter(view: NbView, ctx: RequestContext, id: string): Router {
  const r = view.router(id);
  if (r === undefined || !canSee(ctx, r.project_id)) throw notFound('router', id);
  return r;
}

function routerBadRequest(msg: string): NeutronError {
  return new NeutronError(400, 'BadRequest', `Bad router request: ${msg}.`);
}

function interfacesOf(view: NbView, r: Router): Port[] {
  return view.ports().filter((p) => p.device_owner === ROUTER_INTERFACE && p.device_id === r.id);
}

function writeRouter(txn: Txn, r: Router, changes: { name?: string; admin_state_up?: boolean; description?: string }): void {
  const doc: RouterDoc = {
    project_id: r.project_id,
    description: changes.description ?? r.description,
    created_at: r.created_at,
    updated_at: timestamp(),
  };
  const ids = extIds(r.row);
  ids['neutron:revision_number'] = String(r.revision_number + 1);
  if (changes.name !== undefined) ids['neutron:router_name'] = changes.name;
  ids[KEY.router] = JSON.stringify(doc);
  txn.verify('Logical_Router', r.row.uuid, ['external_ids']);
  txn.update('Logical_Router', r.row.uuid, {
    external_ids: ovsMap(ids),
    ...(changes.admin_state_up === undefined ? {} : { enabled: changes.admin_state_up }),
  });
}

export async function createRouter(view: NbView, ctx: RequestContext, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const id = randomUUID();
  const now = timestamp();
  const doc: RouterDoc = { project_id: ownerFor(ctx, body), description: body['description'] as string, created_at: now, updated_at: now };
  await view.store.write((txn) => {
    txn.insert('Logical_Router', {
      name: SWITCH_PREFIX + id,
      enabled: body['admin_state_up'],
      external_ids: ovsMap({
        'neutron:availability_zone_hints': '',
        'neutron:gw_network_id': '',
        'neutron:gw_port_id': '',
        'neutron:revision_number': '0',
        'neutron:router_name': body['name'] as string,
        [KEY.router]: JSON.stringify(doc),
      }),
      options: ovsMap({ always_learn_from_arp_request: 'false', dynamic_neigh_routers: 'true' }),
    });
    return { result: undefined, synced: () => view.router(id) !== undefined };
  });
  return routerView(visibleRouter(view, ctx, id));
}

export async function updateRouter(
  view: NbView,
  ctx: RequestContext,
  id: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  await view.store.write((txn) => {
    const r = visibleRouter(view, ctx, id);
    if (Object.keys(body).length === 0) return { result: undefined };
    const changes: { name?: string; admin_state_up?: boolean; description?: string } = {};
    if (typeof body['name'] === 'string') changes.name = body['name'];
    if (typeof body['admin_state_up'] === 'boolean') changes.admin_state_up = body['admin_state_up'];
    if (typeof body['description'] === 'string') changes.description = body['description'];
    writeRouter(txn, r, changes);
    return { result: undefined, synced: () => (view.router(id)?.revision_number ?? -1) > r.revision_number };
  });
  return routerView(visibleRouter(view, ctx, id));
}

export async function deleteRouter(view: NbView, ctx: RequestContext, id: string): Promise<void> {
  await view.store.write((txn) => {
    const r = visibleRouter(view, ctx, id);
    const ifaces = interfacesOf(view, r);
    if (ifaces.length > 0) throw conflict('RouterInUse', `Router ${id} has ports still attached: ${ifaces.map((p) => p.id).join(', ')}`);
    txn.delete('Logical_Router', r.row.uuid);
    return { result: undefined, synced: () => view.router(id) === undefined };
  });
}

interface InterfaceBody {
  subnet_id?: string;
  port_id?: string;
}

function interfaceBody(body: unknown): InterfaceBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new NeutronError(400, 'HTTPBadRequest', 'Body contains invalid data');
  const b = body as Record<string, unknown>;
  const out: InterfaceBody = {};
  for (const k of ['subnet_id', 'port_id'] as const) {
    if (!(k in b)) continue;
    if (!isUuidLike(b[k])) throw new NeutronError(400, 'InvalidInput', `Invalid input for operation: ${pyStr(b[k])} is not a valid UUID.`);
    out[k] = b[k] as string;
  }
  if (out.subnet_id !== undefined && out.port_id !== undefined) throw routerBadRequest('Cannot specify both subnet-id and port-id');
  if (out.subnet_id === undefined && out.port_id === undefined) throw routerBadRequest('Either subnet_id or port_id must be specified');
  return out;
}

function interfaceInfo(r: Router, p: Port): Record<string, unknown> {
  return {
    id: r.id,
    tenant_id: r.project_id,
    port_id: p.id,
    network_id: p.network_id,
    subnet_id: p.fixed_ips[0]?.subnet_id ?? null,
    subnet_ids: p.fixed_ips.map((f) => f.subnet_id),
    project_id: r.project_id,
  };
}

/** The LRP ML2/OVN writes for a router interface port. */
function insertLrp(txn: Txn, r: Router, net: Network, portId: string, mac: string, fixed: Port['fixed_ips']): void {
  const networks = fixed.map((f) => {
    const s = net.subnets.find((x) => x.id === f.subnet_id);
    return `${f.ip_address}/${s === undefined ? '' : parseCidr(s.cidr)?.cidr.prefix}`;
  });
  const ref = txn.insert('Logical_Router_Port', {
    name: LRP_PREFIX + portId,
    mac,
    networks: ovsSet(networks),
    external_ids: ovsMap({
      'neutron:network_name': SWITCH_PREFIX + net.id,
      'neutron:revision_number': '1',
      'neutron:router_name': r.id,
      'neutron:subnet_ids': fixed.map((f) => f.subnet_id).join(' '),
    }),
  });
  txn.mutate('Logical_Router', r.row.uuid, [['ports', 'insert', ovsSet([ref])]]);
}

export async function addRouterInterface(view: NbView, ctx: RequestContext, id: string, body: unknown): Promise<Record<string, unknown>> {
  const req = interfaceBody(body);
  let portId = '';
  await view.store.write((txn) => {
    const r = visibleRouter(view, ctx, id);
    const existing = interfacesOf(view, r);
    if (req.subnet_id !== undefined) {
      const s = visibleSubnet(view, ctx, req.subnet_id);
      if (s.gateway_ip === null) throw routerBadRequest(`Subnet for router interface must have a gateway IP`);
      checkOverlap(view, existing, [s.id]);
      const net = view.network(s.network_id) as Network;
      portId = randomUUID();
      const made = buildPort(
        view,
        txn,
        net,
        {
          network_id: net.id,
          project_id: r.project_id,
          name: '',
          admin_state_up: true,
          device_id: r.id,
          device_owner: ROUTER_INTERFACE,
          description: '',
          fixed_ips: [{ subnet_id: s.id, ip_address: s.gateway_ip }],
          port_security_enabled: false,
        },
        portId,
      );
      const pid = portId;
      insertLrp(txn, r, net, pid, made.mac, made.fixed);
      return { result: undefined, synced: () => view.port(pid) !== undefined };
    }
    const p = visiblePort(view, ctx, req.port_id as string);
    if (p.device_id !== '' && p.device_id !== undefined) {
      throw conflict(
        'PortInUse',
        `Unable to complete operation on port ${p.id} for network ${p.network_id}. Port already has an attached device ${p.device_id}.`,
      );
    }
    if (p.fixed_ips.length === 0) throw routerBadRequest('Router port must have at least one fixed IP');
    checkOverlap(
      view,
      existing,
      p.fixed_ips.map((f) => f.subnet_id),
    );
    const net = view.network(p.network_id) as Network;
    const f = fieldsOf(p);
    f.device_owner = ROUTER_INTERFACE;
    f.device_id = r.id;
    f.doc.port_security_enabled = false;
    f.doc.allowed_address_pairs = [];
    rewritePort(view, txn, net, p, f);
    insertLrp(txn, r, net, p.id, p.mac_address, p.fixed_ips);
    portId = p.id;
    return { result: undefined, synced: () => view.port(p.id)?.device_owner === ROUTER_INTERFACE };
  });
  const r = visibleRouter(view, ctx, id);
  return interfaceInfo(r, view.port(portId) as Port);
}

function checkOverlap(view: NbView, existing: readonly Port[], subnetIds: readonly string[]): void {
  for (const sid of subnetIds) {
    const s = view.subnet(sid);
    if (s === undefined) continue;
    for (const p of existing) {
      for (const f of p.fixed_ips) {
        if (f.subnet_id === sid) throw routerBadRequest(`Router already has a port on subnet ${sid}`);
        const o = view.subnet(f.subnet_id);
        if (o !== undefined && cidrsOverlap(subnetCidr(o), subnetCidr(s))) {
          throw routerBadRequest(`Cidr ${s.cidr} of subnet ${s.id} overlaps with cidr ${o.cidr} of subnet ${o.id}`);
        }
      }
    }
  }
}

export async function removeRouterInterface(
  view: NbView,
  ctx: RequestContext,
  id: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const req = interfaceBody(body);
  let info: Record<string, unknown> = {};
  await view.store.write((txn) => {
    const r = visibleRouter(view, ctx, id);
    const ifaces = interfacesOf(view, r);
    let p: Port | undefined;
    if (req.port_id !== undefined) {
      p = ifaces.find((x) => x.id === req.port_id);
      if (p === undefined)
        throw new NeutronError(404, 'RouterInterfaceNotFound', `Router ${id} does not have an interface with id ${req.port_id}`);
    } else {
      visibleSubnet(view, ctx, req.subnet_id as string);
      p = ifaces.find((x) => x.fixed_ips.some((f) => f.subnet_id === req.subnet_id));
      if (p === undefined)
        throw new NeutronError(
          404,
          'RouterInterfaceNotFoundForSubnet',
          `Router ${id} has no interface on subnet ${req.subnet_id as string}`,
        );
    }
    info = interfaceInfo(r, p);
    const lrp = view.store.named('Logical_Router_Port', LRP_PREFIX + p.id);
    if (lrp !== undefined) {
      txn.mutate('Logical_Router', r.row.uuid, [['ports', 'delete', ovsSet([['uuid', lrp.uuid]])]]);
    }
    const net = view.network(p.network_id);
    if (net !== undefined) txn.mutate('Logical_Switch', net.row.uuid, [['ports', 'delete', ovsSet([['uuid', p.row.uuid]])]]);
    const gone = p.id;
    return { result: undefined, synced: () => view.port(gone) === undefined };
  });
  return info;
}
