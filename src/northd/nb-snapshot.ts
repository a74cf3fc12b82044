/**
 * The NB as northd reads it: every table it uses, as typed rows, with the
 * lookups of `NbView`. Built whole from an `OvsdbClient`'s replica (a full pass
 * costs a few milliseconds per thousand rows), then kept current by `apply()`
 * from the client's `change` events, indexes included, at a cost proportional
 * to the changes.
 */
import type { OvsdbClient, RowChange } from '../ovsdb/client.js';
import type { Row } from '../ovsdb/client/replica.js';
import { rowToModel } from '../ovsdb/client/model-rows.js';
import type { DatabaseSchema } from '../ovsdb/schema.js';
import type * as nb from '../ovsdb/models/ovn-nb.js';
import type { NbIndexes, NbView, Uuid } from './nb-view.js';
import { lspAddresses, type LspAddresses } from './build/addresses.js';

class MultiIndex {
  private readonly m = new Map<string, Set<Uuid>>();
  add(key: string, u: Uuid): void {
    let s = this.m.get(key);
    if (s === undefined) this.m.set(key, (s = new Set()));
    s.add(u);
  }
  remove(key: string, u: Uuid): void {
    const s = this.m.get(key);
    s?.delete(u);
    if (s?.size === 0) this.m.delete(key);
  }
  get(key: string): Iterable<Uuid> {
    return this.m.get(key) ?? [];
  }
}

/** The NB tables northd monitors (all columns). */
export const NB_TABLES = [
  'NB_Global',
  'Logical_Switch',
  'Logical_Switch_Port',
  'Logical_Router',
  'Logical_Router_Port',
  'Logical_Router_Static_Route',
  'ACL',
  'Port_Group',
  'Address_Set',
  'DHCP_Options',
  'NAT',
  'Load_Balancer',
  'Logical_Router_Policy',
] as const;
export type NbTable = (typeof NB_TABLES)[number];

/** What a snapshot is built from: an `OvsdbClient` after `start()`, or anything shaped like its replica. */
export interface NbSource {
  readonly schema: DatabaseSchema;
  table(name: string): ReadonlyMap<string, Row>;
}

/** A name → the UUIDs carrying it, in insertion order (names should be unique, but the NB does not enforce it). */
class NameIndex {
  private readonly m = new Map<string, Set<Uuid>>();
  add(name: string, u: Uuid): void {
    let s = this.m.get(name);
    if (s === undefined) this.m.set(name, (s = new Set()));
    s.add(u);
  }
  remove(name: string, u: Uuid): void {
    const s = this.m.get(name);
    if (s === undefined) return;
    s.delete(u);
    if (s.size === 0) this.m.delete(name);
  }
  get(name: string): ReadonlySet<Uuid> | undefined {
    return this.m.get(name);
  }
}

/** Which datapath holds each port; a port listed by two datapaths (an insane NB) belongs to the first seen. */
class Membership<D extends { _uuid: Uuid; ports: string[] }> {
  private readonly owner = new Map<Uuid, D>();
  private readonly holders = new Map<Uuid, Set<Uuid>>();
  constructor(private readonly rows: ReadonlyMap<Uuid, D>) {}
  add(dp: D): void {
    for (const p of dp.ports) {
      let s = this.holders.get(p);
      if (s === undefined) this.holders.set(p, (s = new Set()));
      s.add(dp._uuid);
      if (!this.owner.has(p) || this.owner.get(p)?._uuid === dp._uuid) this.owner.set(p, dp);
    }
  }
  remove(dp: D): void {
    for (const p of dp.ports) {
      const s = this.holders.get(p);
      s?.delete(dp._uuid);
      if (this.owner.get(p)?._uuid !== dp._uuid) continue;
      this.owner.delete(p);
      const next = s === undefined ? undefined : [...s].map((u) => this.rows.get(u)).find((d) => d !== undefined);
      if (next !== undefined) this.owner.set(p, next);
      if (s !== undefined && s.size === 0) this.holders.delete(p);
    }
  }
  get(port: Uuid): D | undefined {
    return this.owner.get(port);
  }
}

export class NbSnapshot implements NbView, NbIndexes {
  readonly indexes: NbIndexes = this;
  readonly switches = new Map<Uuid, nb.Logical_Switch>();
  readonly switchPorts = new Map<Uuid, nb.Logical_Switch_Port>();
  readonly routers = new Map<Uuid, nb.Logical_Router>();
  readonly routerPorts = new Map<Uuid, nb.Logical_Router_Port>();
  readonly staticRoutes = new Map<Uuid, nb.Logical_Router_Static_Route>();
  readonly acls = new Map<Uuid, nb.ACL>();
  readonly portGroups = new Map<Uuid, nb.Port_Group>();
  readonly addressSets = new Map<Uuid, nb.Address_Set>();
  readonly dhcpOptions = new Map<Uuid, nb.DHCP_Options>();
  readonly nats = new Map<Uuid, nb.NAT>();
  readonly loadBalancers = new Map<Uuid, nb.Load_Balancer>();
  readonly routerPolicies = new Map<Uuid, nb.Logical_Router_Policy>();
  private readonly globals = new Map<Uuid, nb.NB_Global>();
  private readonly lsOfPort = new Membership(this.switches);
  private readonly lrOfPort = new Membership(this.routers);
  private readonly lspNames = new NameIndex();
  private readonly lrpNames = new NameIndex();
  private readonly schema: DatabaseSchema;
  private readonly pgsOfPort = new MultiIndex();
  private readonly routerTypePorts = new MultiIndex();
  /** Port group addresses, valid while the group and its member rows are the same objects. */
  private readonly pgAddrs = new Map<Uuid, { pg: nb.Port_Group; members: (nb.Logical_Switch_Port | undefined)[]; addrs: LspAddresses[] }>();

  constructor(source: NbSource) {
    this.schema = source.schema;
    for (const t of NB_TABLES) {
      if (!this.schema.tables.has(t)) continue;
      for (const [uuid, row] of source.table(t)) this.put(t, uuid, row);
    }
  }

  /** Builds a snapshot of a started client's NB replica. */
  static of(client: OvsdbClient): NbSnapshot {
    return new NbSnapshot(client);
  }

  get global(): nb.NB_Global | undefined {
    return this.globals.values().next().value;
  }

  /**
   * Applies the client's row changes (its `change` event); rows of tables this
   * view does not hold are ignored. Returns how many changes touched this view.
   */
  apply(changes: readonly RowChange[]): number {
    let n = 0;
    for (const c of changes) {
      if (!(NB_TABLES as readonly string[]).includes(c.table) || !this.schema.tables.has(c.table)) continue;
      n++;
      this.drop(c.table as NbTable, c.uuid);
      if (c.new !== null) this.put(c.table as NbTable, c.uuid, c.new);
    }
    return n;
  }

  switchOfPort(lsp: Uuid): nb.Logical_Switch | undefined {
    return this.lsOfPort.get(lsp);
  }
  routerOfPort(lrp: Uuid): nb.Logical_Router | undefined {
    return this.lrOfPort.get(lrp);
  }
  /** Only ports that a switch holds exist as far as OVN is concerned; first by insertion wins a duplicate name. */
  switchPortByName(name: string): nb.Logical_Switch_Port | undefined {
    for (const u of this.lspNames.get(name) ?? []) if (this.lsOfPort.get(u) !== undefined) return this.switchPorts.get(u);
    return undefined;
  }
  routerPortByName(name: string): nb.Logical_Router_Port | undefined {
    for (const u of this.lrpNames.get(name) ?? []) if (this.lrOfPort.get(u) !== undefined) return this.routerPorts.get(u);
    return undefined;
  }

  portGroupsOfPort(lsp: Uuid): nb.Port_Group[] {
    const out: nb.Port_Group[] = [];
    for (const u of this.pgsOfPort.get(lsp)) {
      const pg = this.portGroups.get(u);
      if (pg !== undefined) out.push(pg);
    }
    return out;
  }
  routerTypePortsFor(lrpName: string): nb.Logical_Switch_Port[] {
    const out: nb.Logical_Switch_Port[] = [];
    for (const u of this.routerTypePorts.get(lrpName)) {
      const p = this.switchPorts.get(u);
      if (p !== undefined) out.push(p);
    }
    return out;
  }
  portGroupAddresses(pg: nb.Port_Group): LspAddresses[] {
    const members = pg.ports.map((u) => this.switchPorts.get(u));
    const hit = this.pgAddrs.get(pg._uuid);
    if (hit !== undefined && hit.pg === pg && hit.members.length === members.length && hit.members.every((m, i) => m === members[i]))
      return hit.addrs;
    const addrs = members.flatMap((m) => (m === undefined ? [] : lspAddresses(m)));
    this.pgAddrs.set(pg._uuid, { pg, members, addrs });
    return addrs;
  }

  private model<T extends { _uuid: string }>(table: NbTable, row: Row): T {
    return rowToModel<T>(row, this.schema.tables.get(table) as NonNullable<ReturnType<DatabaseSchema['tables']['get']>>);
  }

  private put(table: NbTable, uuid: Uuid, row: Row): void {
    switch (table) {
      case 'NB_Global':
        this.globals.set(uuid, this.model(table, row));
        break;
      case 'Logical_Switch': {
        const ls = this.model<nb.Logical_Switch>(table, row);
        this.switches.set(uuid, ls);
        this.lsOfPort.add(ls);
        break;
      }
      case 'Logical_Router': {
        const lr = this.model<nb.Logical_Router>(table, row);
        this.routers.set(uuid, lr);
        this.lrOfPort.add(lr);
        break;
      }
      case 'Logical_Switch_Port': {
        const p = this.model<nb.Logical_Switch_Port>(table, row);
        this.switchPorts.set(uuid, p);
        this.lspNames.add(p.name, uuid);
        if (p.type === 'router') this.routerTypePorts.add(p.options.get('router-port') ?? '', uuid);
        break;
      }
      case 'Logical_Router_Port': {
        const p = this.model<nb.Logical_Router_Port>(table, row);
        this.routerPorts.set(uuid, p);
        this.lrpNames.add(p.name, uuid);
        break;
      }
      case 'Logical_Router_Static_Route':
        this.staticRoutes.set(uuid, this.model(table, row));
        break;
      case 'ACL':
        this.acls.set(uuid, this.model(table, row));
        break;
      case 'Port_Group': {
        const pg = this.model<nb.Port_Group>(table, row);
        this.portGroups.set(uuid, pg);
        for (const p of pg.ports) this.pgsOfPort.add(p, uuid);
        break;
      }
      case 'Address_Set':
        this.addressSets.set(uuid, this.model(table, row));
        break;
      case 'DHCP_Options':
        this.dhcpOptions.set(uuid, this.model(table, row));
        break;
      case 'NAT':
        this.nats.set(uuid, this.model(table, row));
        break;
      case 'Load_Balancer':
        this.loadBalancers.set(uuid, this.model(table, row));
        break;
      case 'Logical_Router_Policy':
        this.routerPolicies.set(uuid, this.model(table, row));
        break;
    }
  }

  private drop(table: NbTable, uuid: Uuid): void {
    switch (table) {
      case 'NB_Global':
        this.globals.delete(uuid);
        break;
      case 'Logical_Switch': {
        const ls = this.switches.get(uuid);
        if (ls === undefined) break;
        this.switches.delete(uuid);
        this.lsOfPort.remove(ls);
        break;
      }
      case 'Logical_Router': {
        const lr = this.routers.get(uuid);
        if (lr === undefined) break;
        this.routers.delete(uuid);
        this.lrOfPort.remove(lr);
        break;
      }
      case 'Logical_Switch_Port': {
        const p = this.switchPorts.get(uuid);
        if (p !== undefined) {
          this.lspNames.remove(p.name, uuid);
          if (p.type === 'router') this.routerTypePorts.remove(p.options.get('router-port') ?? '', uuid);
        }
        this.switchPorts.delete(uuid);
        break;
      }
      case 'Logical_Router_Port': {
        const p = this.routerPorts.get(uuid);
        if (p !== undefined) this.lrpNames.remove(p.name, uuid);
        this.routerPorts.delete(uuid);
        break;
      }
      case 'Logical_Router_Static_Route':
        this.staticRoutes.delete(uuid);
        break;
      case 'ACL':
        this.acls.delete(uuid);
        break;
      case 'Port_Group': {
        const pg = this.portGroups.get(uuid);
        if (pg !== undefined) for (const p of pg.ports) this.pgsOfPort.remove(p, uuid);
        this.portGroups.delete(uuid);
        this.pgAddrs.delete(uuid);
        break;
      }
      case 'Address_Set':
        this.addressSets.delete(uuid);
        break;
      case 'DHCP_Options':
        this.dhcpOptions.delete(uuid);
        break;
      case 'NAT':
        this.nats.delete(uuid);
        break;
      case 'Load_Balancer':
        this.loadBalancers.delete(uuid);
        break;
      case 'Logical_Router_Policy':
        this.routerPolicies.delete(uuid);
        break;
    }
  }
}
