/**
 * The OVSDB client component: connects to one of several remotes, keeps a replica
 * of the monitored tables, runs transactions and holds locks — the way the Open
 * vSwitch IDL does (ovsdb-server(7): `_Server`, `set_db_change_aware`,
 * `monitor_cond_since`/`monitor_cond`/`monitor`, `update`/`update2`/`update3`,
 * locks; RFC 7047 section 4).
 *
 * Works against the ovnts server and the real ovsdb-server alike.
 *
 * Reading: `client.table(name)` is the live `Map<uuid, Row>` of a table; a `Row`
 * is immutable and `row.get(col)` gives the column's Datum (see client/replica.ts).
 * After every batch of updates the client emits `'change'` with the row changes.
 * The `conditions` option selects rows per table (`monitor_cond`);
 * `setConditions` changes them on the live monitor (client/conditions.ts).
 *
 * Writing: `client.txn()` builds a transaction; `commit()` rejects with a
 * {@link TxnError} when any operation (or the commit) fails. Retrying is the
 * caller's business: a failed `verify` (a `wait` op) fails with tag "timed out",
 * and {@link isTryAgain} is true for that and for a lost connection — recompute
 * from the replica and try again, as IDL users do on TXN_TRY_AGAIN.
 */
import { EventEmitter } from 'node:events';
import { JsonRpcSession, RpcError } from '../lib/jsonrpc.js';
import { connect, type SslOptions } from './remote.js';
import { parseSchema, type DatabaseSchema } from './schema.js';
import { datumToJson, ZERO_UUID, type Datum } from './datum.js';
import { OvsdbError, OVSDB_ERROR } from './error.js';
import { Replica, Row, type RowChange } from './client/replica.js';
import { changeConditions, type ConditionChanges, type Conditions } from './client/conditions.js';
import { parseServerDbRow, unusableReason, SERVER_DB_COLUMNS, type ClusterPosition } from './client/server-db.js';

export { Row, type RowChange } from './client/replica.js';

export interface OvsdbClientOptions {
  /** Comma-separated active remotes, e.g. `"unix:/a.sock,tcp:127.0.0.1:6641,ssl:192.0.2.1:6641"`; tried in turn. */
  remotes: string;
  /** Private key, certificate and CA (or bootstrap CA) certificate for `ssl:` remotes. */
  ssl?: SslOptions;
  /** The database to replicate, e.g. `OVN_Northbound`. */
  database: string;
  /** What to monitor: table → column names, or `true` for every column. Default: every table, every column. */
  tables?: Record<string, readonly string[] | true>;
  /** `monitor_cond` conditions per table (RFC-style `where` clause arrays). Default: none (all rows). */
  conditions?: Record<string, readonly unknown[]>;
  /**
   * For clustered databases: only use a member that is the Raft leader, and move
   * on when it stops being one (OVN's writers do: nbctl, sbctl, northd; the IDL's
   * default). Default false: any member connected to its cluster.
   */
  leaderOnly?: boolean;
  /**
   * Keep trying the remotes when every one of them failed (daemons). When false
   * (the ctl tools, which OVS opens without retry), the client gives up after one
   * failed round: `start()` rejects, or `'failed'` is emitted after a connection was lost.
   * Default true.
   */
  retry?: boolean;
  /** First reconnect delay after every remote failed, doubling up to `maxBackoffMs`. Default 100. */
  backoffMs?: number;
  /** Largest reconnect delay. Default 8000. */
  maxBackoffMs?: number;
  /** Echo probe interval in ms; 0 = off. Default 0. */
  probeIntervalMs?: number;
  /** Largest incoming message. Default 64 MiB. */
  maxMessageBytes?: number;
  /** Named logger. Default: silent. */
  log?: (msg: string) => void;
}

export interface OvsdbClientEvents {
  change: [changes: RowChange[]];
  connected: [remote: string];
  disconnected: [remote: string];
  locked: [lock: string];
  stolen: [lock: string];
  /** After stop(). */
  stopped: [];
  /** With `retry: false`: every remote failed in one round; the client has stopped. */
  failed: [error: Error];
}

/** A failed transaction: the first failing result's error, with every result. */
export class TxnError extends OvsdbError {
  constructor(
    tag: string,
    details: string | undefined,
    /** Index of the failing operation; equal to the op count for a commit failure. */
    readonly index: number,
    readonly results: readonly unknown[],
  ) {
    super(tag, details);
    this.name = 'TxnError';
  }
}

/** No remote could be used (with `retry: false`); the message is the last remote's failure. */
export class ConnectFailedError extends Error {
  constructor(
    message: string,
    /** The errno-style code of a socket failure (`ENOENT`...), when that was the reason. */
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'ConnectFailedError';
  }
}

/** The client has no connection (transactions fail fast rather than queue). */
export class NotConnectedError extends Error {
  constructor(message = 'not connected to the database') {
    super(message);
    this.name = 'NotConnectedError';
  }
}

/** True for failures that a caller should answer by recomputing and retrying. */
export function isTryAgain(e: unknown): boolean {
  if (e instanceof NotConnectedError) return true;
  if (e instanceof TxnError) return e.tag === OVSDB_ERROR.TIMED_OUT;
  return e instanceof Error && /connection closed|session closed/.test(e.message);
}

type MonitorMethod = 'monitor_cond_since' | 'monitor_cond' | 'monitor';

const MONITOR_ID = 'ovnts-client';
/** The monitor of `_Server.Database`, as the IDL keeps one to follow cluster changes. */
const SERVER_MONITOR_ID = 'ovnts-server';

interface Connection {
  readonly remote: string;
  readonly rpc: JsonRpcSession;
  /** Notifications received before the monitor reply was applied. */
  queue: Array<[string, unknown[]]> | null;
  /** This server's `_Server.Database` row for the database, as monitored. */
  serverRow: Record<string, unknown> | undefined;
  /** Closed because the member became unusable: go on with the next remote. */
  moveOn: boolean;
}

export class OvsdbClient extends EventEmitter<OvsdbClientEvents> {
  private readonly opts: OvsdbClientOptions;
  private readonly remotes: string[];
  private readonly log: (msg: string) => void;
  private conn: Connection | undefined;
  private replica: Replica | undefined;
  private lastTxnId: string = ZERO_UUID;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wakeBackoff: (() => void) | undefined;
  private remoteIndex = 0;
  private readonly wantedLocks = new Set<string>();
  private readonly heldLocks = new Set<string>();
  private monitorMethod: MonitorMethod | undefined;
  /** The current `monitor_cond` conditions (the option's, then {@link setConditions}'). */
  private conditions: Conditions;
  /** The newest cluster index seen: members behind it are stale. */
  private readonly position: ClusterPosition = { cid: undefined, minIndex: 0n };
  private resumed = false;

  constructor(opts: OvsdbClientOptions) {
    super();
    this.opts = opts;
    this.conditions = { ...(opts.conditions ?? {}) };
    this.remotes = opts.remotes
      .split(',')
      .map((r) => r.trim())
      .filter((r) => r !== '');
    if (this.remotes.length === 0) throw new Error('no remotes given');
    this.log = opts.log ?? (() => {});
  }

  /** Connects (retrying through the remotes); resolves once the first snapshot is in. */
  start(): Promise<void> {
    if (!this.stopped) throw new Error('client already started');
    this.stopped = false;
    return new Promise((resolve, reject) => {
      const onConnected = (): void => {
        this.off('stopped', onStopped);
        this.off('failed', onFailed);
        resolve();
      };
      const onStopped = (): void => {
        this.off('connected', onConnected);
        this.off('failed', onFailed);
        reject(new Error('client stopped before it connected'));
      };
      const onFailed = (e: Error): void => {
        this.off('connected', onConnected);
        this.off('stopped', onStopped);
        reject(e);
      };
      this.once('connected', onConnected);
      this.once('stopped', onStopped);
      this.once('failed', onFailed);
      this.loop = this.run();
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.emit('stopped');
    this.wakeBackoff?.();
    this.conn?.rpc.close();
    await this.loop;
  }

  get isConnected(): boolean {
    return this.conn !== undefined && this.conn.queue === null && !this.conn.rpc.closed;
  }

  /** The remote of the current connection. */
  get currentRemote(): string | undefined {
    return this.conn?.remote;
  }

  /** The database schema as the server reported it (after start). */
  get schema(): DatabaseSchema {
    if (this.replica === undefined) throw new Error('not started');
    return this.replica.schema;
  }

  /** The last transaction id seen (monitor_cond_since), or the zero UUID. */
  get lastTransactionId(): string {
    return this.lastTxnId;
  }

  /**
   * True when the current monitor was set up with `monitor_cond_since` and the
   * server found the last transaction id: the replica was brought up to date with
   * the changes since, not re-read.
   */
  get resumedMonitor(): boolean {
    return this.resumed;
  }

  /** The Raft index of the newest data seen on a clustered database (0 otherwise). */
  get clusterIndex(): bigint {
    return this.position.minIndex;
  }

  /** The method the current monitor uses, by what the server supports. */
  get monitorKind(): MonitorMethod | undefined {
    return this.monitorMethod;
  }

  /**
   * Changes the monitor conditions of some tables (`undefined`: the whole
   * table again) on the live monitor with `monitor_cond_change`
   * (ovsdb-server(7) 4.1.13); resolves once the server answered, by when the
   * rows it selects or drops have reached the replica (the server sends that
   * update before its reply). Without a connection the conditions apply from
   * the next one, which then starts from a full snapshot, as it does when
   * the connection drops before the answer.
   */
  async setConditions(changes: ConditionChanges): Promise<void> {
    const { next, requests } = changeConditions(this.conditions, changes);
    if (requests === undefined) return;
    this.conditions = next;
    const conn = this.conn;
    // A connection being set up sends the change once its monitor is in (setUp).
    if (conn !== undefined && conn.queue !== null && !conn.rpc.closed) return;
    if (conn === undefined || !this.isConnected || this.monitorMethod === 'monitor') {
      // A replica kept under other conditions cannot resume with monitor_cond_since.
      this.lastTxnId = ZERO_UUID;
      return;
    }
    await this.sendConditionChange(conn, requests);
  }

  private async sendConditionChange(conn: Connection, requests: Record<string, unknown>): Promise<void> {
    try {
      await conn.rpc.request('monitor_cond_change', [MONITOR_ID, MONITOR_ID, requests]);
    } catch (e) {
      this.lastTxnId = ZERO_UUID;
      if (conn.rpc.closed) return;
      throw e;
    }
  }

  /** The live rows of a monitored table, by UUID. */
  table(name: string): ReadonlyMap<string, Row> {
    if (this.replica === undefined) throw new Error('not started');
    return this.replica.rows(name);
  }

  /** A row by table and UUID, if replicated. */
  row(table: string, uuid: string): Row | undefined {
    return this.table(table).get(uuid);
  }

  /** Resolves when `pred` holds, checking now and after every change batch; rejects at the timeout or on stop(). */
  waitUntil(pred: () => boolean, timeoutMs = 10000): Promise<void> {
    if (this.replica !== undefined && pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.replica !== undefined && pred()) {
          cleanup();
          resolve();
        }
      };
      // A daemon stopping must not wait out the timeout for a database that will not change any more.
      const stopped = (): void => {
        cleanup();
        reject(new Error('client stopped'));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`condition not reached within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('change', check);
        this.off('connected', check);
        this.off('stopped', stopped);
      };
      this.on('change', check);
      this.on('connected', check);
      this.once('stopped', stopped);
    });
  }

  /** Sends a raw `transact` (RFC 7047 4.1.3) for this database; resolves with the results array. */
  async transact(ops: unknown[]): Promise<unknown[]> {
    const c = this.conn;
    if (c === undefined || c.rpc.closed) throw new NotConnectedError();
    const r = await c.rpc.request('transact', [this.opts.database, ...ops]);
    if (!Array.isArray(r)) throw new OvsdbError(OVSDB_ERROR.SYNTAX_ERROR, 'transact reply is not an array');
    return r as unknown[];
  }

  /** A transaction builder. */
  txn(): Txn {
    return new Txn(this);
  }

  /** Any other request on the current connection (e.g. `list_dbs`). */
  async request(method: string, params: unknown[]): Promise<unknown> {
    const c = this.conn;
    if (c === undefined || c.rpc.closed) throw new NotConnectedError();
    return c.rpc.request(method, params);
  }

  /** Asks for a lock (RFC 7047 4.1.8); true when granted at once, otherwise `'locked'` follows. Re-requested after reconnects. */
  async lock(id: string): Promise<boolean> {
    this.wantedLocks.add(id);
    return this.lockRequest('lock', id);
  }

  /** Takes a lock from its holder (RFC 7047 4.1.9). */
  async steal(id: string): Promise<boolean> {
    this.wantedLocks.add(id);
    return this.lockRequest('steal', id);
  }

  async unlock(id: string): Promise<void> {
    this.wantedLocks.delete(id);
    this.heldLocks.delete(id);
    if (this.conn !== undefined && !this.conn.rpc.closed) await this.conn.rpc.request('unlock', [id]);
  }

  hasLock(id: string): boolean {
    return this.heldLocks.has(id);
  }

  private async lockRequest(method: 'lock' | 'steal', id: string): Promise<boolean> {
    const c = this.conn;
    if (c === undefined || c.rpc.closed) return false;
    const r = (await c.rpc.request(method, [id])) as { locked?: unknown } | null;
    const locked = r !== null && typeof r === 'object' && r.locked === true;
    if (locked && !this.heldLocks.has(id)) {
      this.heldLocks.add(id);
      this.emit('locked', id);
    }
    return locked;
  }

  // ---- connection management ----

  private async run(): Promise<void> {
    let backoff = this.opts.backoffMs ?? 100;
    const maxBackoff = this.opts.maxBackoffMs ?? 8000;
    let failuresInRound = 0;
    // As OVS reports the last socket error of the round (not "not leader").
    let lastErrno: string | undefined;
    while (!this.stopped) {
      const remote = this.remotes[this.remoteIndex % this.remotes.length] as string;
      this.remoteIndex++;
      let conn: Connection | undefined;
      try {
        conn = await this.connectOnce(remote);
      } catch (e) {
        this.log(`${remote}: ${(e as Error).message}`);
        failuresInRound++;
        const code = (e as { code?: unknown }).code;
        if (typeof code === 'string') lastErrno = code;
        if (failuresInRound >= this.remotes.length && this.opts.retry === false && !this.stopped) {
          this.stopped = true;
          this.emit('failed', new ConnectFailedError((e as Error).message, lastErrno));
          return;
        }
        if (failuresInRound >= this.remotes.length && !this.stopped) {
          failuresInRound = 0;
          await this.pause(backoff);
          backoff = Math.min(backoff * 2, maxBackoff);
        }
        continue;
      }
      backoff = this.opts.backoffMs ?? 100;
      failuresInRound = 0;
      lastErrno = undefined;
      this.emit('connected', remote);
      await new Promise<void>((r) => (conn.rpc.closed ? r() : conn.rpc.once('close', () => r())));
      this.conn = undefined;
      this.heldLocks.clear();
      this.log(`${remote}: connection closed`);
      this.emit('disconnected', remote);
      // Stay with the same remote first, it was working a moment ago, unless it
      // became unusable (no longer leader, cut off from its cluster).
      if (!conn.moveOn) this.remoteIndex--;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wakeBackoff = done;
    });
  }

  private async connectOnce(remote: string): Promise<Connection> {
    const sock = await connect(remote, { log: this.log, ...(this.opts.ssl === undefined ? {} : { ssl: this.opts.ssl }) });
    const rpcOpts: ConstructorParameters<typeof JsonRpcSession>[1] = { name: remote, log: this.log };
    if (this.opts.probeIntervalMs !== undefined) rpcOpts.probeIntervalMs = this.opts.probeIntervalMs;
    if (this.opts.maxMessageBytes !== undefined) rpcOpts.maxMessageBytes = this.opts.maxMessageBytes;
    const rpc = new JsonRpcSession(sock, rpcOpts);
    const conn: Connection = { remote, rpc, queue: [], serverRow: undefined, moveOn: false };
    rpc.setNotificationHandler((method, params) => this.onNotification(conn, method, params as unknown[]));
    if (this.stopped) {
      rpc.close();
      throw new Error('stopped');
    }
    this.conn = conn;
    try {
      await this.setUp(conn);
    } catch (e) {
      if (this.conn === conn) this.conn = undefined;
      rpc.close();
      throw e;
    }
    if (rpc.closed) {
      if (this.conn === conn) this.conn = undefined;
      throw new Error('connection closed during setup');
    }
    return conn;
  }

  private async setUp(conn: Connection): Promise<void> {
    const { rpc } = conn;
    const db = this.opts.database;
    await this.watchServerDatabase(conn);
    const schema = parseSchema(await rpc.request('get_schema', [db]));
    try {
      await rpc.request('set_db_change_aware', [true]);
    } catch (e) {
      if (!(e instanceof RpcError)) throw e;
    }
    // A changed schema (e.g. after ovsdb-client convert) invalidates the replica.
    if (this.replica === undefined || this.replica.schema.version !== schema.version || this.replica.schema.cksum !== schema.cksum) {
      const old = this.replica;
      this.replica = new Replica(schema, this.monitoredColumns(schema));
      this.lastTxnId = ZERO_UUID;
      if (old !== undefined) this.emitChanges(old.clear());
    }
    const replica = this.replica;
    const sent = this.conditions;
    const changes = await this.monitor(rpc, schema, replica);
    for (const l of this.wantedLocks) void this.lockRequest('lock', l).catch(() => {});
    // Deliver notifications that raced with the monitor reply, in order.
    const queued = conn.queue ?? [];
    conn.queue = null;
    this.emitChanges(changes);
    for (const [m, p] of queued) this.onNotification(conn, m, p);
    // Conditions changed while the monitor request was on its way.
    const { requests } = changeConditions(
      sent,
      Object.fromEntries([...Object.keys(sent), ...Object.keys(this.conditions)].map((t) => [t, this.conditions[t]])),
    );
    if (requests !== undefined && this.monitorMethod !== 'monitor') await this.sendConditionChange(conn, requests);
  }

  /**
   * Monitors this server's `_Server.Database` row for the database, as the IDL
   * does, and refuses the member when it cannot be used (see client/server-db.ts);
   * later changes of the row are checked in {@link onServerUpdate}. A server
   * without `_Server` (before OVS 2.9) is used as it is.
   */
  private async watchServerDatabase(conn: Connection): Promise<void> {
    const db = this.opts.database;
    let result: unknown;
    try {
      result = await conn.rpc.request('monitor', ['_Server', SERVER_MONITOR_ID, { Database: { columns: [...SERVER_DB_COLUMNS] } }]);
    } catch (e) {
      if (e instanceof RpcError) return;
      throw e;
    }
    const rows = (result as { Database?: Record<string, { new?: Record<string, unknown> }> } | null)?.Database;
    // No Database table: not the _Server schema (an old server answering anyway).
    if (rows === undefined) return;
    for (const [uuid, ru] of Object.entries(rows)) {
      if (ru.new?.['name'] === db) conn.serverRow = { ...ru.new, _uuid: uuid };
    }
    if (conn.serverRow === undefined) throw new Error(`database ${db} does not exist on this server`);
    const reason = unusableReason(parseServerDbRow(conn.serverRow), this.position, this.opts.leaderOnly === true);
    if (reason !== undefined) throw new Error(`${reason}; trying another server`);
  }

  /** An `update` of the `_Server` monitor: moves on when this member became unusable. */
  private onServerUpdate(conn: Connection, updates: unknown): void {
    const row = conn.serverRow;
    if (row === undefined) return;
    const ru = (updates as { Database?: Record<string, { new?: Record<string, unknown> } | undefined> } | null)?.Database?.[
      row['_uuid'] as string
    ];
    if (ru === undefined) return;
    if (ru.new === undefined) {
      this.log(`${conn.remote}: database ${this.opts.database} removed from the server; trying another server`);
      conn.moveOn = true;
      conn.rpc.close();
      return;
    }
    conn.serverRow = { ...row, ...ru.new };
    const reason = unusableReason(parseServerDbRow(conn.serverRow), this.position, this.opts.leaderOnly === true);
    if (reason === undefined) return;
    this.log(`${conn.remote}: ${reason}; trying another server`);
    conn.moveOn = true;
    conn.rpc.close();
  }

  private monitoredColumns(schema: DatabaseSchema): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const wanted = this.opts.tables;
    for (const [name, ts] of schema.tables) {
      let cols: readonly string[] | true | undefined = wanted === undefined ? true : wanted[name];
      if (cols === undefined) continue;
      if (cols === true) cols = [...ts.columns.keys()];
      out.set(name, [...cols]);
    }
    if (wanted !== undefined) {
      for (const name of Object.keys(wanted)) if (!schema.tables.has(name)) throw new Error(`database ${schema.name} has no table ${name}`);
    }
    return out;
  }

  private monitorRequests(replica: Replica, withWhere: boolean): Record<string, unknown> {
    const reqs: Record<string, unknown> = {};
    for (const name of replica.tableNames()) {
      const req: Record<string, unknown> = { columns: replica.monitoredColumns(name) };
      const where = this.conditions[name];
      if (withWhere && where !== undefined) req['where'] = where;
      reqs[name] = withWhere ? [req] : req;
    }
    return reqs;
  }

  /** Sets up the monitor with the best method the server knows; returns the changes to the replica. */
  private async monitor(rpc: JsonRpcSession, schema: DatabaseSchema, replica: Replica): Promise<RowChange[]> {
    const db = schema.name;
    const methods: MonitorMethod[] =
      this.monitorMethod === undefined ? ['monitor_cond_since', 'monitor_cond', 'monitor'] : fallbacksFrom(this.monitorMethod);
    for (const method of methods) {
      try {
        if (method === 'monitor_cond_since') {
          const r = await rpc.request(method, [db, MONITOR_ID, this.monitorRequests(replica, true), this.lastTxnId]);
          if (!Array.isArray(r) || r.length !== 3 || typeof r[0] !== 'boolean') throw new Error('bad monitor_cond_since reply');
          this.monitorMethod = method;
          const [found, txnId, updates] = r as [boolean, unknown, unknown];
          const changes = found ? replica.apply(updates, 2) : replica.replace(updates, 2);
          this.resumed = found;
          if (typeof txnId === 'string') this.lastTxnId = txnId;
          return changes;
        }
        if (method === 'monitor_cond') {
          const r = await rpc.request(method, [db, MONITOR_ID, this.monitorRequests(replica, true)]);
          this.monitorMethod = method;
          this.resumed = false;
          return replica.replace(r, 2);
        }
        if (Object.keys(this.conditions).length > 0) this.log(`${db}: server lacks monitor_cond; conditions ignored`);
        const r = await rpc.request('monitor', [db, MONITOR_ID, this.monitorRequests(replica, false)]);
        this.monitorMethod = method;
        this.resumed = false;
        return replica.replace(r, 1);
      } catch (e) {
        if (e instanceof RpcError && isUnknownMethod(e.error)) continue;
        throw e;
      }
    }
    throw new Error('server supports no monitor method');
  }

  private onNotification(conn: Connection, method: string, params: unknown[]): void {
    if (conn.queue !== null) {
      if (method === 'update' || method === 'update2' || method === 'update3') {
        conn.queue.push([method, params]);
        return;
      }
    }
    try {
      switch (method) {
        case 'update':
        case 'update2':
        case 'update3': {
          if (method === 'update' && params[0] === SERVER_MONITOR_ID) {
            this.onServerUpdate(conn, params[1]);
            return;
          }
          if (params[0] !== MONITOR_ID || this.replica === undefined) return;
          let updates: unknown;
          if (method === 'update3') {
            if (typeof params[1] === 'string') this.lastTxnId = params[1];
            updates = params[2];
          } else {
            updates = params[1];
          }
          this.emitChanges(this.replica.apply(updates, method === 'update' ? 1 : 2));
          return;
        }
        case 'locked': {
          const id = params[0];
          if (typeof id === 'string' && this.wantedLocks.has(id) && !this.heldLocks.has(id)) {
            this.heldLocks.add(id);
            this.emit('locked', id);
          }
          return;
        }
        case 'stolen': {
          const id = params[0];
          if (typeof id === 'string' && this.heldLocks.delete(id)) this.emit('stolen', id);
          return;
        }
        case 'monitor_canceled':
          // The database went away or changed schema: start over with a fresh schema.
          this.log(`${conn.remote}: monitor canceled by the server; reconnecting`);
          this.lastTxnId = ZERO_UUID;
          conn.rpc.close();
          return;
        default:
          return;
      }
    } catch (e) {
      // A malformed update means the replica can no longer be trusted.
      this.log(`${conn.remote}: bad ${method}: ${(e as Error).message}; reconnecting`);
      this.lastTxnId = ZERO_UUID;
      conn.rpc.close();
    }
  }

  private emitChanges(changes: RowChange[]): void {
    if (changes.length > 0) this.emit('change', changes);
  }

  /** The column in RFC 7047 notation, for building ops from replica values. */
  columnJson(table: string, col: string, d: Datum): unknown {
    const ts = this.schema.tables.get(table);
    const c = ts?.columns.get(col);
    if (c === undefined) throw new Error(`unknown column ${table}.${col}`);
    return datumToJson(d, c.type);
  }
}

function fallbacksFrom(m: MonitorMethod): MonitorMethod[] {
  const all: MonitorMethod[] = ['monitor_cond_since', 'monitor_cond', 'monitor'];
  return all.slice(all.indexOf(m));
}

function isUnknownMethod(error: unknown): boolean {
  if (error === 'unknown method') return true;
  return typeof error === 'object' && error !== null && (error as { error?: unknown }).error === 'unknown method';
}

function isDatum(v: unknown): v is Datum {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Array.isArray((v as { keys?: unknown }).keys);
}

/** A column value for a transaction: a Datum (converted by the column type) or RFC 7047 JSON. */
export type ColumnValue = unknown;

/**
 * A transaction under construction (RFC 7047 5.2). Ops are sent in order;
 * `insert` returns the `["named-uuid", name]` reference that later ops can use.
 */
export class Txn {
  private readonly ops: unknown[] = [];
  private readonly names = new Map<string, number>();
  private results: readonly unknown[] | undefined;
  private nameCounter = 0;

  constructor(private readonly client: OvsdbClient) {}

  get size(): number {
    return this.ops.length;
  }

  private row(table: string, cols: Record<string, ColumnValue>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(cols)) out[k] = isDatum(v) ? this.client.columnJson(table, k, v) : v;
    return out;
  }

  /** Inserts a row; returns the named-uuid reference to it. */
  insert(table: string, row: Record<string, ColumnValue>, uuidName?: string): [string, string] {
    const name = uuidName ?? `row${this.nameCounter++}`;
    this.names.set(name, this.ops.length);
    this.ops.push({ op: 'insert', table, row: this.row(table, row), 'uuid-name': name });
    return ['named-uuid', name];
  }

  /** Sets columns of one row. */
  update(table: string, uuid: string, cols: Record<string, ColumnValue>): this {
    this.ops.push({ op: 'update', table, where: byUuid(uuid), row: this.row(table, cols) });
    return this;
  }

  /** Mutates one row: `[column, mutator, value]` triples (RFC 7047 5.1 mutations). */
  mutate(table: string, uuid: string, mutations: ReadonlyArray<readonly [string, string, ColumnValue]>): this {
    const ms = mutations.map(([c, m, v]) => [c, m, isDatum(v) ? this.client.columnJson(table, c, v) : v]);
    this.ops.push({ op: 'mutate', table, where: byUuid(uuid), mutations: ms });
    return this;
  }

  delete(table: string, uuid: string): this {
    this.ops.push({ op: 'delete', table, where: byUuid(uuid) });
    return this;
  }

  /** Raw `wait` op (RFC 7047 5.2.6). */
  wait(table: string, where: unknown[], columns: string[], rows: unknown[], until: '==' | '!=', timeout = 0): this {
    this.ops.push({ op: 'wait', table, where, columns, until, rows, timeout });
    return this;
  }

  /**
   * Optimistic concurrency as the IDL does it: the commit fails ("timed out") unless
   * the row's `columns` still have the values this client's replica shows now.
   */
  verify(table: string, uuid: string, columns: readonly string[]): this {
    const row = this.client.row(table, uuid);
    if (row === undefined) throw new Error(`verify: no ${table} row ${uuid} in the replica`);
    const values: Record<string, unknown> = {};
    for (const c of columns) values[c] = this.client.columnJson(table, c, row.get(c));
    return this.wait(table, byUuid(uuid), [...columns], [values], '==', 0);
  }

  comment(text: string): this {
    this.ops.push({ op: 'comment', comment: text });
    return this;
  }

  /** Appends any op object as is. */
  op(raw: unknown): this {
    this.ops.push(raw);
    return this;
  }

  /** The ops as they will be sent. */
  toJson(): unknown[] {
    return [...this.ops];
  }

  /**
   * Sends the transaction. Resolves with the results; rejects with TxnError when an
   * op or the commit failed, NotConnectedError when there is no connection.
   */
  async commit(): Promise<readonly unknown[]> {
    const results = await this.client.transact(this.ops);
    this.results = results;
    for (let i = 0; i < results.length; i++) {
      const r = results[i] as { error?: unknown; details?: unknown } | null;
      if (r !== null && typeof r === 'object' && typeof r.error === 'string') {
        throw new TxnError(r.error, typeof r.details === 'string' ? r.details : undefined, i, results);
      }
    }
    if (results.length < this.ops.length) {
      throw new TxnError(OVSDB_ERROR.OVSDB_ERROR, `${results.length} results for ${this.ops.length} operations`, results.length, results);
    }
    return results;
  }

  /** After commit: the UUID the server gave the row inserted under `name`. */
  insertedUuid(name: string): string | undefined {
    const i = this.names.get(name);
    if (i === undefined || this.results === undefined) return undefined;
    const u = (this.results[i] as { uuid?: unknown } | undefined)?.uuid;
    return Array.isArray(u) && typeof u[1] === 'string' ? u[1] : undefined;
  }
}

function byUuid(uuid: string): unknown[] {
  return [['_uuid', '==', ['uuid', uuid]]];
}
