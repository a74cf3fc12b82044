/**
 * Where a trace's Southbound snapshot comes from when it is read over OVSDB:
 * the tables and columns ovn-trace(8) reads, and the snapshot built from an
 * {@link OvsdbClient}'s replica of them. `ovnts trace` reads it once; the page
 * of `ovnts ui` keeps the replica live and takes a snapshot per trace.
 */
import type { OvsdbClient } from '../ovsdb/client.js';
import { rowToModel } from '../ovsdb/client/model-rows.js';
import type { SbSnapshot } from './snapshot.js';

/** The Southbound columns a trace reads, per table. */
export const TRACE_SB_TABLES = {
  Datapath_Binding: ['external_ids', 'tunnel_key'],
  Port_Binding: ['logical_port', 'datapath', 'tunnel_key', 'type', 'options', 'port_security', 'mac'],
  Logical_Flow: ['logical_datapath', 'logical_dp_group', 'pipeline', 'table_id', 'priority', 'match', 'actions', 'external_ids'],
  Logical_DP_Group: ['datapaths'],
  Multicast_Group: ['datapath', 'name', 'ports'],
  MAC_Binding: ['datapath', 'logical_port', 'ip', 'mac'],
  Address_Set: ['name', 'addresses'],
  Port_Group: ['name', 'ports'],
} as const;

/** The trace's snapshot of the client's current replica (which must monitor at least {@link TRACE_SB_TABLES}). */
export function snapshotFromClient(client: OvsdbClient): SbSnapshot {
  const rows = <T extends { _uuid: string }>(t: keyof typeof TRACE_SB_TABLES): T[] => {
    const schema = client.schema.tables.get(t);
    if (schema === undefined) return [];
    return [...client.table(t).values()].map((r) => rowToModel<T>(r, schema));
  };
  return {
    datapaths: rows('Datapath_Binding'),
    ports: rows('Port_Binding'),
    flows: rows('Logical_Flow'),
    dpGroups: rows('Logical_DP_Group'),
    multicastGroups: rows('Multicast_Group'),
    macBindings: rows('MAC_Binding') as unknown as SbSnapshot['macBindings'][number][],
    addressSets: rows('Address_Set') as unknown as SbSnapshot['addressSets'][number][],
    portGroups: rows('Port_Group') as unknown as SbSnapshot['portGroups'][number][],
  } as unknown as SbSnapshot;
}
