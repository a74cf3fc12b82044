/**
 * The ovnts northd component (ovn-northd(8)): NB → SB. Every pass computes the SB
 * it wants from the whole NB and writes the difference in one SB transaction
 * (desired state, then reconcile); passes are serialised and bursts of NB changes
 * coalesce into one pass. Only the holder of the SB lock `ovn_northd` writes, so
 * a second instance stands by until the first goes away.
 *
 * After the SB transaction commits, NB_Global.sb_cfg catches up with the nb_cfg
 * that pass reflected, and hv_cfg with the lowest nb_cfg every chassis reports in
 * Chassis_Private — the barriers of `ovn-nbctl --wait=sb|hv`. Nested ports' tags
 * and every port's `up` are written back to the NB.
 */
import type { SslOptions } from '../ovsdb/remote.js';
import { OvsdbClient, type RowChange } from '../ovsdb/client.js';
import { NbSnapshot, NB_TABLES } from './nb-snapshot.js';
import { allocateTags } from './tags.js';
import { globalOptions, newRowCache, syncSouthbound } from './sync/southbound.js';
import { flowKey, flowsByDatapath, newFlowUnits, type FlowUnits } from './sync/flow-units.js';
import { LogicalFlowSync } from './sync/logical-flows.js';
import type { NbView, Uuid } from './nb-view.js';
import type { RowMemo } from './sync/rows.js';
import { datumFromJson, datumEquals } from '../ovsdb/datum.js';
import { map } from './sync/rows.js';
import type { MetricsScope } from '../lib/metrics.js';
import { NorthdMetrics } from './northd-metrics.js';

export const NORTHD_LOCK = 'ovn_northd';

export interface NorthdOptions {
  /** OVN_Northbound remote(s), comma-separated. */
  readonly nbRemote: string;
  /** OVN_Southbound remote(s), comma-separated. */
  readonly sbRemote: string;
  /** Named logger. Default: silent. */
  readonly log?: (msg: string) => void;
  /** Keys and certificates for ssl: remotes. Default: none. */
  readonly ssl?: SslOptions;
  /** Where to count passes and flows (`--metrics`). Default: not counted. */
  readonly metrics?: MetricsScope;
}

const SB_TABLES = [
  'SB_Global',
  'DHCP_Options',
  'DHCPv6_Options',
  'Datapath_Binding',
  'Port_Binding',
  'Multicast_Group',
  'Logical_Flow',
  'Chassis',
  'Chassis_Private',
  'Address_Set',
  'Port_Group',
  'Logical_DP_Group',
] as const;

export class Northd {
  private readonly nb: OvsdbClient;
  private readonly sb: OvsdbClient;
  private readonly log: (msg: string) => void;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** Ports whose tag_request was seen set (to tell a withdrawn request from none). */
  private readonly requested = new Set<string>();
  private readonly withdrawn = new Set<string>();
  private passes = 0;
  /** The NB as of the last pass, kept current from change events (incremental processing). */
  private snapshot: NbSnapshot | undefined;
  private pending: RowChange[] = [];
  private readonly flowUnits: FlowUnits = newFlowUnits();
  private readonly flowSync = new LogicalFlowSync();
  private readonly rowCache = newRowCache();
  private readonly memos = new Map<string, RowMemo>();
  private readonly refusedSeen = new Set<string>();
  private readonly metrics: NorthdMetrics | undefined;

  constructor(opts: NorthdOptions) {
    this.log = opts.log ?? (() => {});
    const ssl = opts.ssl === undefined ? {} : { ssl: opts.ssl };
    this.nb = new OvsdbClient({
      remotes: opts.nbRemote,
      database: 'OVN_Northbound',
      leaderOnly: true,
      tables: Object.fromEntries(NB_TABLES.map((t) => [t, true])),
      log: (m) => this.log(`nb: ${m}`),
      ...ssl,
    });
    this.sb = new OvsdbClient({
      remotes: opts.sbRemote,
      database: 'OVN_Southbound',
      leaderOnly: true,
      tables: Object.fromEntries(SB_TABLES.map((t) => [t, true])),
      log: (m) => this.log(`sb: ${m}`),
      ...ssl,
    });
    this.metrics =
      opts.metrics === undefined
        ? undefined
        : new NorthdMetrics(opts.metrics, {
            logicalFlows: () => {
              const n = new Map<string, number>();
              for (const r of this.sb.table('Logical_Flow').values()) {
                const p = String(r.scalar('pipeline'));
                n.set(p, (n.get(p) ?? 0) + 1);
              }
              return n;
            },
            active: () => this.status() === 'active',
          });
  }

  /** `active` when this instance holds the lock and writes the SB, else `standby`. */
  status(): 'active' | 'standby' {
    return this.sb.hasLock(NORTHD_LOCK) ? 'active' : 'standby';
  }

  /** Completed passes (for tests). */
  get passCount(): number {
    return this.passes;
  }

  async start(): Promise<void> {
    this.nb.on('change', (c) => this.onNbChange(c));
    // The SB changes that matter are other daemons' (bindings, chassis); a pass
    // after each of northd's own commits would only find nothing to do.
    this.sb.on('change', (changes) => {
      this.flowSync.onSbChange(changes);
      const matters = (c: RowChange): boolean =>
        // A flow row deleted or changed by anyone else: check it is what it should be.
        (c.table === 'Logical_Flow' && (c.new === null || c.old !== null) && !this.flowSync.wrote(c.uuid)) ||
        c.table === 'Chassis' ||
        c.table === 'Chassis_Private' ||
        (c.table === 'Port_Binding' &&
          c.old !== null &&
          c.new !== null &&
          (String(c.old.optional('up')) !== String(c.new.optional('up')) || c.old.optional('chassis') !== c.new.optional('chassis')));
      if (changes.some(matters)) this.kick();
    });
    this.sb.on('locked', () => {
      this.log('lock acquired: this northd is active');
      // Another northd may have written the SB meanwhile: compare it whole once.
      this.forgetInserts();
      this.kick();
    });
    this.sb.on('stolen', () => this.log('lock lost: this northd is standing by'));
    this.sb.on('connected', () => {
      this.forgetInserts();
      this.kick();
    });
    this.nb.on('connected', () => {
      // A reconnect may have missed anything: start again from the whole NB.
      this.snapshot = undefined;
      this.kick();
    });
    await Promise.all([this.nb.start(), this.sb.start()]);
    await this.sb.lock(NORTHD_LOCK);
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Connections first: a pass waiting on a database that does not answer (a commit, the replica catching up) ends as
    // they close, where waiting for the pass first would hold the stop until the daemon's deadline.
    await Promise.all([this.nb.stop(), this.sb.stop()]);
    await this.running?.catch(() => {});
  }

  /** Resolves after a pass that started after this call has finished. */
  async sync(): Promise<void> {
    this.kick();
    while (this.running !== undefined) await this.running.catch(() => {});
  }

  private onNbChange(changes: readonly RowChange[]): void {
    for (const c of changes) this.pending.push(c);
    // What northd itself writes back (tags, up, sb_cfg/hv_cfg) needs no new pass.
    if (changes.every(isWriteBack)) return;
    for (const c of changes) {
      if (c.table !== 'Logical_Switch_Port') continue;
      const had = c.old?.optional('tag_request') ?? null;
      const has = c.new?.optional('tag_request') ?? null;
      if (has !== null) {
        this.requested.add(c.uuid);
        this.withdrawn.delete(c.uuid);
      } else if (had !== null || (c.new !== null && this.requested.has(c.uuid))) {
        this.requested.delete(c.uuid);
        this.withdrawn.add(c.uuid);
      }
    }
    this.kick();
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        // Let the rest of a burst of notifications arrive first.
        await new Promise((r) => setImmediate(r));
        try {
          await this.pass();
        } catch (e) {
          this.log(`pass failed: ${(e as Error).message}`);
          this.metrics?.passFailed();
          if (!this.stopped) await new Promise((r) => setTimeout(r, 200));
          this.again = !this.stopped;
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
  }

  private async pass(): Promise<void> {
    if (this.stopped || !this.nb.isConnected || !this.sb.isConnected || !this.sb.hasLock(NORTHD_LOCK)) return;
    const t0 = performance.now();
    const nbv = this.currentNb();
    const nbCfg = Number(nbv.global?.nb_cfg ?? 0);
    const tags = allocateTags(nbv, this.withdrawn);

    // NB first: the tags (the SB's Port_Binding.tag follows them in the same pass).
    const nbTxn = this.nb.txn();
    if (nbv.global === undefined) nbTxn.insert('NB_Global', {});
    for (const [u, tag] of tags) {
      const p = nbv.switchPorts.get(u);
      if (p !== undefined && p.tag !== tag) nbTxn.update('Logical_Switch_Port', u, { tag: tag === null ? ['set', []] : tag });
    }

    const sbTxn = this.sb.txn();
    const refuse = (msg: string): void => {
      if (!this.refusedSeen.has(msg)) {
        this.refusedSeen.add(msg);
        this.log(msg);
      }
    };
    const t1 = performance.now();
    const timings: Record<string, number> = {};
    syncSouthbound(sbTxn, {
      nb: nbv,
      sb: this.sb,
      tags,
      nbCfg,
      refuse,
      timings,
      flowUnits: this.flowUnits,
      flowSync: this.flowSync,
      rowCache: this.rowCache,
      memos: this.memos,
    });
    const t2 = performance.now();
    const ops = sbTxn.size;
    if (ops > 0) {
      sbTxn.op({ op: 'assert', lock: NORTHD_LOCK });
      try {
        await sbTxn.commit();
      } catch (e) {
        this.forgetInserts();
        throw e;
      }
      for (const m of this.memos.values()) m.afterCommit(sbTxn);
      this.flowSync.afterCommit(sbTxn);
      // The next pass diffs against the replica: let it show this transaction first.
      await this.sb.waitUntil(() => this.flowSync.caughtUp(this.sb, sbTxn), 5000).catch(() => this.flowSync.forgetInserts());
    }
    this.passes++;
    this.metrics?.passDone(t0, ops);
    const t3 = performance.now();
    // Like OVS's "Unreasonably long poll interval": say where a slow pass went.
    if (t3 - t0 >= 500) {
      const parts = Object.entries(timings)
        .map(([k, v]) => `${k} ${v.toFixed(0)}`)
        .join(', ');
      this.log(
        `long pass: ${(t3 - t0).toFixed(0)} ms (NB ${(t1 - t0).toFixed(0)}, SB computed ${(t2 - t1).toFixed(0)} [${parts}], ${ops} SB ops committed ${(t3 - t2).toFixed(0)})`,
      );
    }

    // Then what the SB tells the NB: sb_cfg, hv_cfg, ports up.
    const g = nbv.global;
    if (g !== undefined) {
      const now = Date.now();
      const upd: Record<string, unknown> = {};
      const opts = map(globalOptions(nbv, this.sb));
      const col = this.nb.schema.tables.get('NB_Global')?.columns.get('options');
      const cur = this.nb.row('NB_Global', g._uuid)?.get('options');
      if (col !== undefined && cur !== undefined && !datumEquals(datumFromJson(opts, col.type), cur)) upd['options'] = opts;
      if (Number(g.sb_cfg) !== nbCfg) Object.assign(upd, { sb_cfg: nbCfg, sb_cfg_timestamp: now });
      const hv = this.hvCfg(nbCfg);
      if (Number(g.hv_cfg) !== hv) Object.assign(upd, { hv_cfg: hv, hv_cfg_timestamp: now });
      if (Object.keys(upd).length > 0) nbTxn.update('NB_Global', g._uuid, upd);
    }
    const up = new Map<string, boolean>();
    for (const pb of this.sb.table('Port_Binding').values()) {
      up.set(String(pb.scalar('logical_port')), pb.optional('up') === true && pb.optional('chassis') !== null);
    }
    for (const p of nbv.switchPorts.values()) {
      if (nbv.switchOfPort(p._uuid) === undefined) continue;
      const want = p.type === 'router' ? true : (up.get(p.name) ?? false);
      if (p.up !== want) nbTxn.update('Logical_Switch_Port', p._uuid, { up: want });
    }
    if (nbTxn.size > 0) await nbTxn.commit();
  }

  /** What northd inserted is no longer known to be in the SB as written (failed commit, reconnection). */
  private forgetInserts(): void {
    for (const m of this.memos.values()) m.forgetInserts();
    this.flowSync.forgetInserts();
  }

  /** The NB snapshot with the pending changes applied, and the datapaths they dirty marked. */
  private currentNb(): NbSnapshot {
    const changes = this.pending;
    this.pending = [];
    if (this.snapshot === undefined) {
      this.snapshot = new NbSnapshot(this.nb);
      this.flowUnits.dirty = 'all';
      return this.snapshot;
    }
    const snap = this.snapshot;
    markDirty(snap, changes, this.flowUnits);
    snap.apply(changes);
    markDirty(snap, changes, this.flowUnits);
    return snap;
  }

  /**
   * Compares the flows the incremental path keeps with a full recompute from the
   * whole NB; returns the differences (empty when equal). For `debug/recompute-check`.
   */
  recomputeCheck(): string[] {
    if (this.snapshot === undefined) return [];
    const kept = this.flowSync.flowKeys();
    const full = new Set<string>();
    for (const fs of flowsByDatapath(new NbSnapshot(this.nb)).values()) {
      for (const f of fs) full.add(flowKey(f.datapath, f.stage.pipeline, f.stage.table, f.priority, f.match, f.actions));
    }
    const out: string[] = [];
    for (const k of full) if (!kept.has(k)) out.push(`missing: ${k.replaceAll('\u0000', ' | ')}`);
    for (const k of kept) if (!full.has(k)) out.push(`extra: ${k.replaceAll('\u0000', ' | ')}`);
    return out;
  }

  /** The lowest nb_cfg the chassis have caught up with (the SB's when there is no chassis). */
  private hvCfg(sbCfg: number): number {
    let min: number | undefined;
    const chassis = new Set<string>();
    for (const c of this.sb.table('Chassis').values()) chassis.add(String(c.scalar('name')));
    for (const c of this.sb.table('Chassis_Private').values()) {
      if (!chassis.has(String(c.scalar('name')))) continue;
      const v = Number(c.scalar('nb_cfg'));
      if (min === undefined || v < min) min = v;
    }
    return min === undefined ? sbCfg : Math.min(min, sbCfg);
  }
}

/** The router ports that peer with a port of switch `ls` (their ARP entries list its addresses). */
function attachedRouterPorts(nbv: NbView, ls: Uuid): Uuid[] {
  const out: Uuid[] = [];
  const sw = nbv.switches.get(ls);
  for (const u of sw?.ports ?? []) {
    const p = nbv.switchPorts.get(u);
    if (p?.type !== 'router') continue;
    const lrp = nbv.routerPortByName(p.options.get('router-port') ?? '');
    if (lrp !== undefined) out.push(lrp._uuid);
  }
  return out;
}

/** Columns of NB rows that northd writes and no flow depends on. */
const WRITE_BACK: Readonly<Record<string, ReadonlySet<string>>> = {
  Logical_Switch_Port: new Set(['up', 'tag']),
  NB_Global: new Set(['sb_cfg', 'sb_cfg_timestamp', 'hv_cfg', 'hv_cfg_timestamp', 'options']),
};

/** True when `c` only changed columns northd writes back (and options it derived itself). */
function isWriteBack(c: RowChange): boolean {
  const cols = WRITE_BACK[c.table];
  if (cols === undefined || c.old === null || c.new === null) return false;
  for (const [col, d] of Object.entries(c.new.cols)) {
    const o = c.old.cols[col];
    if (cols.has(col) || o === undefined || o === d) continue;
    if (JSON.stringify(o) !== JSON.stringify(d)) return false;
  }
  return true;
}

/** Marks what `changes` dirty in `cache` (see FlowUnits). */
function markDirty(nbv: NbView, changes: readonly RowChange[], cache: FlowUnits): void {
  if (cache.dirty === 'all') return;
  const dirty = cache.dirty;
  const touch = (ls: Uuid | undefined): void => {
    if (ls === undefined) return;
    dirty.add(ls);
    for (const p of attachedRouterPorts(nbv, ls)) cache.dirtyRouterPorts.add(p);
  };
  for (const c of changes) {
    if (isWriteBack(c) && c.table !== 'NB_Global') continue;
    if (c.table === 'Logical_Switch_Port') touch(nbv.switchOfPort(c.uuid)?._uuid);
    else if (c.table === 'Logical_Switch') touch(c.uuid);
    else if (c.table === 'NB_Global') {
      // nb_cfg bumps and status columns change no flow; options might.
      const o = c.old?.cols['options'];
      const n = c.new?.cols['options'];
      if (o === undefined || n === undefined || JSON.stringify(o) !== JSON.stringify(n)) cache.dirty = 'all';
    } else {
      cache.dirty = 'all';
    }
    if (cache.dirty === 'all') return;
  }
}

export function createNorthd(opts: NorthdOptions): Northd {
  return new Northd(opts);
}
