/**
 * The NB database as the IPAM service's only store: a replica of the tables
 * ML2/OVN writes (kept by the OVSDB client), indexes by name over it, and
 * transactions that are retried on conflict.
 *
 * Every write is built from the replica and guarded by `wait` operations on
 * what it read (see {@link NbStore.write}); when another writer got in first
 * the commit fails with "timed out", and the write is rebuilt from the newer
 * replica. That is what keeps two `ovnts ipam` on one NB from handing out one
 * address or MAC twice.
 */
import { NotConnectedError, OvsdbClient, isTryAgain, type Row, type RowChange, type Txn } from '../ovsdb/client.js';

export const NB_TABLES = {
  Logical_Switch: ['name', 'ports', 'external_ids', 'other_config'],
  Logical_Switch_Port: true,
  DHCP_Options: true,
  Logical_Router: ['name', 'ports', 'external_ids', 'enabled', 'options'],
  Logical_Router_Port: true,
} as const;

/** The tables indexed by their `name` column. */
const NAMED = ['Logical_Switch', 'Logical_Switch_Port', 'Logical_Router', 'Logical_Router_Port'] as const;
type NamedTable = (typeof NAMED)[number];

export interface NbStoreOptions {
  /** Comma-separated NB remotes (`unix:...`, `tcp:...`). */
  readonly remotes: string;
  readonly log: (msg: string) => void;
  /** Rebuilds of one write before it gives up (default 20, several seconds with the backoff). */
  readonly maxAttempts?: number;
}

export class NbStore {
  readonly client: OvsdbClient;
  private readonly byName = new Map<NamedTable, Map<string, Row>>(NAMED.map((t) => [t, new Map()]));
  /** LSP rows by their parent_name. */
  private readonly children = new Map<string, Map<string, Row>>();
  private readonly maxAttempts: number;
  /** The last queued write: this process's writes go one at a time, so they never conflict with each other. */
  private writes: Promise<unknown> = Promise.resolve();
  /** Set by stop(): a write waiting to be rebuilt gives up rather than retry against a client that will not reconnect. */
  private stopped = false;

  constructor(opts: NbStoreOptions) {
    this.client = new OvsdbClient({
      remotes: opts.remotes,
      database: 'OVN_Northbound',
      tables: NB_TABLES,
      log: opts.log,
      probeIntervalMs: 5000,
    });
    this.client.on('change', (changes) => this.index(changes));
    this.maxAttempts = opts.maxAttempts ?? 20;
  }

  start(): Promise<void> {
    return this.client.start();
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.client.stop();
  }

  private index(changes: readonly RowChange[]): void {
    for (const c of changes) {
      const t = c.table as NamedTable;
      const names = this.byName.get(t);
      if (names === undefined) continue;
      if (c.old !== null) {
        const n = c.old.optional('name') as string | null;
        if (n !== null && names.get(n)?.uuid === c.uuid) names.delete(n);
        if (t === 'Logical_Switch_Port') this.children.get(String(c.old.optional('parent_name')))?.delete(c.uuid);
      }
      if (c.new !== null) {
        names.set(c.new.optional('name') as string, c.new);
        if (t === 'Logical_Switch_Port') {
          const p = c.new.optional('parent_name') as string | null;
          if (p !== null) {
            const m = this.children.get(p) ?? new Map<string, Row>();
            m.set(c.uuid, c.new);
            this.children.set(p, m);
          }
        }
      }
    }
  }

  named(table: NamedTable, name: string): Row | undefined {
    return this.byName.get(table)?.get(name);
  }

  rows(table: keyof typeof NB_TABLES): ReadonlyMap<string, Row> {
    return this.client.table(table);
  }

  row(table: keyof typeof NB_TABLES, uuid: string): Row | undefined {
    return this.client.row(table, uuid);
  }

  /** The LSPs whose parent_name is `parent`. */
  childrenOf(parent: string): Row[] {
    return [...(this.children.get(parent)?.values() ?? [])];
  }

  /**
   * Runs `build` on the current replica and commits what it wrote; on a
   * conflict (a `wait`/verify that failed, a lost connection) waits for the
   * replica to move and builds again. `build` throws NeutronErrors for
   * refused requests (nothing is written then). Resolves with `build`'s
   * result once the replica shows the commit's effects (`synced`). Writes of
   * one process are queued; conflicts come only from other writers.
   */
  write<T>(build: (txn: Txn) => { result: T; synced?: () => boolean }): Promise<T> {
    const run = this.writes.then(
      () => this.attempt(build),
      () => this.attempt(build),
    );
    this.writes = run.catch(() => undefined);
    return run;
  }

  private async attempt<T>(build: (txn: Txn) => { result: T; synced?: () => boolean }): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const txn = this.client.txn();
      const { result, synced } = build(txn);
      if (txn.size === 0) return result;
      try {
        await txn.commit();
      } catch (e) {
        // Stopping: the caller answers "unavailable" (503) rather than wait for a retry that cannot come.
        if (this.stopped && isTryAgain(e)) throw new NotConnectedError('the service is stopping');
        if (!isTryAgain(e) || attempt >= this.maxAttempts) throw e;
        await this.nextChange(50 + Math.floor(Math.random() * 50 * Math.min(attempt, 10)));
        continue;
      }
      if (synced !== undefined) await this.client.waitUntil(synced, 10000).catch(() => {});
      return result;
    }
  }

  /** Resolves at the replica's next change or after `ms`, whichever comes first. */
  private nextChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.client.off('change', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.client.once('change', done);
    });
  }
}

// ---- column helpers ----

/** A map column's value as a plain object of strings. */
export function extIds(row: Row, col = 'external_ids'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of row.map(col)) out[String(k)] = String(v);
  return out;
}

/** RFC 7047 `["map", ...]` of a string map. */
export function ovsMap(m: Readonly<Record<string, string>>): unknown {
  return ['map', Object.entries(m).map(([k, v]) => [k, v])];
}

/** RFC 7047 `["set", ...]`. */
export function ovsSet(items: readonly unknown[]): unknown {
  return ['set', [...items]];
}

export function uuidRef(uuid: string): unknown {
  return ['uuid', uuid];
}

/** Reads a JSON document kept in an external_ids key, or undefined. */
export function jsonKey<T>(ids: Readonly<Record<string, string>>, key: string): T | undefined {
  const s = ids[key];
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s) as T;
  } catch {
    return undefined;
  }
}

/** A `wait` that the row's columns are still what the replica shows (the IDL's verify). */
export function guard(txn: Txn, table: string, uuid: string, columns: readonly string[]): void {
  txn.verify(table, uuid, columns);
}

/** Neutron's timestamp format: `2026-12-06T23:19:14Z`. */
export function timestamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}
