/**
 * Whether a pass' flow inputs differ from those of the last pass whose flows
 * were installed, so that a pass woken by something the flows do not read
 * (the echo of the controller's own writes: a port's `up` or claim, its
 * interface's `ovn-installed`, the `nb_cfg` reports, the ct zones stored on
 * the bridge) skips the flow computation and the switch altogether, as
 * ovn-controller's engine runs no handler when no input of it changed.
 *
 * The inputs are the chassis facts (everything local, compared whole) and the
 * SB rows the flow computation reads. SB changes are judged per row as the
 * replica reports them: every change counts except those of columns no flow
 * depends on — Chassis_Private rows, SB_Global `nb_cfg`, Port_Binding `up`,
 * and the `chassis` of a port this chassis binds itself set to this chassis
 * (such a port's flows come from its local binding, whoever the SB names).
 */
import type { RowChange } from '../ovsdb/client/replica.js';
import { datumEquals } from '../ovsdb/datum.js';

/** What of a pass' facts (controller.ts `ChassisFacts`) tells this chassis' own claims. */
export interface OwnPorts {
  readonly chassisUuid: string;
  readonly bindings: {
    readonly vifs: ReadonlyMap<string, unknown>;
    readonly containers: ReadonlyMap<string, unknown>;
    readonly l3gateways: ReadonlyMap<string, unknown>;
  };
}

/** Columns whose changes no flow reads, by SB table (`*`: the whole table). */
const IGNORED: Readonly<Record<string, ReadonlySet<string>>> = {
  Chassis_Private: new Set(['*']),
  SB_Global: new Set(['nb_cfg', 'nb_cfg_timestamp']),
  Port_Binding: new Set(['up']),
};

/** A stamp of one pass' flow inputs (see {@link FlowInputs}). */
export interface FlowInputStamp {
  readonly sbGeneration: number;
  readonly facts: string;
}

const byFirst = (a: [unknown, unknown], b: [unknown, unknown]): number => {
  const x = String(a[0]);
  const y = String(b[0]);
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * The facts as one comparable string. Maps and sets are sorted: their order
 * follows the order rows were found or zones stored in, which the flows do
 * not depend on.
 */
export function factsKey(facts: object): string {
  return JSON.stringify(facts, (k, v: unknown) => {
    if (k === 'recompute' || k === 'sameInputs') return undefined;
    if (v instanceof Map) return [...(v as Map<unknown, unknown>)].sort(byFirst);
    if (v instanceof Set) return [...(v as Set<unknown>)].map(String).sort();
    return v;
  });
}

/** The columns of `c` whose values differ (every column for an insert or delete). */
function changedColumns(c: RowChange): string[] | undefined {
  if (c.old === null || c.new === null) return undefined;
  const out: string[] = [];
  for (const [col, d] of Object.entries(c.new.cols)) {
    const was = c.old.cols[col];
    if (was === undefined || !datumEquals(was, d)) out.push(col);
  }
  return out;
}

export class FlowInputs {
  /** Counts the SB changes that can change flows. */
  private sbGeneration = 0;
  private installed: FlowInputStamp | undefined;

  /**
   * Notes one batch of SB row changes. `facts`: the last pass' facts (its
   * chassis and the ports it binds), whose own claims do not count.
   */
  sbChanged(changes: readonly RowChange[], facts: OwnPorts | undefined): void {
    if (changes.some((c) => this.matters(c, facts))) this.sbGeneration++;
  }

  /** Forgets what was installed: the next pass computes (a new SB connection, a failed install). */
  invalidate(): void {
    this.installed = undefined;
    this.sbGeneration++;
  }

  /** The stamp of a pass about to compute with `facts` (taken before it reads the SB). */
  stamp(facts: object): FlowInputStamp {
    return { sbGeneration: this.sbGeneration, facts: factsKey(facts) };
  }

  /** True when `s` equals the stamp of the last installed pass. */
  unchanged(s: FlowInputStamp): boolean {
    const i = this.installed;
    return i !== undefined && i.sbGeneration === s.sbGeneration && i.facts === s.facts;
  }

  /** Records that the flows for `s` are installed. */
  wasInstalled(s: FlowInputStamp): void {
    this.installed = s;
  }

  private matters(c: RowChange, facts: OwnPorts | undefined): boolean {
    const ignored = IGNORED[c.table];
    if (ignored?.has('*') === true) return false;
    const cols = changedColumns(c);
    if (cols === undefined) return true;
    return cols.some((col) => {
      if (ignored?.has(col) === true) return false;
      if (c.table === 'Port_Binding' && col === 'chassis' && facts !== undefined) return !ownClaim(c, facts);
      return true;
    });
  }
}

/** A port this chassis binds (VIF, container, l3gateway) now naming this chassis. */
function ownClaim(c: RowChange, facts: OwnPorts): boolean {
  const now = c.new;
  if (now === null || now.optional('chassis') !== facts.chassisUuid) return false;
  const name = String(now.optional('logical_port') ?? '');
  const b = facts.bindings;
  return b.vifs.has(name) || b.containers.has(name) || b.l3gateways.has(name);
}
