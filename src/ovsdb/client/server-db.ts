/**
 * What a client needs to know about the server's copy of its database, from the
 * server's `_Server.Database` row (ovsdb-server(5) `_Server`, ovsdb(7)
 * "Clustered Database Service Model"): whether this member may be used.
 *
 * A clustered member is usable when it is connected to its cluster, is the
 * leader if the client writes only through the leader, and has a Raft `index`
 * no older than what the client has already seen (otherwise the client would
 * read a stale replica and move back in time). Standalone and relay servers
 * are always usable.
 */

/** The `_Server.Database` columns the client monitors. */
export const SERVER_DB_COLUMNS = ['name', 'model', 'connected', 'leader', 'index', 'cid', 'sid'] as const;

export interface ServerDbRow {
  readonly model: string;
  readonly connected: boolean;
  readonly leader: boolean;
  /** Raft log index of the member's data (clustered only). */
  readonly index: bigint | undefined;
  /** Cluster id (clustered only). */
  readonly cid: string | undefined;
}

/** The cluster position the client has seen so far; the IDL's `min_index`. */
export interface ClusterPosition {
  cid: string | undefined;
  minIndex: bigint;
}

function optionalAtom(v: unknown): unknown {
  // An empty optional column is `["set", []]`; a present one is the atom itself.
  if (Array.isArray(v) && v[0] === 'set') return (v[1] as unknown[] | undefined)?.[0];
  return v;
}

function uuidAtom(v: unknown): string | undefined {
  const a = optionalAtom(v);
  return Array.isArray(a) && a[0] === 'uuid' && typeof a[1] === 'string' ? a[1] : undefined;
}

/** Reads a `_Server.Database` row (select result, or monitor `initial`/`insert`). */
export function parseServerDbRow(row: Record<string, unknown>): ServerDbRow {
  const index = optionalAtom(row['index']);
  return {
    model: typeof row['model'] === 'string' ? row['model'] : 'standalone',
    connected: row['connected'] !== false,
    leader: row['leader'] !== false,
    index: typeof index === 'number' || typeof index === 'bigint' ? BigInt(index) : undefined,
    cid: uuidAtom(row['cid']),
  };
}

/**
 * Why the member cannot be used, in the IDL's words, or undefined when it can;
 * when it can, the position moves up to the member's index.
 */
export function unusableReason(db: ServerDbRow, pos: ClusterPosition, leaderOnly: boolean): string | undefined {
  if (db.model !== 'clustered') return undefined;
  if (db.cid !== undefined && pos.cid !== undefined && db.cid !== pos.cid) {
    // Another cluster (re-created or converted): what was seen of the old one means nothing.
    pos.minIndex = 0n;
  }
  if (!db.connected) return 'clustered database server is disconnected from cluster';
  if (leaderOnly && !db.leader) return 'clustered database server is not cluster leader';
  if (db.index !== undefined && db.index < pos.minIndex) return 'clustered database server has stale data';
  if (db.cid !== undefined) pos.cid = db.cid;
  if (db.index !== undefined) pos.minIndex = db.index;
  return undefined;
}
