/**
 * northd's Prometheus metrics (`ovnts northd --metrics`): passes by result and
 * their time (NB read, SB computed and committed), SB operations written, and
 * — read when scraped — the logical flows in the SB by pipeline and whether
 * this instance is the active one.
 */
import { counter, gauge, histogram, secondsSince, type MetricsScope } from '../lib/metrics.js';
import type { Counter, Histogram } from 'prom-client';

/** What the gauges read from northd when scraped. */
export interface NorthdState {
  /** Logical_Flow rows in the SB replica, by pipeline (`ingress`, `egress`). */
  logicalFlows(): ReadonlyMap<string, number>;
  active(): boolean;
}

export class NorthdMetrics {
  private readonly passes: Counter<'result'>;
  private readonly passTime: Histogram;
  private readonly sbOps: Counter;

  constructor(scope: MetricsScope, state: NorthdState) {
    this.passes = counter(scope, 'northd_passes_total', 'NB to SB passes run, by result (ok, error).', ['result']);
    this.passTime = histogram(
      scope,
      'northd_pass_duration_seconds',
      'Time of a successful pass: NB read, SB computed, SB transaction committed.',
    );
    this.sbOps = counter(scope, 'northd_sb_operations_total', 'Operations northd wrote to the SB (inserts, updates, deletes).');
    gauge(scope, 'northd_logical_flows', 'Logical_Flow rows in the SB, by pipeline.', ['pipeline'], (g) => {
      g.reset();
      for (const [pipeline, n] of state.logicalFlows()) g.set({ pipeline }, n);
    });
    gauge(scope, 'northd_active', '1 when this northd holds the SB lock and writes the SB, 0 on standby.', [], (g) =>
      g.set(state.active() ? 1 : 0),
    );
  }

  /** A pass that committed `ops` SB operations; `t0` a clockNow() reading from its start. */
  passDone(t0: number, ops: number): void {
    this.passes.inc({ result: 'ok' });
    this.passTime.observe(secondsSince(t0));
    if (ops > 0) this.sbOps.inc(ops);
  }

  passFailed(): void {
    this.passes.inc({ result: 'error' });
  }
}
