/**
 * The contract between northd's SB synchronisation (`northd.ts`, `sync/`) and its
 * logical-flow builders (`stages.ts`, `build/`): the northbound database as the
 * builders read it, and how they hand flows back.
 *
 * Builders are pure: they read an `NbView` and call `add` for each flow; they never
 * touch the SB or do I/O. Incremental processing relies on the ownership rules
 * written on each builder below, so a builder must not read more than it says.
 */
import type * as nb from '../ovsdb/models/ovn-nb.js';
import type { Stage } from './stages.js';
import type { LspAddresses } from './build/addresses.js';

export type Uuid = string;

/** The NB, typed and indexed. Maps are keyed by row UUID; rows are never modified. */
export interface NbView {
  readonly global: nb.NB_Global | undefined;
  readonly switches: ReadonlyMap<Uuid, nb.Logical_Switch>;
  readonly switchPorts: ReadonlyMap<Uuid, nb.Logical_Switch_Port>;
  readonly routers: ReadonlyMap<Uuid, nb.Logical_Router>;
  readonly routerPorts: ReadonlyMap<Uuid, nb.Logical_Router_Port>;
  readonly staticRoutes: ReadonlyMap<Uuid, nb.Logical_Router_Static_Route>;
  readonly acls: ReadonlyMap<Uuid, nb.ACL>;
  readonly portGroups: ReadonlyMap<Uuid, nb.Port_Group>;
  readonly addressSets: ReadonlyMap<Uuid, nb.Address_Set>;
  readonly dhcpOptions: ReadonlyMap<Uuid, nb.DHCP_Options>;
  readonly nats: ReadonlyMap<Uuid, nb.NAT>;
  readonly loadBalancers: ReadonlyMap<Uuid, nb.Load_Balancer>;

  /** The switch whose `ports` holds this LSP. */
  switchOfPort(lsp: Uuid): nb.Logical_Switch | undefined;
  /** The router whose `ports` holds this LRP. */
  routerOfPort(lrp: Uuid): nb.Logical_Router | undefined;
  /** LSP by name (names are unique among LSPs and LRPs in a sane NB; first wins otherwise). */
  switchPortByName(name: string): nb.Logical_Switch_Port | undefined;
  routerPortByName(name: string): nb.Logical_Router_Port | undefined;
  /** Reverse indexes, where the view keeps them (NbSnapshot does). */
  readonly indexes: NbIndexes | undefined;
}

/**
 * Reverse indexes a builder may use when its NbView offers them (NbSnapshot does);
 * without them the builders scan the tables, with the same result.
 */
export interface NbIndexes {
  /** The port groups listing this LSP. */
  portGroupsOfPort(lsp: Uuid): readonly nb.Port_Group[];
  /** The LSPs of type router whose options:router-port names this LRP. */
  routerTypePortsFor(lrpName: string): readonly nb.Logical_Switch_Port[];
  /** The addresses of a port group's member ports (for its `<name>_ip4`/`_ip6` sets). */
  portGroupAddresses(pg: nb.Port_Group): readonly LspAddresses[];
  /** Logical_Router_Policy rows (not part of NbView). */
  readonly routerPolicies: ReadonlyMap<Uuid, nb.Logical_Router_Policy>;
}

/**
 * Adds one logical flow to the datapath being built. `hint` is the NB row the flow
 * comes from (its first 8 hex digits become `external_ids:stage-hint`, as OVN does).
 */
export type AddFlow = (stage: Stage, priority: number, match: string, actions: string, hint?: Uuid) => void;

/** What one builder produced: the flows of one owner, in `add` order. */
export interface BuiltFlow {
  readonly stage: Stage;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
  readonly hint: Uuid | undefined;
}
