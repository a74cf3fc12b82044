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

/**
 * A stamp of one pass' flow inputs (see {@link FlowInputs}): the facts
 * themselves, which a pass builds afresh and nothing changes afterwards.
 */
export interface FlowInputStamp {
  readonly sbGeneration: number;
  readonly facts: object;
}

/** Keys of the facts that say how to compute, not what from. */
const NOT_INPUTS: ReadonlySet<string> = new Set(['recompute', 'sameInputs']);

/**
 * Whether two passes' facts are the same data: maps and sets whatever their
 * order (it follows the order rows were found or zones stored in, which the
 * flows do not depend on), arrays element by element, objects key by key (a
 * key set to undefined counts as absent), numbers, strings and booleans by
 * value. Compared in place, without serialising either: a pass compares its
 * facts with those of the last installed pass.
 */
export function sameFacts(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !sameFacts(v, b.get(k))) return false;
    return true;
  }
  if (a instanceof Set) {
    if (!(b instanceof Set) || a.size !== b.size) return false;
    for (const v of a) if (!b.has(v)) return false;
    return true;
  }
  if (b instanceof Map || b instanceof Set) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameFacts(x, b[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k in x) if (!NOT_INPUTS.has(k) && !sameFacts(x[k], y[k])) return false;
  for (const k in y) if (!NOT_INPUTS.has(k) && !(k in x) && y[k] !== undefined) return false;
  return true;
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

  /** The stamp of a pass about to compute with `facts` (taken before it reads the SB; `facts` must not change afterwards). */
  stamp(facts: object): FlowInputStamp {
    return { sbGeneration: this.sbGeneration, facts };
  }

  /** True when `s` equals the stamp of the last installed pass. */
  unchanged(s: FlowInputStamp): boolean {
    const i = this.installed;
    return i !== undefined && i.sbGeneration === s.sbGeneration && sameFacts(i.facts, s.facts);
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
