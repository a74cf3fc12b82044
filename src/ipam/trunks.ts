/**
 * Trunks (the `trunk` extension) as the ML2/OVN trunk driver realises them:
 * the trunk is kept on its parent port's LSP (`ovnts:trunk`), and each
 * subport is a child LSP of the parent — parent_name = parent port,
 * tag_request = segmentation_id, device_owner `trunk:subport`,
 * binding:profile {parent_name, tag}.
 */
import { randomUUID } from 'node:crypto';
import type { Txn } from '../ovsdb/client.js';
import { validSubports, toInt } from './attributes.js';
import type { RequestContext } from './context.js';
import { NeutronError, badRequest, conflict, invalidInput, notFound } from './errors.js';
import { KEY, trunkOf, type NbView, type Network, type Port, type TrunkDoc } from './model.js';
import { canSee, ownerFor } from './policy.js';
import { TRUNK_SUBPORT, checkTagFree, fieldsOf, rewritePort, visiblePort } from './ports.js';
import { timestamp } from './store.js';
import { pyStr } from './py-format.js';

interface SubPortReq {
  port_id: string;
  segmentation_type: string;
  segmentation_id: number;
}

function subPortsOf(view: NbView, t: TrunkDoc, parent: Port): Array<Record<string, unknown>> {
  return view
    .childrenOf(parent.id)
    .filter((c) => c.trunk_id === t.id)
    .sort((a, b) => (a.tag_request ?? 0) - (b.tag_request ?? 0))
    .map((c) => ({ segmentation_id: c.tag_request, segmentation_type: 'vlan', port_id: c.id }));
}

export function trunkView(view: NbView, t: TrunkDoc, parent: Port): Record<string, unknown> {
  return {
    id: t.id,
    name: t.name,
    admin_state_up: t.admin_state_up,
    status: 'ACTIVE',
    port_id: parent.id,
    sub_ports: subPortsOf(view, t, parent),
    tenant_id: t.project_id,
    project_id: t.project_id,
    description: t.description,
    tags: [],
    created_at: t.created_at,
    updated_at: t.updated_at,
    revision_number: t.revision_number,
  };
}

export function visibleTrunk(view: NbView, ctx: RequestContext, id: string): { trunk: TrunkDoc; parent: Port } {
  const t = view.trunk(id);
  if (t === undefined || !canSee(ctx, t.trunk.project_id)) throw notFound('trunk', id);
  return t;
}

/** Checks a port may become a trunk's parent or subport (neutron/services/trunk/rules.py TrunkPortValidator). */
function checkPortFree(p: Port): void {
  if (p.trunk_id !== null) throw conflict('TrunkPortInUse', `Port ${p.id} is in use by another trunk.`);
  if (trunkOf(p) !== undefined)
    throw conflict('ParentPortInUse', `Port ${p.id} is currently in use and is not eligible for use as a parent port.`);
}

/** The requested subports, checked as the trunk plugin's SubPortsValidator checks them. */
function checkSubports(
  view: NbView,
  ctx: RequestContext,
  parent: Port,
  trunkId: string,
  raw: unknown,
  existing: readonly Port[],
): SubPortReq[] {
  const reason = validSubports(raw);
  if (reason !== undefined) throw invalidInput(reason);
  const out: SubPortReq[] = [];
  for (const s of raw as Array<Record<string, unknown>>) {
    const portId = s['port_id'] as string;
    if (portId === parent.id)
      throw conflict('ParentPortInUse', `Port ${portId} is currently in use and is not eligible for use as a parent port.`);
    if (!('segmentation_type' in s) || !('segmentation_id' in s)) {
      throw invalidInput(
        `Invalid subport details '${pyStr(s)}': missing segmentation information. Must specify both segmentation_id and segmentation_type`,
      );
    }
    let segId: number;
    try {
      segId = toInt(s['segmentation_id']);
    } catch {
      throw invalidInput(`Invalid subport details: segmentation_id '${pyStr(s['segmentation_id'])}' is not an integer`);
    }
    const type = s['segmentation_type'];
    if (type !== 'vlan') throw invalidInput(`Unknown segmentation_type '${pyStr(type)}'`);
    if (segId < 1 || segId > 4094) throw invalidInput(`Segmentation ID '${segId}' is not in range`);
    const p = visiblePort(view, ctx, portId);
    checkPortFree(p);
    const dup = existing.find((c) => c.tag_request === segId) ?? out.find((o) => o.segmentation_id === segId);
    if (dup !== undefined)
      throw conflict('DuplicateSubPort', `segmentation_type vlan and segmentation_id ${segId} already in use on trunk ${trunkId}.`);
    checkTagFree(view, parent.id, segId, p.id);
    out.push({ port_id: portId, segmentation_type: 'vlan', segmentation_id: segId });
  }
  return out;
}

function attach(view: NbView, txn: Txn, parent: Port, trunkId: string, s: SubPortReq): void {
  const p = view.port(s.port_id) as Port;
  const f = fieldsOf(p);
  f.device_owner = TRUNK_SUBPORT;
  f.doc.binding_profile = { ...p.binding_profile, parent_name: parent.id, tag: s.segmentation_id };
  f.extraIds[KEY.trunkId] = trunkId;
  rewritePort(view, txn, view.network(p.network_id) as Network, p, f);
}

function detach(view: NbView, txn: Txn, p: Port): void {
  const f = fieldsOf(p);
  f.device_owner = '';
  const { parent_name: _p, tag: _t, ...rest } = p.binding_profile;
  f.doc.binding_profile = rest;
  delete f.extraIds[KEY.trunkId];
  rewritePort(view, txn, view.network(p.network_id) as Network, p, f);
}

function writeTrunk(view: NbView, txn: Txn, parent: Port, t: TrunkDoc | undefined): void {
  const f = fieldsOf(parent);
  f.revision_number = parent.revision_number;
  f.doc.updated_at = parent.updated_at;
  if (t === undefined) delete f.extraIds[KEY.trunk];
  else f.extraIds[KEY.trunk] = JSON.stringify(t);
  rewritePort(view, txn, view.network(parent.network_id) as Network, parent, f);
}

export async function createTrunk(view: NbView, ctx: RequestContext, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const project = ownerFor(ctx, body);
  const id = randomUUID();
  await view.store.write((txn) => {
    const parent = visiblePort(view, ctx, body['port_id'] as string);
    checkPortFree(parent);
    const subs = checkSubports(view, ctx, parent, id, body['sub_ports'], []);
    const now = timestamp();
    const t: TrunkDoc = {
      id,
      name: body['name'] as string,
      admin_state_up: body['admin_state_up'] as boolean,
      revision_number: subs.length > 0 ? 1 : 0,
      project_id: project,
      description: body['description'] as string,
      created_at: now,
      updated_at: now,
    };
    writeTrunk(view, txn, parent, t);
    for (const s of subs) attach(view, txn, parent, id, s);
    return { result: undefined, synced: () => view.trunk(id) !== undefined };
  });
  const t = visibleTrunk(view, ctx, id);
  return trunkView(view, t.trunk, t.parent);
}

export async function updateTrunk(
  view: NbView,
  ctx: RequestContext,
  id: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  await view.store.write((txn) => {
    const { trunk, parent } = visibleTrunk(view, ctx, id);
    if (Object.keys(body).length === 0) return { result: undefined };
    const t: TrunkDoc = { ...trunk, updated_at: timestamp(), revision_number: trunk.revision_number + 1 };
    if (typeof body['name'] === 'string') t.name = body['name'];
    if (typeof body['description'] === 'string') t.description = body['description'];
    if (typeof body['admin_state_up'] === 'boolean') t.admin_state_up = body['admin_state_up'];
    writeTrunk(view, txn, parent, t);
    return { result: undefined, synced: () => (view.trunk(id)?.trunk.revision_number ?? -1) >= t.revision_number };
  });
  const t = visibleTrunk(view, ctx, id);
  return trunkView(view, t.trunk, t.parent);
}

export async function deleteTrunk(view: NbView, ctx: RequestContext, id: string): Promise<void> {
  await view.store.write((txn) => {
    const { parent } = visibleTrunk(view, ctx, id);
    for (const c of view.childrenOf(parent.id)) if (c.trunk_id === id) detach(view, txn, c);
    writeTrunk(view, txn, parent, undefined);
    return { result: undefined, synced: () => view.trunk(id) === undefined };
  });
}

function subportsBody(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('sub_ports' in body)) {
    throw badRequest("Unable to find 'sub_ports' in request body");
  }
  return (body as Record<string, unknown>)['sub_ports'];
}

/** `PUT /v2.0/trunks/{id}/add_subports`: answers the trunk, not wrapped in "trunk" (as Neutron does). */
export async function addSubports(view: NbView, ctx: RequestContext, id: string, body: unknown): Promise<Record<string, unknown>> {
  const raw = subportsBody(body);
  await view.store.write((txn) => {
    const { trunk, parent } = visibleTrunk(view, ctx, id);
    const existing = view.childrenOf(parent.id).filter((c) => c.trunk_id === id);
    const subs = checkSubports(view, ctx, parent, id, raw, existing);
    if (subs.length === 0) return { result: undefined };
    const t: TrunkDoc = { ...trunk, updated_at: timestamp(), revision_number: trunk.revision_number + 1 };
    writeTrunk(view, txn, parent, t);
    for (const s of subs) attach(view, txn, parent, id, s);
    return { result: undefined, synced: () => subs.every((s) => view.port(s.port_id)?.trunk_id === id) };
  });
  const t = visibleTrunk(view, ctx, id);
  return trunkView(view, t.trunk, t.parent);
}

export async function removeSubports(view: NbView, ctx: RequestContext, id: string, body: unknown): Promise<Record<string, unknown>> {
  const raw = subportsBody(body);
  if (!Array.isArray(raw)) throw invalidInput(`Invalid data format for subports: '${pyStr(raw)}' is not a list`);
  await view.store.write((txn) => {
    const { trunk, parent } = visibleTrunk(view, ctx, id);
    const ids: string[] = [];
    for (const s of raw as unknown[]) {
      const pid = typeof s === 'object' && s !== null ? (s as Record<string, unknown>)['port_id'] : undefined;
      const c = typeof pid === 'string' ? view.port(pid) : undefined;
      if (c === undefined || c.trunk_id !== id)
        throw new NeutronError(404, 'SubPortNotFound', `SubPort ${pyStr(pid)} on trunk ${id} could not be found.`);
      ids.push(c.id);
    }
    if (ids.length === 0) return { result: undefined };
    const t: TrunkDoc = { ...trunk, updated_at: timestamp(), revision_number: trunk.revision_number + 1 };
    writeTrunk(view, txn, parent, t);
    for (const pid of ids) detach(view, txn, view.port(pid) as Port);
    return { result: undefined, synced: () => ids.every((p) => view.port(p)?.trunk_id === null) };
  });
  const t = visibleTrunk(view, ctx, id);
  return trunkView(view, t.trunk, t.parent);
}

export function getSubports(view: NbView, ctx: RequestContext, id: string): Record<string, unknown> {
  const { trunk, parent } = visibleTrunk(view, ctx, id);
  return { sub_ports: subPortsOf(view, trunk, parent) };
}
