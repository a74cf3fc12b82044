/**
 * Port_Binding: one per logical switch port and router port, keyed by the
 * logical port name. A port keeps its tunnel key within its datapath; a port
 * that moved to another datapath is replaced, since its key belongs to the old
 * one. Router ports and switch ports of type `router` become `patch` bindings
 * naming their peer. Desired rows are cached by the NB row they come from, so a
 * pass where one port changed rebuilds one row.
 */
import type { Row } from '../../ovsdb/client.js';
import type * as nb from '../../ovsdb/models/ovn-nb.js';
import type { NbView, Uuid } from '../nb-view.js';
import { isUuid, map, optional, ref, set, str, syncTable, type DesiredRow } from './rows.js';
import { keyAllocator, sameList, uuidName, type SbPass } from './sb-pass.js';
import type { Datapaths } from './datapaths.js';

/** Largest port tunnel key (15 bits; the upper range is multicast groups'). */
const MAX_PORT_KEY = 32767;

/**
 * Desired Port_Binding rows by the NB row they come from (NB rows are immutable:
 * a changed row is a new object), with what else they depend on.
 */
export interface PortBindingCache {
  /** By LSP UUID: northd's own write-backs (`up`, `tag`) make new NB row objects that change nothing here. */
  readonly switchPorts: Map<
    Uuid,
    { lsp: nb.Logical_Switch_Port; dp: string; tk: number; tag: number | null; peer: boolean; row: DesiredRow }
  >;
  readonly routerPorts: WeakMap<nb.Logical_Router_Port, { dp: string; tk: number; peer: string | undefined; row: DesiredRow }>;
  /** What a pass reads of each SB Port_Binding row (rows are immutable). */
  readonly bindingFacts: WeakMap<Row, { dp: string; name: string; tk: number }>;
}

export function newPortBindingCache(): PortBindingCache {
  return { switchPorts: new Map(), routerPorts: new WeakMap(), bindingFacts: new WeakMap() };
}

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

/** The tunnel keys of the SB's bindings per NB datapath, and a way to take a new one. */
function portKeys(p: SbPass, dps: Datapaths, cache: PortBindingCache): (dpNb: string, name: string) => number | undefined {
  const used = new Map<string, Set<number>>(); // NB dp → keys
  const existing = new Map<string, Map<string, number>>(); // NB dp → name → key
  for (const r of p.sb.table('Port_Binding').values()) {
    let facts = cache.bindingFacts.get(r);
    if (facts === undefined)
      cache.bindingFacts.set(r, (facts = { dp: str(r, 'datapath'), name: str(r, 'logical_port'), tk: Number(r.scalar('tunnel_key')) }));
    const dpNb = dps.nbOf.get(facts.dp);
    if (dpNb === undefined) continue;
    let byName = existing.get(dpNb);
    if (byName === undefined) existing.set(dpNb, (byName = new Map<string, number>()));
    byName.set(facts.name, facts.tk);
    let s = used.get(dpNb);
    if (s === undefined) used.set(dpNb, (s = new Set()));
    s.add(facts.tk);
  }
  return (dpNb, name) => {
    const k = existing.get(dpNb)?.get(name);
    if (k !== undefined) return k;
    let s = used.get(dpNb);
    if (s === undefined) used.set(dpNb, (s = new Set()));
    return keyAllocator(s, MAX_PORT_KEY)();
  };
}

/** Brings Port_Binding to the NB's ports; returns each logical port name's SB UUID (or uuid-name). */
export function syncPortBindings(
  p: SbPass,
  dps: Datapaths,
  tags: ReadonlyMap<Uuid, number | null>,
  cache: PortBindingCache,
): Map<string, string> {
  const { nbv } = p;
  const portKey = portKeys(p, dps, cache);
  const want = new Map<string, DesiredRow>();
  const lrpPeer = new Map<string, string>(); // LRP name → LSP name
  for (const lsp of nbv.switchPorts.values()) {
    if (lsp.type === 'router' && nbv.switchOfPort(lsp._uuid) !== undefined) {
      const rp = lsp.options.get('router-port');
      if (rp !== undefined) lrpPeer.set(rp, lsp.name);
    }
  }
  for (const ls of nbv.switches.values()) {
    const dp = dps.sbOf.get(ls._uuid);
    if (dp === undefined) continue;
    for (const u of ls.ports) {
      const lsp = nbv.switchPorts.get(u);
      if (lsp === undefined || want.has(lsp.name)) continue;
      const tk = portKey(ls._uuid, lsp.name);
      if (tk === undefined) continue;
      const tag = tags.has(lsp._uuid) ? (tags.get(lsp._uuid) ?? null) : lsp.tag;
      const peer = lsp.type === 'router' ? nbv.routerPortByName(lsp.options.get('router-port') ?? '') !== undefined : false;
      const known = cache.switchPorts.get(lsp._uuid);
      if (
        known !== undefined &&
        known.dp === dp &&
        known.tk === tk &&
        known.tag === tag &&
        known.peer === peer &&
        sameBindingInputs(known.lsp, lsp)
      ) {
        known.lsp = lsp;
        want.set(lsp.name, known.row);
        continue;
      }
      const cols = switchPortCols(nbv, lsp, ref(dp), tk, tag);
      // `up` starts false: ovn-controller sets it true only where northd initialised it.
      const row = { cols, text: JSON.stringify(cols), uuidName: uuidName('pb', lsp._uuid), initial: { up: false } };
      want.set(lsp.name, row);
      if (isUuid(dp)) cache.switchPorts.set(lsp._uuid, { lsp, dp, tk, tag, peer, row });
    }
  }
  for (const lr of nbv.routers.values()) {
    const dp = dps.sbOf.get(lr._uuid);
    if (dp === undefined) continue;
    for (const u of lr.ports) {
      const lrp = nbv.routerPorts.get(u);
      if (lrp === undefined || want.has(lrp.name)) continue;
      const tk = portKey(lr._uuid, lrp.name);
      if (tk === undefined) continue;
      const peer = lrpPeer.get(lrp.name);
      const known = cache.routerPorts.get(lrp);
      if (known !== undefined && known.dp === dp && known.tk === tk && known.peer === peer) {
        want.set(lrp.name, known.row);
        continue;
      }
      const cols = routerPortCols(lrp, ref(dp), tk, peer);
      const row = { cols, text: JSON.stringify(cols), uuidName: uuidName('pb', lrp._uuid), initial: { up: false } };
      want.set(lrp.name, row);
      if (isUuid(dp)) cache.routerPorts.set(lrp, { dp, tk, peer, row });
    }
  }
  // Forget the rows of ports that are gone (the map is keyed by UUID, not by the row objects).
  if (cache.switchPorts.size > nbv.switchPorts.size)
    for (const u of cache.switchPorts.keys()) if (!nbv.switchPorts.has(u)) cache.switchPorts.delete(u);
  return syncTable(
    p.sb,
    p.txn,
    'Port_Binding',
    want,
    (r) => {
      const dpNb = dps.nbOf.get(str(r, 'datapath'));
      const name = str(r, 'logical_port');
      // A binding that moved to another datapath is replaced (its key belongs to the old one).
      const w = want.get(name);
      if (dpNb === undefined || w === undefined) return `gone:${r.uuid}`;
      const wantDp = (w.cols['datapath'] as [string, string])[1];
      return wantDp === str(r, 'datapath') || !isUuid(wantDp) ? name : `gone:${r.uuid}`;
    },
    true,
    p.memo('Port_Binding'),
  );
}

function switchPortCols(nbv: NbView, lsp: nb.Logical_Switch_Port, dp: unknown, tk: number, tag: number | null): Record<string, unknown> {
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

function routerPortCols(lrp: nb.Logical_Router_Port, dp: unknown, tk: number, peer: string | undefined): Record<string, unknown> {
  return {
    logical_port: lrp.name,
    datapath: dp,
    tunnel_key: tk,
    type: 'patch',
    mac: set([[lrp.mac, ...lrp.networks].join(' ')]),
    options: map(peer === undefined ? {} : { peer }),
    parent_port: optional(null),
    tag: optional(null),
    port_security: set([]),
    external_ids: map({}),
  };
}
