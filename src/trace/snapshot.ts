/**
 * The Southbound rows a trace reads (ovn-sb(5)): Datapath_Binding,
 * Port_Binding, Logical_Flow, Logical_DP_Group, Multicast_Group, MAC_Binding,
 * Address_Set, Port_Group — as plain typed rows, plus the indexes the
 * pipeline walk needs. Pure: built from whatever source the caller has.
 */
import type * as sb from '../ovsdb/models/ovn-sb.js';

export interface SbSnapshot {
  readonly datapaths: readonly Pick<sb.Datapath_Binding, '_uuid' | 'external_ids' | 'tunnel_key'>[];
  readonly ports: readonly Pick<
    sb.Port_Binding,
    '_uuid' | 'logical_port' | 'datapath' | 'tunnel_key' | 'type' | 'options' | 'port_security' | 'mac'
  >[];
  readonly flows: readonly Pick<
    sb.Logical_Flow,
    '_uuid' | 'logical_datapath' | 'logical_dp_group' | 'pipeline' | 'table_id' | 'priority' | 'match' | 'actions' | 'external_ids'
  >[];
  readonly dpGroups: readonly Pick<sb.Logical_DP_Group, '_uuid' | 'datapaths'>[];
  readonly multicastGroups: readonly Pick<sb.Multicast_Group, '_uuid' | 'datapath' | 'name' | 'ports'>[];
  readonly macBindings: readonly Pick<sb.MAC_Binding, 'datapath' | 'logical_port' | 'ip' | 'mac'>[];
  readonly addressSets: readonly Pick<sb.Address_Set, 'name' | 'addresses'>[];
  readonly portGroups: readonly Pick<sb.Port_Group, 'name' | 'ports'>[];
}

export type Datapath = SbSnapshot['datapaths'][number];
export type Port = SbSnapshot['ports'][number];
export type Flow = SbSnapshot['flows'][number];

/** A datapath's name as ovn-trace shows it: external_ids:name, else name2, else its UUID. */
export function datapathName(dp: Datapath): string {
  return dp.external_ids.get('name') ?? dp.external_ids.get('name2') ?? dp._uuid;
}

/** Lookups over a snapshot. */
export class SbIndex {
  readonly datapathByUuid = new Map<string, Datapath>();
  readonly portByName = new Map<string, Port>();
  readonly portByUuid = new Map<string, Port>();
  private readonly flowsByDp = new Map<string, Flow[]>();
  private readonly addressSets = new Map<string, readonly string[]>();
  private readonly portGroups = new Map<string, readonly string[]>();

  constructor(readonly snapshot: SbSnapshot) {
    for (const dp of snapshot.datapaths) this.datapathByUuid.set(dp._uuid, dp);
    for (const p of snapshot.ports) {
      this.portByName.set(p.logical_port, p);
      this.portByUuid.set(p._uuid, p);
    }
    const groups = new Map(snapshot.dpGroups.map((g) => [g._uuid, g.datapaths]));
    for (const f of snapshot.flows) {
      const dps =
        f.logical_datapath !== null ? [f.logical_datapath] : f.logical_dp_group !== null ? (groups.get(f.logical_dp_group) ?? []) : [];
      for (const dp of dps) {
        let list = this.flowsByDp.get(dp);
        if (list === undefined) this.flowsByDp.set(dp, (list = []));
        list.push(f);
      }
    }
    // Highest priority first; equal priorities in a stable (UUID) order.
    for (const list of this.flowsByDp.values()) list.sort((a, b) => b.priority - a.priority || (a._uuid < b._uuid ? -1 : 1));
    for (const s of snapshot.addressSets) this.addressSets.set(s.name, s.addresses);
    for (const g of snapshot.portGroups) this.portGroups.set(g.name, g.ports);
  }

  /** ovn-trace accepts a datapath by name, name2 or UUID (or a UUID prefix of 4+ digits). */
  findDatapath(key: string): Datapath | undefined {
    for (const dp of this.snapshot.datapaths)
      if (dp.external_ids.get('name') === key || dp.external_ids.get('name2') === key || dp._uuid === key) return dp;
    if (/^[0-9a-f-]{4,}$/.test(key)) {
      const hits = this.snapshot.datapaths.filter((dp) => dp._uuid.startsWith(key));
      if (hits.length === 1) return hits[0];
    }
    return undefined;
  }

  /** The flows of one datapath, pipeline and table, highest priority first. */
  flows(dp: string, pipeline: 'ingress' | 'egress', table: number): Flow[] {
    return (this.flowsByDp.get(dp) ?? []).filter((f) => f.pipeline === pipeline && f.table_id === table);
  }

  /** The highest table number any flow of the datapath's pipeline uses. */
  lastTable(dp: string, pipeline: 'ingress' | 'egress'): number {
    let max = -1;
    for (const f of this.flowsByDp.get(dp) ?? []) if (f.pipeline === pipeline && f.table_id > max) max = f.table_id;
    return max;
  }

  addressSet(name: string): readonly string[] | undefined {
    return this.addressSets.get(name);
  }

  /** SB port groups are per datapath, named `<datapath tunnel key>_<name>` (ovn-sb(5) Port_Group). */
  portGroup(dp: Datapath | undefined, name: string): readonly string[] | undefined {
    if (dp !== undefined) {
      const g = this.portGroups.get(`${dp.tunnel_key}_${name}`);
      if (g !== undefined) return g;
    }
    return this.portGroups.get(name);
  }

  multicastGroup(dp: string, name: string): SbSnapshot['multicastGroups'][number] | undefined {
    return this.snapshot.multicastGroups.find((g) => g.datapath === dp && g.name === name);
  }

  macBinding(port: string, ip: string): string | undefined {
    return this.snapshot.macBindings.find((m) => m.logical_port === port && m.ip === ip)?.mac;
  }
}
