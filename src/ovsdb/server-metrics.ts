/**
 * The OVSDB server's Prometheus metrics (`ovsdb-server --metrics`):
 * transactions by database and result with their latency (request received →
 * reply ready, durability included), connections accepted, and — read when
 * scraped — open connections and monitors by database.
 */
import { clockNow, counter, gauge, histogram, secondsSince, type MetricsScope } from '../lib/metrics.js';
import type { Counter, Histogram } from 'prom-client';

const RESULTS: readonly TransactionResult[] = ['committed', 'unchanged', 'failed', 'error'];

/**
 * How a transaction ended: `committed` (it changed rows), `unchanged` (it
 * succeeded and changed nothing: reads, no-op updates), `failed` (an
 * operation failed, so nothing was committed), `error` (the request itself
 * was refused: unknown database, malformed, canceled).
 */
export type TransactionResult = 'committed' | 'unchanged' | 'failed' | 'error';

/** What the gauges read from the server when scraped. */
export interface OvsdbServerState {
  connections(): number;
  /** Monitors open, by database name. */
  monitors(): ReadonlyMap<string, number>;
}

export class OvsdbServerMetrics {
  /**
   * Transactions since the last scrape, by database and result: plain numbers
   * on the hot path, added to the Prometheus counter when scraped.
   */
  private readonly pending = new Map<string, Record<TransactionResult, number>>();
  private readonly latency: Histogram;
  private readonly accepted: Counter;

  constructor(scope: MetricsScope, state: OvsdbServerState) {
    counter(scope, 'ovsdb_transactions_total', 'OVSDB "transact" requests answered, by database and result.', ['db', 'result'], (c) => {
      for (const [db, n] of this.pending) {
        for (const result of RESULTS) if (n[result] > 0) c.inc({ db, result }, n[result]);
        n.committed = n.unchanged = n.failed = n.error = 0;
      }
    });
    this.latency = histogram(
      scope,
      'ovsdb_transaction_duration_seconds',
      'Time from a "transact" request to its reply being ready (waits and durability included).',
    );
    this.accepted = counter(scope, 'ovsdb_connections_accepted_total', 'JSON-RPC connections accepted.');
    gauge(scope, 'ovsdb_connections', 'JSON-RPC connections open.', [], (g) => g.set(state.connections()));
    gauge(scope, 'ovsdb_monitors', 'Monitors (monitor, monitor_cond, monitor_cond_since) open, by database.', ['db'], (g) => {
      g.reset();
      for (const [db, n] of state.monitors()) g.set({ db }, n);
    });
  }

  connectionAccepted(): void {
    this.accepted.inc();
  }

  /** A start time for {@link transactionFinished}. */
  start(): number {
    return clockNow();
  }

  /** Counts one transaction when its reply goes out. */
  transactionFinished(db: string, t0: number, result: TransactionResult): void {
    this.record(db, t0, result);
  }

  /** A request refused before it ran. */
  transactionRefused(db: string, t0: number): void {
    this.record(db, t0, 'error');
  }

  private record(db: string, t0: number, result: TransactionResult): void {
    let n = this.pending.get(db);
    if (n === undefined) this.pending.set(db, (n = { committed: 0, unchanged: 0, failed: 0, error: 0 }));
    n[result]++;
    this.latency.observe(secondsSince(t0));
  }
}
