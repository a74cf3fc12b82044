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
import { buildRouterFlows, buildRouterPortFlows, buildSwitchFlows, buildSwitchPortFlows } from '../build/index.js';
import type { AddFlow, NbView, Uuid } from '../nb-view.js';
import type { Stage } from '../stages.js';
import { DHCPV4_CODES, DHCPV6_CODES } from './dhcp-codes.js';
import { map, optional, ref, RowMemo, set, syncTable, type DesiredRow } from './rows.js';
import { parseLspAddress } from '../build/addresses.js';

/** What ovn-controller compares with its own version (SB_Global options:northd_internal_version). */
export const NORTHD_INTERNAL_VERSION = '23.03.1-20.27.0-70.6';
/** Largest datapath tunnel key with Geneve (24 bits, less the range OVN keeps for itself). */
const MAX_DP_KEY = 16711680;
const MC_FLOOD = 32768;
const MC_UNKNOWN = 32769;
const MC_FLOOD_L2 = 32772;

export interface LogicalFlowSpec {
  readonly datapath: Uuid;
  readonly stage: Stage;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
  readonly hint: Uuid | undefined;
}

/**
 * The flows of each datapath from the last pass, and which datapaths must be built
 * again: northd's incremental processing. A port change dirties only its switch
 * (and the routers attached to it, whose ARP tables list the switch's addresses);
 * anything else dirties everything. A full recompute (`dirty: 'all'`) must give
 * the same flows — a test checks it.
 */
export interface FlowCache {
  readonly byDatapath: Map<Uuid, LogicalFlowSpec[]>;
  dirty: Set<Uuid> | 'all';
  /**
   * Router ports whose own flows must be built again while their router is
   * otherwise clean: a switch port change alters only the ARP entries of the
   * router port on that switch, and a router with a thousand ports should not
   * rebuild them all.
   */
  readonly dirtyRouterPorts: Set<Uuid>;
  /** A clean router's flows in two parts: its own, and each port's. */
  readonly routerOwn: Map<Uuid, LogicalFlowSpec[]>;
  readonly routerPortFlows: Map<Uuid, LogicalFlowSpec[]>;
  /** Per flow (kept while its datapath is clean): its body key, and its SB row for a given target. */
  readonly bodies: WeakMap<LogicalFlowSpec, string>;
  readonly rows: WeakMap<LogicalFlowSpec, { target: string; key: string; row: DesiredRow }>;
  /** Last pass's rows by key, for rebuilt flows that came out the same. */
  byKey: Map<string, { hint: string | undefined; row: DesiredRow }>;
}

export function newFlowCache(): FlowCache {
  return {
    byDatapath: new Map(),
    dirty: 'all',
    dirtyRouterPorts: new Set(),
    routerOwn: new Map(),
    routerPortFlows: new Map(),
    bodies: new WeakMap(),
    rows: new WeakMap(),
    byKey: new Map(),
  };
}

/** Collects flows for one datapath, dropping repeats. */
function collector(dp: Uuid, out: LogicalFlowSpec[], seen: Set<string>): AddFlow {
  return (stage, priority, match, actions, hint) => {
    const key = flowKey('', stage.pipeline, stage.table, priority, match, actions);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ datapath: dp, stage, priority, match, actions, hint });
  };
}

function switchFlows(nbv: NbView, ls: nb.Logical_Switch, refuse: (msg: string) => void): LogicalFlowSpec[] {
  const out: LogicalFlowSpec[] = [];
  const add = collector(ls._uuid, out, new Set());
  buildSwitchFlows(nbv, ls, add, refuse);
  for (const u of ls.ports) {
    const lsp = nbv.switchPorts.get(u);
    if (lsp !== undefined) buildSwitchPortFlows(nbv, ls, lsp, add);
  }
  return out;
}

/** A router's flows; `onlyPorts`: rebuild just these ports' flows and keep the rest. */
function routerFlows(nbv: NbView, lr: nb.Logical_Router, cache: FlowCache, onlyPorts: ReadonlySet<Uuid> | undefined): LogicalFlowSpec[] {
  if (onlyPorts === undefined || !cache.routerOwn.has(lr._uuid)) {
    const own: LogicalFlowSpec[] = [];
    buildRouterFlows(nbv, lr, collector(lr._uuid, own, new Set()));
    cache.routerOwn.set(lr._uuid, own);
  }
  for (const u of lr.ports) {
    if (onlyPorts !== undefined && !onlyPorts.has(u) && cache.routerPortFlows.has(u)) continue;
    const lrp = nbv.routerPorts.get(u);
    const fs: LogicalFlowSpec[] = [];
    if (lrp !== undefined) buildRouterPortFlows(nbv, lr, lrp, collector(lr._uuid, fs, new Set()));
    cache.routerPortFlows.set(u, fs);
  }
  // One datapath's flows with repeats across the parts dropped.
  const seen = new Set<string>();
  const out: LogicalFlowSpec[] = [];
  const keep = (f: LogicalFlowSpec): void => {
    let body = cache.bodies.get(f);
    if (body === undefined) {
      body = flowKey('', f.stage.pipeline, f.stage.table, f.priority, f.match, f.actions) + `\u0000${f.stage.datapath}`;
      cache.bodies.set(f, body);
    }
    if (seen.has(body)) return;
    seen.add(body);
    out.push(f);
  };
  for (const f of cache.routerOwn.get(lr._uuid) ?? []) keep(f);
  for (const u of lr.ports) for (const f of cache.routerPortFlows.get(u) ?? []) keep(f);
  return out;
}

/** Every logical flow for the NB, per datapath, rebuilding only what `cache` marks dirty. */
export function buildAllFlows(nbv: NbView, refuse: (msg: string) => void = () => {}, cache: FlowCache = newFlowCache()): Map<Uuid, LogicalFlowSpec[]> {
  const all = cache.dirty === 'all';
  const dirty = cache.dirty === 'all' ? new Set<Uuid>() : cache.dirty;
  const live = new Set<Uuid>([...nbv.switches.keys(), ...nbv.routers.keys()]);
  for (const dp of cache.byDatapath.keys()) if (!live.has(dp)) cache.byDatapath.delete(dp);
  for (const [u, ls] of nbv.switches) {
    if (!all && !dirty.has(u) && cache.byDatapath.has(u)) continue;
    cache.byDatapath.set(u, switchFlows(nbv, ls, refuse));
  }
  for (const [u, lr] of nbv.routers) {
    const whole = all || dirty.has(u) || !cache.byDatapath.has(u);
    const ports = lr.ports.filter((p) => cache.dirtyRouterPorts.has(p));
    if (!whole && ports.length === 0) continue;
    cache.byDatapath.set(u, routerFlows(nbv, lr, cache, whole ? undefined : new Set(ports)));
  }
  for (const u of cache.routerPortFlows.keys()) if (!nbv.routerPorts.has(u)) cache.routerPortFlows.delete(u);
  for (const u of cache.routerOwn.keys()) if (!nbv.routers.has(u)) cache.routerOwn.delete(u);
  cache.dirty = new Set();
  cache.dirtyRouterPorts.clear();
  return cache.byDatapath;
}

export function flowKey(dp: string, pipeline: string, table: number, priority: number, match: string, actions: string): string {
  return `${dp}\u0000${pipeline}\u0000${table}\u0000${priority}\u0000${match}\u0000${actions}`;
}

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

function str(row: Row, col: string): string {
  const v = row.optional(col);
  return v === null ? '' : String(v);
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
  /** Flows kept from the last pass (default: none, a full recompute). */
  readonly flowCache?: FlowCache;
  /** Per SB table, what earlier passes learnt about its rows (default: nothing). */
  readonly memos?: Map<string, RowMemo>;
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
  for (const [k, bytes, local] of [['mac_prefix', 3, false], ['svc_monitor_mac', 6, true]] as const) {
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

  // --- SB_Global and the option code tables.
  const opts = globalOptions(nbv, sb);
  syncTable(sb, txn, 'SB_Global', new Map([['g', { cols: { options: map(opts), nb_cfg: input.nbCfg } }]]), () => 'g', true, memo('SB_Global'));
  const codes = (list: typeof DHCPV4_CODES): Map<string, DesiredRow> => new Map(list.map(([name, code, type]) => [name, { cols: { name, code, type } }]));
  syncTable(sb, txn, 'DHCP_Options', codes(DHCPV4_CODES), (r) => str(r, 'name'), true, memo('DHCP_Options'));
  syncTable(sb, txn, 'DHCPv6_Options', codes(DHCPV6_CODES), (r) => str(r, 'name'), true, memo('DHCPv6_Options'));

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

  // --- Port bindings, keyed by logical port name.
  const sbDpOfNb = new Map<string, string>(); // SB datapath uuid → NB uuid
  for (const [nbUuid, id] of dpIds) sbDpOfNb.set(id, nbUuid);
  const usedPortKeys = new Map<string, Set<number>>(); // NB dp → keys
  const existingPortKey = new Map<string, number>();
  for (const r of sb.table('Port_Binding').values()) {
    const dpNb = sbDpOfNb.get(str(r, 'datapath'));
    if (dpNb === undefined) continue;
    const name = str(r, 'logical_port');
    const tk = Number(r.scalar('tunnel_key'));
    existingPortKey.set(`${dpNb}\u0000${name}`, tk);
    let s = usedPortKeys.get(dpNb);
    if (s === undefined) usedPortKeys.set(dpNb, (s = new Set()));
    s.add(tk);
  }
  const portKey = (dpNb: string, name: string): number | undefined => {
    const k = existingPortKey.get(`${dpNb}\u0000${name}`);
    if (k !== undefined) return k;
    let s = usedPortKeys.get(dpNb);
    if (s === undefined) usedPortKeys.set(dpNb, (s = new Set()));
    return keyAllocator(s, 32767)();
  };
  const wantPorts = new Map<string, DesiredRow>();
  let pn = 0;
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
      // `up` starts false: ovn-controller sets it true only where northd initialised it.
      wantPorts.set(lsp.name, { cols: portBindingCols(nbv, lsp, ref(dp), tk, input.tags), uuidName: `pb${pn++}`, initial: { up: false } });
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
      wantPorts.set(lrp.name, {
        cols: {
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
        },
        uuidName: `pb${pn++}`,
        initial: { up: false },
      });
    }
  }
  const pbIds = syncTable(sb, txn, 'Port_Binding', wantPorts, (r) => {
    const dpNb = sbDpOfNb.get(str(r, 'datapath'));
    const name = str(r, 'logical_port');
    // A binding that moved to another datapath is replaced (its key belongs to the old one).
    const want = wantPorts.get(name);
    if (dpNb === undefined || want === undefined) return `gone:${r.uuid}`;
    const wantDp = (want.cols['datapath'] as [string, string])[1];
    return wantDp === str(r, 'datapath') || wantDp.startsWith('dp') ? name : `gone:${r.uuid}`;
  }, true, memo('Port_Binding'));

  // --- Multicast groups of each switch.
  const wantMc = new Map<string, DesiredRow>();
  for (const ls of nbv.switches.values()) {
    const dp = dpIds.get(ls._uuid);
    if (dp === undefined) continue;
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
      wantMc.set(`${ls._uuid}\u0000${name}`, { cols: { datapath: ref(dp), name, tunnel_key: key, ports: set(ports) } });
    };
    group('_MC_flood', MC_FLOOD, all);
    group('_MC_flood_l2', MC_FLOOD_L2, l2);
    if (unknown.length > 0) group('_MC_unknown', MC_UNKNOWN, unknown);
  }
  syncTable(sb, txn, 'Multicast_Group', wantMc, (r) => {
    const dpNb = sbDpOfNb.get(str(r, 'datapath'));
    return dpNb === undefined ? `gone:${r.uuid}` : `${dpNb}\u0000${str(r, 'name')}`;
  }, true, memo('Multicast_Group'));

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

  // --- Logical flows. A flow that several datapaths share (every switch has the
  // same table defaults) is one row with a Logical_DP_Group, as OVN writes it.
  const cache = input.flowCache ?? newFlowCache();
  const flows = buildAllFlows(nbv, input.refuse, cache);
  const byBody = new Map<string, { spec: LogicalFlowSpec; dps: string[] }>();
  for (const fs of flows.values()) {
    for (const f of fs) {
      let body = cache.bodies.get(f);
      if (body === undefined) {
        // Switches and routers never share a row: the stage (and its name) differ.
        body = flowKey('', f.stage.pipeline, f.stage.table, f.priority, f.match, f.actions) + `\u0000${f.stage.datapath}`;
        cache.bodies.set(f, body);
      }
      const e = byBody.get(body);
      if (e === undefined) byBody.set(body, { spec: f, dps: [f.datapath] });
      else e.dps.push(f.datapath);
    }
  }
  const wantGroups = new Map<string, DesiredRow>();
  let gn = 0;
  for (const e of byBody.values()) {
    if (e.dps.length < 2) continue;
    e.dps.sort();
    const gkey = e.dps.join(',');
    if (wantGroups.has(gkey)) continue;
    const refs = e.dps.map((d) => dpIds.get(d)).filter((x): x is string => x !== undefined).map(ref);
    wantGroups.set(gkey, { cols: { datapaths: set(refs) }, uuidName: `dpg${gn++}` });
  }
  const groupKeyOf = (r: Row): string => r.set('datapaths').map((u) => sbDpOfNb.get(String(u)) ?? `?${String(u)}`).sort().join(',');
  const groupIds = syncTable(sb, txn, 'Logical_DP_Group', wantGroups, groupKeyOf, false, memo('Logical_DP_Group'));
  const wantFlows = new Map<string, DesiredRow>();
  const byKey = new Map<string, { hint: string | undefined; row: DesiredRow }>();
  for (const [body, e] of byBody) {
    const f = e.spec;
    // The same flow for the same datapath or group as last pass: the same row.
    const target = e.dps.length === 1 ? `dp:${dpIds.get(e.dps[0] as string) ?? ''}` : `group:${groupIds.get(e.dps.join(',')) ?? ''}`;
    const known = cache.rows.get(f);
    if (known !== undefined && known.target === target && !target.endsWith(':')) {
      wantFlows.set(known.key, known.row);
      byKey.set(known.key, { hint: f.hint, row: known.row });
      continue;
    }
    if (!target.endsWith(':')) {
      const key = e.dps.length === 1 ? `${e.dps[0] as string}${body}` : `group:${e.dps.join(',')}${body}`;
      const prev = cache.byKey.get(key);
      if (prev !== undefined && prev.hint === f.hint) {
        wantFlows.set(key, prev.row);
        byKey.set(key, prev);
        cache.rows.set(f, { target, key, row: prev.row });
        continue;
      }
    }
    const ids: Record<string, string> = { 'stage-name': f.stage.name };
    if (f.hint !== undefined && e.dps.length === 1) ids['stage-hint'] = f.hint.slice(0, 8);
    const cols: Record<string, unknown> = {
      pipeline: f.stage.pipeline,
      table_id: f.stage.table,
      priority: f.priority,
      match: f.match,
      actions: f.actions,
      external_ids: map(ids),
    };
    let key: string;
    if (e.dps.length === 1) {
      const dp = dpIds.get(e.dps[0] as string);
      if (dp === undefined) continue;
      Object.assign(cols, { logical_datapath: ref(dp), logical_dp_group: set([]) });
      key = `${e.dps[0] as string}${body}`;
    } else {
      const gkey = e.dps.join(',');
      const g = groupIds.get(gkey);
      if (g === undefined) continue;
      Object.assign(cols, { logical_dp_group: ref(g), logical_datapath: set([]) });
      key = `group:${gkey}${body}`;
    }
    const text = JSON.stringify(cols);
    const row: DesiredRow = { cols, text };
    wantFlows.set(key, row);
    if (!text.includes('named-uuid')) {
      cache.rows.set(f, { target, key, row });
      byKey.set(key, { hint: f.hint, row });
    }
  }
  cache.byKey = byKey;
  const groupRows = sb.table('Logical_DP_Group');
  syncTable(sb, txn, 'Logical_Flow', wantFlows, (r) => {
    const kind = String(r.map('external_ids').get('stage-name') ?? '').startsWith('lr_') ? 'router' : 'switch';
    const body = flowKey('', str(r, 'pipeline'), Number(r.scalar('table_id')), Number(r.scalar('priority')), str(r, 'match'), str(r, 'actions')) + `\u0000${kind}`;
    const g = r.optional('logical_dp_group');
    if (g !== null) {
      const gr = groupRows.get(String(g));
      return gr === undefined ? `gone:${r.uuid}` : `group:${groupKeyOf(gr)}${body}`;
    }
    const dpNb = sbDpOfNb.get(str(r, 'logical_datapath'));
    return dpNb === undefined ? `gone:${r.uuid}` : `${dpNb}${body}`;
  }, true, memo('Logical_Flow'));
}

function portBindingCols(nbv: NbView, lsp: nb.Logical_Switch_Port, dp: unknown, tk: number, tags: ReadonlyMap<Uuid, number | null>): Record<string, unknown> {
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
    tag: optional(lsp.parent_name === null && lsp.type !== 'localnet' ? null : (lsp.type === 'localnet' ? lsp.tag_request : tag)),
    external_ids: map({}),
  };
}
