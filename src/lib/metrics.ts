/**
 * Prometheus metrics of the ovnts daemons (`--metrics=ADDR:PORT`), through
 * prom-client: where a component registers its metrics (a {@link MetricsScope}
 * — the daemon's own registry and a name prefix, passed in, never global),
 * and the exposition server that answers `GET /metrics` in Prometheus's text
 * format (exposition format 0.0.4).
 *
 * Components create their metric objects once, at construction, and on hot
 * paths only increment them; sizes (flows, monitors, connections) are gauges
 * read when scraped, so they cost nothing between scrapes.
 */
import { createServer, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export { Registry };

/** Where a component's metrics go: `prefix + name` in `registry`. */
export interface MetricsScope {
  readonly registry: Registry;
  /** `ovnts_` for a daemon on its own; `ovnts_nb_` for the NB server inside `ovnts up`. */
  readonly prefix: string;
}

/** A fresh registry with the process's own metrics (CPU, memory, event loop lag: prom-client's defaults). */
export function createMetricsScope(prefix = 'ovnts_'): MetricsScope {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return { registry, prefix };
}

/** The same registry with `extra` added to the prefix: one component of several in a process. */
export function subScope(scope: MetricsScope, extra: string): MetricsScope {
  return { registry: scope.registry, prefix: `${scope.prefix}${extra}` };
}

/**
 * Latency buckets in seconds, 100 µs to 10 s: OVSDB transactions and flow
 * installs are sub-millisecond when idle and seconds under a large recompute.
 */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** prom-client's `collect` option (run before each scrape) calling `fn` with the metric; none without `fn`. */
function collectWith<M>(fn: ((m: M) => void) | undefined): { collect?: (this: M) => void } {
  return fn === undefined
    ? {}
    : {
        collect(this: M) {
          fn(this);
        },
      };
}

/**
 * A counter; with `flush`, what a hot path counted in plain numbers is added
 * when scraped (`flush` calls `c.inc(labels, n)` for what came since the last scrape).
 */
export function counter<L extends string>(
  scope: MetricsScope,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  flush?: (c: Counter<L>) => void,
): Counter<L> {
  return new Counter({ name: `${scope.prefix}${name}`, help, labelNames, registers: [scope.registry], ...collectWith(flush) });
}

/** A gauge; with `read`, its value(s) are read when scraped (nothing to keep up to date). */
export function gauge<L extends string>(
  scope: MetricsScope,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  read?: (g: Gauge<L>) => void,
): Gauge<L> {
  return new Gauge({ name: `${scope.prefix}${name}`, help, labelNames, registers: [scope.registry], ...collectWith(read) });
}

export function histogram<L extends string>(
  scope: MetricsScope,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  buckets: readonly number[] = LATENCY_BUCKETS,
): Histogram<L> {
  return new Histogram({ name: `${scope.prefix}${name}`, help, labelNames, buckets: [...buckets], registers: [scope.registry] });
}

/** A monotonic clock reading, for {@link secondsSince}. */
export function clockNow(): number {
  return performance.now();
}

/** Seconds elapsed since a {@link clockNow} reading. */
export function secondsSince(t0: number): number {
  return (performance.now() - t0) / 1000;
}

export interface MetricsAddress {
  readonly host: string;
  readonly port: number;
}

/** `ADDR:PORT` or `[IPV6]:PORT`; port 0 takes a free one. Throws a one-line message. */
export function parseMetricsAddress(text: string): MetricsAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port > 65535) throw new Error(`--metrics=${text}: bad address (expected ADDR:PORT)`);
  return { host: (m[1] ?? m[2]) as string, port };
}

export interface MetricsServer {
  /** The bound port (the free one chosen for port 0). */
  readonly port: number;
  /** `http://ADDR:PORT/metrics`. */
  readonly url: string;
  stop(): Promise<void>;
}

/** Serves `registry` at `GET /metrics` on `addr` (HEAD too; 404 elsewhere, 405 for other methods). */
export async function startMetricsServer(registry: Registry, addr: MetricsAddress): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not Found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('Method Not Allowed\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': registry.contentType, 'Content-Length': Buffer.byteLength(text) });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (e: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${(e as Error).message}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address();
  const port = a !== null && typeof a !== 'string' ? a.port : addr.port;
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  return {
    port,
    url: `http://${host}:${port}/metrics`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
