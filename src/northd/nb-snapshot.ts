/**
 * The NB as northd reads it: every table it uses, as typed rows, with the
 * lookups of `NbView`. Built whole from the client's replica (a full pass costs
 * a few milliseconds per thousand rows).
 */
import type { OvsdbClient } from '../ovsdb/client.js';
import { rowToModel } from '../ovsdb/client/model-rows.js';
import type * as nb from '../ovsdb/models/ovn-nb.js';
import type { NbView, Uuid } from './nb-view.js';

/** The NB tables northd monitors (all columns). */
export const NB_TABLES = [
  'NB_Global', 'Logical_Switch', 'Logical_Switch_Port', 'Logical_Router', 'Logical_Router_Port',
  'Logical_Router_Static_Route', 'ACL', 'Port_Group', 'Address_Set', 'DHCP_Options', 'NAT', 'Load_Balancer',
] as const;

function table<T extends { _uuid: string }>(client: OvsdbClient, name: string): Map<Uuid, T> {
  const ts = client.schema.tables.get(name);
  const out = new Map<Uuid, T>();
  if (ts === undefined) return out;
  for (const [uuid, row] of client.table(name)) out.set(uuid, rowToModel<T>(row, ts));
  return out;
}

export class NbSnapshot implements NbView {
  readonly global: nb.NB_Global | undefined;
  readonly switches: Map<Uuid, nb.Logical_Switch>;
  readonly switchPorts: Map<Uuid, nb.Logical_Switch_Port>;
  readonly routers: Map<Uuid, nb.Logical_Router>;
  readonly routerPorts: Map<Uuid, nb.Logical_Router_Port>;
  readonly staticRoutes: Map<Uuid, nb.Logical_Router_Static_Route>;
  readonly acls: Map<Uuid, nb.ACL>;
  readonly portGroups: Map<Uuid, nb.Port_Group>;
  readonly addressSets: Map<Uuid, nb.Address_Set>;
  readonly dhcpOptions: Map<Uuid, nb.DHCP_Options>;
  readonly nats: Map<Uuid, nb.NAT>;
  readonly loadBalancers: Map<Uuid, nb.Load_Balancer>;
  private readonly lsOfPort = new Map<Uuid, nb.Logical_Switch>();
  private readonly lrOfPort = new Map<Uuid, nb.Logical_Router>();
  private readonly lspByName = new Map<string, nb.Logical_Switch_Port>();
  private readonly lrpByName = new Map<string, nb.Logical_Router_Port>();

  constructor(client: OvsdbClient) {
    this.global = table<nb.NB_Global>(client, 'NB_Global').values().next().value;
    this.switches = table(client, 'Logical_Switch');
    this.switchPorts = table(client, 'Logical_Switch_Port');
    this.routers = table(client, 'Logical_Router');
    this.routerPorts = table(client, 'Logical_Router_Port');
    this.staticRoutes = table(client, 'Logical_Router_Static_Route');
    this.acls = table(client, 'ACL');
    this.portGroups = table(client, 'Port_Group');
    this.addressSets = table(client, 'Address_Set');
    this.dhcpOptions = table(client, 'DHCP_Options');
    this.nats = table(client, 'NAT');
    this.loadBalancers = table(client, 'Load_Balancer');
    for (const ls of this.switches.values()) for (const p of ls.ports) this.lsOfPort.set(p, ls);
    for (const lr of this.routers.values()) for (const p of lr.ports) this.lrOfPort.set(p, lr);
    // Only ports that belong to a switch/router exist as far as OVN is concerned.
    for (const [u, p] of this.switchPorts) if (this.lsOfPort.has(u) && !this.lspByName.has(p.name)) this.lspByName.set(p.name, p);
    for (const [u, p] of this.routerPorts) if (this.lrOfPort.has(u) && !this.lrpByName.has(p.name)) this.lrpByName.set(p.name, p);
  }

  switchOfPort(lsp: Uuid): nb.Logical_Switch | undefined {
    return this.lsOfPort.get(lsp);
  }
  routerOfPort(lrp: Uuid): nb.Logical_Router | undefined {
    return this.lrOfPort.get(lrp);
  }
  switchPortByName(name: string): nb.Logical_Switch_Port | undefined {
    return this.lspByName.get(name);
  }
  routerPortByName(name: string): nb.Logical_Router_Port | undefined {
    return this.lrpByName.get(name);
  }
}
