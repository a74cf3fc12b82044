/**
 * The OVSDB server component: RFC 7047's JSON-RPC methods and the Open vSwitch
 * extensions (ovsdb-server(7)) over any number of passive remotes, for any
 * number of databases, plus the read-only `_Server` database.
 */
import type { Server as NetServer, Socket } from 'node:net';
import { JsonRpcSession, REPLY_LATER, RpcError } from '../lib/jsonrpc.js';
import { listen, parseRemote, reloadSslListener, type SslOptions } from './remote.js';
import { executeTransaction, type ExecOutcome } from './transaction.js';
import { HostedDatabase } from './hosted-database.js';
import { Monitor, type MonitorKind } from './monitor.js';
import { OvsdbError, OVSDB_ERROR, syntaxError } from './error.js';
import { newUuid, ZERO_UUID, type Datum } from './datum.js';
import { parseSchema } from './schema.js';
import { schemaToJson, schemaToText } from './schema-json.js';
import { LockTable } from './locks.js';
import { SCHEMA_FILES, loadSchemaJson } from './schema-files.js';
import type { Database, Row, RowChange } from './database.js';
import { convertDatabase } from './convert.js';
import { stringifyJson } from '../lib/json-int.js';
import type { MetricsScope } from '../lib/metrics.js';
import { rateLimitedLog } from '../lib/rate-limit.js';
import { OvsdbServerMetrics, type TransactionResult } from './server-metrics.js';

export interface OvsdbServerOptions {
  /** Passive remotes such as `punix:/run/ovnts/nb.sock`, `ptcp:6641:127.0.0.1` or `pssl:6641`. */
  remotes: readonly string[];
  /**
   * Private key, certificate and CA certificate for `pssl:` remotes; a
   * function when they can change (read from a database), asked whenever a
   * listener starts or {@link OvsdbServer.reloadSsl} is called.
   */
  ssl?: SslOptions | (() => SslOptions);
  databases: readonly HostedDatabase[];
  /** Largest JSON-RPC message accepted; bigger ones close that connection. Default 64 MiB. */
  maxMessageBytes?: number;
  /**
   * Bytes a client may leave unread (replies and monitor updates it has not taken)
   * before its connection is dropped; it reconnects and resynchronises as after any
   * disconnection. Bounds the memory a stuck or slow monitor client can cost.
   * Default 128 MiB.
   */
  maxBacklogBytes?: number;
  /** Echo probe interval for TCP clients in ms; 0 disables. Default 5000 (unix sockets are never probed). */
  probeIntervalMs?: number;
  log?: (msg: string) => void;
  /** The stream_ssl module's error log: bad `--ssl-protocols`/`--ssl-ciphers`, unusable replaced SSL files. Default: `log`. */
  sslLog?: (msg: string) => void;
  /** The socket_util module's log: "listening on port N" for ptcp remotes, as tools parse it. Default: `log`. */
  socketLog?: (msg: string) => void;
  /** Log every request received (the first 4 KiB of its parameters). Default false. */
  traceRequests?: boolean;
  /** Where to count transactions, connections and monitors (`--metrics`). Default: not counted. */
  metrics?: MetricsScope;
}

interface Session {
  readonly rpc: JsonRpcSession;
  readonly monitors: Map<string, { monitor: Monitor; hosted: HostedDatabase }>;
  /** Locks asked for, and whether by "lock" (waits again if stolen) or "steal". */
  readonly locks: Map<string, 'lock' | 'steal'>;
  dbChangeAware: boolean;
  closed: boolean;
}

interface Trigger {
  readonly session: Session;
  readonly hosted: HostedDatabase;
  readonly id: unknown;
  readonly ops: unknown[];
  readonly startMs: number;
  /** How it ended, once it has (for the metrics). */
  result?: TransactionResult;
  timer: NodeJS.Timeout | undefined;
  /** Sends its reply; set once the transaction is answered later rather than at once. */
  finish: (v: unknown) => void;
  /** Sends an error reply instead. */
  fail: (e: unknown) => void;
}

const monitorKey = (id: unknown): string => stringifyJson(id);
const BLOCKED = Symbol('blocked');
/** The transaction ran and its reply goes out through the trigger's `finish` once it is durable. */
const PENDING = Symbol('pending');
const MAX_TIMER_MS = 2 ** 31 - 1;

export class OvsdbServer {
  readonly serverId = newUuid();
  private readonly opts: OvsdbServerOptions;
  private readonly dbs = new Map<string, HostedDatabase>();
  private readonly serverDb: HostedDatabase;
  /** Passive remotes by their text as given, each with its listener. */
  private readonly listeners = new Map<string, NetServer>();
  private readonly sessions = new Set<Session>();
  private readonly triggers = new Set<Trigger>();
  private readonly locks = new LockTable<Session>();
  private readonly log: (msg: string) => void;
  /** At most 20 lines a second (a burst of 20), so a flood of bad input cannot flood the log. */
  private readonly limitedLog: (msg: string) => void;
  private readonly commitWatchers = new Set<(db: HostedDatabase) => void>();
  private readonly metrics: OvsdbServerMetrics | undefined;
  /** Request tracing (`vlog/set jsonrpc:dbg`). */
  traceRequests: boolean;

  constructor(opts: OvsdbServerOptions) {
    this.opts = opts;
    this.log = opts.log ?? (() => {});
    this.limitedLog = rateLimitedLog(this.log, 1200, 20);
    this.traceRequests = opts.traceRequests === true;
    for (const d of opts.databases) this.dbs.set(d.name, d);
    this.serverDb = HostedDatabase.inMemory(parseSchema(loadSchemaJson(SCHEMA_FILES._Server)));
    this.refreshServerDb();
    this.metrics = opts.metrics === undefined ? undefined : new OvsdbServerMetrics(opts.metrics, this.metricsState());
  }

  /** The bound addresses, e.g. to learn the port of `ptcp:0`. */
  get addresses(): string[] {
    return [...this.listeners.values()].map((l) => {
      const a = l.address();
      return typeof a === 'string' ? `unix:${a}` : a === null ? '' : `tcp:${a.address}:${a.port}`;
    });
  }

  async start(): Promise<void> {
    for (const r of this.opts.remotes) await this.addRemote(r);
  }

  /** The passive remotes served, sorted as ovsdb-server/list-remotes prints them. */
  get remotes(): string[] {
    return [...this.listeners.keys()].sort();
  }

  /** Starts listening on a passive remote (ovsdb-server/add-remote); a remote already served is kept. */
  async addRemote(r: string): Promise<void> {
    if (this.listeners.has(r)) return;
    const remote = parseRemote(r);
    const probe = remote.kind === 'ptcp' || remote.kind === 'pssl' ? (this.opts.probeIntervalMs ?? 5000) : 0;
    const streamOpts = {
      log: (m: string) => this.limitedLog(m),
      sslErrorLog: this.opts.sslLog ?? this.log,
      ssl: () => this.sslOptions() ?? {},
    };
    const l = await listen(remote, (sock) => this.accept(sock, probe), streamOpts);
    this.listeners.set(r, l);
    const a = l.address();
    // socket_util's line, which OVS tests and tools read the bound port from.
    if (a !== null && typeof a !== 'string')
      (this.opts.socketLog ?? this.log)(`${r.slice(r.indexOf(':') + 1)}: listening on port ${a.port}`);
  }

  private sslOptions(): SslOptions | undefined {
    const ssl = this.opts.ssl;
    return typeof ssl === 'function' ? ssl() : ssl;
  }

  /** Gives the `pssl:` listeners the SSL settings as they are now; a listener whose new settings cannot be used keeps its old ones. */
  reloadSsl(): void {
    for (const [r, l] of this.listeners) {
      try {
        reloadSslListener(l);
      } catch (e) {
        this.log(`${r}: ${(e as Error).message}`);
      }
    }
  }

  /** Stops listening on a remote; false when it was not served. Its connections stay. */
  removeRemote(r: string): boolean {
    const l = this.listeners.get(r);
    if (l === undefined) return false;
    this.listeners.delete(r);
    l.close();
    return true;
  }

  /** Calls `fn` after every commit (remotes read from a database follow it); returns the way to stop. */
  onCommit(fn: (db: HostedDatabase) => void): () => void {
    this.commitWatchers.add(fn);
    return () => this.commitWatchers.delete(fn);
  }

  /** The hosted databases' names, `_Server` last (ovsdb-server/list-dbs). */
  get databaseNames(): string[] {
    return [...this.dbs.keys(), '_Server'];
  }

  database(name: string): HostedDatabase | undefined {
    return name === '_Server' ? this.serverDb : this.dbs.get(name);
  }

  /** Serves one more database (ovsdb-server/add-db); refused when its name is taken. */
  addDatabase(d: HostedDatabase): void {
    if (this.dbs.has(d.name) || d.name === '_Server') throw new Error(`${d.name}: duplicate database name`);
    this.dbs.set(d.name, d);
    this.refreshServerDb();
  }

  /**
   * Stops serving a database (ovsdb-server/remove-db): its monitors are
   * cancelled with "monitor_canceled", its waiting transactions fail, and the
   * file is closed.
   */
  async removeDatabase(name: string): Promise<boolean> {
    const d = this.dbs.get(name);
    if (d === undefined) return false;
    this.dbs.delete(name);
    for (const s of this.sessions) {
      for (const [key, m] of [...s.monitors]) {
        if (m.hosted !== d) continue;
        s.monitors.delete(key);
        s.rpc.notify('monitor_canceled', [m.monitor.id]);
      }
    }
    for (const t of [...this.triggers]) {
      if (t.hosted !== d) continue;
      this.dropTrigger(t);
      t.fail(new RpcError('canceled'));
    }
    this.refreshServerDb();
    await d.close();
    return true;
  }

  /** Counts for memory/show, named as ovsdb-server names them. */
  memoryStats(): Record<string, number> {
    let cells = 0;
    let atoms = 0;
    let monitors = 0;
    let weak = 0;
    for (const d of [...this.dbs.values(), this.serverDb]) {
      for (const t of d.db.tables.values()) {
        cells += t.rows.size * t.columns.length;
        for (const row of t.rows.values()) {
          for (const c of t.columns) {
            const v = row.cols[c.name];
            if (v !== undefined) atoms += v.keys.length + (v.values?.length ?? 0);
          }
        }
      }
      for (const m of d.db.weakReferrers.values()) weak += m.size;
    }
    for (const s of this.sessions) monitors += s.monitors.size;
    const out: Record<string, number> = { atoms, cells, monitors, 'n-weak-refs': weak };
    if (this.sessions.size > 0) out['sessions'] = this.sessions.size;
    return out;
  }

  async stop(): Promise<void> {
    for (const l of this.listeners.values()) l.close();
    for (const s of this.sessions) s.rpc.close();
    for (const t of this.triggers) clearTimeout(t.timer);
    this.triggers.clear();
    await Promise.all([...this.dbs.values()].map((d) => d.close()));
  }

  /** Serves one already-connected stream (used by listeners and by in-process clients). */
  accept(sock: Socket, probeIntervalMs = 0): void {
    const rpc = new JsonRpcSession(sock, {
      maxMessageBytes: this.opts.maxMessageBytes ?? 64 * 1024 * 1024,
      maxBacklogBytes: this.opts.maxBacklogBytes ?? 128 * 1024 * 1024,
      probeIntervalMs,
      log: (m: string) => this.limitedLog(m),
    });
    const session: Session = { rpc, monitors: new Map(), locks: new Map(), dbChangeAware: false, closed: false };
    this.sessions.add(session);
    this.metrics?.connectionAccepted();
    rpc.setRequestHandler((method, params, id) => {
      if (this.traceRequests) this.log(`${rpc.name}: received request ${method} ${stringifyJson(params).slice(0, 4096)}`);
      return this.handle(session, method, params, id);
    });
    // RFC 7047 4.1.4: "cancel" is a notification naming an outstanding transact.
    rpc.setNotificationHandler((method, params) => {
      if (method === 'cancel' && Array.isArray(params)) this.cancel(session, params[0]);
    });
    rpc.on('close', () => this.closeSession(session));
  }

  private closeSession(s: Session): void {
    if (s.closed) return;
    s.closed = true;
    this.sessions.delete(s);
    for (const t of this.triggers) if (t.session === s) this.dropTrigger(t);
    for (const name of [...s.locks.keys()]) this.releaseLock(s, name);
  }

  private hosted(name: unknown, method: string, params: unknown): HostedDatabase {
    if (typeof name === 'string') {
      if (name === '_Server') return this.serverDb;
      const d = this.dbs.get(name);
      if (d !== undefined) return d;
    }
    throw new RpcError(
      new OvsdbError(OVSDB_ERROR.UNKNOWN_DATABASE, `${method} request specifies unknown database ${String(name)}`, params).toJson(),
    );
  }

  private handle(s: Session, method: string, params: unknown, id: unknown): unknown {
    const p = Array.isArray(params) ? params : [];
    switch (method) {
      case 'list_dbs':
        return this.databaseNames;
      case 'get_schema':
        return schemaToJson(this.hosted(p[0], method, params).db.schema);
      case 'transact':
        return this.transact(s, p, id);
      case 'monitor':
      case 'monitor_cond':
      case 'monitor_cond_since':
        return this.monitor(s, method, p);
      case 'monitor_cond_change':
        return this.monitorCondChange(s, p);
      case 'monitor_cancel': {
        const key = monitorKey(p[0]);
        if (!s.monitors.delete(key)) throw new RpcError('unknown monitor');
        return {};
      }
      case 'lock':
      case 'steal':
      case 'unlock':
        return this.lockRequest(s, method, p[0]);
      case 'convert':
        return this.convert(p);
      case 'set_db_change_aware':
        s.dbChangeAware = p[0] === true;
        return {};
      case 'get_server_id':
        return this.serverId;
      default:
        throw new RpcError('unknown method');
    }
  }

  private transact(s: Session, p: unknown[], id: unknown): unknown {
    if (p.length === 0) {
      throw new RpcError(syntaxError(p, 'transact request params must begin with <db-name>').toJson());
    }
    const t0 = this.metrics?.start() ?? 0;
    const hosted = this.hosted(p[0], 'transact', p);
    const t: Trigger = {
      session: s,
      hosted,
      id,
      ops: p.slice(1),
      startMs: Date.now(),
      timer: undefined,
      finish: () => {},
      fail: () => {},
    };
    const reply = this.attempt(t);
    const metrics = this.metrics;
    if (reply !== BLOCKED && reply !== PENDING) {
      metrics?.transactionFinished(hosted.name, t0, t.result ?? 'error');
      return reply;
    }
    // Answered later, from the commit's durability step (or a retry): a
    // callback, not a promise, so a commit costs no microtasks.
    t.finish = (v) => {
      metrics?.transactionFinished(hosted.name, t0, t.result ?? 'error');
      s.rpc.reply(id, v);
    };
    t.fail = (e) => {
      metrics?.transactionFinished(hosted.name, t0, 'error');
      s.rpc.replyError(id, e);
    };
    return REPLY_LATER;
  }

  /** What the metrics' gauges read when scraped. */
  private metricsState(): { connections(): number; monitors(): Map<string, number> } {
    return {
      connections: () => this.sessions.size,
      monitors: () => {
        const n = new Map<string, number>();
        for (const s of this.sessions) for (const { hosted } of s.monitors.values()) n.set(hosted.name, (n.get(hosted.name) ?? 0) + 1);
        return n;
      },
    };
  }

  /**
   * Runs a transaction once. Returns its results when they can go out at
   * once (nothing is waiting to become durable); PENDING when its trigger's
   * `finish` will send them, in commit order, once they are durable; or
   * BLOCKED when a "wait" holds it until the next commit or its deadline.
   */
  private attempt(t: Trigger): unknown {
    const out = this.execute(t);
    if (out.status === 'blocked') {
      this.triggers.add(t);
      if (t.timer === undefined && out.retryAtMs !== Infinity) {
        // A timer holds at most 2^31-1 ms (a longer one fires at once): a longer
        // wait re-arms on expiry, so "timeout" means what it says at any size.
        t.timer = setTimeout(
          () => {
            t.timer = undefined;
            this.retry(t);
          },
          Math.min(MAX_TIMER_MS, Math.max(0, out.retryAtMs - Date.now())),
        );
      }
      return BLOCKED;
    }
    this.dropTrigger(t);
    t.result = out.status === 'failed' ? 'failed' : out.changes.length === 0 ? 'unchanged' : 'committed';
    const { hosted } = t;
    const { results } = out;
    if (out.status !== 'committed' || out.changes.length === 0) {
      // Read-only: it saw commits that must be durable before it is answered.
      if (hosted.durableNow) return results;
      hosted.afterDurable(() => t.finish(results));
      return PENDING;
    }
    let reply: unknown[] = results;
    hosted.commitThen(out.changes, out.comment, out.durable, (e) => {
      if (e === null) return;
      this.log(String(e));
      reply = [...results, e.toJson()];
    });
    // In memory the commit is durable already: the updates are queued now
    // and the reply, returned, right after them.
    const later = !hosted.durableNow;
    this.dispatch(hosted, out.changes, later ? () => t.finish(reply) : undefined);
    this.retryTriggers(hosted);
    for (const w of this.commitWatchers) w(hosted);
    return later ? PENDING : reply;
  }

  /** Re-runs a blocked transaction and, when it finishes, answers it. */
  private retry(t: Trigger): void {
    if (!this.triggers.has(t)) return;
    let reply: unknown;
    try {
      reply = this.attempt(t);
    } catch (e) {
      this.dropTrigger(t);
      t.fail(e);
      return;
    }
    if (reply !== BLOCKED && reply !== PENDING) t.finish(reply);
  }

  private execute(t: Trigger): ExecOutcome {
    if (t.hosted === this.serverDb && t.ops.some((o) => isWrite(o))) {
      const err = new OvsdbError(OVSDB_ERROR.PERMISSION_ERROR, 'The _Server database is read-only.');
      return { status: 'failed', results: [err.toJson()] };
    }
    return executeTransaction(t.hosted.db, t.ops, {
      startMs: t.startMs,
      nowMs: Date.now(),
      hasLock: (name) => t.session.locks.has(name) && this.locks.owner(name) === t.session,
    });
  }

  private retryTriggers(hosted: HostedDatabase): void {
    for (const t of [...this.triggers]) if (t.hosted === hosted) this.retry(t);
  }

  private dropTrigger(t: Trigger): void {
    this.triggers.delete(t);
    clearTimeout(t.timer);
  }

  private cancel(s: Session, id: unknown): void {
    for (const t of this.triggers) {
      if (t.session === s && stringifyJson(t.id) === stringifyJson(id)) {
        this.dropTrigger(t);
        t.fail(new RpcError('canceled'));
      }
    }
  }

  /**
   * Computes every monitor's view of a commit now, in commit order, and sends
   * it once the commit is durable. Computing at commit time keeps each
   * monitor's replica in step with the commit sequence even when condition
   * changes and new monitors arrive while writes are still in flight.
   *
   * `reply`, when given, answers the committing transaction in the same
   * step, after the updates: a client sees its replica updated before the
   * reply that acknowledges the change. (Writing the reply ahead of the
   * other sessions' updates, as ovsdb-server does, was measured: no better
   * commit latency or throughput here, and a worse delivery p99.)
   */
  private dispatch(hosted: HostedDatabase, changes: readonly RowChange[], reply?: () => void): void {
    const txnId = JSON.stringify(ZERO_UUID);
    // Monitors that select the same things get the same update: compute and
    // serialise it once per commit, and only splice in each monitor's id.
    // The body stays a string: a session's whole turn then leaves as one
    // string write, which the stream encodes straight into the socket without
    // a Buffer per part and a concatenation per session.
    const byKey = new Map<string, string | null>();
    const out: Array<[Session, string, string]> = [];
    for (const s of this.sessions) {
      for (const { monitor, hosted: h } of s.monitors.values()) {
        if (h !== hosted) continue;
        let body = byKey.get(monitor.specKey);
        if (body === undefined) {
          const u = monitor.updateText(changes);
          body = u === null ? null : `${u}],"id":null}`;
          byKey.set(monitor.specKey, body);
        }
        if (body === null) continue;
        const id = stringifyJson(monitor.id);
        const head =
          monitor.kind === 'monitor'
            ? `{"method":"update","params":[${id},`
            : monitor.kind === 'monitor_cond'
              ? `{"method":"update2","params":[${id},`
              : `{"method":"update3","params":[${id},${txnId},`;
        out.push([s, head, body]);
      }
    }
    if (out.length === 0 && reply === undefined) return;
    hosted.afterDurable(() => {
      for (const [s, head, body] of out) if (!s.closed) s.rpc.sendText(head, body);
      reply?.();
    });
  }

  private monitor(s: Session, method: MonitorKind, p: unknown[]): unknown {
    const hosted = this.hosted(p[0], method, p);
    const key = monitorKey(p[1]);
    if (s.monitors.has(key)) throw new RpcError(syntaxError(p[1], 'duplicate monitor ID').toJson());
    let monitor: Monitor;
    try {
      monitor = new Monitor(hosted.db, method, p[1], p[2]);
    } catch (e) {
      if (e instanceof OvsdbError) throw new RpcError(e.toJson());
      throw e;
    }
    // The snapshot is taken now and the monitor joins now, so it sees exactly
    // the commits after the snapshot; the reply waits for durability like any
    // update, which keeps it ahead of those commits' notifications.
    // A standalone ovsdb-server keeps no transaction history: it never finds
    // the client's last-txn-id, answers with the zero UUID and the whole
    // selection, and a client's replica is rebuilt from it every time.
    const result = method === 'monitor_cond_since' ? [false, ZERO_UUID, monitor.initial()] : monitor.initial();
    s.monitors.set(key, { monitor, hosted });
    return hosted.whenDurable(result);
  }

  /**
   * "convert" (ovsdb-server(7) 4.1.17): replaces a database's schema and
   * contents at once. Monitors of it end: db-change-aware clients are told
   * with "monitor_canceled", other clients are disconnected, as
   * ovsdb-server does.
   */
  private async convert(p: unknown[]): Promise<unknown> {
    const hosted = this.hosted(p[0], 'convert', p);
    if (hosted === this.serverDb)
      throw new RpcError(new OvsdbError(OVSDB_ERROR.PERMISSION_ERROR, 'The _Server database is read-only.').toJson());
    let db: Database;
    try {
      const schema = parseSchema(p[1]);
      if (schema.name !== hosted.name) {
        throw syntaxError(
          p[1],
          `Database name mismatch: the new schema names database ${schema.name} but the request names database ${hosted.name}.`,
        );
      }
      db = convertDatabase(hosted.db, schema);
    } catch (e) {
      if (e instanceof OvsdbError) throw new RpcError(e.toJson());
      throw e;
    }
    for (const t of [...this.triggers]) {
      if (t.hosted !== hosted) continue;
      this.dropTrigger(t);
      t.fail(new RpcError('canceled'));
    }
    for (const s of [...this.sessions]) {
      const mine = [...s.monitors].filter(([, m]) => m.hosted === hosted);
      if (mine.length === 0) continue;
      if (!s.dbChangeAware) {
        s.rpc.close();
        continue;
      }
      for (const [key, m] of mine) {
        s.monitors.delete(key);
        s.rpc.notify('monitor_canceled', [m.monitor.id]);
      }
    }
    await hosted.replace(db);
    this.refreshServerDb();
    return {};
  }

  private monitorCondChange(s: Session, p: unknown[]): Promise<unknown> {
    const entry = s.monitors.get(monitorKey(p[0]));
    if (entry === undefined) throw new RpcError(syntaxError(p[0], 'unknown monitor session').toJson());
    const { monitor, hosted } = entry;
    let u: ReturnType<Monitor['changeConditions']>;
    try {
      u = monitor.changeConditions(p[2]);
    } catch (e) {
      if (e instanceof OvsdbError) throw new RpcError(e.toJson());
      throw e;
    }
    s.monitors.delete(monitorKey(p[0]));
    monitor.id = p[1];
    s.monitors.set(monitorKey(p[1]), entry);
    const txnId = ZERO_UUID;
    // The update for the new condition goes out before the reply, as
    // ovsdb-server(7) 4.1.13 promises, and after earlier commits' updates.
    return new Promise((resolve) =>
      hosted.afterDurable(() => {
        if (u !== null) {
          if (monitor.kind === 'monitor_cond_since') s.rpc.notify('update3', [monitor.id, txnId, u]);
          else s.rpc.notify('update2', [monitor.id, u]);
        }
        resolve({});
      }),
    );
  }

  private lockRequest(s: Session, method: string, name: unknown): unknown {
    if (typeof name !== 'string') throw new RpcError(new OvsdbError(OVSDB_ERROR.SYNTAX_ERROR, 'lock name must be a string').toJson());
    if (method === 'unlock') {
      this.releaseLock(s, name);
      return {};
    }
    if (method === 'lock' && s.locks.has(name)) {
      throw new RpcError(syntaxError([name], 'must issue "unlock" before new "lock"').toJson());
    }
    s.locks.set(name, method === 'steal' ? 'steal' : 'lock');
    if (method === 'steal') {
      // As ovsdb-server: an owner that got the lock by "lock" waits for it
      // again; one that stole it is dropped.
      const prev = this.locks.steal(name, s, (p) => p.locks.get(name) === 'lock');
      if (prev !== undefined && prev !== s) prev.rpc.notify('stolen', [name]);
      return { locked: true };
    }
    return { locked: this.locks.request(name, s) };
  }

  private releaseLock(s: Session, name: string): void {
    if (!s.locks.delete(name)) return;
    const next = this.locks.release(name, s);
    if (next !== undefined) next.rpc.notify('locked', [name]);
  }

  /** Keeps `_Server.Database` describing the hosted databases (ovsdb-server(5)). */
  private refreshServerDb(): void {
    const table = this.serverDb.db.table('Database');
    const byName = new Map<string, Row>();
    for (const row of table.rows.values()) byName.set(row.cols['name']?.keys[0] as string, row);
    const changes: RowChange[] = [];
    // ovsdb-server lists itself too.
    for (const d of [...this.dbs.values(), this.serverDb]) {
      const cols = table.defaultCols();
      const str = (v: string): Datum => ({ keys: [v] });
      cols['name'] = str(d.name);
      cols['model'] = str('standalone');
      cols['connected'] = { keys: [true] };
      cols['leader'] = { keys: [true] };
      cols['schema'] = str(schemaToText(d.db.schema));
      const old = byName.get(d.name) ?? null;
      byName.delete(d.name);
      if (old !== null && old.cols['schema']?.keys[0] === cols['schema'].keys[0]) continue;
      const uuid = old?.uuid ?? newUuid();
      changes.push({ table, uuid, old, new: { uuid, version: newUuid(), cols } });
    }
    for (const row of byName.values()) changes.push({ table, uuid: row.uuid, old: row, new: null });
    if (changes.length === 0) return;
    this.serverDb.db.apply(changes);
    // Clients that watch _Server (db change aware IDLs, ovsdb-client wait) see it change.
    this.dispatch(this.serverDb, changes);
  }
}

function isWrite(op: unknown): boolean {
  if (typeof op !== 'object' || op === null) return false;
  const kind = (op as { op?: unknown }).op;
  return kind === 'insert' || kind === 'update' || kind === 'mutate' || kind === 'delete';
}
