/**
 * ofctrl: keeps the integration bridge's OpenFlow table equal to the desired
 * one (ovn-controller(8); DESIGN.md "Desired state, then reconcile").
 *
 * It remembers what is installed; each `install(desired)` computes the
 * difference and sends it in one atomic bundle (OpenFlow 1.5 bundles: all or
 * nothing), then a barrier, so that when `install` resolves OVS forwards with
 * the new table. After a (re)connection — ovs-vswitchd restarted, or this
 * controller restarted — it reads the flows OVS has (flow stats) and
 * reconciles against them instead of flushing first, so traffic keeps
 * flowing on flows that stay the same.
 *
 * Flows are compared by identity (table, priority, match) and content
 * (actions, cookie, timeouts, flags) through functions the switch link
 * supplies, so ofctrl itself is independent of the flow model's details.
 */

/** A flow's identity and content as comparable strings. */
export interface FlowKeys<F> {
  /** Table, priority and match: two flows with the same identity replace each other in OVS. */
  identity(f: F): string;
  /** Everything else that must match for a flow to count as installed. */
  content(f: F): string;
  /**
   * Optional shortcut for two flows of one identity that the flow computation
   * built (neither read back from the switch): whether their content is the
   * same, without deriving {@link content}. It may answer false for contents
   * that would compare equal (the flow is then replaced by an equal one), never
   * true for different ones.
   */
  sameBuilt?(a: F, b: F): boolean;
}

/** The changes one install sends. */
export interface FlowDiff<F> {
  /** Delete every flow first, in the same bundle: the installed table could not be read. */
  readonly flush?: boolean;
  readonly add: readonly F[];
  /** Same identity, other content: replaced in place (OFPFC_ADD over it, atomically in the bundle). */
  readonly modify: readonly F[];
  readonly remove: readonly F[];
}

/** What ofctrl needs from the OpenFlow connection. */
export interface SwitchLink<F> extends FlowKeys<F> {
  readonly connected: boolean;
  /**
   * Every flow in every table (multipart flow stats); undefined when the
   * switch holds flows this link cannot read (another controller's, a newer
   * version's): the next bundle then replaces the whole table.
   */
  dumpFlows(): Promise<F[] | undefined>;
  /** Sends the changes in one atomic bundle; rejects with nothing applied when OVS refuses any. */
  commitBundle(diff: FlowDiff<F>): Promise<void>;
  barrier(): Promise<void>;
}

/** Indexes flows by identity; on duplicates the first wins and the rest are reported. */
export function indexFlows<F>(flows: Iterable<F>, keys: FlowKeys<F>, onDuplicate?: (kept: F, dropped: F) => void): Map<string, F> {
  const m = new Map<string, F>();
  for (const f of flows) {
    const id = keys.identity(f);
    const had = m.get(id);
    if (had === undefined) m.set(id, f);
    else if (keys.content(had) !== keys.content(f)) onDuplicate?.(had, f);
  }
  return m;
}

/**
 * The changes that turn `installed` into `desired` (pure). `readBack`: the
 * flows read from the switch, which compare by {@link FlowKeys.content} only;
 * without it every flow does.
 */
export function diffFlows<F>(
  installed: ReadonlyMap<string, F>,
  desired: ReadonlyMap<string, F>,
  keys: FlowKeys<F>,
  readBack?: { has(f: F): boolean },
): FlowDiff<F> {
  const add: F[] = [];
  const modify: F[] = [];
  const remove: F[] = [];
  const built = keys.sameBuilt;
  const differ = (a: F, b: F): boolean =>
    built !== undefined && readBack !== undefined && !readBack.has(a) && !readBack.has(b)
      ? !built(a, b)
      : keys.content(a) !== keys.content(b);
  for (const [id, f] of desired) {
    const cur = installed.get(id);
    if (cur === undefined) add.push(f);
    // The flow computation hands back the same object for an unchanged flow: nothing to compare.
    else if (cur !== f && differ(cur, f)) modify.push(f);
  }
  for (const [id, f] of installed) if (!desired.has(id)) remove.push(f);
  return { add, modify, remove };
}

export interface OfctrlOptions {
  /** Named logger. Default: silent. */
  readonly log?: (msg: string) => void;
}

/** What the last install that changed flows sent, and how long each step took (ms). */
export interface OfctrlInstallTimes {
  readonly added: number;
  readonly modified: number;
  readonly removed: number;
  /** Reading the installed table after a (re)connection; 0 when not needed. */
  readonly readMs: number;
  readonly bundleMs: number;
  readonly barrierMs: number;
}

/** Counters for status and tests. */
export interface OfctrlStats {
  bundles: number;
  flowsAdded: number;
  flowsModified: number;
  flowsRemoved: number;
  reconciles: number;
  failures: number;
}

/**
 * The link's keys, remembered per flow object: the flow computation hands
 * back the same objects for unchanged flows pass after pass, so each pass
 * costs a lookup per flow instead of re-deriving its keys.
 */
function memoKeys<F extends object>(keys: FlowKeys<F>): FlowKeys<F> {
  const ids = new WeakMap<F, string>();
  const contents = new WeakMap<F, string>();
  const memo = (m: WeakMap<F, string>, f: F, key: (f: F) => string): string => {
    let k = m.get(f);
    if (k === undefined) m.set(f, (k = key(f)));
    return k;
  };
  const sameBuilt = keys.sameBuilt;
  return {
    identity: (f) => memo(ids, f, (x) => keys.identity(x)),
    content: (f) => memo(contents, f, (x) => keys.content(x)),
    ...(sameBuilt === undefined ? {} : { sameBuilt: (a: F, b: F) => sameBuilt.call(keys, a, b) }),
  };
}

export class Ofctrl<F extends object> {
  private installed = new Map<string, F>();
  /** The flows read from the switch (the others are the computation's own). */
  private readBack = new WeakSet<F>();
  private readonly keys: FlowKeys<F>;
  /** True until the installed table has been read on the current connection. */
  private stale = true;
  /** The installed table is unknown: the next bundle deletes everything before adding. */
  private flush = false;
  private readonly log: (m: string) => void;
  readonly stats: OfctrlStats = { bundles: 0, flowsAdded: 0, flowsModified: 0, flowsRemoved: 0, reconciles: 0, failures: 0 };
  /** Set by each install that sent a bundle. */
  lastInstall: OfctrlInstallTimes | undefined;

  constructor(
    private readonly link: SwitchLink<F>,
    opts: OfctrlOptions = {},
  ) {
    this.log = opts.log ?? ((): void => undefined);
    this.keys = memoKeys(link);
  }

  /** Call when the connection (re)starts: the next install first reads what OVS has. */
  connectionReset(): void {
    this.stale = true;
  }

  /** The flows ofctrl believes are installed. */
  get installedFlows(): ReadonlyMap<string, F> {
    return this.installed;
  }

  /** True when the installed table is known (read or written on this connection) and the switch is connected. */
  get inSync(): boolean {
    return this.link.connected && !this.stale && !this.flush;
  }

  /**
   * Makes OVS's table equal to `desired`. Resolves true once OVS has applied it
   * (barrier), false when not connected. Rejects when OVS refused the bundle
   * (nothing changed; the next install re-reads the table).
   */
  async install(desired: Iterable<F>): Promise<boolean> {
    if (!this.link.connected) return false;
    const want = indexFlows(desired, this.keys, (kept, dropped) =>
      this.log(`duplicate flow with different actions ignored: kept ${this.keys.content(kept)}, dropped ${this.keys.content(dropped)}`),
    );
    const t0 = performance.now();
    if (this.stale) {
      const have = await this.link.dumpFlows();
      this.installed = indexFlows(have ?? [], this.keys);
      this.readBack = new WeakSet(have ?? []);
      this.flush = have === undefined;
      this.stale = false;
      this.stats.reconciles++;
      this.log(
        have === undefined
          ? 'installed flows not readable; replacing the whole table'
          : `read ${this.installed.size} installed flows; reconciling`,
      );
    }
    const t1 = performance.now();
    const diff = this.flush
      ? { ...diffFlows(new Map(), want, this.keys), flush: true }
      : diffFlows(this.installed, want, this.keys, this.readBack);
    const n = diff.add.length + diff.modify.length + diff.remove.length + (this.flush ? 1 : 0);
    if (n > 0) {
      try {
        await this.link.commitBundle(diff);
      } catch (e) {
        this.stats.failures++;
        this.stale = true;
        throw e;
      }
      this.stats.bundles++;
      this.stats.flowsAdded += diff.add.length;
      this.stats.flowsModified += diff.modify.length;
      this.stats.flowsRemoved += diff.remove.length;
      this.installed = want;
      this.flush = false;
    }
    // Nothing sent, nothing to wait for: an unchanged table costs no round trip.
    if (n === 0) return true;
    const t2 = performance.now();
    await this.link.barrier();
    const ms = (x: number): number => Math.round(x * 10) / 10;
    this.lastInstall = {
      added: diff.add.length,
      modified: diff.modify.length,
      removed: diff.remove.length,
      readMs: ms(t1 - t0),
      bundleMs: ms(t2 - t1),
      barrierMs: ms(performance.now() - t2),
    };
    return true;
  }
}
