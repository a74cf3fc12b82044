/**
 * One SB Logical_Flow → OpenFlow flows for this chassis (ovn-controller(8);
 * ovn-architecture(7) "Architectural Physical Life Cycle of a Packet"): one
 * flow per conjunction of the match and per local datapath of the flow (its
 * `logical_datapath`, or each datapath of its `logical_dp_group`), with
 * `metadata` = the datapath's tunnel key and the priority of the logical flow.
 * Pure over an {@link LflowEnv}; the daemon can call it per changed row.
 */
import type { Row } from '../../ovsdb/client.js';
import type { TextFlow } from '../ofctl-link.js';
import { ActionError, OFTABLE, translateActions } from './actions.js';
import { addTest, formatMatch, mergeMatches, metadataTest, planMatch, type MatchPlan, type OfMatch } from './match.js';

/** The SB tables as the client's replica exposes them. */
export interface SbView {
  table(name: string): ReadonlyMap<string, Row>;
}

export interface DatapathInfo {
  readonly uuid: string;
  readonly key: number;
  readonly isSwitch: boolean;
}

/** What translating logical flows needs, derived once per pass from the SB and the local facts. */
export interface LflowEnv {
  readonly datapaths: ReadonlyMap<string, DatapathInfo>;
  /** Datapath UUIDs with flows on this chassis. */
  readonly localDatapaths: ReadonlySet<string>;
  /** Logical port and multicast group tunnel keys, per datapath UUID, by name. */
  readonly portKeys: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Logical ports bound to this chassis (for `is_chassis_resident`). */
  readonly residentPorts: ReadonlySet<string>;
  readonly addressSets: ReadonlyMap<string, readonly string[]>;
  readonly portGroups: ReadonlyMap<string, readonly string[]>;
  /** Datapath group UUID → datapath UUIDs. */
  readonly dpGroups: ReadonlyMap<string, readonly string[]>;
  /** Port_Binding type by logical port. */
  readonly portTypes: ReadonlyMap<string, string>;
  /** Tunnel keys of VIFs bound elsewhere (or nowhere), per datapath UUID: their packets never enter or leave here. */
  readonly remoteVifKeys: ReadonlyMap<string, ReadonlySet<number>>;
  /** Allocates a conjunction id for a (logical flow, datapath), stable for the same SB. */
  readonly conjIds: ConjIdAllocator;
}

/** Conjunction ids, from the logical flow's UUID (first 32 bits), the next free one on collision. */
export class ConjIdAllocator {
  private readonly byKey = new Map<string, number>();
  private readonly used = new Set<number>();
  get(lflowUuid: string, dpKey: number): number {
    const k = `${lflowUuid}/${dpKey}`;
    let id = this.byKey.get(k);
    if (id !== undefined) return id;
    id = (parseInt(lflowUuid.slice(0, 8), 16) + dpKey) >>> 0;
    while (this.used.has(id) || id === 0) id = (id + 1) >>> 0;
    this.used.add(id);
    this.byKey.set(k, id);
    return id;
  }
}

const str = (r: Row, c: string): string => String(r.scalar(c));

/** Builds the environment from the SB replica; `local` are the datapaths and `resident` the ports of this chassis. */
export function buildLflowEnv(sb: SbView, localDatapaths: ReadonlySet<string>, resident: ReadonlySet<string>, conjIds: ConjIdAllocator = new ConjIdAllocator()): LflowEnv {
  const datapaths = new Map<string, DatapathInfo>();
  for (const dp of sb.table('Datapath_Binding').values()) {
    const ext = dp.map('external_ids');
    datapaths.set(dp.uuid, { uuid: dp.uuid, key: Number(dp.scalar('tunnel_key')), isSwitch: ext.has('logical-switch') });
  }
  const portKeys = new Map<string, Map<string, number>>();
  const portTypes = new Map<string, string>();
  const remoteVifKeys = new Map<string, Set<number>>();
  for (const pb of sb.table('Port_Binding').values()) {
    const name = str(pb, 'logical_port');
    const type = str(pb, 'type');
    portTypes.set(name, type);
    if (type !== '' || resident.has(name)) continue;
    const dp = str(pb, 'datapath');
    let set = remoteVifKeys.get(dp);
    if (set === undefined) remoteVifKeys.set(dp, (set = new Set()));
    set.add(Number(pb.scalar('tunnel_key')));
  }
  const put = (dp: string, name: string, key: number): void => {
    let m = portKeys.get(dp);
    if (m === undefined) portKeys.set(dp, (m = new Map()));
    m.set(name, key);
  };
  for (const pb of sb.table('Port_Binding').values()) put(str(pb, 'datapath'), str(pb, 'logical_port'), Number(pb.scalar('tunnel_key')));
  for (const mg of sb.table('Multicast_Group').values()) put(str(mg, 'datapath'), str(mg, 'name'), Number(mg.scalar('tunnel_key')));
  const addressSets = new Map<string, readonly string[]>();
  for (const as of sb.table('Address_Set').values()) addressSets.set(str(as, 'name'), as.set('addresses').map(String));
  for (const g of sb.table('SB_Global').values()) {
    const mac = g.map('options').get('svc_monitor_mac');
    if (mac !== undefined) addressSets.set('svc_monitor_mac', [String(mac)]);
  }
  const portGroups = new Map<string, readonly string[]>();
  for (const pg of sb.table('Port_Group').values()) portGroups.set(str(pg, 'name'), pg.set('ports').map(String));
  const dpGroups = new Map<string, readonly string[]>();
  for (const g of sb.table('Logical_DP_Group').values()) dpGroups.set(g.uuid, g.set('datapaths').map(String));
  return { datapaths, localDatapaths, portKeys, residentPorts: resident, addressSets, portGroups, dpGroups, portTypes, remoteVifKeys, conjIds };
}

/** The local datapaths a logical flow applies to. */
function flowDatapaths(lf: Row, env: LflowEnv): DatapathInfo[] {
  const one = lf.optional('logical_datapath');
  const group = lf.optional('logical_dp_group');
  const uuids = one !== null ? [String(one)] : group !== null ? (env.dpGroups.get(String(group)) ?? []) : [];
  const out: DatapathInfo[] = [];
  for (const u of uuids) {
    const d = env.datapaths.get(u);
    if (d !== undefined && env.localDatapaths.has(u)) out.push(d);
  }
  return out;
}

/**
 * The OpenFlow flows of one logical flow. A flow whose match or actions
 * cannot be translated yields no flows and a logged error (OVN does the same).
 */
export function translateLogicalFlow(lf: Row, env: LflowEnv, log: (m: string) => void = () => undefined): TextFlow[] {
  // northd tags flows that only matter where their in/out port is: skip them elsewhere
  // (a logical patch port is everywhere its datapath is).
  const io = lf.map('tags').get('in_out_port');
  if (io !== undefined) {
    const type = env.portTypes.get(String(io));
    if (type === undefined || (type !== 'patch' && !env.residentPorts.has(String(io)))) return [];
  }
  const dps = flowDatapaths(lf, env);
  if (dps.length === 0) return [];
  const pipeline = str(lf, 'pipeline') === 'egress' ? 'egress' : 'ingress';
  const table = Number(lf.scalar('table_id'));
  const priority = Number(lf.scalar('priority'));
  const matchText = str(lf, 'match');
  const actionsText = str(lf, 'actions');
  const ofTable = (pipeline === 'ingress' ? OFTABLE.LOG_INGRESS_PIPELINE : OFTABLE.LOG_EGRESS_PIPELINE) + table;
  const out: TextFlow[] = [];
  for (const dp of dps) {
    const keys = env.portKeys.get(dp.uuid);
    // "none" is OVN's name for "no port" (key 0).
    const portKey = (n: string): number | undefined => (n === 'none' ? 0 : keys?.get(n));
    let actions: string;
    let plan: MatchPlan;
    try {
      const t = translateActions(actionsText, { pipeline, table, isSwitch: dp.isSwitch, portKey });
      actions = t.actions;
      const full = t.prereqs.length === 0 ? matchText : `(${matchText}) && ${t.prereqs.join(' && ')}`;
      plan = planMatch(full, {
        portKey,
        isResident: (p) => env.residentPorts.has(p),
        addressSet: (n) => env.addressSets.get(n),
        portGroup: (n) => env.portGroups.get(`${dp.key}_${n}`) ?? env.portGroups.get(n),
      });
    } catch (e) {
      const what = e instanceof ActionError ? 'actions' : 'flow';
      log(`error translating logical ${what} (${pipeline} table ${table} priority ${priority}, match "${matchText}", actions "${actionsText}"): ${(e as Error).message}`);
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
      return remote !== undefined && t !== undefined && t.mask === 0xffffffffn && remote.has(Number(t.value));
    };
    if (plan.kind === 'plain') {
      for (const m of plan.matches) if (!elsewhere(m)) out.push({ table: ofTable, priority, match: formatMatch(withDp(m)), actions });
      continue;
    }
    if (elsewhere(plan.base)) continue;
    const id = env.conjIds.get(lf.uuid, dp.key);
    const base = withDp(plan.base);
    out.push({ table: ofTable, priority, match: formatMatch(base) + `,conj_id=${id}`, actions });
    plan.dims.forEach((els, k) => {
      for (const el of els) {
        const m = mergeMatches(base, el);
        if (m !== undefined) out.push({ table: ofTable, priority, match: formatMatch(m), actions: `conjunction(${id},${k + 1}/${plan.dims.length})` });
      }
    });
  }
  return out;
}

/** All logical flows of the SB for this chassis. */
export function translateLogicalFlows(sb: SbView, env: LflowEnv, log?: (m: string) => void, cache?: LflowCache): TextFlow[] {
  const out: TextFlow[] = [];
  // Logical flows are visited in UUID order so that conjunction ids do not depend on replica order.
  const rows = [...sb.table('Logical_Flow').values()].sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  for (const lf of rows) out.push(...(cache === undefined ? translateLogicalFlow(lf, env, log) : cache.translate(lf, env, log)));
  cache?.retain(rows);
  return mergeConjunctionFlows(out);
}

/** What a logical flow's translation depends on besides its own row. */
export function envFingerprint(env: LflowEnv): string {
  const m = <K, V>(x: ReadonlyMap<K, V>, f: (v: V) => string = String): string => [...x].map(([k, v]) => `${String(k)}=${f(v)}`).sort().join(';');
  return [
    m(env.datapaths, (d) => `${d.key}/${d.isSwitch}`),
    [...env.localDatapaths].sort().join(','),
    m(env.portKeys, (k) => m(k)),
    [...env.residentPorts].sort().join(','),
    m(env.addressSets, (a) => a.join(',')),
    m(env.portGroups, (a) => a.join(',')),
    m(env.dpGroups, (a) => a.join(',')),
    m(env.portTypes),
  ].join('|');
}

/**
 * Translations of logical flows kept between passes: a row whose match,
 * actions, datapaths and tags are unchanged, under an unchanged environment
 * fingerprint, is not translated again (a full recompute gives the same
 * result). Conjunction ids come from one allocator for the cache's life.
 */
export class LflowCache {
  readonly conjIds = new ConjIdAllocator();
  private readonly entries = new Map<string, { key: string; flows: TextFlow[] }>();
  private fingerprint = '';
  private envRef: LflowEnv | undefined;
  /** Translations done / reused in the last pass (for tests and stats). */
  readonly stats = { translated: 0, reused: 0 };

  translate(lf: Row, env: LflowEnv, log?: (m: string) => void): TextFlow[] {
    if (this.envRef !== env) {
      this.envRef = env;
      const fp = envFingerprint(env);
      if (fp !== this.fingerprint) this.entries.clear();
      this.fingerprint = fp;
      this.stats.translated = 0;
      this.stats.reused = 0;
    }
    const key = JSON.stringify([lf.get('match'), lf.get('actions'), lf.get('pipeline'), lf.get('table_id'), lf.get('priority'), lf.get('logical_datapath'), lf.get('logical_dp_group'), lf.get('tags')]);
    const hit = this.entries.get(lf.uuid);
    if (hit !== undefined && hit.key === key) {
      this.stats.reused++;
      return hit.flows;
    }
    const flows = translateLogicalFlow(lf, env, log);
    this.entries.set(lf.uuid, { key, flows });
    this.stats.translated++;
    return flows;
  }

  /** Forgets rows that are gone. */
  retain(rows: readonly Row[]): void {
    const live = new Set(rows.map((r) => r.uuid));
    for (const u of [...this.entries.keys()]) if (!live.has(u)) this.entries.delete(u);
  }
}

/**
 * Flows with the same table, priority and match whose actions are only
 * `conjunction(…)` are one OpenFlow flow with all of them (what OVS would
 * otherwise reject as duplicates).
 */
export function mergeConjunctionFlows(flows: readonly TextFlow[]): TextFlow[] {
  const byId = new Map<string, number>();
  const out: TextFlow[] = [];
  for (const f of flows) {
    const k = `${f.table}/${f.priority}/${f.match}`;
    const i = byId.get(k);
    if (i === undefined) {
      byId.set(k, out.length);
      out.push(f);
      continue;
    }
    const prev = out[i]!;
    if (prev.actions.startsWith('conjunction(') && f.actions.startsWith('conjunction(')) {
      out[i] = { ...prev, actions: `${prev.actions},${f.actions}` };
    } else {
      out.push(f);
    }
  }
  return out;
}
