/**
 * Results derived from a logical flow's text alone (its parsed actions, the
 * conjunctions its match expands to), kept between passes by text: a flow
 * translated again because a fact it reads changed (a port bound here, a
 * datapath now local), or another flow with the same text (northd writes
 * `nd || nd_rs || nd_ra || mldv1 || mldv2` into several tables), skips the
 * parser and the expansion, which are most of a translation. Only what does
 * not depend on the SB or the chassis may be kept here.
 */
export class TextMemo<V> {
  private readonly values = new Map<string, V>();
  /** Texts asked for since the last {@link prune}. */
  private used = new Set<string>();
  /** Lookups answered from memory / computed (for tests and stats). */
  readonly stats = { hits: 0, misses: 0 };

  /** The value for `text`, made (and kept) on first use; a `make` that throws keeps nothing. */
  get(text: string, make: () => V): V {
    this.used.add(text);
    const had = this.values.get(text);
    if (had !== undefined) {
      this.stats.hits++;
      return had;
    }
    this.stats.misses++;
    const v = make();
    this.values.set(text, v);
    return v;
  }

  get size(): number {
    return this.values.size;
  }

  /** Once more than `limit` texts are kept, forgets those not asked for since the last prune. */
  prune(limit: number): void {
    if (this.values.size > limit) for (const t of [...this.values.keys()]) if (!this.used.has(t)) this.values.delete(t);
    this.used = new Set();
  }
}
