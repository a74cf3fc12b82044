/**
 * One SB Logical_Flow → OpenFlow flows for this chassis (ovn-controller(8);
 * ovn-architecture(7) "Architectural Physical Life Cycle of a Packet"): one
 * flow per conjunction of the match and per local datapath of the flow (its
 * `logical_datapath`, or each datapath of its `logical_dp_group`), with
 * `metadata` = the datapath's tunnel key and the priority of the logical flow.
 * Pure over an {@link LflowEnv}; the daemon can call it per changed row.
 */
import type { Row } from '../../ovsdb/client.js';
import type { Logical_Flow } from '../../ovsdb/models/ovn-sb.js';
import { SbModels, type SbView } from '../sb-models.js';
import type { Action, Flow, Match } from '../../openflow/flow.js';
import { ActionError, OFTABLE, translateActions } from './actions.js';
import {
  addTest,
  matchShape,
  mergeMatches,
  metadataTest,
  planMatch,
  toMatch,
  type MatchPlan,
  type MatchShape,
  type OfMatch,
} from './match.js';
import { parseActions, type Action as LflowAction, type MatchLookups } from '../../lib/lflow/index.js';
import { TextMemo } from './text-memo.js';
import { DEP, envChanges, type EnvLookups } from './env-diff.js';
import { datumEquals } from '../../ovsdb/datum.js';

export type { SbView };

export interface DatapathInfo {
  readonly uuid: string;
  readonly key: number;
  readonly isSwitch: boolean;
}

/** What translating logical flows needs, derived once per pass from the SB and the local facts. */
export interface LflowEnv extends EnvLookups {
  readonly datapaths: ReadonlyMap<string, DatapathInfo>;
  /** Allocates a conjunction id for a (logical flow, datapath), stable for the same SB. */
  readonly conjIds: ConjIdAllocator;
  /** The SB rows as their typed models (the logical flows are read through it). */
  readonly models: SbModels;
  /** Parses kept between passes (see {@link LflowCache}); absent: every translation parses. */
  readonly parses?: TextParses;
}

/** Results of a flow's texts alone, kept by text (text-memo.ts). */
export interface TextParses {
  readonly actions: TextMemo<readonly LflowAction[]>;
  readonly matches: TextMemo<MatchShape>;
}

/** Conjunction ids, from the logical flow's UUID (first 32 bits), the next free one on collision. */
export class ConjIdAllocator {
  private readonly byKey = new Map<string, number>();
  private readonly used = new Set<number>();
  /** Allocation keys by logical flow, for {@link release}. */
  private readonly byFlow = new Map<string, string[]>();
  get(lflowUuid: string, dpKey: number): number {
    const k = `${lflowUuid}/${dpKey}`;
    let id = this.byKey.get(k);
    if (id !== undefined) return id;
    id = (parseInt(lflowUuid.slice(0, 8), 16) + dpKey) >>> 0;
    while (this.used.has(id) || id === 0) id = (id + 1) >>> 0;
    this.used.add(id);
    this.byKey.set(k, id);
    const keys = this.byFlow.get(lflowUuid);
    if (keys === undefined) this.byFlow.set(lflowUuid, [k]);
    else keys.push(k);
    return id;
  }

  /** Frees the ids of a logical flow that is gone. */
  release(lflowUuid: string): void {
    for (const k of this.byFlow.get(lflowUuid) ?? []) {
      const id = this.byKey.get(k);
      if (id !== undefined) this.used.delete(id);
      this.byKey.delete(k);
    }
    this.byFlow.delete(lflowUuid);
  }
}

/** Builds the environment from the SB replica; `local` are the datapaths and `resident` the ports of this chassis. */
export function buildLflowEnv(
  sb: SbView,
  localDatapaths: ReadonlySet<string>,
  resident: ReadonlySet<string>,
  conjIds: ConjIdAllocator = new ConjIdAllocator(),
  models: SbModels = new SbModels(),
  parses?: TextParses,
): LflowEnv {
  const datapaths = new Map<string, DatapathInfo>();
  for (const dp of models.rows(sb, 'Datapath_Binding')) {
    datapaths.set(dp._uuid, { uuid: dp._uuid, key: dp.tunnel_key, isSwitch: dp.external_ids.has('logical-switch') });
  }
  const portKeys = new Map<string, Map<string, number>>();
  const portTypes = new Map<string, string>();
  const remoteVifKeys = new Map<string, Set<number>>();
  for (const pb of models.rows(sb, 'Port_Binding')) {
    const name = pb.logical_port;
    const type = pb.type;
    portTypes.set(name, type);
    if (type !== '' || resident.has(name)) continue;
    const dp = pb.datapath;
    let set = remoteVifKeys.get(dp);
    if (set === undefined) remoteVifKeys.set(dp, (set = new Set()));
    set.add(pb.tunnel_key);
  }
  const put = (dp: string, name: string, key: number): void => {
    let m = portKeys.get(dp);
    if (m === undefined) portKeys.set(dp, (m = new Map<string, number>()));
    m.set(name, key);
  };
  for (const pb of models.rows(sb, 'Port_Binding')) put(pb.datapath, pb.logical_port, pb.tunnel_key);
  for (const mg of models.rows(sb, 'Multicast_Group')) put(mg.datapath, mg.name, mg.tunnel_key);
  const addressSets = new Map<string, readonly string[]>();
  for (const as of models.rows(sb, 'Address_Set')) addressSets.set(as.name, as.addresses);
  for (const g of models.rows(sb, 'SB_Global')) {
    const mac = g.options.get('svc_monitor_mac');
    if (mac !== undefined) addressSets.set('svc_monitor_mac', [mac]);
  }
  const portGroups = new Map<string, readonly string[]>();
  for (const pg of models.rows(sb, 'Port_Group')) portGroups.set(pg.name, pg.ports);
  const dpGroups = new Map<string, readonly string[]>();
  for (const g of models.rows(sb, 'Logical_DP_Group')) dpGroups.set(g._uuid, g.datapaths);
  return {
    datapaths,
    localDatapaths,
    portKeys,
    residentPorts: resident,
    addressSets,
    portGroups,
    dpGroups,
    portTypes,
    remoteVifKeys,
    conjIds,
    models,
    ...(parses === undefined ? {} : { parses }),
  };
}

/**
 * Records what a translation read from the {@link LflowEnv}, as the dependency
 * keys of lflow/env-diff.ts, so that a later change of exactly those facts
 * (and nothing else) makes it stale.
 */
export type TrackDep = (dep: string) => void;

const untracked: TrackDep = () => undefined;

/** The local datapaths a logical flow applies to. */
function flowDatapaths(lf: Logical_Flow, env: LflowEnv, track: TrackDep): DatapathInfo[] {
  const one = lf.logical_datapath;
  const group = lf.logical_dp_group;
  if (one === null && group !== null) track(DEP.dpGroup(group));
  const uuids = one !== null ? [one] : group !== null ? (env.dpGroups.get(group) ?? []) : [];
  const out: DatapathInfo[] = [];
  for (const u of uuids) {
    track(DEP.datapath(u));
    const d = env.datapaths.get(u);
    if (d !== undefined && env.localDatapaths.has(u)) out.push(d);
  }
  return out;
}

/**
 * The OpenFlow flows of one logical flow. A flow whose match or actions
 * cannot be translated yields no flows and a logged error (OVN does the same).
 */
export function translateLogicalFlow(
  row: Row,
  env: LflowEnv,
  log: (m: string) => void = () => undefined,
  track: TrackDep = untracked,
): Flow[] {
  const lf = env.models.of('Logical_Flow', row);
  // northd tags flows that only matter where their in/out port is: skip them elsewhere
  // (a logical patch port is everywhere its datapath is).
  const io = lf.tags.get('in_out_port');
  if (io !== undefined) {
    track(DEP.portType(io));
    track(DEP.resident(io));
    const type = env.portTypes.get(io);
    if (type === undefined || (type !== 'patch' && !env.residentPorts.has(io))) return [];
  }
  const dps = flowDatapaths(lf, env, track);
  if (dps.length === 0) return [];
  const pipeline = lf.pipeline === 'egress' ? 'egress' : 'ingress';
  const table = lf.table_id;
  const priority = lf.priority;
  const matchText = lf.match;
  const actionsText = lf.actions;
  const ofTable = (pipeline === 'ingress' ? OFTABLE.LOG_INGRESS_PIPELINE : OFTABLE.LOG_EGRESS_PIPELINE) + table;
  const out: Flow[] = [];
  const flow = (match: Match, actions: readonly Action[]): Flow => ({ table: ofTable, priority, cookie: 0n, match, actions });
  const parses = env.parses;
  // Parsed once for all the flow's datapaths (a parse error is reported per datapath below, as before).
  let parsed: readonly LflowAction[] | undefined;
  try {
    parsed = parses?.actions.get(actionsText, () => parseActions(actionsText));
  } catch {
    parsed = undefined;
  }
  for (const dp of dps) {
    const keys = env.portKeys.get(dp.uuid);
    // "none" is OVN's name for "no port" (key 0).
    const portKey = (n: string): number | undefined => {
      if (n === 'none') return 0;
      track(DEP.portKey(dp.uuid, n));
      return keys?.get(n);
    };
    let actions: readonly Action[];
    let plan: MatchPlan;
    try {
      const t = translateActions(actionsText, { pipeline, table, isSwitch: dp.isSwitch, portKey }, parsed);
      actions = t.actions;
      const full = t.prereqs.length === 0 ? matchText : `(${matchText}) && ${t.prereqs.join(' && ')}`;
      const lookups: MatchLookups = {
        addressSet: (n) => {
          track(DEP.addressSet(n));
          return env.addressSets.get(n);
        },
        portGroup: (n) => {
          track(DEP.portGroup(`${dp.key}_${n}`));
          track(DEP.portGroup(n));
          return env.portGroups.get(`${dp.key}_${n}`) ?? env.portGroups.get(n);
        },
      };
      // A text naming no address set or port group ($as, @pg) expands the same whatever the SB holds.
      const shape =
        parses === undefined || full.includes('$') || full.includes('@')
          ? matchShape(full, lookups)
          : parses.matches.get(full, () => matchShape(full, lookups));
      plan = planMatch(
        full,
        {
          portKey,
          isResident: (p) => {
            track(DEP.resident(p));
            return env.residentPorts.has(p);
          },
          ...lookups,
        },
        shape,
      );
    } catch (e) {
      const what = e instanceof ActionError ? 'actions' : 'flow';
      log(
        `error translating logical ${what} (${pipeline} table ${table} priority ${priority}, match "${matchText}", actions "${actionsText}"): ${(e as Error).message}`,
      );
      continue;
    }
    const withDp = (m: OfMatch): OfMatch => {
      const mm = new Map(m);
      addTest(mm, metadataTest(dp.key));
      return mm;
    };
    // A flow for the ingress of a VIF bound elsewhere, or the egress to one, never sees a packet here.
    const remote = env.remoteVifKeys.get(dp.uuid);
    const reg = pipeline === 'ingress' ? 'reg14' : 'reg15';
    const elsewhere = (m: OfMatch): boolean => {
      const t = m.get(reg);
      if (t === undefined || t.mask !== 0xffffffffn) return false;
      track(DEP.remoteVif(dp.uuid, Number(t.value)));
      return remote !== undefined && remote.has(Number(t.value));
    };
    if (plan.kind === 'plain') {
      for (const m of plan.matches) if (!elsewhere(m)) out.push(flow(toMatch(withDp(m)), actions));
      continue;
    }
    if (elsewhere(plan.base)) continue;
    const id = env.conjIds.get(lf._uuid, dp.key);
    const base = withDp(plan.base);
    const withConj = new Map(base);
    withConj.set('conj_id', { field: 'conj_id', value: BigInt(id), mask: 0xffffffffn });
    out.push(flow(toMatch(withConj), actions));
    plan.dims.forEach((els, k) => {
      for (const el of els) {
        const m = mergeMatches(base, el);
        if (m !== undefined) out.push(flow(toMatch(m), [{ type: 'conjunction', id, clause: k + 1, nClauses: plan.dims.length }]));
      }
    });
  }
  return out;
}

const byUuid = (a: Row, b: Row): number => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);

/** All logical flows of the SB for this chassis; with a cache, only what changed is translated again. */
export function translateLogicalFlows(sb: SbView, env: LflowEnv, log?: (m: string) => void, cache?: LflowCache): Flow[] {
  if (cache !== undefined) return mergeConjunctionFlows(cache.update(sb.table('Logical_Flow').values(), env, log), cache.merged);
  // Logical flows are visited in UUID order so that conjunction ids do not depend on replica order.
  const rows = [...sb.table('Logical_Flow').values()].sort(byUuid);
  const out: Flow[] = [];
  for (const lf of rows) for (const f of translateLogicalFlow(lf, env, log)) out.push(f);
  return mergeConjunctionFlows(out);
}

/** The columns a logical flow's translation reads from its own row. */
const LFLOW_COLUMNS = ['match', 'actions', 'pipeline', 'table_id', 'priority', 'logical_datapath', 'logical_dp_group', 'tags'] as const;

function sameLflow(a: Row, b: Row): boolean {
  return a === b || LFLOW_COLUMNS.every((c) => datumEquals(a.get(c), b.get(c)));
}

interface CacheEntry {
  row: Row;
  flows: readonly Flow[];
  /** What the translation read from the environment (env-diff.ts keys). */
  deps: readonly string[];
}

/**
 * Translations of logical flows kept between passes, with what each one read
 * from the environment, and the parses of their texts (text-memo.ts). A pass translates again only the rows that are new,
 * changed in a column the translation reads, or that read a fact that
 * changed since the previous pass ({@link envChanges}): a port bound or
 * unbound, a datapath becoming local, an address set changed. The result
 * equals a full recompute. Conjunction ids come from one allocator for the
 * cache's life.
 */
export class LflowCache {
  readonly conjIds = new ConjIdAllocator();
  /** Parsed texts, for the translations this cache redoes (pass it to {@link buildLflowEnv}). */
  readonly parses: TextParses = { actions: new TextMemo(), matches: new TextMemo() };
  /** Last pass' merged conjunction flows (see {@link mergeConjunctionFlows}). */
  readonly merged: MergeMemo = new Map();
  private readonly entries = new Map<string, CacheEntry>();
  /** Dependency key → UUIDs of the logical flows that read it. */
  private readonly readers = new Map<string, Set<string>>();
  private env: LflowEnv | undefined;
  /** Translations done / reused in the last pass (for tests and stats). */
  readonly stats = { translated: 0, reused: 0 };

  /** The flows of every row (not yet merged), translating only what is stale. */
  update(rows: Iterable<Row>, env: LflowEnv, log?: (m: string) => void): Flow[] {
    const stale = new Set<string>();
    if (this.env !== undefined && this.env !== env) {
      for (const dep of envChanges(this.env, env)) for (const u of this.readers.get(dep) ?? []) stale.add(u);
    }
    this.env = env;
    this.stats.translated = 0;
    this.stats.reused = 0;
    const seen = new Set<string>();
    const todo: Row[] = [];
    for (const row of rows) {
      seen.add(row.uuid);
      const e = this.entries.get(row.uuid);
      if (e !== undefined && !stale.has(row.uuid) && sameLflow(e.row, row)) {
        e.row = row;
        this.stats.reused++;
      } else {
        todo.push(row);
      }
    }
    for (const u of [...this.entries.keys()]) {
      if (seen.has(u)) continue;
      this.forget(u);
      this.conjIds.release(u);
    }
    // New translations in UUID order, as a full recompute allocates their conjunction ids.
    for (const row of todo.sort(byUuid)) {
      this.forget(row.uuid);
      const deps = new Set<string>();
      const flows = translateLogicalFlow(row, env, log, (d) => deps.add(d));
      this.entries.set(row.uuid, { row, flows, deps: [...deps] });
      for (const d of deps) {
        let r = this.readers.get(d);
        if (r === undefined) this.readers.set(d, (r = new Set()));
        r.add(row.uuid);
      }
      this.stats.translated++;
    }
    // Texts of flows gone (or of rows rewritten) are forgotten once they outnumber the live ones.
    const limit = 2 * this.entries.size + 64;
    this.parses.actions.prune(limit);
    this.parses.matches.prune(limit);
    const out: Flow[] = [];
    for (const e of this.entries.values()) for (const f of e.flows) out.push(f);
    return out;
  }

  /** Drops a row's translation and its place in the reader index. */
  private forget(uuid: string): void {
    const e = this.entries.get(uuid);
    if (e === undefined) return;
    this.entries.delete(uuid);
    for (const d of e.deps) {
      const r = this.readers.get(d);
      r?.delete(uuid);
      if (r?.size === 0) this.readers.delete(d);
    }
  }
}

/** The key of a flow's table, priority and match (for merging, not for printing). */
function selectorKey(f: Flow): string {
  let k = `${f.table}/${f.priority}`;
  for (const x of f.match) k += `,${x.field}=${x.value.toString(16)}${x.mask === undefined ? '' : `/${x.mask.toString(16)}`}`;
  return k;
}

const isConjunction = (a: Action): a is Extract<Action, { type: 'conjunction' }> => a.type === 'conjunction';
const conjOrder = (a: Extract<Action, { type: 'conjunction' }>): string => `${a.id},${a.clause}/${a.nClauses}`;

/**
 * Flows with the same table, priority and match whose actions are only
 * `conjunction(…)` are one OpenFlow flow with all of them (what OVS would
 * otherwise reject as duplicates), in a fixed order so that the result does
 * not depend on the order of the input.
 */
export function mergeConjunctionFlows(flows: readonly Flow[], memo?: MergeMemo): Flow[] {
  const conj = new Map<string, { first: Flow; actions: Extract<Action, { type: 'conjunction' }>[]; parts: Flow[] }>();
  const out: Flow[] = [];
  for (const f of flows) {
    if (f.actions.length === 0 || !f.actions.every(isConjunction)) {
      out.push(f);
      continue;
    }
    const k = selectorKey(f);
    const c = conj.get(k);
    const acts = f.actions.filter(isConjunction);
    if (c === undefined) conj.set(k, { first: f, actions: acts, parts: [f] });
    else {
      c.actions.push(...acts);
      c.parts.push(f);
    }
  }
  for (const [k, { first, actions, parts }] of conj) {
    if (parts.length === 1) {
      out.push(first);
      continue;
    }
    // The same parts as last pass (the translations hand back the same objects): the same merged flow.
    const had = memo?.get(k);
    if (had !== undefined && had.parts.length === parts.length && had.parts.every((p, i) => p === parts[i])) {
      out.push(had.merged);
      continue;
    }
    const sorted = [...actions].sort((a, b) => (conjOrder(a) < conjOrder(b) ? -1 : conjOrder(a) > conjOrder(b) ? 1 : 0));
    const merged: Flow = { ...first, actions: sorted };
    memo?.set(k, { parts, merged });
    out.push(merged);
  }
  if (memo !== undefined) for (const k of [...memo.keys()]) if ((conj.get(k)?.parts.length ?? 0) < 2) memo.delete(k);
  return out;
}

/** Merged conjunction flows by table, priority and match, with the flows they were merged from. */
export type MergeMemo = Map<string, { readonly parts: readonly Flow[]; readonly merged: Flow }>;
