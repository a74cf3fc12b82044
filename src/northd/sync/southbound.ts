/**
 * The southbound state northd wants for one NB state, written as the difference
 * from the SB it sees (ovn-northd(8), ovn-sb(5)): SB_Global, the DHCP option code
 * tables, Datapath_Binding per switch and router, Port_Binding per port,
 * Multicast_Group per switch, and the logical flows. Tunnel keys already in the
 * SB are kept, so they survive northd restarts and failovers.
 */
import { randomBytes } from 'node:crypto';
import type { OvsdbClient, Row, Txn } from '../../ovsdb/client.js';
import type * as nb from '../../ovsdb/models/ovn-nb.js';
import type { NbView, Uuid } from '../nb-view.js';
import { newFlowUnits, rebuildUnits, type FlowUnits } from './flow-units.js';
import { LogicalFlowSync } from './logical-flows.js';
import { DHCPV4_OPTION_DEFS, DHCPV6_OPTION_DEFS, type DhcpOptionDef } from '../../lib/dhcp-option-codes.js';
import { isUuid, map, optional, ref, RowMemo, set, str, syncTable, type DesiredRow } from './rows.js';
import { parseLspAddress } from '../build/addresses.js';

/** What ovn-controller compares with its own version (SB_Global options:northd_internal_version). */
export const NORTHD_INTERNAL_VERSION = '23.03.1-20.27.0-70.6';
/** Largest datapath tunnel key with Geneve (24 bits, less the range OVN keeps for itself). */
const MAX_DP_KEY = 16711680;
const MC_FLOOD = 32768;
const MC_UNKNOWN = 32769;
const MC_FLOOD_L2 = 32772;

/** The lowest keys from 1 not in `used`, for `n` new things. */
function keyAllocator(used: Set<number>, max: number): () => number | undefined {
  let next = 1;
  return () => {
    while (next <= max && used.has(next)) next++;
    if (next > max) return undefined;
    used.add(next);
    return next++;
  };
}

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
 * Desired Port_Binding and Multicast_Group rows by the NB row they come from
 * (NB rows are immutable: a changed row is a new object), with what else they
 * depend on; a pass reuses them — JSON text included — when nothing changed.
 */
export interface RowCache {
  /** By LSP UUID: northd's own write-backs (`up`, `tag`) make new NB row objects that change nothing here. */
  readonly switchPorts: Map<
    Uuid,
    { lsp: nb.Logical_Switch_Port; dp: string; tk: number; tag: number | null; peer: boolean; row: DesiredRow }
  >;
  readonly routerPorts: WeakMap<nb.Logical_Router_Port, { dp: string; tk: number; peer: string | undefined; row: DesiredRow }>;
  /** What a pass reads of each SB Port_Binding row (rows are immutable). */
  readonly bindingFacts: WeakMap<Row, { dp: string; name: string; tk: number }>;
  /** By switch UUID. */
  readonly groups: Map<
    Uuid,
    {
      dp: string;
      ids: ReadonlyArray<string | undefined>;
      lsps: ReadonlyArray<nb.Logical_Switch_Port | undefined>;
      rows: Array<[string, DesiredRow]>;
    }
  >;
}

export function newRowCache(): RowCache {
  return { switchPorts: new Map(), routerPorts: new WeakMap(), groups: new Map(), bindingFacts: new WeakMap() };
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const sameMap = (a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean => {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
};

/** True when two versions of an LSP give the same Port_Binding columns (see portBindingCols). */
function sameBindingInputs(a: nb.Logical_Switch_Port, b: nb.Logical_Switch_Port): boolean {
  return (
    a === b ||
    (a.name === b.name &&
      a.type === b.type &&
      a.parent_name === b.parent_name &&
      a.tag_request === b.tag_request &&
      a.tag === b.tag &&
      sameList(a.addresses, b.addresses) &&
      sameList(a.port_security, b.port_security) &&
      sameMap(a.options, b.options))
  );
}

/** True when two versions of an LSP give the same Multicast_Group membership. */
function sameGroupInputs(a: nb.Logical_Switch_Port | undefined, b: nb.Logical_Switch_Port | undefined): boolean {
  return (
    a === b ||
    (a !== undefined &&
      b !== undefined &&
      a.name === b.name &&
      a.enabled === b.enabled &&
      a.type === b.type &&
      sameList(a.addresses, b.addresses))
  );
}

/** A uuid-name that is unique in a transaction: the kind and the NB row's UUID. */
function uuidName(kind: string, nbUuid: Uuid): string {
  return `${kind}_${nbUuid.replace(/-/g, '_')}`;
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
  const codes = (list: readonly DhcpOptionDef[]): Map<string, DesiredRow> =>
    new Map(list.map(({ name, code, type }) => [name, { cols: { name, code, type } }]));
  syncTable(sb, txn, 'DHCP_Options', codes(DHCPV4_OPTION_DEFS), (r) => str(r, 'name'), true, memo('DHCP_Options'));
  syncTable(sb, txn, 'DHCPv6_Options', codes(DHCPV6_OPTION_DEFS), (r) => str(r, 'name'), true, memo('DHCPv6_Options'));

  lap('global');
  // --- Datapaths: one per switch and router, identified by the NB row.
  const dpKeyOf = (r: Row): string | undefined => {
    const ids = r.map('external_ids');
    const ls = ids.get('logical-switch');
    if (typeof ls === 'string' && nbv.switches.has(ls)) return ls;
    const lr = ids.get('logical-router');
    if (typeof lr === 'string' && nbv.routers.has(lr)) return lr;
    return typeof ls === 'string' || typeof lr === 'string' ? `gone:${r.uuid}` : undefined;
  };
  const usedDpKeys = new Set<number>();
  const existingDpKey = new Map<string, number>();
  for (const r of sb.table('Datapath_Binding').values()) {
    const k = dpKeyOf(r);
    const tk = Number(r.scalar('tunnel_key'));
    if (k !== undefined && !k.startsWith('gone:') && !existingDpKey.has(k)) {
      existingDpKey.set(k, tk);
      usedDpKeys.add(tk);
    }
  }
  const requested = (ids: ReadonlyMap<string, string>, opts2: ReadonlyMap<string, string>): number | undefined => {
    const v = Number(opts2.get('requested-tnl-key') ?? ids.get('requested-tnl-key') ?? NaN);
    return Number.isInteger(v) && v > 0 ? v : undefined;
  };
  const nextDpKey = keyAllocator(usedDpKeys, MAX_DP_KEY);
  const wantDps = new Map<string, DesiredRow>();
  let n = 0;
  const addDp = (uuid: string, kind: 'logical-switch' | 'logical-router', name: string, other: ReadonlyMap<string, string>): void => {
    const key = existingDpKey.get(uuid) ?? requested(new Map(), other) ?? nextDpKey();
    if (key === undefined) return;
    wantDps.set(uuid, { cols: { external_ids: map({ [kind]: uuid, name }), tunnel_key: key }, uuidName: `dp${n++}` });
  };
  for (const ls of nbv.switches.values()) addDp(ls._uuid, 'logical-switch', ls.name, ls.other_config);
  for (const lr of nbv.routers.values()) addDp(lr._uuid, 'logical-router', lr.name, lr.options);
  const dpIds = syncTable(sb, txn, 'Datapath_Binding', wantDps, dpKeyOf, true, memo('Datapath_Binding'));

  lap('datapaths');
  // --- Port bindings, keyed by logical port name.
  const sbDpOfNb = new Map<string, string>(); // SB datapath uuid → NB uuid
  for (const [nbUuid, id] of dpIds) sbDpOfNb.set(id, nbUuid);
  const rowsOf = input.rowCache ?? newRowCache();
  const usedPortKeys = new Map<string, Set<number>>(); // NB dp → keys
  const existingPortKey = new Map<string, Map<string, number>>(); // NB dp → name → key
  for (const r of sb.table('Port_Binding').values()) {
    let facts = rowsOf.bindingFacts.get(r);
    if (facts === undefined)
      rowsOf.bindingFacts.set(r, (facts = { dp: str(r, 'datapath'), name: str(r, 'logical_port'), tk: Number(r.scalar('tunnel_key')) }));
    const dpNb = sbDpOfNb.get(facts.dp);
    if (dpNb === undefined) continue;
    let byName = existingPortKey.get(dpNb);
    if (byName === undefined) existingPortKey.set(dpNb, (byName = new Map<string, number>()));
    byName.set(facts.name, facts.tk);
    let s = usedPortKeys.get(dpNb);
    if (s === undefined) usedPortKeys.set(dpNb, (s = new Set()));
    s.add(facts.tk);
  }
  const portKey = (dpNb: string, name: string): number | undefined => {
    const k = existingPortKey.get(dpNb)?.get(name);
    if (k !== undefined) return k;
    let s = usedPortKeys.get(dpNb);
    if (s === undefined) usedPortKeys.set(dpNb, (s = new Set()));
    return keyAllocator(s, 32767)();
  };
  const wantPorts = new Map<string, DesiredRow>();
  const lrpPeer = new Map<string, string>(); // LRP name → LSP name
  for (const lsp of nbv.switchPorts.values()) {
    if (lsp.type === 'router' && nbv.switchOfPort(lsp._uuid) !== undefined) {
      const rp = lsp.options.get('router-port');
      if (rp !== undefined) lrpPeer.set(rp, lsp.name);
    }
  }
  for (const ls of nbv.switches.values()) {
    const dp = dpIds.get(ls._uuid);
    if (dp === undefined) continue;
    for (const u of ls.ports) {
      const lsp = nbv.switchPorts.get(u);
      if (lsp === undefined || wantPorts.has(lsp.name)) continue;
      const tk = portKey(ls._uuid, lsp.name);
      if (tk === undefined) continue;
      const tag = input.tags.has(lsp._uuid) ? (input.tags.get(lsp._uuid) ?? null) : lsp.tag;
      const peer = lsp.type === 'router' ? nbv.routerPortByName(lsp.options.get('router-port') ?? '') !== undefined : false;
      const known = rowsOf.switchPorts.get(lsp._uuid);
      if (
        known !== undefined &&
        known.dp === dp &&
        known.tk === tk &&
        known.tag === tag &&
        known.peer === peer &&
        sameBindingInputs(known.lsp, lsp)
      ) {
        known.lsp = lsp;
        wantPorts.set(lsp.name, known.row);
        continue;
      }
      const cols = portBindingCols(nbv, lsp, ref(dp), tk, input.tags);
      // `up` starts false: ovn-controller sets it true only where northd initialised it.
      const row = { cols, text: JSON.stringify(cols), uuidName: uuidName('pb', lsp._uuid), initial: { up: false } };
      wantPorts.set(lsp.name, row);
      if (isUuid(dp)) rowsOf.switchPorts.set(lsp._uuid, { lsp, dp, tk, tag, peer, row });
    }
  }
  for (const lr of nbv.routers.values()) {
    const dp = dpIds.get(lr._uuid);
    if (dp === undefined) continue;
    for (const u of lr.ports) {
      const lrp = nbv.routerPorts.get(u);
      if (lrp === undefined || wantPorts.has(lrp.name)) continue;
      const tk = portKey(lr._uuid, lrp.name);
      if (tk === undefined) continue;
      const peer = lrpPeer.get(lrp.name);
      const known = rowsOf.routerPorts.get(lrp);
      if (known !== undefined && known.dp === dp && known.tk === tk && known.peer === peer) {
        wantPorts.set(lrp.name, known.row);
        continue;
      }
      const cols = {
        logical_port: lrp.name,
        datapath: ref(dp),
        tunnel_key: tk,
        type: 'patch',
        mac: set([[lrp.mac, ...lrp.networks].join(' ')]),
        options: map(peer === undefined ? {} : { peer }),
        parent_port: optional(null),
        tag: optional(null),
        port_security: set([]),
        external_ids: map({}),
      };
      const row = { cols, text: JSON.stringify(cols), uuidName: uuidName('pb', lrp._uuid), initial: { up: false } };
      wantPorts.set(lrp.name, row);
      if (isUuid(dp)) rowsOf.routerPorts.set(lrp, { dp, tk, peer, row });
    }
  }
  // Forget the rows of ports and switches that are gone (the maps are keyed by UUID, not by the row objects).
  if (rowsOf.switchPorts.size > nbv.switchPorts.size)
    for (const u of rowsOf.switchPorts.keys()) if (!nbv.switchPorts.has(u)) rowsOf.switchPorts.delete(u);
  if (rowsOf.groups.size > nbv.switches.size) for (const u of rowsOf.groups.keys()) if (!nbv.switches.has(u)) rowsOf.groups.delete(u);
  const pbIds = syncTable(
    sb,
    txn,
    'Port_Binding',
    wantPorts,
    (r) => {
      const dpNb = sbDpOfNb.get(str(r, 'datapath'));
      const name = str(r, 'logical_port');
      // A binding that moved to another datapath is replaced (its key belongs to the old one).
      const want = wantPorts.get(name);
      if (dpNb === undefined || want === undefined) return `gone:${r.uuid}`;
      const wantDp = (want.cols['datapath'] as [string, string])[1];
      return wantDp === str(r, 'datapath') || !isUuid(wantDp) ? name : `gone:${r.uuid}`;
    },
    true,
    memo('Port_Binding'),
  );

  lap('ports');
  // --- Multicast groups of each switch.
  const wantMc = new Map<string, DesiredRow>();
  for (const ls of nbv.switches.values()) {
    const dp = dpIds.get(ls._uuid);
    if (dp === undefined) continue;
    const ids = ls.ports.map((u) => {
      const lsp = nbv.switchPorts.get(u);
      return lsp === undefined ? undefined : pbIds.get(lsp.name);
    });
    const lsps = ls.ports.map((u) => nbv.switchPorts.get(u));
    const known = rowsOf.groups.get(ls._uuid);
    if (
      known !== undefined &&
      known.dp === dp &&
      known.ids.length === ids.length &&
      known.ids.every((x, i) => x === ids[i] && sameGroupInputs(known.lsps[i], lsps[i]))
    ) {
      for (const [k, row] of known.rows) wantMc.set(k, row);
      continue;
    }
    const rows: Array<[string, DesiredRow]> = [];
    const all: unknown[] = [];
    const l2: unknown[] = [];
    const unknown: unknown[] = [];
    for (const u of ls.ports) {
      const lsp = nbv.switchPorts.get(u);
      const id = lsp === undefined ? undefined : pbIds.get(lsp.name);
      if (lsp === undefined || id === undefined || lsp.enabled === false) continue;
      all.push(ref(id));
      if (lsp.type !== 'router') l2.push(ref(id));
      if (lsp.addresses.includes('unknown')) unknown.push(ref(id));
    }
    const group = (name: string, key: number, ports: unknown[]): void => {
      const cols = { datapath: ref(dp), name, tunnel_key: key, ports: set(ports) };
      rows.push([`${ls._uuid}\u0000${name}`, { cols, text: JSON.stringify(cols) }]);
    };
    group('_MC_flood', MC_FLOOD, all);
    group('_MC_flood_l2', MC_FLOOD_L2, l2);
    if (unknown.length > 0) group('_MC_unknown', MC_UNKNOWN, unknown);
    for (const [k, row] of rows) wantMc.set(k, row);
    // Rows naming rows inserted in this transaction are not kept: next time they have UUIDs.
    if (isUuid(dp) && ids.every((x) => x === undefined || isUuid(x))) rowsOf.groups.set(ls._uuid, { dp, ids, lsps, rows });
  }
  syncTable(
    sb,
    txn,
    'Multicast_Group',
    wantMc,
    (r) => {
      const dpNb = sbDpOfNb.get(str(r, 'datapath'));
      return dpNb === undefined ? `gone:${r.uuid}` : `${dpNb}\u0000${str(r, 'name')}`;
    },
    true,
    memo('Multicast_Group'),
  );

  lap('groups');
  // --- Address sets (the NB's, each port group's addresses, the service monitor
  // MAC) and port groups per switch ("<datapath key>_<name>"): what `$name` and
  // `@name` in matches resolve to on the chassis.
  const wantAs = new Map<string, DesiredRow>();
  const asRow = (name: string, addresses: readonly string[]): void => {
    wantAs.set(name, { cols: { name, addresses: set([...addresses]) } });
  };
  for (const a of nbv.addressSets.values()) asRow(a.name, a.addresses);
  asRow('svc_monitor_mac', [opts.get('svc_monitor_mac') as string]);
  const wantPg = new Map<string, DesiredRow>();
  for (const pg of nbv.portGroups.values()) {
    const v4: string[] = [];
    const v6: string[] = [];
    const perDp = new Map<string, string[]>();
    for (const u of pg.ports) {
      const lsp = nbv.switchPorts.get(u);
      const ls = nbv.switchOfPort(u);
      if (lsp === undefined || ls === undefined) continue;
      for (const entry of lsp.addresses) {
        const a = parseLspAddress(entry);
        if (a !== undefined) {
          v4.push(...a.ipv4);
          v6.push(...a.ipv6);
        }
      }
      const key = (wantDps.get(ls._uuid)?.cols['tunnel_key'] as number | undefined) ?? undefined;
      if (key === undefined) continue;
      const l = perDp.get(`${key}_${pg.name}`);
      if (l === undefined) perDp.set(`${key}_${pg.name}`, [lsp.name]);
      else l.push(lsp.name);
    }
    asRow(`${pg.name}_ip4`, v4);
    asRow(`${pg.name}_ip6`, v6);
    for (const [name, ps] of perDp) wantPg.set(name, { cols: { name, ports: set(ps) } });
  }
  syncTable(sb, txn, 'Address_Set', wantAs, (r) => str(r, 'name'), true, memo('Address_Set'));
  syncTable(sb, txn, 'Port_Group', wantPg, (r) => str(r, 'name'), true, memo('Port_Group'));

  lap('sets');
  // --- Logical flows: only the units the NB changes dirtied are built again.
  const units = input.flowUnits ?? newFlowUnits();
  const flowSync = input.flowSync ?? new LogicalFlowSync();
  const rebuilt = rebuildUnits(nbv, units, input.refuse);
  lap('flows built');
  flowSync.apply(rebuilt);
  flowSync.sync(sb, txn, { sbOf: dpIds, nbOf: sbDpOfNb });
  lap('flows diffed');
}

function portBindingCols(
  nbv: NbView,
  lsp: nb.Logical_Switch_Port,
  dp: unknown,
  tk: number,
  tags: ReadonlyMap<Uuid, number | null>,
): Record<string, unknown> {
  const tag = tags.has(lsp._uuid) ? (tags.get(lsp._uuid) ?? null) : lsp.tag;
  let type = lsp.type;
  let options: Map<string, string> = new Map(lsp.options);
  if (lsp.type === 'router') {
    type = 'patch';
    const rp = lsp.options.get('router-port');
    options = new Map();
    if (rp !== undefined && nbv.routerPortByName(rp) !== undefined) options.set('peer', rp);
  }
  return {
    logical_port: lsp.name,
    datapath: dp,
    tunnel_key: tk,
    type,
    mac: set(lsp.addresses),
    port_security: set(lsp.port_security),
    options: map(options),
    parent_port: optional(lsp.parent_name),
    tag: optional(lsp.parent_name === null && lsp.type !== 'localnet' ? null : lsp.type === 'localnet' ? lsp.tag_request : tag),
    external_ids: map({}),
  };
}
