/**
 * The southbound state northd wants for one NB state, written as the difference
 * from the SB it sees (ovn-northd(8), ovn-sb(5)): SB_Global, the DHCP option code
 * tables, Datapath_Binding per switch and router, Port_Binding per port,
 * Multicast_Group per switch, and the logical flows. Tunnel keys already in the
 * SB are kept, so they survive northd restarts and failovers.
 */
import { randomBytes } from 'node:crypto';
import type { OvsdbClient, Txn } from '../../ovsdb/client.js';
import type { NbView, Uuid } from '../nb-view.js';
import { newFlowUnits, rebuildUnits, type FlowUnits } from './flow-units.js';
import { LogicalFlowSync } from './logical-flows.js';
import { DHCPV4_CODES, DHCPV6_CODES } from './dhcp-codes.js';
import { map, RowMemo, str, syncTable, type DesiredRow } from './rows.js';
import { MAX_DP_KEY, syncDatapaths } from './datapaths.js';
import { newPortBindingCache, syncPortBindings, type PortBindingCache } from './port-bindings.js';
import { syncMulticastGroups, type MulticastGroupCache } from './multicast-groups.js';
import { syncAddressSets } from './address-sets.js';
import type { SbPass } from './sb-pass.js';

/** What ovn-controller compares with its own version (SB_Global options:northd_internal_version). */
export const NORTHD_INTERNAL_VERSION = '23.03.1-20.27.0-70.6';

export interface SbPassInput {
  readonly nb: NbView;
  readonly sb: OvsdbClient;
  /** Nested ports' tags after allocation (NB `tag` for ports not in the map). */
  readonly tags: ReadonlyMap<Uuid, number | null>;
  /** NB_Global.nb_cfg this pass reflects. */
  readonly nbCfg: number;
  /** Logs a refused NB row (e.g. an ACL whose match does not parse). */
  readonly refuse?: (msg: string) => void;
  /** Flow units kept from the last pass (default: none, a full rebuild). */
  readonly flowUnits?: FlowUnits;
  /** The Logical_Flow table's state from the last pass (default: none, the whole table compared). */
  readonly flowSync?: LogicalFlowSync;
  /** Filled with the milliseconds each part of the pass took, when given. */
  readonly timings?: Record<string, number>;
  /** Desired rows kept from earlier passes (default: none). */
  readonly rowCache?: RowCache;
  /** Per SB table, what earlier passes learnt about its rows (default: nothing). */
  readonly memos?: Map<string, RowMemo>;
}

/**
 * Desired Port_Binding and Multicast_Group rows kept across passes (NB rows are
 * immutable: a changed row is a new object), so a pass reuses them — JSON text
 * included — when nothing they depend on changed.
 */
export interface RowCache {
  readonly ports: PortBindingCache;
  /** By switch UUID. */
  readonly groups: MulticastGroupCache;
}

export function newRowCache(): RowCache {
  return { ports: newPortBindingCache(), groups: new Map() };
}

function randomMac(bytes: number, local: boolean): string {
  const b = randomBytes(bytes);
  if (local) b[0] = ((b[0] as number) & 0xfe) | 0x02;
  else b[0] = (b[0] as number) & 0xfe;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * NB_Global `options` with what northd adds (ovn-nb(5) NB_Global options): the MAC
 * prefix for dynamic addresses and the service monitor MAC, made up once and then
 * kept (in the NB, or taken back from the SB), the tunnel key limit and the version
 * ovn-controller checks. The SB_Global options are the same map.
 */
export function globalOptions(nbv: NbView, sb: OvsdbClient): Map<string, string> {
  const opts = new Map<string, string>(nbv.global?.options ?? []);
  const sbg = [...sb.table('SB_Global').values()][0];
  const sbOpts = sbg === undefined ? new Map() : (sbg.map('options') as Map<string, string>);
  for (const [k, bytes, local] of [
    ['mac_prefix', 3, false],
    ['svc_monitor_mac', 6, true],
  ] as const) {
    if (!opts.has(k)) opts.set(k, (sbOpts.get(k) as string | undefined) ?? randomMac(bytes, local));
  }
  opts.set('max_tunid', String(MAX_DP_KEY));
  opts.set('northd_internal_version', NORTHD_INTERNAL_VERSION);
  return opts;
}

/** Adds to `txn` every operation that brings the SB to the state the NB asks for. */
export function syncSouthbound(txn: Txn, input: SbPassInput): void {
  const { nb: nbv, sb } = input;
  const memos = input.memos ?? new Map<string, RowMemo>();
  const memo = (table: string): RowMemo => {
    let m = memos.get(table);
    if (m === undefined) memos.set(table, (m = new RowMemo()));
    return m;
  };

  let lapAt = performance.now();
  const lap = (what: string): void => {
    const now = performance.now();
    if (input.timings !== undefined) input.timings[what] = now - lapAt;
    lapAt = now;
  };
  // --- SB_Global and the option code tables.
  const opts = globalOptions(nbv, sb);
  syncTable(
    sb,
    txn,
    'SB_Global',
    new Map([['g', { cols: { options: map(opts), nb_cfg: input.nbCfg } }]]),
    () => 'g',
    true,
    memo('SB_Global'),
  );
  const codes = (list: typeof DHCPV4_CODES): Map<string, DesiredRow> =>
    new Map(list.map(([name, code, type]) => [name, { cols: { name, code, type } }]));
  syncTable(sb, txn, 'DHCP_Options', codes(DHCPV4_CODES), (r) => str(r, 'name'), true, memo('DHCP_Options'));
  syncTable(sb, txn, 'DHCPv6_Options', codes(DHCPV6_CODES), (r) => str(r, 'name'), true, memo('DHCPv6_Options'));

  lap('global');
  const p: SbPass = { txn, sb, nbv, memo };
  const dps = syncDatapaths(p);
  lap('datapaths');
  const rowsOf = input.rowCache ?? newRowCache();
  const pbIds = syncPortBindings(p, dps, input.tags, rowsOf.ports);
  lap('ports');
  syncMulticastGroups(p, dps, pbIds, rowsOf.groups);
  lap('groups');
  syncAddressSets(p, dps, opts.get('svc_monitor_mac') as string);
  lap('sets');
  // --- Logical flows: only the units the NB changes dirtied are built again.
  const units = input.flowUnits ?? newFlowUnits();
  const flowSync = input.flowSync ?? new LogicalFlowSync();
  const rebuilt = rebuildUnits(nbv, units, input.refuse);
  lap('flows built');
  flowSync.apply(rebuilt);
  flowSync.sync(sb, txn, { sbOf: dps.sbOf, nbOf: dps.nbOf });
  lap('flows diffed');
}
