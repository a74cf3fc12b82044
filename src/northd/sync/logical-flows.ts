/**
 * The SB Logical_Flow table kept equal to the flows northd builds, at a cost
 * proportional to what changed. A flow that several datapaths share (every
 * switch has the same table defaults) is one row with a Logical_DP_Group, as
 * OVN writes it, so a flow's row depends on which datapaths have it: each flow
 * body counts the units (flow-units.ts) that provide it per datapath, and only
 * bodies whose datapaths changed get a new row.
 *
 * The SB side is an index from row identity (the flow and its datapath or
 * group) to row, kept current from the SB's change events. Nothing but
 * `external_ids` lies outside that identity, so a row found under a wanted key
 * needs no further check. The index is rebuilt from the whole table — with
 * every row compared — after a (re)connection and whenever datapaths or groups
 * change under it.
 */
import { createHash } from 'node:crypto';
import type { OvsdbClient, Row, RowChange, Txn } from '../../ovsdb/client.js';
import type { Uuid } from '../nb-view.js';
import { bodyKey, flowBody, flowKey, type LogicalFlowSpec, type UnitChange } from './flow-units.js';
import { map, ref, set, str } from './rows.js';

interface BodyState {
  readonly body: string;
  /** The flow as the latest unit providing it built it (its hint goes in the row). */
  spec: LogicalFlowSpec;
  /** Datapath → how many units provide this body on it. */
  readonly dps: Map<Uuid, number>;
  /** The key of its row as last written, or undefined. */
  key: string | undefined;
}

/** Where the datapaths are in the SB, for this pass. */
export interface DatapathRefs {
  /** NB switch/router → its Datapath_Binding UUID, or its uuid-name when inserted in this transaction. */
  readonly sbOf: ReadonlyMap<Uuid, string>;
  /** Datapath_Binding UUID → NB switch/router. */
  readonly nbOf: ReadonlyMap<string, Uuid>;
}

export class LogicalFlowSync {
  private readonly bodies = new Map<string, BodyState>();
  private readonly bodyOfSpec = new WeakMap<LogicalFlowSpec, string>();
  private readonly desired = new Map<string, BodyState>();
  /** Bodies touched since the last sync: datapath → whether it had the body before. */
  private readonly touched = new Map<string, Map<Uuid, boolean>>();
  private readonly hintChanged = new Set<string>();
  /** Desired keys that changed since the last sync. */
  private readonly changedKeys = new Set<string>();
  private readonly groupKeyOfRow = new WeakMap<Row, string>();

  private readonly keyOfRow = new Map<string, string>();
  private readonly rowOfKey = new Map<string, string>();
  private readonly pending = new Set<string>();
  private stale = true;
  /** Rows inserted by the last transaction (uuid-name → key), then by UUID once committed: indexed without reading them. */
  private inserted: Array<[string, string]> = [];
  private readonly trusted = new Map<string, string>();
  /** What the last transaction changed, to tell when the replica shows it. */
  private lastInserted: string | undefined;
  private readonly lastDeleted: string[] = [];
  /** Rows the last transaction deleted or updated: their change events are this northd's own. */
  private readonly written = new Set<string>();

  /** Folds rebuilt units into the per-body datapath counts. */
  apply(changes: ReadonlyMap<string, UnitChange>): void {
    for (const ch of changes.values()) {
      for (const f of ch.old?.flows ?? []) this.count(f, -1);
      for (const f of ch.new?.flows ?? []) this.count(f, 1);
    }
  }

  private count(f: LogicalFlowSpec, delta: 1 | -1): void {
    let body = this.bodyOfSpec.get(f);
    if (body === undefined) this.bodyOfSpec.set(f, (body = flowBody(f)));
    let st = this.bodies.get(body);
    if (st === undefined) {
      if (delta < 0) return;
      this.bodies.set(body, (st = { body, spec: f, dps: new Map(), key: undefined }));
    }
    const n = st.dps.get(f.datapath) ?? 0;
    let t = this.touched.get(body);
    if (t === undefined) this.touched.set(body, (t = new Map<Uuid, boolean>()));
    if (!t.has(f.datapath)) t.set(f.datapath, n > 0);
    if (n + delta > 0) st.dps.set(f.datapath, n + delta);
    else st.dps.delete(f.datapath);
    if (delta > 0 && st.spec !== f) {
      // The same body is the same stage; only the hint can differ.
      if (st.spec.hint !== f.hint) this.hintChanged.add(body);
      st.spec = f;
    }
  }

  /** Notes SB changes: Logical_Flow rows to re-index; datapath or group changes invalidate the index. */
  onSbChange(changes: readonly RowChange[]): void {
    for (const c of changes) {
      if (c.table === 'Logical_Flow') this.pending.add(c.uuid);
      else if (c.table === 'Datapath_Binding' && c.old !== null) this.stale = true;
      else if (c.table === 'Logical_DP_Group' && c.old !== null && c.new !== null) this.stale = true;
    }
  }

  /** True when a change to this Logical_Flow row is one the last transaction made (no pass needed to check it). */
  wrote(uuid: string): boolean {
    return this.written.has(uuid);
  }

  /** The desired flows, for `debug/recompute-check`: one key per flow and datapath. */
  flowKeys(): Set<string> {
    const out = new Set<string>();
    for (const st of this.bodies.values()) {
      const f = st.spec;
      for (const dp of st.dps.keys()) out.add(flowKey(dp, f.stage.pipeline, f.stage.table, f.priority, f.match, f.actions));
    }
    return out;
  }

  /** A datapath group's name in keys: a digest of its sorted datapaths, so keys stay short (a group can hold thousands). */
  private groupName(sorted: readonly Uuid[]): string {
    return `g${createHash('sha1').update(sorted.join(',')).digest('base64')}`;
  }

  private keyOf(st: BodyState): string | undefined {
    if (st.dps.size === 0) return undefined;
    if (st.dps.size === 1) return `${st.dps.keys().next().value as string}${st.body}`;
    return `${this.groupName([...st.dps.keys()].sort())}${st.body}`;
  }

  /** Turns the touched bodies into changed desired keys. */
  private resolve(): void {
    for (const [body, before] of this.touched) {
      const st = this.bodies.get(body);
      if (st === undefined) continue;
      let moved = st.key === undefined;
      for (const [dp, had] of before) if (st.dps.has(dp) !== had) moved = true;
      if (moved) {
        const key = this.keyOf(st);
        if (st.key !== key) {
          if (st.key !== undefined) {
            this.desired.delete(st.key);
            this.changedKeys.add(st.key);
          }
          if (key !== undefined) {
            this.desired.set(key, st);
            this.changedKeys.add(key);
          }
          st.key = key;
        }
      } else if (this.hintChanged.has(body) && st.key !== undefined) {
        this.changedKeys.add(st.key);
      }
      if (st.dps.size === 0) this.bodies.delete(body);
    }
    this.touched.clear();
    this.hintChanged.clear();
  }

  private rowKey(row: Row, sb: OvsdbClient, dps: DatapathRefs): string {
    const kind = String(row.map('external_ids').get('stage-name') ?? '').startsWith('lr_') ? 'router' : 'switch';
    const body = bodyKey(
      str(row, 'pipeline'),
      Number(row.scalar('table_id')),
      Number(row.scalar('priority')),
      str(row, 'match'),
      str(row, 'actions'),
      kind,
    );
    const g = row.optional('logical_dp_group');
    if (g !== null) {
      const gr = sb.row('Logical_DP_Group', String(g));
      return gr === undefined ? `gone:${row.uuid}` : `${this.groupNameOfRow(gr, dps)}${body}`;
    }
    const dp = dps.nbOf.get(str(row, 'logical_datapath'));
    return dp === undefined ? `gone:${row.uuid}` : `${dp}${body}`;
  }

  private groupNameOfRow(gr: Row, dps: DatapathRefs): string {
    let k = this.groupKeyOfRow.get(gr);
    if (k === undefined) {
      const nbs = gr.set('datapaths').map((u) => dps.nbOf.get(String(u)) ?? `?${String(u)}`);
      k = this.groupName(nbs.sort());
      this.groupKeyOfRow.set(gr, k);
    }
    return k;
  }

  private externalIds(st: BodyState): Record<string, string> {
    const ids: Record<string, string> = { 'stage-name': st.spec.stage.name };
    if (st.dps.size === 1 && st.spec.hint !== undefined) ids['stage-hint'] = st.spec.hint.slice(0, 8);
    return ids;
  }

  private sameIds(row: Row, want: Record<string, string>): boolean {
    const have = row.map('external_ids');
    const keys = Object.keys(want);
    if (have.size !== keys.length) return false;
    for (const k of keys) if (have.get(k) !== want[k]) return false;
    return true;
  }

  /**
   * Adds to `txn` what brings the SB's Logical_Flow table to the desired flows:
   * only the changed keys, or the whole table when the index is stale.
   */
  sync(sb: OvsdbClient, txn: Txn, dps: DatapathRefs): void {
    this.resolve();
    this.lastInserted = undefined;
    this.lastDeleted.length = 0;
    this.written.clear();
    this.inserted = [];
    const groups = new Map<string, string>(); // group name → SB UUID or uuid-name
    for (const gr of sb.table('Logical_DP_Group').values()) groups.set(this.groupNameOfRow(gr, dps), gr.uuid);
    let gn = 0;
    const groupRef = (st: BodyState): string | undefined => {
      const sorted = [...st.dps.keys()].sort();
      const name = this.groupName(sorted);
      let id = groups.get(name);
      if (id === undefined) {
        const refs = sorted.map((d) => dps.sbOf.get(d));
        if (refs.some((r) => r === undefined)) return undefined;
        id = txn.insert('Logical_DP_Group', { datapaths: set(refs.map((r) => ref(r as string))) }, `dpg${gn++}`)[1];
        groups.set(name, id);
      }
      return id;
    };
    let fn = 0;
    const insert = (st: BodyState): void => {
      const f = st.spec;
      const cols: Record<string, unknown> = {
        pipeline: f.stage.pipeline,
        table_id: f.stage.table,
        priority: f.priority,
        match: f.match,
        actions: f.actions,
        external_ids: map(this.externalIds(st)),
      };
      if (st.dps.size === 1) {
        const dp = dps.sbOf.get(st.dps.keys().next().value as string);
        if (dp === undefined) return;
        Object.assign(cols, { logical_datapath: ref(dp), logical_dp_group: set([]) });
      } else {
        const g = groupRef(st);
        if (g === undefined) return;
        Object.assign(cols, { logical_dp_group: ref(g), logical_datapath: set([]) });
      }
      this.lastInserted = txn.insert('Logical_Flow', cols, `lf${fn++}`)[1];
      if (st.key !== undefined) this.inserted.push([this.lastInserted, st.key]);
    };
    const remove = (uuid: string): void => {
      txn.delete('Logical_Flow', uuid);
      this.lastDeleted.push(uuid);
      this.written.add(uuid);
    };
    const check = (row: Row, st: BodyState): void => {
      const ids = this.externalIds(st);
      if (this.sameIds(row, ids)) return;
      txn.update('Logical_Flow', row.uuid, { external_ids: map(ids) });
      this.written.add(row.uuid);
    };

    if (this.stale) {
      this.keyOfRow.clear();
      this.rowOfKey.clear();
      for (const row of sb.table('Logical_Flow').values()) {
        const key = this.rowKey(row, sb, dps);
        this.keyOfRow.set(row.uuid, key);
        const st = this.desired.get(key);
        if (st === undefined || this.rowOfKey.has(key)) {
          remove(row.uuid);
          continue;
        }
        this.rowOfKey.set(key, row.uuid);
        check(row, st);
      }
      for (const [key, st] of this.desired) if (!this.rowOfKey.has(key)) insert(st);
      this.stale = false;
      this.pending.clear();
      this.changedKeys.clear();
      return;
    }

    // Rows that changed in the SB since the last pass: index them again.
    for (const uuid of this.pending) {
      const old = this.keyOfRow.get(uuid);
      if (old !== undefined) {
        this.keyOfRow.delete(uuid);
        if (this.rowOfKey.get(old) === uuid) this.rowOfKey.delete(old);
        this.changedKeys.add(old);
      }
      const row = sb.row('Logical_Flow', uuid);
      const mine = this.trusted.get(uuid);
      this.trusted.delete(uuid);
      if (row === undefined) continue;
      if (mine !== undefined && this.rowOfKey.get(mine) === undefined) {
        // Inserted by this northd as desired then: no need to read it.
        this.keyOfRow.set(uuid, mine);
        this.rowOfKey.set(mine, uuid);
        if (this.desired.get(mine) === undefined) this.changedKeys.add(mine);
        continue;
      }
      const key = this.rowKey(row, sb, dps);
      this.keyOfRow.set(uuid, key);
      const other = this.rowOfKey.get(key);
      if (other !== undefined && other !== uuid && sb.row('Logical_Flow', other) !== undefined) {
        remove(uuid); // a second row for the same flow
        continue;
      }
      this.rowOfKey.set(key, uuid);
      this.changedKeys.add(key);
    }
    this.pending.clear();
    for (const key of this.changedKeys) {
      const st = this.desired.get(key);
      const uuid = this.rowOfKey.get(key);
      const row = uuid === undefined ? undefined : sb.row('Logical_Flow', uuid);
      if (st !== undefined && row === undefined) insert(st);
      else if (st === undefined && row !== undefined) remove(row.uuid);
      else if (st !== undefined && row !== undefined) check(row, st);
    }
    this.changedKeys.clear();
  }

  /** After the transaction committed: the inserted rows' UUIDs. */
  afterCommit(txn: Txn): void {
    for (const [name, key] of this.inserted) {
      const uuid = txn.insertedUuid(name);
      if (uuid !== undefined) this.trusted.set(uuid, key);
    }
    this.inserted = [];
  }

  /** After a failed transaction or a reconnection: compare the whole table next time. */
  forgetInserts(): void {
    this.inserted = [];
    this.trusted.clear();
    this.stale = true;
  }

  /**
   * After the transaction committed: true once the replica shows its
   * Logical_Flow changes (an SB update carries a whole transaction), so the
   * next pass starts from an index that includes them.
   */
  caughtUp(sb: OvsdbClient, txn: Txn): boolean {
    const ins = this.lastInserted === undefined ? undefined : txn.insertedUuid(this.lastInserted);
    if (ins !== undefined && sb.row('Logical_Flow', ins) === undefined) return false;
    const del = this.lastDeleted[0];
    return del === undefined || sb.row('Logical_Flow', del) === undefined;
  }
}
