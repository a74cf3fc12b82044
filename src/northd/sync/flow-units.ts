/**
 * northd's incremental processing on the flow side: the logical flows are built
 * in units — one switch (with its ports), one router's own flows, one router
 * port's — and a pass rebuilds only the units its NB changes dirtied, reporting
 * each rebuilt unit's old and new flows so the SB side can write just the
 * difference. A full rebuild (`dirty: 'all'`) must give the same flows; the
 * `debug/recompute-check` command checks it.
 */
import type * as nb from '../../ovsdb/models/ovn-nb.js';
import { buildRouterFlows, buildRouterPortFlows, buildSwitchFlows, buildSwitchPortFlows } from '../build/index.js';
import type { AddFlow, NbView, Uuid } from '../nb-view.js';
import type { DatapathKind, Stage } from '../stages.js';

export interface LogicalFlowSpec {
  /** The NB switch or router. */
  readonly datapath: Uuid;
  readonly stage: Stage;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
  readonly hint: Uuid | undefined;
}

/** One unit's flows: a switch's (`ls:`), a router's own (`lr:`) or a router port's (`lrp:`). */
export interface FlowUnit {
  readonly datapath: Uuid;
  readonly flows: readonly LogicalFlowSpec[];
}

/** A unit that a pass rebuilt or removed: what it had and what it has now. */
export interface UnitChange {
  readonly old: FlowUnit | undefined;
  readonly new: FlowUnit | undefined;
}

/**
 * The units of the last pass and what must be rebuilt. A port change dirties its
 * switch and the router ports attached to that switch (their ARP entries list the
 * switch's addresses); anything else dirties everything.
 */
export interface FlowUnits {
  readonly units: Map<string, FlowUnit>;
  dirty: Set<Uuid> | 'all';
  readonly dirtyRouterPorts: Set<Uuid>;
}

export function newFlowUnits(): FlowUnits {
  return { units: new Map(), dirty: 'all', dirtyRouterPorts: new Set() };
}

export function flowKey(dp: string, pipeline: string, table: number, priority: number, match: string, actions: string): string {
  return `${dp}\u0000${pipeline}\u0000${table}\u0000${priority}\u0000${match}\u0000${actions}`;
}

/** A flow without its datapath: what rows of several datapaths have in common. Switch and router flows never share one. */
export function bodyKey(pipeline: string, table: number, priority: number, match: string, actions: string, kind: DatapathKind): string {
  return `${flowKey('', pipeline, table, priority, match, actions)}\u0000${kind}`;
}

export function flowBody(f: LogicalFlowSpec): string {
  return bodyKey(f.stage.pipeline, f.stage.table, f.priority, f.match, f.actions, f.stage.datapath);
}

/** Collects one unit's flows, dropping repeats. */
function collector(dp: Uuid, out: LogicalFlowSpec[]): AddFlow {
  const seen = new Set<string>();
  return (stage, priority, match, actions, hint) => {
    const key = flowKey('', stage.pipeline, stage.table, priority, match, actions);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ datapath: dp, stage, priority, match, actions, hint });
  };
}

function switchUnit(nbv: NbView, ls: nb.Logical_Switch, refuse: (msg: string) => void): FlowUnit {
  const flows: LogicalFlowSpec[] = [];
  const add = collector(ls._uuid, flows);
  buildSwitchFlows(nbv, ls, add, refuse);
  for (const u of ls.ports) {
    const lsp = nbv.switchPorts.get(u);
    if (lsp !== undefined) buildSwitchPortFlows(nbv, ls, lsp, add);
  }
  return { datapath: ls._uuid, flows };
}

/**
 * Rebuilds the dirty units of `cache` for `nbv` and returns what changed, by
 * unit id. Units of deleted switches, routers and router ports come back with
 * `new: undefined`.
 */
export function rebuildUnits(nbv: NbView, cache: FlowUnits, refuse: (msg: string) => void = () => {}): Map<string, UnitChange> {
  const all = cache.dirty === 'all';
  const dirty = cache.dirty === 'all' ? new Set<Uuid>() : cache.dirty;
  const changes = new Map<string, UnitChange>();
  const set = (id: string, unit: FlowUnit | undefined): void => {
    const old = cache.units.get(id);
    if (unit === undefined) cache.units.delete(id);
    else cache.units.set(id, unit);
    const prior = changes.get(id);
    changes.set(id, { old: prior === undefined ? old : prior.old, new: unit });
  };
  for (const [u, ls] of nbv.switches) {
    if (all || dirty.has(u) || !cache.units.has(`ls:${u}`)) set(`ls:${u}`, switchUnit(nbv, ls, refuse));
  }
  const live = new Set<string>();
  for (const [u, lr] of nbv.routers) {
    live.add(`lr:${u}`);
    const whole = all || dirty.has(u) || !cache.units.has(`lr:${u}`);
    if (whole) {
      const own: LogicalFlowSpec[] = [];
      buildRouterFlows(nbv, lr, collector(u, own));
      set(`lr:${u}`, { datapath: u, flows: own });
    }
    for (const p of lr.ports) {
      live.add(`lrp:${p}`);
      if (!whole && !cache.dirtyRouterPorts.has(p) && cache.units.get(`lrp:${p}`)?.datapath === u) continue;
      const lrp = nbv.routerPorts.get(p);
      const flows: LogicalFlowSpec[] = [];
      if (lrp !== undefined) buildRouterPortFlows(nbv, lr, lrp, collector(u, flows));
      set(`lrp:${p}`, { datapath: u, flows });
    }
  }
  for (const id of [...cache.units.keys()]) {
    if (id.startsWith('ls:') ? !nbv.switches.has(id.slice(3)) : !live.has(id)) set(id, undefined);
  }
  cache.dirty = new Set();
  cache.dirtyRouterPorts.clear();
  return changes;
}

/** Every logical flow of the NB, per datapath, without repeats (a full build when `cache` is fresh). */
export function flowsByDatapath(nbv: NbView, cache: FlowUnits = newFlowUnits()): Map<Uuid, LogicalFlowSpec[]> {
  rebuildUnits(nbv, cache);
  const out = new Map<Uuid, LogicalFlowSpec[]>();
  const seen = new Set<string>();
  for (const unit of cache.units.values()) {
    let l = out.get(unit.datapath);
    if (l === undefined) out.set(unit.datapath, (l = []));
    for (const f of unit.flows) {
      const k = `${f.datapath}${flowBody(f)}`;
      if (seen.has(k)) continue;
      seen.add(k);
      l.push(f);
    }
  }
  return out;
}
