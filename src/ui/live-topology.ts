/**
 * The live side of the page: OVSDB monitors on the NB and the SB (the
 * project's client, as northd and ipam use it), the {@link Topology} rebuilt
 * from the replicas after changes and handed to subscribers — at most one
 * update per `minIntervalMs` (a burst of changes becomes one update, sent at
 * most `minIntervalMs` after its first change) — and a trace snapshot of the
 * SB replica on demand.
 */
import { OvsdbClient, type Row } from '../ovsdb/client.js';
import { rowToModel } from '../ovsdb/client/model-rows.js';
import type { SslOptions } from '../ovsdb/remote.js';
import { snapshotFromClient, TRACE_SB_TABLES, type SbSnapshot } from '../trace/index.js';
import { buildTopology, TOPOLOGY_NB_TABLES, TOPOLOGY_SB_TABLES, type Topology } from './topology.js';

export interface LiveTopologyOptions {
  readonly nbRemote: string;
  readonly sbRemote: string;
  readonly ssl?: SslOptions;
  /** Smallest gap between two updates (ms). Default 100: at most ten updates a second. */
  readonly minIntervalMs?: number;
  readonly log?: (msg: string) => void;
}

export interface LiveTopology {
  /** Connects to both databases and waits for their first snapshots. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The topology as of the replicas now. */
  current(): Topology;
  /** Calls `fn` with every coalesced update that changes the topology (and its JSON text); returns the unsubscribe function. */
  subscribe(fn: (t: Topology, seq: number, json: string) => void): () => void;
  /** The number of the last update sent (0 before any). */
  readonly seq: number;
  /** The SB rows a trace reads, from the replica. */
  traceSnapshot(): SbSnapshot;
}

/** The union of two table → columns selections. */
function mergeTables(a: Record<string, readonly string[]>, b: Record<string, readonly string[]>): Record<string, readonly string[]> {
  const out: Record<string, readonly string[]> = { ...a };
  for (const [t, cols] of Object.entries(b)) out[t] = [...new Set([...(out[t] ?? []), ...cols])];
  return out;
}

export function createLiveTopology(opts: LiveTopologyOptions): LiveTopology {
  const log = opts.log ?? ((): void => undefined);
  const ssl = opts.ssl === undefined ? {} : { ssl: opts.ssl };
  const nb = new OvsdbClient({
    remotes: opts.nbRemote,
    database: 'OVN_Northbound',
    tables: TOPOLOGY_NB_TABLES,
    probeIntervalMs: 5000,
    log,
    ...ssl,
  });
  const sb = new OvsdbClient({
    remotes: opts.sbRemote,
    database: 'OVN_Southbound',
    tables: mergeTables(TOPOLOGY_SB_TABLES, TRACE_SB_TABLES),
    probeIntervalMs: 5000,
    log,
    ...ssl,
  });
  const minInterval = opts.minIntervalMs ?? 100;
  const subscribers = new Set<(t: Topology, seq: number, json: string) => void>();
  let lastJson = '';
  let seq = 0;
  let lastSent = 0;
  let timer: NodeJS.Timeout | undefined;
  let started = false;

  const models = <T extends { _uuid: string }>(client: OvsdbClient, table: string): T[] => {
    const schema = client.schema.tables.get(table);
    if (schema === undefined) return [];
    return [...client.table(table).values()].map((r: Row) => rowToModel<T>(r, schema));
  };
  const current = (): Topology =>
    buildTopology(
      {
        switches: models(nb, 'Logical_Switch'),
        switchPorts: models(nb, 'Logical_Switch_Port'),
        routers: models(nb, 'Logical_Router'),
        routerPorts: models(nb, 'Logical_Router_Port'),
        dhcpOptions: models(nb, 'DHCP_Options'),
      },
      { chassis: models(sb, 'Chassis'), bindings: models(sb, 'Port_Binding') },
    );
  const publish = (): void => {
    timer = undefined;
    lastSent = Date.now();
    const t = current();
    // Most SB changes after an NB change (northd's bindings, tunnel keys) leave the drawing as it was.
    const json = JSON.stringify(t);
    if (json === lastJson) return;
    lastJson = json;
    seq++;
    for (const fn of subscribers) fn(t, seq, json);
  };
  // The first change of a quiet spell goes out at once; later ones wait out the interval and go together.
  const changed = (): void => {
    if (!started || timer !== undefined) return;
    timer = setTimeout(publish, Math.max(0, lastSent + minInterval - Date.now()));
  };
  // A change that touches only flows or other trace-only tables does not move the drawing.
  const sbTopologyTables = new Set(Object.keys(TOPOLOGY_SB_TABLES));
  nb.on('change', changed);
  sb.on('change', (changes) => {
    if (changes.some((c) => sbTopologyTables.has(c.table))) changed();
  });

  return {
    async start() {
      await Promise.all([nb.start(), sb.start()]);
      lastJson = JSON.stringify(current());
      started = true;
    },
    async stop() {
      started = false;
      clearTimeout(timer);
      timer = undefined;
      subscribers.clear();
      await Promise.all([nb.stop(), sb.stop()]);
    },
    current,
    subscribe(fn) {
      subscribers.add(fn);
      return () => void subscribers.delete(fn);
    },
    get seq() {
      return seq;
    },
    traceSnapshot: () => snapshotFromClient(sb),
  };
}
