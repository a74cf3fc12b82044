/**
 * Which southbound rows this chassis replicates (ovn-controller(8),
 * `external_ids:ovn-monitor-all`): by default only what its local datapaths
 * need, through monitor conditions that follow the bindings (ovsdb-server(7)
 * `monitor_cond_change`); with `ovn-monitor-all=true`, everything.
 *
 * - Port_Binding: the ports named by local interfaces' `iface-id`, container
 *   ports of local VIFs, ports claimed by or requested for this chassis,
 *   every patch and l3gateway port (the local datapaths are found across
 *   them) and every port of a local datapath;
 * - Logical_Flow: flows of a local datapath or of a datapath group with one;
 * - MAC_Binding, Multicast_Group: of local datapaths; FDB: by their tunnel keys.
 *
 * Other tables are small or needed whole (Chassis for tunnels, Datapath_Binding,
 * Logical_DP_Group, Load_Balancer…) and are replicated whole.
 */
import { anyOf } from '../ovsdb/client/conditions.js';
import type { ConditionChanges } from '../ovsdb/client/conditions.js';

export interface SbMonitorInputs {
  /** `ovn-monitor-all=true`: replicate every row. */
  readonly monitorAll: boolean;
  /** This chassis' Chassis row, once registered. */
  readonly chassisUuid: string | undefined;
  /** `external_ids:iface-id` of the integration bridge's interfaces. */
  readonly ifaceIds: Iterable<string>;
  /** Logical ports of local VIFs (parents of container ports). */
  readonly localVifs: Iterable<string>;
  /** Datapath_Binding UUIDs that matter here. */
  readonly localDatapaths: ReadonlySet<string>;
  /** Datapath_Binding tunnel keys by UUID. */
  readonly datapathKeys: ReadonlyMap<string, number>;
  /** Logical_DP_Group datapaths by group UUID. */
  readonly dpGroups: ReadonlyMap<string, readonly string[]>;
}

/** The tables whose rows follow the local datapaths. */
export const CONDITIONED_TABLES = ['Port_Binding', 'Logical_Flow', 'MAC_Binding', 'Multicast_Group', 'FDB'] as const;

const sorted = <T>(xs: Iterable<T>): T[] => [...new Set(xs)].sort();

/** ORs clause lists (each `[false]` when empty); `[false]` when none is left. */
function either(...lists: unknown[][]): unknown[] {
  const out = lists.flat().filter((c) => c !== false);
  return out.length === 0 ? [false] : out;
}
const uuids = (xs: Iterable<string>): unknown[] => sorted(xs).map((u) => ['uuid', u]);

/** The monitor conditions for the SB tables in {@link CONDITIONED_TABLES}. */
export function sbConditions(inp: SbMonitorInputs): ConditionChanges {
  if (inp.monitorAll) return Object.fromEntries(CONDITIONED_TABLES.map((t) => [t, undefined]));
  const dps = uuids(inp.localDatapaths);
  const groups = uuids([...inp.dpGroups].filter(([, members]) => members.some((d) => inp.localDatapaths.has(d))).map(([g]) => g));
  const mine = inp.chassisUuid === undefined ? [] : [['uuid', inp.chassisUuid]];
  const portBinding = either(
    [
      ['type', '==', 'patch'],
      ['type', '==', 'l3gateway'],
    ],
    anyOf('chassis', mine),
    anyOf('requested_chassis', mine),
    anyOf('logical_port', sorted(inp.ifaceIds)),
    anyOf('parent_port', sorted(inp.localVifs)),
    anyOf('datapath', dps),
  );
  const keys = sorted(
    [...inp.localDatapaths].flatMap((d) => {
      const k = inp.datapathKeys.get(d);
      return k === undefined ? [] : [k];
    }),
  );
  return {
    Port_Binding: portBinding,
    Logical_Flow: either(anyOf('logical_datapath', dps), anyOf('logical_dp_group', groups)),
    MAC_Binding: anyOf('datapath', dps),
    Multicast_Group: anyOf('datapath', dps),
    FDB: anyOf('dp_key', keys),
  };
}
