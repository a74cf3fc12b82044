/**
 * The collections under `/v2.0` and what each HTTP verb does on them; the
 * server builds its routes from this table.
 */
import type { AttrMap } from './attributes.js';
import type { RequestContext } from './context.js';
import type { NbView } from './model.js';
import { NETWORK_ATTRS, PORT_ATTRS, ROUTER_ATTRS, SUBNET_ATTRS, TRUNK_ATTRS } from './resources.js';
import { canSee } from './policy.js';
import { createNetwork, deleteNetwork, networkView, updateNetwork, visibleNetwork } from './networks.js';
import { createSubnet, deleteSubnet, subnetView, updateSubnet, visibleSubnet } from './subnets.js';
import { createPort, deletePort, portView, updatePort, visiblePort } from './ports.js';
import { addSubports, createTrunk, deleteTrunk, getSubports, removeSubports, trunkView, updateTrunk, visibleTrunk } from './trunks.js';
import {
  addRouterInterface,
  createRouter,
  deleteRouter,
  removeRouterInterface,
  routerView,
  updateRouter,
  visibleRouter,
} from './routers.js';

type Obj = Record<string, unknown>;

export interface Action {
  readonly name: string;
  readonly method: 'GET' | 'PUT';
  run(view: NbView, ctx: RequestContext, id: string, body: unknown): unknown;
}

export interface Collection {
  /** Singular, the body's key: `network`. */
  readonly resource: string;
  /** Plural, the path: `networks`. */
  readonly collection: string;
  readonly attrs: AttrMap;
  list(view: NbView, ctx: RequestContext): Obj[];
  show(view: NbView, ctx: RequestContext, id: string): Obj;
  create(view: NbView, ctx: RequestContext, body: Obj): Promise<Obj>;
  update(view: NbView, ctx: RequestContext, id: string, body: Obj): Promise<Obj>;
  remove(view: NbView, ctx: RequestContext, id: string): Promise<void>;
  readonly actions?: readonly Action[];
}

export const COLLECTIONS: readonly Collection[] = [
  {
    resource: 'network',
    collection: 'networks',
    attrs: NETWORK_ATTRS,
    list: (view, ctx) =>
      view
        .networks()
        .filter((n) => canSee(ctx, n.project_id, n.shared))
        .map(networkView),
    show: (view, ctx, id) => networkView(visibleNetwork(view, ctx, id)),
    create: createNetwork,
    update: updateNetwork,
    remove: deleteNetwork,
  },
  {
    resource: 'subnet',
    collection: 'subnets',
    attrs: SUBNET_ATTRS,
    list: (view, ctx) =>
      view
        .networks()
        .filter((n) => canSee(ctx, n.project_id, n.shared))
        .flatMap((n) => n.subnets.filter((s) => canSee(ctx, s.project_id, n.shared)))
        .map(subnetView),
    show: (view, ctx, id) => subnetView(visibleSubnet(view, ctx, id)),
    create: createSubnet,
    update: updateSubnet,
    remove: deleteSubnet,
  },
  {
    resource: 'port',
    collection: 'ports',
    attrs: PORT_ATTRS,
    list: (view, ctx) =>
      view
        .ports()
        .filter((p) => canSee(ctx, p.project_id))
        .map((p) => portView(view, p)),
    show: (view, ctx, id) => portView(view, visiblePort(view, ctx, id)),
    create: createPort,
    update: updatePort,
    remove: deletePort,
  },
  {
    resource: 'trunk',
    collection: 'trunks',
    attrs: TRUNK_ATTRS,
    list: (view, ctx) =>
      view
        .trunks()
        .filter((t) => canSee(ctx, t.trunk.project_id))
        .sort((a, b) => a.trunk.created_at.localeCompare(b.trunk.created_at))
        .map((t) => trunkView(view, t.trunk, t.parent)),
    show: (view, ctx, id) => {
      const t = visibleTrunk(view, ctx, id);
      return trunkView(view, t.trunk, t.parent);
    },
    create: createTrunk,
    update: updateTrunk,
    remove: deleteTrunk,
    actions: [
      { name: 'add_subports', method: 'PUT', run: addSubports },
      { name: 'remove_subports', method: 'PUT', run: removeSubports },
      { name: 'get_subports', method: 'GET', run: (view, ctx, id) => getSubports(view, ctx, id) },
    ],
  },
  {
    resource: 'router',
    collection: 'routers',
    attrs: ROUTER_ATTRS,
    list: (view, ctx) =>
      view
        .routers()
        .filter((r) => canSee(ctx, r.project_id))
        .map(routerView),
    show: (view, ctx, id) => routerView(visibleRouter(view, ctx, id)),
    create: createRouter,
    update: updateRouter,
    remove: deleteRouter,
    actions: [
      { name: 'add_router_interface', method: 'PUT', run: addRouterInterface },
      { name: 'remove_router_interface', method: 'PUT', run: removeRouterInterface },
    ],
  },
];
